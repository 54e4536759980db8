"""``visionr1 demo --quick --ablation`` end to end: the demo, then Zero and Long from its checkpoints, their evals,
``summary.json``'s ablation section and the report's table and figure. A smoke run (tiny sizes, a few steps): it
cannot show learning, so nothing here asserts accuracies."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.demo import STAGES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ablation_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-ablation")
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--quick", "--ablation", "--seed", "2"])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "summary.json").read_text()), result.output


def test_zero_and_long_start_from_the_demos_checkpoints(ablation_run):
    out, summary, _ = ablation_run
    assert list(summary["stages"]) == [*STAGES[:-1], "grpo-zero", "grpo-long", "report"]
    zero, long = (yaml.safe_load((out / run / "config.yaml").read_text()) for run in ("grpo_zero", "grpo_long"))
    assert zero["model"]["path"] == str(out / "base" / "final") and long["model"]["path"] == str(out / "sft" / "final")
    assert zero["reward"]["kind"] == "additive" and zero["data"]["user_template"] == "raw" and zero["data"]["system_prompt"]
    assert long["reward"]["kind"] == "hard" and len(long["ptst"]["stages"]) == 1
    for key in ("zero", "long"):
        rows = [json.loads(x) for x in (out / f"grpo_{key}" / "validation.jsonl").read_text().splitlines()]
        assert rows and rows[0]["step"] == 0  # validated as the demo's GRPO does, from the start
        assert json.loads((out / "eval" / key / "scores.json").read_text())["items"] == 24
    # each evaluated with the prompt it trained and was validated on: Zero the raw question after its system prompt
    scores = {key: json.loads((out / "eval" / key / "scores.json").read_text()) for key in ("zero", "long")}
    assert (scores["zero"]["prompt"], scores["zero"]["system_prompt"]) == ("raw", zero["data"]["system_prompt"])
    assert zero["validation"]["system_prompt"] == zero["data"]["system_prompt"]
    assert scores["long"]["prompt"] == "r1" and "system_prompt" not in scores["long"]


def test_the_summary_gains_an_ablation_section_and_keeps_the_rest(ablation_run):
    out, summary, output = ablation_run
    ab = summary["ablation"]
    assert list(ab["rows"]) == ["cold_start", "ptst", "long", "zero"]
    for row in ab["rows"].values():
        assert 0 <= row["accuracy"] <= 100 and 0 <= row["format"] <= 100 and row["mean_tokens"] > 0
        assert row["wrong_among_long"] is None or 0 <= row["wrong_among_long"] <= 100
    assert ab["rows"]["ptst"]["accuracy"] == summary["eval"]["rl"]["accuracy"]
    assert ab["rows"]["cold_start"]["accuracy"] == summary["eval"]["cold_start"]["accuracy"]
    assert ab["rows"]["zero"]["seconds"] == summary["stages"]["grpo-zero"]["seconds"] > 0
    assert ab["rows"]["zero"]["model"] in ("grpo_zero/best", "grpo_zero/final")
    assert set(ab["tokens_sampled"]) == {"ptst", "long", "zero"}
    assert set(summary["eval"]) == {"base", "cold_start", "rl", "base_seen"}  # the demo's own models, as without
    assert "ablations in miniature" in output


def test_the_report_shows_the_ablation_table_and_figure(ablation_run):
    out, _, _ = ablation_run
    report = (out / "report.md").read_text()
    assert "## Ablations in miniature" in report and "| PTST (the demo's RL) |" in report
    assert "](ablation.png)" in report and (out / "ablation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| Zero |" in report and "| Long |" in report  # the tag/conclusion table covers them too
