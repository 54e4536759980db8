"""GRPO runs in reports: per-stage table (start → end of each PTST stage), training curves, the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.errors import ConfigError
from visionr1.report.training import is_training_run, load_training_run, stage_markdown, stage_rows, training_plot

PNG = b"\x89PNG\r\n\x1a\n"


def write_grpo_run(root: Path, lengths=(100, 90, 80, 70, 60, 50, 40, 30), stage_at=6) -> Path:
    """A GRPO run folder: one metrics row per step, stage 2 from step ``stage_at`` (budget doubled, G halved)."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for step, length in enumerate(lengths, start=1):
        stage = int(step >= stage_at)
        rows.append({"stage": stage, "global_step": step, "num_generations": 8 >> stage, "max_completion_length": 128 << stage,
                     "reward_mean": step / 10, "accuracy": step / 10, "completion_length_mean": length,
                     "truncation_rate": 0.0, "reflective_per_1k_tokens": 1.0})
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (root / "metrics.jsonl").write_text(text + '{"stage": 1, "global_st')  # a line cut by a kill
    return root


def test_stage_rows_average_the_ends_of_each_stage(tmp_path):
    run = load_training_run(write_grpo_run(tmp_path / "grpo"))
    first, second = stage_rows(run)
    assert (first["first_step"], first["last_step"], first["max_completion_length"], first["num_generations"]) == (1, 5, 128, 8)
    assert (second["first_step"], second["last_step"], second["max_completion_length"], second["num_generations"]) == (6, 8, 256, 4)
    assert first["completion_length_mean"] == (95.0, 65.0)  # five steps: two at each end, never the same ones
    assert second["reward_mean"] == pytest.approx((0.6, 0.8)) and second["completion_length_mean"] == (50.0, 30.0)
    long = load_training_run(write_grpo_run(tmp_path / "long", lengths=range(200, 100, -5), stage_at=99))
    (only,) = stage_rows(long)
    assert only["completion_length_mean"] == (190.0, 115.0)  # mean of the first five, of the last five
    assert "| grpo | 1 | 1–5 | 128 | 8 |" in stage_markdown([run])


def test_runs_without_steps_are_errors_naming_the_folder(tmp_path):
    with pytest.raises(ConfigError, match="not a training run folder"):
        load_training_run(tmp_path)
    (tmp_path / "metrics.jsonl").write_text('{"global_step": 1}\n')
    with pytest.raises(ConfigError, match="no training step yet"):
        load_training_run(tmp_path)


def test_training_curves_png_for_one_and_several_runs(tmp_path):
    a = load_training_run(write_grpo_run(tmp_path / "a" / "grpo"))
    b = load_training_run(write_grpo_run(tmp_path / "b" / "grpo", stage_at=4))
    assert training_plot([a], tmp_path / "one.png").read_bytes()[:8] == PNG
    assert training_plot([a, b], tmp_path / "two.png").read_bytes()[:8] == PNG


def test_report_command_takes_grpo_runs_beside_eval_runs(tmp_path):
    from visionr1.eval.run import EvalConfig, run_eval

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    run_eval(EvalConfig(benchmark="mathvista", data=fixtures / "mathvista_eval", out=tmp_path / "eval", progress=False,
                        canned=fixtures / "mathvista_eval" / "responses.json"))
    grpo = write_grpo_run(tmp_path / "grpo")
    assert is_training_run(grpo) and not is_training_run(tmp_path / "eval")

    only = CliRunner().invoke(app, ["report", str(grpo), "--png", str(tmp_path / "t.png"), "--markdown", str(tmp_path / "t.md")])
    assert only.exit_code == 0, only.output
    assert (tmp_path / "t.png").read_bytes()[:8] == PNG and "| grpo | 2 | 6–8 | 256 | 4 |" in (tmp_path / "t.md").read_text()

    both = CliRunner().invoke(app, ["report", str(tmp_path / "eval"), str(grpo), "--png", str(tmp_path / "r.png"),
                                    "--markdown", str(tmp_path / "r.md")])
    assert both.exit_code == 0, both.output
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG and (tmp_path / "r-grpo.png").read_bytes()[:8] == PNG
    md = (tmp_path / "r.md").read_text()
    assert md.startswith("| benchmark | metric | eval |") and "| grpo | 1 | 1–5 | 128 | 8 |" in md


