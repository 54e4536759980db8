"""visionr1 score: the I/O edge (read, score, write, print); the judge is tested in test_judge.py."""

import json
from pathlib import Path

import pytest
from rich.console import Console

from visionr1.errors import ConfigError, DataError
from visionr1.eval.judge import build_prompt
from visionr1.eval.score import score_command

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mathvista" / "results_small.json"


def quiet() -> Console:
    return Console(file=open("/dev/null", "w"), width=120)


def test_score_command_writes_official_fields(tmp_path):
    """SCORED.json keeps every field of the official record (``true_false`` the official verdict) and adds the
    contract every benchmark's scored record has: ``correct`` (the chosen protocol's), both protocols' verdicts,
    ``extracted``, ``decided``."""
    from visionr1.grading.mathvista import score_record

    out = tmp_path / "scored.json"
    scores = score_command("mathvista", FIXTURE, out, None, console=quiet())
    scored = json.loads(out.read_text())
    original = json.loads(FIXTURE.read_text())
    assert list(scored) == list(original)
    added = ("extraction", "prediction", "true_false", "extraction_rule", "decided", "correct", "correct_official",
             "correct_default", "decided_official", "decided_default", "extracted")
    for pid, rec in scored.items():
        assert isinstance(rec["true_false"], bool) and "extraction" in rec and "prediction" in rec
        assert isinstance(rec["decided"], bool) and rec["extraction_rule"]
        official, default = score_record(original[pid]), score_record(original[pid], protocol="default")
        assert rec["correct_official"] == rec["true_false"] == official["true_false"]
        assert rec["correct"] == rec["correct_default"] == default["correct"]  # --protocol default, the default
        assert rec["decided"] == rec["decided_default"] == default["decided"] and rec["extracted"] == default["extracted"]
        assert not rec["correct_default"] or rec["decided_default"]  # an undecided reply is never credited
        assert {k: v for k, v in rec.items() if k not in added} == original[pid]
    assert scores["protocols"]["official"]["correct"] == sum(r["true_false"] for r in scored.values())
    assert scores["protocols"]["default"]["correct"] == sum(r["correct"] for r in scored.values())
    assert "question_type" in scores["official"] and "skills" in scores["official"]


def test_score_command_protocol_official_writes_the_official_verdicts(tmp_path):
    out = tmp_path / "scored.json"
    scores = score_command("mathvista", FIXTURE, out, None, protocol="official", console=quiet())
    scored = json.loads(out.read_text())
    assert all(r["correct"] == r["correct_official"] == r["true_false"] for r in scored.values())
    assert scores["headline"]["accuracy"] == scores["protocols"]["official"]["accuracy"]
    assert scores["official"]["average"]["correct"] == sum(r["true_false"] for r in scored.values())


def test_score_command_prints_the_table(tmp_path):
    import io

    buf = io.StringIO()
    scores = score_command("mathvista", FIXTURE, None, None, protocol="official", console=Console(file=buf, width=120))
    text = buf.getvalue()
    assert scores["protocols"]["official"]["correct"] == 9
    assert "official *" in text and "9/10" in text and "multi_choice" in text and "default" in text


def test_unknown_benchmark_lists_valid_names():
    with pytest.raises(ConfigError, match="mathvista"):
        score_command("chartqa", FIXTURE, None, None, console=quiet())


def test_judge_needs_endpoint_and_model():
    from typer.testing import CliRunner

    from visionr1.cli import app
    from visionr1.eval.judge import judge_config

    with pytest.raises(ConfigError, match="both --judge-endpoint and --judge-model"):
        judge_config("http://127.0.0.1:9/v1", None)
    assert judge_config(None, None) is None
    res = CliRunner().invoke(app, ["score", "mathvista", str(FIXTURE), "--judge-endpoint", "http://127.0.0.1:9/v1"])
    assert res.exit_code == 2 and "both --judge-endpoint and --judge-model" in res.output


@pytest.mark.parametrize("content, reason", [("[1, 2]", "JSON object"), ('{"1": {"response": "x"}}', "missing")])
def test_bad_result_files(tmp_path, content, reason):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(DataError, match=reason):
        score_command("mathvista", p, None, None, console=quiet())


def test_a_result_object_with_a_key_given_twice_is_refused_naming_it(tmp_path):
    """JSON readers keep the last of two equal keys without a word: the MathVista, DynaMath and MM-Math result
    layouts (objects keyed by item id) would score one reply of two. The six released MathVista output files in
    ../shared/data/mathvista have no such key (checked), so none of them is refused."""
    text = FIXTURE.read_text()
    first = json.loads(text)
    pid, record = next(iter(first.items()))
    joined = text.rstrip().rstrip("}") + f', "{pid}": ' + json.dumps(record) + "}"
    p = tmp_path / "joined.json"
    p.write_text(joined)
    with pytest.raises(DataError, match=f"key '{pid}'.*given twice") as e:
        score_command("mathvista", p, tmp_path / "scored.json", None, console=quiet())
    assert str(p) in str(e.value) and not (tmp_path / "scored.json").exists()


def test_score_command_writes_scores_beside_the_scored_file(tmp_path):
    out = tmp_path / "scored.json"
    scores = score_command("mathvista", FIXTURE, out, None, console=quiet())
    saved = json.loads((tmp_path / "scored.scores.json").read_text())
    assert saved["protocols"] == scores["protocols"] and saved["extraction"] == scores["extraction"]
    ext = scores["extraction"]
    assert ext["items"] == 10 and ext["decided_by_rules"] + ext["undecided"] == 10
    assert ext["decided_by_rules"] == sum(r["decided"] for r in json.loads(out.read_text()).values())


def test_score_command_prints_the_share_decided_by_rules(tmp_path):
    import io

    buf = io.StringIO()
    scores = score_command("mathvista", FIXTURE, None, None, console=Console(file=buf, width=160))
    ext = scores["extraction"]
    assert f"decided by rules: {ext['decided_by_rules']}/10" in buf.getvalue()


def test_judge_undecided_needs_a_judge():
    with pytest.raises(ConfigError, match="judge-endpoint"):
        score_command("mathvista", FIXTURE, None, None, judge_undecided=True, console=quiet())


def test_prompt_contains_query_and_response():
    p = build_prompt("RESP", {"query": "QUERY"})
    assert p.endswith("QUERY\n\nModel response: RESP\n\nExtracted answer: ")


@pytest.mark.parametrize("name", ["mathvista", "mathverse", "mmmath", "dynamath", "mathvision", "wemath"])
def test_every_benchmark_reads_the_papers_final_answer_form(name):
    """Issue 19: a Vision-R1 completion ends "<answer> Final Answer: X </answer>"; every scorer reads X."""
    from visionr1.eval.benchmarks import get_benchmark
    from visionr1.eval.benchmarks.scoring import score_protocols

    from .conftest import LAYOUTS

    bench = get_benchmark(name)
    items = bench.load(LAYOUTS[name][0])
    replies = {it.id: f"<think>I worked it out.</think><answer> Final Answer: {it.gold} </answer>" for it in items}
    scored = score_protocols(bench, items, replies)
    assert all(r["correct"] for r in scored.per_item), [r for r in scored.per_item if not r["correct"]][:2]
    assert all(r["decided"] for r in scored.per_item)
