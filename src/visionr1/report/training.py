"""Training runs: a per-stage table and training curves, read from a run folder's ``metrics.jsonl``.

``visionr1 grpo`` writes one row per optimizer step (reward, accuracy, completion length, truncation rate,
reflective words per 1K tokens, the PTST stage it belongs to). These are the curves that show PTST at
work: completion length held down by the short budget in the first stage, then growing when the budget
does. ``visionr1 sft`` writes loss, token accuracy and learning rate per step. Several runs of one kind
(say PTST against a single long stage) are drawn in one figure, one colour per run.

Example:
    >>> from visionr1.report.training import load_training_run, stage_rows   # doctest: +SKIP
    >>> stage_rows(load_training_run("runs/vision_r1_7b/grpo"))[0]["reward"]  # doctest: +SKIP
    (0.21, 0.48)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError
from visionr1.files import read_jsonl
from visionr1.report.plots import PNG_SOFTWARE
from visionr1.report.tables import unique_names

METRICS_FILE = "metrics.jsonl"
VALIDATION_FILE = "validation.jsonl"  # written by the `validation:` section of sft/grpo (visionr1.train.validation)
VALIDATION_CURVE = ("accuracy", "held-out accuracy % (validation)", "validation acc")
CURVES = {  # per kind of run: metrics.jsonl key (top level, else under "trl"), plot title, table column
    "grpo": (
        ("reward_mean", "hard formatting result reward", "reward"),
        ("accuracy", "accuracy (any format)", "accuracy"),
        ("completion_length_mean", "completion length (tokens)", "length"),
        ("truncation_rate", "truncation rate", "truncated"),
        ("reflective_per_1k_tokens", "reflective words / 1K tokens", "reflective/1K"),
    ),
    "sft": (
        ("loss", "training loss", "loss"),
        ("mean_token_accuracy", "token accuracy (assistant tokens)", "token accuracy"),
        ("learning_rate", "learning rate", "learning rate"),
    ),
}
WINDOW = 5  # steps averaged at each end of a stage in the table (fewer in a short stage: see window())
PANELS_PER_ROW = 3  # training figures: at most this many curves side by side, then another row


def window(steps: int) -> int:
    """Steps averaged at each end of a stage of ``steps`` logged steps: :data:`WINDOW`, but never more than
    half the stage, so the two ends never share a step (a 3-step stage shows its first and last value, not
    the mean of all three twice).

    >>> [window(n) for n in (1, 2, 3, 5, 9, 10, 100)]
    [1, 1, 1, 2, 4, 5, 5]
    """
    return max(1, min(WINDOW, steps // 2))


@dataclass
class TrainingRun:
    """A training run's name (its folder name unless given), folder, kind (``grpo`` or ``sft``) and step rows."""

    name: str
    path: Path
    rows: list[dict[str, Any]]
    kind: str = "grpo"
    validation: list[dict[str, Any]] | None = None

    def value(self, row: dict[str, Any], key: str) -> float | None:
        """A curve's value in a step row: our top-level keys first, then TRL's own logs."""
        v = row.get(key)
        return (row.get("trl") or {}).get(key) if v is None else v


def is_training_run(path: Path | str) -> bool:
    """A folder ``visionr1 grpo`` or ``visionr1 sft`` wrote (``metrics.jsonl``), not an eval run (``scores.json``)."""
    path = Path(path)
    return path.is_dir() and (path / METRICS_FILE).is_file() and not (path / "scores.json").exists()