def write_sft_run(root: Path, steps: int = 12, lr: float = 1e-3) -> Path:
    """An SFT run folder: loss falling, TRL's token accuracy (under "trl") rising."""
    root.mkdir(parents=True, exist_ok=True)
    rows = [{"global_step": s, "loss": 10.0 / s, "learning_rate": lr, "trl": {"mean_token_accuracy": s / steps}}
            for s in range(1, steps + 1)]
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def test_sft_runs_get_their_own_table_and_curves(tmp_path):
    sft = load_training_run(write_sft_run(tmp_path / "sft"))
    assert sft.kind == "sft" and load_training_run(write_grpo_run(tmp_path / "grpo")).kind == "grpo"
    (row,) = stage_rows(sft)
    assert row["loss"] == (pytest.approx((10 + 5 + 10 / 3 + 2.5 + 2) / 5, abs=1e-4), pytest.approx(
        sum(10 / s for s in range(8, 13)) / 5, abs=1e-4))
    assert row["mean_token_accuracy"] == pytest.approx((0.25, 50 / 60))  # read from TRL's own log
    tiny_lr = load_training_run(write_sft_run(tmp_path / "lr", lr=5e-6))
    assert "| 5e-06 → 5e-06 |" in stage_markdown([tiny_lr])  # a 7B learning rate is not rounded away
    assert stage_markdown([sft]).startswith("| run | steps | loss | token accuracy | learning rate |")

    res = CliRunner().invoke(app, ["report", str(tmp_path / "sft"), str(tmp_path / "grpo"), "--png", str(tmp_path / "r.png")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r-sft.png").read_bytes()[:8] == PNG and (tmp_path / "r-grpo.png").read_bytes()[:8] == PNG
    assert not (tmp_path / "r.png").exists()  # no eval run: no bar chart
    with pytest.raises(ConfigError, match="one kind"):
        training_plot([sft, load_training_run(tmp_path / "grpo")], tmp_path / "mixed.png")


def test_validation_rows_join_the_table_and_the_figure(tmp_path):
    root = write_grpo_run(tmp_path / "grpo")
    rows = [{"step": 0, "stage": 0, "accuracy": 20.0}, {"step": 5, "stage": 0, "accuracy": 35.0},
            {"step": 6, "stage": 1, "accuracy": 40.0}, {"step": 8, "stage": 1, "accuracy": 55.5}]
    (root / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 9, "acc')
    run = load_training_run(root)
    assert [v["step"] for v in run.validation] == [0, 5, 6, 8]
    first, second = stage_rows(run)
    assert first["validation"] == (20.0, 35.0) and second["validation"] == (40.0, 55.5)
    md = stage_markdown([run])
    assert "validation acc" in md and "40 → 55.5" in md and "held-out evaluation" in md
    assert training_plot([run], tmp_path / "v.png").read_bytes()[:8] == PNG
    plain = load_training_run(write_grpo_run(tmp_path / "plain"))
    assert plain.validation is None and "validation acc" not in stage_markdown([plain])


def test_a_short_sft_run_shows_its_first_and_last_values(tmp_path):
    """Three steps, loss 8.07 → 7.96 → 7.88: the table says 8.07 → 7.88, not the mean of all three twice."""
    root = tmp_path / "sft"
    root.mkdir()
    rows = [{"global_step": s, "loss": v, "learning_rate": 1e-3} for s, v in enumerate((8.07, 7.96, 7.88), start=1)]
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (row,) = stage_rows(load_training_run(root))
    assert row["loss"] == (8.07, 7.88)
    assert "| sft | 1–3 | 8.07 → 7.88 |" in stage_markdown([load_training_run(root)])


def test_the_grpo_figure_is_a_grid_with_whole_step_ticks(tmp_path, monkeypatch):
    """Issue 33 polish: GRPO figures were one strip of 2000x320 px with fractional step ticks (1.5, 2.5, ...)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    seen = []
    real_savefig = matplotlib.figure.Figure.savefig

    def spy(fig, *args, **kwargs):
        seen.append([ax.get_xticks() for ax in fig.axes if ax.get_visible()])
        return real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    run = load_training_run(write_grpo_run(tmp_path / "grpo", lengths=(100, 90, 80), stage_at=2))
    w, h = Image.open(training_plot([run], tmp_path / "g.png")).size
    assert (w, h) == (1200, 640)  # 5 curves: two rows of at most 3 panels, 4 x 3.2 inches each at 100 dpi
    (ticks,) = seen
    assert len(ticks) == 5 and all(float(t).is_integer() for panel in ticks for t in panel)
    plt.close("all")
