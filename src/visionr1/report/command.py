"""``visionr1 report RUN_A RUN_B …``: eval runs side by side (table, PNG bar chart), GRPO runs by PTST stage
and SFT runs (table, training curves); optional markdown.

Top-level imports are stdlib + typer only, so ``visionr1 --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def report_command(
    runs: Annotated[Optional[list[Path]], typer.Argument(help="Run folders written by `visionr1 eval --out` (compared side by side) "
                                                             "or by `visionr1 grpo` / `visionr1 sft` (table and training curves).",
                                                        show_default=False)] = None,
    png: Annotated[Path, typer.Option("--png", help="Where to write the bar chart, or the curves when all runs are "
                                                    "GRPO (or all SFT) runs; otherwise the curves go to "
                                                    "<stem>-grpo.png / <stem>-sft.png.")] = Path("report.png"),
    markdown: Annotated[Optional[Path], typer.Option("--markdown", help="Also write the table(s) as markdown here.")] = None,
    reference: Annotated[Optional[list[str]], typer.Option("--reference", help="Add published numbers as columns: paper "
                                                                                 "(Qwen2.5-VL-7B and Vision-R1-7B on MathVista, "
                                                                                 "MathVerse, MM-Math, the paper's Table 1).")] = None,
) -> None:
    """Compare eval runs side by side (table + bar chart); GRPO runs by PTST stage and SFT runs (table + curves)."""
    from rich.console import Console

    from visionr1.errors import ConfigError, VisionR1Error
    from visionr1.report import bar_chart, comparison_markdown, comparison_table, load_run
    from visionr1.report.training import is_training_run, load_training_run, stage_markdown, stage_table, training_plot

    console = Console()
    written, parts = [], []
    try:
        from visionr1.report.reference import get_references

        if not runs and not reference:
            raise ConfigError("give run folders to compare, or --reference paper (or both)")
        references = [ref for name in reference or [] for ref in get_references(name)]
        evals, kinds = [], {}  # eval runs; training runs by kind (sft, grpo)
        for r in runs or []:
            if is_training_run(r):
                run = load_training_run(r)
                kinds.setdefault(run.kind, []).append(run)
            else:
                evals.append(load_run(r))
        if evals or references:
            columns = evals + references
            console.print(comparison_table(columns))
            written.append(f"bar chart: {bar_chart(columns, png)}")
            parts.append(comparison_markdown(columns))
            if references:
                written.append("reference: " + "; ".join(sorted({r.source for r in references})))
        for kind, group in kinds.items():
            console.print(stage_table(group))
            alone = not evals and not references and len(kinds) == 1
            curves = png if alone else png.with_name(f"{png.stem}-{kind}{png.suffix}")
            written.append(f"{kind} curves: {training_plot(group, curves)}")
            parts.append(stage_markdown(group))
        if markdown is not None:
            from visionr1.data.io import atomic_write_text

            atomic_write_text(markdown, "\n\n".join(parts))
            written.append(f"markdown: {markdown}")
    except VisionR1Error as e:
        Console(stderr=True).print(f"[bold red]error:[/] {e}")
        raise typer.Exit(code=2) from None
    console.print("; ".join(written))
