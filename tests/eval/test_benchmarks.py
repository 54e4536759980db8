"""Loaders, official queries and scoring protocols, on fixtures in each benchmark's real layouts."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from visionr1.errors import ConfigError, DataError
from visionr1.eval.benchmarks import BENCHMARKS, OWN, get_benchmark
from visionr1.data.tables import image_bytes, read_table
from visionr1.eval.benchmarks._common import EvalItem, apply_prompt_mode
from visionr1.eval.benchmarks.scoring import score_protocols

from .conftest import FIXTURES, LAYOUTS

# the verdicts the official protocols give the canned responses (see tests/eval/make_fixtures.py)
EXPECTED = {
    "mathvista": [True, True, True],
    "mathverse": [True, False, True, True, False],  # "So BC = 2\\sqrt{3}." is option D, 2√{3} (issue 29)
    "mmmath": [True, True, False],
    "dynamath": [True, True, True, False],
    "mathvision": [True, True, True],
    "wemath": [True, True, True],
    "records": [True, True, False],
}


@pytest.mark.parametrize("name", sorted({**BENCHMARKS, **OWN}))
@pytest.mark.parametrize("layout", [0, 1], ids=["hf", "second"])
def test_load_every_layout(name, layout):
    items = get_benchmark(name).load(LAYOUTS[name][layout])
    assert len(items) == len(EXPECTED[name])
    for it in items:
        assert it.query.strip() and it.gold
        assert len(it.images) == 1
        Image.open(__import__("io").BytesIO(it.images[0])).verify()


@pytest.mark.parametrize("name", sorted({**BENCHMARKS, **OWN}))
def test_layouts_agree(name):
    """The same benchmark in two layouts gives the same ids, queries, golds and images."""
    bench = get_benchmark(name)
    a, b = bench.load(LAYOUTS[name][0]), bench.load(LAYOUTS[name][1])
    assert [(i.id, i.gold, i.images) for i in a] == [(i.id, i.gold, i.images) for i in b]
    if name not in ("mathvision", "mathverse"):  # their TSVs carry the query text in another column form
        assert [i.query for i in a] == [i.query for i in b]


@pytest.mark.parametrize("name", sorted({**BENCHMARKS, **OWN}))
def test_official_verdicts_on_canned_responses(name):
    bench = get_benchmark(name)
    items = bench.load(LAYOUTS[name][0])
    responses = json.loads(LAYOUTS[name][2].read_text(encoding="utf-8"))
    scored = score_protocols(bench, items, responses)
    assert [r["correct"] for r in scored.per_item] == EXPECTED[name]
    assert scored.headline and all(isinstance(v, float) for v in scored.headline.values())
    json.dumps(scored.official, default=str)  # the result file is JSON


def test_limit_and_unknown_benchmark():
    assert len(get_benchmark("MathVista").load(LAYOUTS["mathvista"][0], limit=2)) == 2
    with pytest.raises(ConfigError, match="valid: dynamath"):
        get_benchmark("mmbench")


def test_a_benchmark_module_of_your_own_plugs_into_the_scoring_loop():
    assert get_benchmark("visionr1.eval.benchmarks.records").NAME == "records"  # a dotted path to a module
    with pytest.raises(ConfigError, match="lacks NAME, RESULT_FILENAME, load, read, result_row, metrics"):
        get_benchmark("visionr1.eval.benchmarks.scoring")


def test_mathvista_query_is_official():
    from visionr1.eval.benchmarks.mathvista import build_query

    items = get_benchmark("mathvista").load(LAYOUTS["mathvista"][0])
    assert items[0].query.startswith("Hint: Please answer the question and provide the correct option letter")
    assert items[0].query.endswith("Choices:\n(A) red\n(B) green\n(C) blue")
    assert "(Unit: cm)" in items[2].query and "one decimal place" in items[2].query
    assert build_query(items[1].row) == items[1].query
    # a record of the result file is the official problem record plus the response
    from visionr1.eval.benchmarks.mathvista import result_record

    rec = result_record(items[0], "B")
    assert rec["response"] == "B" and rec["pid"] == items[0].id
    assert {"pid", "question", "choices", "answer", "question_type", "answer_type", "metadata", "query", "response"} <= set(rec)


def test_mathverse_versions_and_choices():
    from visionr1.eval.benchmarks.mathverse import parse_choices

    items = get_benchmark("mathverse").load(LAYOUTS["mathverse"][0])
    assert [i.meta["problem_version"] for i in items] == ["Text Dominant", "Text Lite", "Vision Intensive",
                                                          "Vision Dominant", "Vision Only"]
    assert parse_choices("Q\nChoices:\nA:1\nB:√{3}\nC:2") == ["1", "√{3}", "2"]
    scored = score_protocols(get_benchmark("mathverse"), items, {"1": "D", "2": "(D) 2√{3}"})
    assert list(scored.breakdowns["problem_version"])[:2] == ["Text Dominant", "Text Lite"]
    assert scored.headline["Text Lite"] == 100.0


def test_dynamath_average_and_worst_case():
    from visionr1.eval.benchmarks.dynamath import parse_short_answer

    items = get_benchmark("dynamath").load(LAYOUTS["dynamath"][0])
    assert [i.id for i in items] == ["1-v1", "2-v1", "1-v2", "2-v2"]
    assert "'short answer'" in items[0].query and "three-digit floating-point" in items[0].query
    right = {"1-v1": '{"short answer": "4"}', "2-v1": '{"short answer": "B"}', "1-v2": '{"short answer": "9.0004"}',
             "2-v2": '{"short answer": "(C)"}'}
    s = score_protocols(get_benchmark("dynamath"), items, right)
    assert (s.headline["average_case"], s.headline["worst_case"]) == (100.0, 100.0)
    s = score_protocols(get_benchmark("dynamath"), items, {**right, "1-v2": '{"short answer": "9.01"}'})
    assert (s.headline["average_case"], s.headline["worst_case"]) == (75.0, 50.0)
    assert parse_short_answer("2π", "float")[1] == pytest.approx(6.2832, abs=1e-3)
    assert parse_short_answer("A or B", "multiple choice") == (False, None)


def test_wemath_four_dimensions():
    from visionr1.eval.benchmarks.wemath import four_dimensional, official_letter

    assert official_letter("<Thought process>: <<x>> <Answer>: <<C>>") == "C"
    assert official_letter("I think C") is None
    rows = [  # problem 1: mastery; 2: rote memorisation; 3: inadequate generalisation; 4: insufficient knowledge
        *[{"ID": "1", "key": k, "correct": True} for k in ("2steps_1", "2steps_2", "2steps_multi")],
        {"ID": "2", "key": "2steps_1", "correct": False}, {"ID": "2", "key": "2steps_2", "correct": True},
        {"ID": "2", "key": "2steps_multi", "correct": True},
        *[{"ID": "3", "key": f"3steps_{i}", "correct": True} for i in (1, 2, 3)],
        {"ID": "3", "key": "3steps_multi", "correct": False},
        *[{"ID": "4", "key": f"3steps_{i}", "correct": False} for i in (1, 2, 3)],
        {"ID": "4", "key": "3steps_multi", "correct": False},
    ]
    fd = four_dimensional(rows)
    assert fd["composites"] == 4
    assert fd["counts"] == {"IK": 1, "IG": 1, "CM_strict": 1, "CM_loose": 2, "RM_strict": 1, "RM_loose": 0}
    assert fd["score_strict"] == pytest.approx(100 * (4 - 0.5 - 1 - 1) / 4)
    assert fd["score_loose"] == pytest.approx(100 * (4 - 0.5 - 0 - 1) / 4)
    assert fd["RM_strict"] == 50.0 and fd["S2"] == 100.0 and fd["S3"] == 0.0


def test_mmmath_gold_from_boxed_solution():
    items = get_benchmark("mmmath").load(LAYOUTS["mmmath"][0])
    assert [i.gold for i in items] == ["70^\\circ", "2", "\\pi"]
    assert items[0].meta == {"difficulty": "easy", "grade": "seven", "knowledge": "Shape"}
    assert "\\boxed{}" in items[0].query


def test_mathvision_splits_and_letters():
    bench = get_benchmark("mathvision")
    assert len(bench.load(LAYOUTS["mathvision"][0], split="test")) == 4
    items = bench.load(LAYOUTS["mathvision"][0])
    assert "(C) C" in items[0].query and "\\boxed{}" in items[0].query
    s = score_protocols(bench, items, {"1": "\\boxed{(D)}", "2": "<answer>7</answer>", "3": "\\boxed{1/2}"})
    assert [r["correct"] for r in s.per_item] == [False, True, True]


def test_r1_prompt_mode_appends_training_instruction():
    q = apply_prompt_mode("Q?", "r1", multiple_choice=True)
    assert q.startswith("Q?\n") and "<think></think>" in q and "letter of the correct option" in q
    assert apply_prompt_mode("Q?", "official") == "Q?"
    with pytest.raises(DataError, match="valid: official, r1, raw"):
        apply_prompt_mode("Q?", "cot")


# an official instruction each benchmark adds to its query, which the raw form leaves out
OFFICIAL_ONLY = {"mathvista": "Hint:", "mathverse": "Please first conduct reasoning", "mmmath": "\\boxed{}",
                 "dynamath": "JSON", "mathvision": "\\boxed{}", "wemath": "Thought process"}


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_raw_prompt_mode_is_the_question_and_its_choices_only(name):
    """``--prompt raw`` (the paper's form) sends the benchmark's own question and options, no instruction."""
    from visionr1.r1 import detect_prompt_form

    for it in get_benchmark(name).load(LAYOUTS[name][0]):
        raw = apply_prompt_mode(it, "raw")
        assert raw and detect_prompt_form(raw) == "raw", (name, it.id, raw)
        if name in OFFICIAL_ONLY and it.raw is not None:
            assert OFFICIAL_ONLY[name] not in raw and OFFICIAL_ONLY[name] in apply_prompt_mode(it, "official"), (name, it.id)
        if it.choices and name != "wemath":  # We-Math's options sit in its own "A. …; B. …" text
            assert all(c in raw for c in it.choices), (name, it.id, raw)
        assert apply_prompt_mode(it, "r1").startswith(it.query.rstrip())


def test_bad_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.parquet")
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="unsupported file type"):
        read_table(tmp_path / "x.csv")
    with pytest.raises(DataError, match="escapes the data root"):
        image_bytes("../../etc/passwd", tmp_path, "item-1")


def test_saved_hf_dataset_layout(tmp_path):
    """A `datasets` save_to_disk folder (Image feature) reads like the parquet files it came from."""
    import datasets

    src = FIXTURES / "mathvision" / "data" / "testmini-00000-of-00001.parquet"
    ds = datasets.Dataset.from_parquet(str(src))
    ds = ds.cast_column("decoded_image", datasets.Image())
    datasets.DatasetDict({"testmini": ds}).save_to_disk(str(tmp_path / "saved"))
    a = get_benchmark("mathvision").load(tmp_path / "saved")
    b = get_benchmark("mathvision").load(LAYOUTS["mathvision"][0])
    assert [(i.id, i.query, i.gold) for i in a] == [(i.id, i.query, i.gold) for i in b]
    assert all(i.images for i in a)


def test_evalitem_defaults():
    it = EvalItem(id="x", query="q", images=[], gold="1")
    assert it.choices is None and it.meta == {}


def test_split_files_are_picked_by_exact_name(tmp_path):
    """MathVerse ships testmini.parquet beside testmini_text_only.parquet: --split testmini takes only the first."""
    import shutil

    src = FIXTURES / "mathverse" / "data" / "testmini-00000-of-00001.parquet"
    shutil.copy(src, tmp_path / "testmini.parquet")
    shutil.copy(src, tmp_path / "testmini_text_only.parquet")
    assert len(get_benchmark("mathverse").load(tmp_path)) == 5
    assert len(get_benchmark("mathverse").load(tmp_path, split="testmini_text_only")) == 5


def test_an_undecided_grader_is_counted_apart_never_as_wrong(monkeypatch):
    """With Math-Verify unable to decide anything (its budgets spent), no verdict flips to wrong: an item is
    right, or wrong as before, or undecided (``correct`` None), counted apart and not credited. MathVista's
    protocol never asks Math-Verify, so its verdicts (``eval`` and ``score`` alike) stay exactly the same."""
    from visionr1.eval.benchmarks._common import acc_entry
    from visionr1.eval.benchmarks.scoring import verdict_counts
    from visionr1.grading.equivalence import _math_verdict
    from visionr1.grading.supervisor import GradingTimeout, MathVerifySupervisor

    def undecided(self, *args, **kwargs):
        raise GradingTimeout("budgets spent")

    monkeypatch.setattr(MathVerifySupervisor, "_request", undecided)
    _math_verdict.cache_clear()
    seen = 0
    for name in sorted({**BENCHMARKS, **OWN}):
        bench = get_benchmark(name)
        scored = score_protocols(bench, bench.load(LAYOUTS[name][0]),
                                 json.loads(LAYOUTS[name][2].read_text(encoding="utf-8")))
        got = [r["correct"] for r in scored.per_item]
        assert all(g is e or g is None for g, e in zip(got, EXPECTED[name])), (name, got)
        counts = verdict_counts(scored.per_item)
        assert (counts["correct"], counts["undecided"]) == (got.count(True), got.count(None))
        assert counts["wrong"] == got.count(False)
        if counts["undecided"] and "accuracy" in scored.headline:
            assert scored.headline["accuracy"] == acc_entry(counts["correct"], len(got))["accuracy"]
        if name == "mathvista":
            assert got == EXPECTED[name]
        seen += counts["undecided"]
    assert seen >= 1  # the fixtures do reach Math-Verify
