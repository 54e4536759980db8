"""A grouped bar chart of the headline metrics of several runs (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

from visionr1.report.tables import RunSummary, comparison_rows

SKIP = ("model", "completion length", "reflective words / completion")


PNG_SOFTWARE = "visionr1 report"
"""The PNG ``Software`` text our plots carry: ``visionr1 report`` replaces only such files unless ``--force``."""


def bar_chart(runs: list[RunSummary], out: Path | str, *, max_metrics: int = 24) -> Path:
    """Write a PNG with one group of bars per (benchmark, metric) and one bar per run; returns ``out``.

    Only percentage metrics are drawn (completion statistics live in the table).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    header, rows = comparison_rows(runs)
    rows = [r for r in rows if r[1] not in SKIP][:max_metrics]
    names = header[2:]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(rows) * max(1, len(names)) ** 0.5 + 2), 4.5))
    xs = range(len(rows))
    for j, name in enumerate(names):
        values = [r[2 + j] if isinstance(r[2 + j], (int, float)) else 0.0 for r in rows]
        bars = ax.bar([x + (j - (len(names) - 1) / 2) * width for x in xs], values, width, label=name)
        for b, r in zip(bars, rows):
            if isinstance(r[2 + j], (int, float)):
                ax.annotate(f"{r[2 + j]:.1f}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                            va="bottom", fontsize=7)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{r[0]}\n{r[1]}" for r in rows], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)
    ax.set_title("visionr1 eval")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120, metadata={"Software": PNG_SOFTWARE})  # marks the file as ours (report --png)
    plt.close(fig)
    return out
