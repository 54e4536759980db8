"""``visionr1 report RUN_A RUN_B …``: side-by-side table on the terminal, a PNG bar chart, optional markdown.

Top-level imports are stdlib + typer only, so ``visionr1 --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Run folders written by `visionr1 eval --out`.")],
    png: Annotated[Path, typer.Option("--png", help="Where to write the bar chart.")] = Path("report.png"),
    markdown: Annotated[Optional[Path], typer.Option("--markdown", help="Also write the table as markdown here.")] = None,
) -> None:
    """Compare eval runs side by side: a table of every headline metric and a PNG bar chart."""
    from rich.console import Console

    from visionr1.errors import VisionR1Error
    from visionr1.report import bar_chart, comparison_markdown, comparison_table, load_run

    console = Console()
    try:
        summaries = [load_run(r) for r in runs]
        console.print(comparison_table(summaries))
        path = bar_chart(summaries, png)
        if markdown is not None:
            from visionr1.data.io import atomic_write_text

            atomic_write_text(markdown, comparison_markdown(summaries))
    except VisionR1Error as e:
        Console(stderr=True).print(f"[bold red]error:[/] {e}")
        raise typer.Exit(code=2) from None
    console.print(f"bar chart: {path}" + (f"; markdown: {markdown}" if markdown else ""))