def load_training_run(path: Path | str, name: str | None = None) -> TrainingRun:
    """Read a training run folder's step rows: GRPO if they carry rewards, else SFT if they carry a loss.

    A line cut by a killed run is skipped; a run with no step yet is an error naming the file.
    """
    path = Path(path)
    file = path / METRICS_FILE
    if not file.is_file():
        raise ConfigError(f"{path} is not a training run folder (no {METRICS_FILE}); "
                          f"run `visionr1 grpo` or `visionr1 sft` with run_dir={path}")
    rows = [r for r in read_jsonl(file, skip_bad=True) if isinstance(r, dict) and "global_step" in r]
    for kind, marker in (("grpo", "reward_mean"), ("sft", "loss")):
        steps = [r for r in rows if r.get(marker) is not None]
        if steps:
            return TrainingRun(name=name or path.name, path=path, rows=sorted(steps, key=lambda r: r["global_step"]), kind=kind,
                               validation=_read_rows(path / VALIDATION_FILE, "step") or None)
    raise ConfigError(f"{file} holds no training step yet (no row with global_step and reward_mean or loss)")


def _read_rows(file: Path, key: str) -> list[dict[str, Any]]:
    """JSONL rows that carry ``key``, sorted by it; a line cut by a killed run is skipped."""
    rows = [r for r in read_jsonl(file, skip_bad=True, missing_ok=True) if isinstance(r, dict) and key in r]
    return sorted(rows, key=lambda r: r[key])


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None  # not rounded: learning rates are ~1e-6


def stage_rows(run: TrainingRun) -> list[dict[str, Any]]:
    """Per PTST stage: its steps, budget and group size, and each curve's mean over its first and last
    :func:`window` steps as ``(start, end)``."""
    out = []
    for stage in sorted({r.get("stage", 0) for r in run.rows}):
        rows = [r for r in run.rows if r.get("stage", 0) == stage]
        row: dict[str, Any] = {"stage": stage + 1, "first_step": rows[0]["global_step"], "last_step": rows[-1]["global_step"],
                               "max_completion_length": rows[0].get("max_completion_length"),
                               "num_generations": rows[0].get("num_generations")}
        for key, _, _ in CURVES[run.kind]:
            values = [v for v in (run.value(r, key) for r in rows) if v is not None]
            n = window(len(values))
            row[key] = (_mean(values[:n]), _mean(values[-n:]))
        if run.validation:  # the first and last validation of the stage (a boundary one belongs to the stage it ends)
            val = [v["accuracy"] for v in run.validation if v.get("stage", 0) == stage and v.get("accuracy") is not None]
            row["validation"] = (val[0], val[-1]) if val else (None, None)
        out.append(row)
    return out


def _fmt(pair: tuple[float | None, float | None]) -> str:
    def one(v: float | None) -> str:
        return "–" if v is None else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}")

    return f"{one(pair[0])} → {one(pair[1])}"


def stage_header(kind: str = "grpo", validation: bool = False) -> list[str]:
    """Columns of :func:`stage_table_rows` for runs of ``kind``."""
    fixed = ["run", "stage", "steps", "budget", "G"] if kind == "grpo" else ["run", "steps"]
    return [*fixed, *(column for _, _, column in CURVES[kind])] + ([VALIDATION_CURVE[2]] if validation else [])


def stage_table_rows(runs: list[TrainingRun]) -> list[list[str]]:
    """Rows of :func:`stage_header` (runs of one kind), one per run and PTST stage; curves as ``start → end``."""
    table = []
    for name, run in zip(unique_names(runs), runs):
        for s in stage_rows(run):
            steps = f"{s['first_step']}–{s['last_step']}"
            fixed = ([name, str(s["stage"]), steps, str(s["max_completion_length"]), str(s["num_generations"])]
                     if run.kind == "grpo" else [name, steps])
            extra = [_fmt(s.get("validation", (None, None)))] if any(r.validation for r in runs) else []
            table.append([*fixed, *(_fmt(s[key]) for key, _, _ in CURVES[run.kind]), *extra])
    return table


def stage_table(runs: list[TrainingRun]):
    """A ``rich.table.Table`` of :func:`stage_table_rows` (runs of one kind)."""
    from rich.table import Table

    kind = runs[0].kind
    table = Table(title="GRPO by PTST stage (start → end of each stage)" if kind == "grpo" else "SFT (start → end)")
    for column in stage_header(kind, any(r.validation for r in runs)):
        table.add_column(column)
    for row in stage_table_rows(runs):
        table.add_row(*row)
    return table


