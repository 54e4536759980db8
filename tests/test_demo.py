"""``visionr1 demo --quick``: every stage runs through the real stage functions and the report is written.

The quick run is a smoke test (tiny sizes, a few steps): it cannot show learning, so nothing here asserts
accuracies; ``benchmarks/demo_seeds.py`` runs the full demo on five seeds for that.
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.demo import STAGES, RECIPES


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--quick", "--seed", "1"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_every_stage_ran_and_summary_is_written(quick_run):
    out, output = quick_run
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["stages"]) == list(STAGES)
    assert all(v["seconds"] >= 0 for v in summary["stages"].values())
    assert summary["peak_rss_mb"] > 0 and summary["quick"] is True
    assert set(summary["eval"]) == {"base", "cold_start", "rl", "base_seen"}
    for r in summary["eval"].values():
        assert 0 <= r["accuracy"] <= 100 and 0 <= r["format"] <= 100 and r["items"] == 24
    assert summary["stages"]["bridge"]["kept"] > 0
    assert "RL − cold-start" in output


def test_stage_outputs_exist(quick_run):
    out, _ = quick_run
    for path in ("data/train.jsonl", "data/test.jsonl", "data/warmup.jsonl", "bridge/cold.jsonl",
                 "base/final/config.json", "sft/final/config.json", "grpo/final/config.json"):
        assert (out / path).is_file(), path
    for key in ("base", "cold_start", "rl"):
        scores = json.loads((out / "eval" / key / "scores.json").read_text())
        assert scores["items"] == 24 and set(scores["headline"]) == {"accuracy", "format"}


def test_warmup_and_grpo_validate_on_the_validation_split(quick_run):
    out, _ = quick_run
    val_ids = {json.loads(x)["id"] for x in (out / "data" / "val.jsonl").read_text().splitlines()}
    train_ids = {json.loads(x)["id"] for x in (out / "data" / "train.jsonl").read_text().splitlines()}
    assert val_ids and not val_ids & train_ids
    base_rows = [json.loads(x) for x in (out / "base" / "validation.jsonl").read_text().splitlines()]
    assert [r["step"] for r in base_rows][-2:] == [6, 12]
    grpo_rows = [json.loads(x) for x in (out / "grpo" / "validation.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in grpo_rows} >= {0, 1}
    summary = json.loads((out / "summary.json").read_text())
    # the base the demo evaluates is the best-validating warm-up checkpoint
    assert summary["eval"]["base"]["model"] == "base/best"
    assert summary["stages"]["warm-up"]["best"]["step"] in {r["step"] for r in base_rows}
    # and the RL model is GRPO's best-validating step
    assert summary["eval"]["rl"]["model"] == "grpo/best"
    assert summary["stages"]["grpo"]["best"]["step"] in {r["step"] for r in grpo_rows}


def test_grpo_ran_both_ptst_stages(quick_run):
    out, _ = quick_run
    rows = [json.loads(x) for x in (out / "grpo" / "metrics.jsonl").read_text().splitlines() if x.strip()]
    assert {r["stage"] for r in rows if "stage" in r} == {0, 1}


def test_report_has_the_table_and_plots(quick_run):
    out, _ = quick_run
    report = (out / "report.md").read_text()
    assert "Table 4 in miniature" in report
    for label in ("base (warm-up)", "cold-start SFT", "RL (PTST GRPO)"):
        assert f"| {label} |" in report
    assert "Sampling temperature" in report
    for png in ("accuracy.png", "training.png"):
        assert f"]({png})" in report
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_brief_cots_are_shorter_and_set_in_the_bridge_config(tmp_path):
    from visionr1.bridge.config import BridgeConfig
    from visionr1.bridge.run import run_bridge
    from visionr1.bridge.teacher import template_cot
    from visionr1.config import from_dict
    from visionr1.data import read_records
    from visionr1.data.synth import synthesize

    synthesize(tmp_path / "data", n=12, seed=0, tasks=["shape_colour"], image_size=56)
    records = read_records(tmp_path / "data" / "train.jsonl").records
    for r in records:
        short, long = template_cot(r, flaw_rate=0.0, brief=True), template_cot(r, flaw_rate=0.0)
        assert len(short.reasoning) < len(long.reasoning) and short.content == long.content
    lengths = {}
    for brief in (False, True):
        cfg = from_dict(BridgeConfig, {"input": str(tmp_path / "data" / "train.jsonl"), "out": str(tmp_path / f"b{brief}"),
                                       "teacher": "template", "template": {"brief": brief, "flaw_rate": 0.0},
                                       "filters": {"min_reasoning_words": 5}, "progress": False})
        run_bridge(cfg)
        lines = (tmp_path / f"b{brief}" / "cold.jsonl").read_text().splitlines()
        lengths[brief] = sum(len(line) for line in lines) / max(len(lines), 1)
    assert lengths[True] < lengths[False]


def test_warmup_rows_are_direct_answers_and_each_step_on_its_own(tmp_path):
    from visionr1.data.synth import synthesize
    from visionr1.demo import write_warmup_data

    synthesize(tmp_path, n=6, seed=0, tasks=["colour_value"], image_size=56)
    assert write_warmup_data(tmp_path / "train.jsonl", tmp_path / "w.jsonl", skills=False) == {"answer": 6}
    kinds = write_warmup_data(tmp_path / "train.jsonl", tmp_path / "w2.jsonl", describe=True)
    assert kinds == {"answer": 6, "read": 6, "perception": 6, "fact": 6, "add": 6, "describe": 6}
    rows = [json.loads(x) for x in (tmp_path / "w2.jsonl").read_text().splitlines()]
    answers = {r["id"].rsplit("-", 1)[1]: r["messages"][1]["content"][0]["text"] for r in rows if r["id"].startswith(
        "colour_value-train-00000-")}
    rec = json.loads((tmp_path / "train.jsonl").read_text().splitlines()[0])
    # every step is answered the way the chain of thought states it; the direct answer has no R1 format
    assert answers["answer"] == f"The answer is {rec['answer']}."
    steps = {step["skill"]: step["answer"] for step in rec["metadata"]["subskills"]}
    assert all(answers[k] == v for k, v in steps.items())
    assert steps["read"] in rec["metadata"]["solution"] and steps["perception"] in rec["metadata"]["solution"]


def test_warmup_skill_copies_and_the_cold_start_mix(tmp_path):
    from visionr1.data.synth import synthesize
    from visionr1.demo import write_cold_start_mix, write_warmup_data

    synthesize(tmp_path / "data", n=6, seed=0, tasks=["colour_value"], image_size=56)
    kinds = write_warmup_data(tmp_path / "data" / "train.jsonl", tmp_path / "data" / "w.jsonl",
                              skills={"add": 3, "perception": 2})
    assert kinds == {"answer": 6, "read": 6, "perception": 12, "fact": 6, "add": 18}
    # a CoT file in another folder (as the bridge writes it), its image paths relative to that folder
    (tmp_path / "bridge").mkdir()
    (tmp_path / "bridge" / "images").mkdir()
    (tmp_path / "bridge" / "images" / "c0.png").write_bytes((tmp_path / "data" / "images" / "colour_value-train-00000.png").read_bytes())
    cot = {"id": "c0", "images": ["images/c0.png"],
           "messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "q"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": "<think>t</think><answer>1</answer>"}]}]}
    (tmp_path / "bridge" / "cold.jsonl").write_text(json.dumps(cot) + "\n")
    mix = tmp_path / "mix.jsonl"
    counts = write_cold_start_mix(tmp_path / "bridge" / "cold.jsonl", tmp_path / "data" / "w.jsonl", mix,
                                  {"add": 4, "perception": 10}, seed=0)
    assert counts == {"cot": 1, "add": 4, "perception": 6}  # 6 distinct perception rows: copies are not drawn twice
    rows = [json.loads(x) for x in mix.read_text().splitlines()]
    assert len(rows) == 11 and len({r["id"] for r in rows}) == 11
    for r in rows:  # every image resolves from the mix's own folder
        assert all((mix.parent / i).is_file() for i in r["images"]), r["images"]
    assert write_cold_start_mix(tmp_path / "bridge" / "cold.jsonl", tmp_path / "data" / "w.jsonl", mix,
                                {"add": 4, "perception": 10}, seed=0) == counts
    assert [json.loads(x)["id"] for x in mix.read_text().splitlines()] == [r["id"] for r in rows]


def test_cold_start_mix_writes_concluded_sums_as_r1_answers(tmp_path):
    """r1_form="short": a replayed row ending "So the final answer is X." becomes <think>…</think><answer>X</answer>
    (the copy into the answer tag, on every pair); rows without a conclusion and the CoTs stay as they were."""
    from visionr1.data.synth import synthesize
    from visionr1.demo import write_cold_start_mix, write_warmup_data

    synthesize(tmp_path / "data", n=8, seed=0, tasks=["colour_count"], image_size=56)
    write_warmup_data(tmp_path / "data" / "train.jsonl", tmp_path / "data" / "w.jsonl")
    cot = {"id": "c0", "images": [],
           "messages": [{"role": "user", "content": [{"type": "text", "text": "q"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": "<think>So the final answer is 1.</think><answer>1</answer>"}]}]}
    (tmp_path / "data" / "cold.jsonl").write_text(json.dumps(cot) + "\n")
    replay = {"add": 8, "perception": 8}
    plain, r1 = tmp_path / "plain.jsonl", tmp_path / "r1.jsonl"
    kinds = write_cold_start_mix(tmp_path / "data" / "cold.jsonl", tmp_path / "data" / "w.jsonl", plain, replay, seed=3)
    assert write_cold_start_mix(tmp_path / "data" / "cold.jsonl", tmp_path / "data" / "w.jsonl", r1, replay, seed=3,
                                r1_form="short") == kinds
    before = {r["id"]: r for r in map(json.loads, plain.read_text().splitlines())}
    after = [json.loads(x) for x in r1.read_text().splitlines()]
    assert [r["id"] for r in after] == list(before)  # the same rows, in the same order
    rewritten = 0
    for r in after:
        old = before[r["id"]]["messages"][-1]["content"][0]["text"]
        new = r["messages"][-1]["content"][0]["text"]
        assert r["messages"][:-1] == before[r["id"]]["messages"][:-1] and r["images"] == before[r["id"]]["images"]
        if r["id"].endswith("-add"):
            a, b = map(int, re.search(r"What is (\d+) plus (\d+)", r["messages"][0]["content"][1]["text"]).groups())
            assert new == f"<think>{old}</think><answer>{a + b}</answer>", new
            rewritten += 1
        else:
            assert new == old
    assert rewritten == kinds["add"] == 8
