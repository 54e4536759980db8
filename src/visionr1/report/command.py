"""``visionr1 report RUN_A RUN_B …``: eval runs side by side (table, PNG bar chart), GRPO runs by PTST stage
(table, training curves); optional markdown.

Top-level imports are stdlib + typer only, so ``visionr1 --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Run folders written by `visionr1 eval --out` (compared side by side) "
                                                   "or by `visionr1 grpo` (per-stage table and training curves).")],
    png: Annotated[Path, typer.Option("--png", help="Where to write the bar chart (training runs only: the training "
                                                    "curves; both kinds: the curves go to <stem>-training.png).")] = Path("report.png"),
    markdown: Annotated[Optional[Path], typer.Option("--markdown", help="Also write the table(s) as markdown here.")] = None,
) -> None:
    """Compare eval runs side by side (table + PNG bar chart), and GRPO runs by PTST stage (table + training curves)."""
    from rich.console import Console
    from rich.table import Table

    from visionr1.errors import VisionR1Error
    from visionr1.report import bar_chart, comparison_markdown, comparison_table, load_run
    from visionr1.report.training import (
        is_training_run,
        load_training_run,
        stage_header,
        stage_markdown,
        stage_table_rows,
        training_plot,
    )

    console = Console()
    written, parts = [], []
    try:
        training = [load_training_run(r) for r in runs if is_training_run(r)]
        evals = [load_run(r) for r in runs if not is_training_run(r)]
        if evals:
            console.print(comparison_table(evals))
            written.append(f"bar chart: {bar_chart(evals, png)}")
            parts.append(comparison_markdown(evals))
        if training:
            table = Table(title="GRPO by PTST stage (start → end of each stage)")
            for column in stage_header():
                table.add_column(column)
            for row in stage_table_rows(training):
                table.add_row(*row)
            console.print(table)
            curves = png.with_name(f"{png.stem}-training{png.suffix}") if evals else png
            written.append(f"training curves: {training_plot(training, curves)}")
            parts.append(stage_markdown(training))
        if markdown is not None:
            from visionr1.data.io import atomic_write_text

            atomic_write_text(markdown, "\n\n".join(parts))
            written.append(f"markdown: {markdown}")
    except VisionR1Error as e:
        Console(stderr=True).print(f"[bold red]error:[/] {e}")
        raise typer.Exit(code=2) from None
    console.print("; ".join(written))
