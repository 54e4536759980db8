"""The demo's report from a made-up run folder (summary, eval records, metrics files): the ablation table and
figure, the example chain right at every step, the tag/conclusion disagreement, the reflective-word fall, and the
GRPO figure in two rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from visionr1.demo.report import reflective_fall, write_demo_report
from visionr1.r1 import conclusion, format_r1

RECORDS = [{"id": "a", "question": "What is the value of the shape's colour plus 1?", "answer": "4",
            "metadata": {"task": "colour_count", "facts": {"colour": "black", "offset": 1}}},
           {"id": "b", "question": "What is the value of the shape's colour plus 2?", "answer": "9",
            "metadata": {"task": "colour_count", "facts": {"colour": "blue", "offset": 2}}}]
CONTRADICTS = format_r1("The shape is black. black=3. The question adds 1. Counting up 1 from 3: 4 (0 left). 3+1=4. "
                        + conclusion("5"), "4", "short")
RIGHT = format_r1("The shape is blue. blue=7. The question adds 2. Counting up 2 from 7: 8 (1 left), 9 (0 left). "
                  "7+2=9. " + conclusion("9"), "9", "short")
REFLECTIVE = [3.0, 2.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # 0 from step 6 on


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _grpo_metrics(path: Path, steps: int, stages: int, length: float) -> None:
    _write_jsonl(path / "metrics.jsonl", [
        {"global_step": s, "stage": (s - 1) * stages // steps, "reward_mean": 0.1 * s, "hard_reward": 0.05 * s,
         "format_rate": 0.5, "accuracy": 0.3, "completion_length_mean": length - s, "truncation_rate": 0.0,
         "reflective_per_1k_tokens": REFLECTIVE[s - 1] if s <= len(REFLECTIVE) else 0.0} for s in range(1, steps + 1)])


def _eval(accuracy: float) -> dict:
    return {"accuracy": accuracy, "format": 100.0, "mean_tokens": 120.0, "truncated": 0.0, "items": 2,
            "reflective_per_completion": 0.0, "by_task": {"colour_count": accuracy}, "model": "m/final"}


def _row(label: str, accuracy: float, seconds: float | None) -> dict:
    return {"label": label, "model": "m/best", "accuracy": accuracy, "format": 100.0, "mean_tokens": 120.0,
            "truncated": 0.0, "wrong_among_long": 50.0, "long_chains": 1, "median_tokens": 118, "seconds": seconds}


@pytest.fixture
def run(tmp_path):
    _write_jsonl(tmp_path / "data" / "test.jsonl", RECORDS)
    responses = {"base": ["The answer is 5.", "The answer is 8."], "cold_start": [CONTRADICTS, RIGHT],
                 "rl": [CONTRADICTS, RIGHT], "long": [RIGHT, RIGHT], "zero": ["The answer is 4.", "x"]}
    for key, texts in responses.items():
        items = [{"id": r["id"], "question": r["question"], "answer": r["answer"], "response": t, "extracted": None,
                  "correct": key != "base", "well_formed": True} for r, t in zip(RECORDS, texts)]
        (tmp_path / "eval" / key).mkdir(parents=True)
        (tmp_path / "eval" / key / "results_records.json").write_text(json.dumps(items))
    _grpo_metrics(tmp_path / "grpo", 12, 2, 130)
    _grpo_metrics(tmp_path / "grpo_long", 9, 1, 180)
    _grpo_metrics(tmp_path / "grpo_zero", 14, 1, 20)
    _write_jsonl(tmp_path / "base" / "metrics.jsonl", [{"global_step": s, "loss": 5.0 / s} for s in range(1, 6)])
    summary = {"seed": 0, "quick": False, "config": {"data": {"n_test": 2, "n_train": 8, "tasks": ["colour_count"],
                                                               "difficulty": 1, "image_size": 112},
                                                      "eval": {"max_tokens": 192}},
               "eval": {"base": _eval(10.0), "cold_start": _eval(40.0), "rl": _eval(70.0)},
               "stages": {"warm-up": {"seconds": 1.0, "steps": 5}, "grpo": {"seconds": 100.0, "stages": [
                   {"stage": 0, "start_step": 1, "end_step": 6, "max_completion_length": 136, "num_generations": 8},
                   {"stage": 1, "start_step": 7, "end_step": 12, "max_completion_length": 192, "num_generations": 4}]}},
               "total_seconds": 200.0, "peak_rss_mb": 100.0}
    return tmp_path, summary


def _with_ablation(summary: dict) -> dict:
    rows = {"cold_start": _row("cold start only (SFT)", 40.0, None), "ptst": _row("PTST (the demo's RL)", 70.0, 100.0),
            "long": _row("Long (one stage)", 55.5, 90.0), "zero": _row("Zero (from the base)", 12.0, 80.0)}
    return {**summary, "ablation": {"rows": rows, "tokens_sampled": {"ptst": 253440, "long": 251904, "zero": 252416},
                                    "budget": "tokens sampled", "long_chain": "longer than the median"}}


def test_the_ablation_table_and_figure(run):
    out, summary = run
    files = write_demo_report(out, _with_ablation(summary))
    report = (out / "report.md").read_text()
    assert "## Ablations in miniature" in report
    for label in ("cold start only (SFT)", "PTST (the demo's RL)", "Long (one stage)", "Zero (from the base)"):
        assert f"| {label} | `m/best` |" in report
    assert "| Long (one stage) | `m/best` | 55.5 | 100.0 | 120.0 | 0.0 | 50.0 (1) | 90 |" in report
    assert "PTST − Long: **+14.5 points**; PTST − Zero: **+58.0 points**" in report
    assert "PTST 253,440, Long 251,904, Zero 252,416" in report
    assert out / "ablation.png" in files and "](ablation.png)" in report
    assert Image.open(out / "ablation.png").size == (1200, 340)  # one row: hard reward, format, length
    assert "| Zero | 0 of 2 | 0 | – |" in report and "| Long | 2 of 2 | 0 | 0.0 |" in report


def test_without_the_ablation_there_is_no_table_nor_figure(run):
    out, summary = run
    write_demo_report(out, summary)
    report = (out / "report.md").read_text()
    assert "Ablations" not in report and not (out / "ablation.png").exists() and "| Zero |" not in report


def test_the_grpo_figure_is_laid_out_in_two_rows(run):
    out, summary = run
    write_demo_report(out, summary)
    assert Image.open(out / "training.png").size == (1200, 640)  # 5 curves: 3 a row, 2 rows (was a 2400x320 strip)


def test_the_example_chain_is_right_at_every_step_and_disagreement_is_reported(run):
    out, summary = run
    write_demo_report(out, summary)
    report = (out / "report.md").read_text()
    example = report.split("### One item")[1].split("###")[0]
    assert "**b** —" in example and "**a** —" not in example  # a's chain concludes 5 and answers 4
    assert "right at every step" in example
    assert "| RL (PTST GRPO) | 2 of 2 | 1 | 50.0 |" in report and "| base (warm-up) | 0 of 2 | 0 | – |" in report


def test_the_reflective_word_fall_is_computed_from_the_metrics(run):
    out, summary = run
    write_demo_report(out, summary)
    assert "**0 from step 6 on** (of 12)" in (out / "report.md").read_text()
    assert reflective_fall([{"global_step": 1, "reflective_per_1k_tokens": 2.0},
                            {"global_step": 2, "reflective_per_1k_tokens": 1.0}])["zero_from"] is None
    assert reflective_fall([{"global_step": 1}]) is None
