"""Each benchmark's own repository layout (made-up rows, the real file names and fields) loads with the official
ids; ``visionr1 score`` reads each benchmark's released result layout; both protocols are reported."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from visionr1.errors import DataError
from visionr1.eval.benchmarks import get_benchmark
from visionr1.eval.score import score_command

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (200, 30, 30)).save(path)


def quiet() -> Console:
    return Console(file=io.StringIO(), width=140)


def mathv_repo(root: Path) -> Path:
    """mathllm/MATH-V: data/test.jsonl, data/testmini.jsonl, images/ at the repository root."""
    rows = [{"id": "1", "question": "Which number?\n<image1>", "options": [], "answer": "60", "solution": None,
             "level": 2, "subject": "arithmetic", "image": "images/1.jpg"},
            {"id": "2", "question": "Which angle?\n<image1>", "options": ["$120^{\\circ}$", "$130^{\\circ}$"],
             "answer": "A", "solution": None, "level": 1, "subject": "metric geometry - angle", "image": "images/2.jpg"},
            {"id": "7", "question": "Area?\n<image1>", "options": ["$2 \\pi$", "$3 \\pi$"], "answer": "A",
             "solution": None, "level": 3, "subject": "metric geometry - area", "image": "images/7.jpg"}]
    (root / "data").mkdir(parents=True)
    for split, part in (("test", rows), ("testmini", rows[:2])):
        (root / "data" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    for r in rows:
        png(root / r["image"])
    return root


def test_mathvision_repository_layout_loads_with_official_ids(tmp_path):
    repo = mathv_repo(tmp_path / "MATH-V")
    bench = get_benchmark("mathvision")
    by_file = bench.load(repo / "data" / "test.jsonl")
    assert [it.id for it in by_file] == ["1", "2", "7"] and all(it.images for it in by_file)
    by_root = bench.load(repo, split="test")
    assert [it.id for it in by_root] == ["1", "2", "7"]
    assert [it.id for it in bench.load(repo)] == ["1", "2"]  # the default split: testmini


def test_score_mathvision_released_outputs_both_protocols(tmp_path):
    repo = mathv_repo(tmp_path / "MATH-V")
    out_rows = [{"id": "1", "response": "The answer is 60.", "model_answer": "60", "correct": True},
                {"id": "2", "response": "So the angle is 120.", "model_answer": "120", "correct": False},
                {"id": "7", "response": "The area is \\boxed{2\\pi}", "model_answer": "2\\pi", "correct": False}]
    (repo / "outputs").mkdir()
    results = repo / "outputs" / "model.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in out_rows))
    out = tmp_path / "scored.json"
    scores = score_command("mathvision", results, out, None, protocol="official", data=repo / "data" / "test.jsonl",
                           console=quiet())
    scored = json.loads(out.read_text())
    assert list(scored) == ["1", "2", "7"]
    # official: the released string match; "120" is not "$120^{\circ}$" there, "2\pi" is "$2 \pi$" by value
    assert {k: v["correct"] for k, v in scored.items()} == {r["id"]: r["correct"] or r["id"] == "7" for r in out_rows}
    # default: an answer written as the option's value names the option
    assert {k: v["correct_default"] for k, v in scored.items()} == {"1": True, "2": True, "7": True}
    assert all(isinstance(v["decided"], bool) and "extracted" in v for v in scored.values())
    assert scores["protocols"]["official"]["correct"] == 2 and scores["protocols"]["default"]["correct"] == 3
    with pytest.raises(DataError, match="--data"):
        score_command("mathvision", results, None, None, console=quiet())


def test_dynamath_dataset_json_keeps_official_ids_and_level(tmp_path):
    ds = tmp_path / "DynaMath" / "dataset"
    records = {"1": {"question": "Period?", "answer": "2.0944", "image": "image/image1.png", "answer_type": "float",
                     "subject": "analytic geometry", "level": "high school"},
               "2": {"question": "Hottest month?", "answer": "May", "image": "image/image2.png", "answer_type": "text",
                     "subject": "statistics", "level": "elementary school"}}
    ds.mkdir(parents=True)
    (ds / "dataset.json").write_text(json.dumps(records))
    for r in records.values():
        png(ds / r["image"])
    bench = get_benchmark("dynamath")
    for data in (ds / "dataset.json", tmp_path / "DynaMath"):
        items = bench.load(data)
        assert [it.id for it in items] == ["1", "2"]
        assert [it.meta["knowledge_level"] for it in items] == ["high school", "elementary school"]
    report = {"1": {"Ground truth": "2.0944", "response": {"solution": "...", "short answer": "2.094"}},
              "2": {"Ground truth": "May", "response": '{"solution": "", "short answer": "It is May"}'}}
    (tmp_path / "report.json").write_text(json.dumps(report))
    out = tmp_path / "scored.json"
    score_command("dynamath", tmp_path / "report.json", out, None, protocol="official", data=ds / "dataset.json",
                  console=quiet())
    scored = json.loads(out.read_text())
    # official: the repository's gold-in-answer containment credits "It is May"; default compares the answer
    assert scored["1"]["correct"] and scored["2"]["correct"] and not scored["2"]["correct_default"]


def test_dynamath_containment_direction_is_the_repositorys():
    from visionr1.eval.benchmarks._common import EvalItem
    from visionr1.eval.benchmarks.dynamath import default_verdict, official_verdict

    item = EvalItem(id="2", query="", images=[], gold="12", answer_type="text")
    fragment = '{"short answer": "2"}'
    assert not official_verdict(fragment, item)["correct"]  # VLMEvalKit's answer-in-gold would credit it
    assert official_verdict('{"short answer": "12 cm"}', item)["correct"]
    assert not default_verdict('{"short answer": "2"}', item)["correct"]


def test_wemath_repository_layout_and_result_file(tmp_path):
    repo = tmp_path / "We-Math"
    (repo / "data").mkdir(parents=True)
    rows = json.loads((FIXTURES / "wemath" / "testmini.json").read_text())
    for r in rows:
        r["image_path"] = r["image_path"].replace("images/", "2steps/image/")
        png(repo / "data" / r["image_path"])
    (repo / "data" / "testmini.json").write_text(json.dumps(rows))
    (repo / "data" / "knowledge_structure_nodes.json").write_text("[]")
    items = get_benchmark("wemath").load(repo)
    assert [it.id for it in items] == ["101", "102", "103"] and all(it.images for it in items)
    results = [{**r, "response": resp} for r, resp in zip(rows, ("<Answer>: <<C>>", "\\boxed{B}", "I am not sure"))]
    (tmp_path / "result.json").write_text(json.dumps(results))
    out = tmp_path / "scored.json"
    scores = score_command("wemath", tmp_path / "result.json", out, None, protocol="default", console=quiet())
    scored = json.loads(out.read_text())
    assert {k: (v["correct_official"], v["correct_default"]) for k, v in scored.items()} == {
        "101": (True, True), "102": (False, True), "103": (False, False)}
    assert scores["protocols"]["default"]["decided_by_rules"] == 2


def test_mathverse_repository_layout_and_result_file(tmp_path):
    repo = tmp_path / "MathVerse"
    rec = {"sample_index": "3421", "problem_index": "685", "problem_version": "Text Dominant",
           "question": "Find L.\nChoices:\nA:13\nB:14", "image": "images_version_1-4/image_685.png", "answer": "B",
           "question_type": "multi-choice", "metadata": {"split": "testmini", "source": "Geo3D", "subject": "Solid Geometry",
                                                          "subfield": "Length"},
           "query_wo": "Question: Find L.", "query_cot": "Please first conduct reasoning … Question: Find L."}
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "testmini.json").write_text(json.dumps([rec]))
    (repo / "data" / "testmini_text_only.json").write_text(json.dumps([{**rec, "sample_index": "1", "image": ""}]))
    png(repo / "data" / "images" / rec["image"])
    items = get_benchmark("mathverse").load(repo)
    assert [it.id for it in items] == ["3421"] and items[0].images
    (tmp_path / "output_testmini.json").write_text(json.dumps([{**rec, "model_answer": "So L is 14, option B."}]))
    out = tmp_path / "scored.json"
    score_command("mathverse", tmp_path / "output_testmini.json", out, None, console=quiet())
    assert json.loads(out.read_text())["3421"]["correct"] is True


def test_mmmath_json_keyed_by_id(tmp_path):
    recs = {"mm_7": {"question": "Find x.", "file_name": "mm_7.png", "solution": "so \\boxed{3}", "year": "eight",
                     "difficult": "easy", "knowledge": "Func"}}
    (tmp_path / "MM_Math.json").write_text(json.dumps(recs))
    png(tmp_path / "images" / "mm_7.png")
    items = get_benchmark("mmmath").load(tmp_path / "MM_Math.json")
    assert [it.id for it in items] == ["mm_7"] and items[0].images
    (tmp_path / "out.json").write_text(json.dumps({"mm_7": {**recs["mm_7"], "model_solution": "x = \\boxed{3}"}}))
    scored_path = tmp_path / "scored.json"
    score_command("mmmath", tmp_path / "out.json", scored_path, None, console=quiet())
    scored = json.loads(scored_path.read_text())
    assert scored["mm_7"]["correct_official"] and scored["mm_7"]["correct_default"]


def test_mathverse_refuses_a_mathvista_folder():
    from visionr1.eval.benchmarks.mathverse import load

    with pytest.raises(DataError, match=r"is not MathVerse data: its rows lack the field\(s\) problem_version"):
        load(FIXTURES / "mathvista_eval")


@pytest.mark.parametrize("bench", ["mathvision", "mathverse", "wemath"])
def test_a_result_file_answering_an_item_twice_is_refused_naming_it(tmp_path, bench):
    """Two runs' outputs joined into one file would be scored by whichever reply came last: refused, naming the
    item, before anything is written."""
    if bench == "mathvision":
        repo = mathv_repo(tmp_path / "MATH-V")
        data = repo / "data" / "test.jsonl"
        rows = [{"id": "1", "response": "60"}, {"id": "2", "response": "A"}, {"id": "1", "response": "61"}]
        results = tmp_path / "model.jsonl"
        results.write_text("".join(json.dumps(r) + "\n" for r in rows))
        dup = "1"
    elif bench == "mathverse":
        data = None
        rec = {"sample_index": "3421", "problem_index": "685", "problem_version": "Text Dominant",
               "question": "Find L.\nChoices:\nA:13\nB:14", "image": "", "answer": "B", "question_type": "multi-choice",
               "metadata": {"split": "testmini"}, "query_wo": "Find L.", "query_cot": "Find L."}
        results = tmp_path / "output_testmini.json"
        results.write_text(json.dumps([{**rec, "model_answer": "B"}, {**rec, "sample_index": "3422", "model_answer": "A"},
                                       {**rec, "model_answer": "A"}]))
        dup = "3421"
    else:
        data = None
        rows = json.loads((FIXTURES / "wemath" / "testmini.json").read_text())
        results = tmp_path / "result.json"
        results.write_text(json.dumps([{**r, "response": "<<A>>"} for r in (*rows, rows[1])]))
        dup = "102"
    out = tmp_path / "scored.json"
    with pytest.raises(DataError, match=f"item {dup}.*more than once") as e:
        score_command(bench, results, out, None, data=data, console=quiet())
    assert str(results) in str(e.value) and not out.exists()