def stage_markdown(runs: list[TrainingRun]) -> str:
    """:func:`stage_table_rows` as a markdown table (runs of one kind)."""
    validation = any(r.validation for r in runs)
    header = stage_header(runs[0].kind, validation)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in stage_table_rows(runs)]
    what = "each stage" if runs[0].kind == "grpo" else "the run"
    note = " Validation: the first and the last held-out evaluation of it." if validation else ""
    return "\n".join(lines) + (f"\n\nCurves: mean of the first and the last {WINDOW} logged steps of {what} (of half "
                               f"its steps when it has fewer than {2 * WINDOW}; first and last value below 4 steps).{note}\n")


def training_plot(runs: list[TrainingRun], out: Path | str) -> Path:
    """One panel per curve of the runs' kind (all the same) against the global step; PTST stage boundaries
    dashed. One run: a colour per stage; several runs: a colour per run. Returns ``out``."""
    if len({run.kind for run in runs}) != 1:
        raise ConfigError("training_plot draws runs of one kind; got " + ", ".join(sorted({r.kind for r in runs})))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = CURVES[runs[0].kind]
    validation = any(r.validation for r in runs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from matplotlib.ticker import MaxNLocator

    panels = len(curves) + validation
    cols = min(panels, PANELS_PER_ROW)
    rows_n = -(-panels // cols)
    fig, grid = plt.subplots(rows_n, cols, figsize=(4 * cols, 3.2 * rows_n), squeeze=False)
    axes = list(grid.flat)[:panels]
    for ax in list(grid.flat)[panels:]:  # a grid, not one strip 2000 px wide; the cells left over stay empty
        ax.set_visible(False)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, run) in enumerate(zip(unique_names(runs), runs)):
        rows = run.rows
        stages = sorted({r.get("stage", 0) for r in rows})
        boundaries = [rows[i]["global_step"] - 0.5 for i in range(1, len(rows)) if rows[i].get("stage") != rows[i - 1].get("stage")]
        for ax, (key, title, _) in zip(axes, curves):
            for j, stage in enumerate(stages):
                pts = [(r["global_step"], run.value(r, key)) for r in rows
                       if r.get("stage", 0) == stage and run.value(r, key) is not None]
                if not pts:
                    continue
                if len(runs) == 1:
                    label = f"PTST stage {stage + 1}" if run.kind == "grpo" else run.name
                    ax.plot(*zip(*pts), marker=".", color=colours[j % len(colours)], label=label)
                else:
                    ax.plot(*zip(*pts), marker=".", color=colours[k % len(colours)], label=name if j == 0 else None)
            for b in boundaries:
                ax.axvline(b, color="k" if len(runs) == 1 else colours[k % len(colours)], ls="--", lw=0.8)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(f"{run.kind.upper()} step", fontsize=8)
            ax.tick_params(labelsize=7)
        if validation:
            ax = axes[-1]
            for j, stage in enumerate(stages):
                pts = [(v["step"], v["accuracy"]) for v in run.validation or []
                       if v.get("stage", 0) == stage and v.get("accuracy") is not None]
                if pts:
                    colour = colours[(j if len(runs) == 1 else k) % len(colours)]
                    ax.plot(*zip(*pts), marker="o", color=colour, label=name if len(runs) > 1 and j == 0 else None)
            for b in boundaries:
                ax.axvline(b, color="k" if len(runs) == 1 else colours[k % len(colours)], ls="--", lw=0.8)
            ax.set_title(VALIDATION_CURVE[1], fontsize=9)
            ax.set_xlabel(f"{run.kind.upper()} step", fontsize=8)
            ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100, metadata={"Software": PNG_SOFTWARE})
    plt.close(fig)
    return out
