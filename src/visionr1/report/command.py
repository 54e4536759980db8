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
    png: Annotated[Optional[Path], typer.Option("--png", help="Where to write the bar chart, or the curves when all runs "
                                                              "are GRPO (or all SFT) runs; otherwise the curves go to "
                                                              "<stem>-grpo.png / <stem>-sft.png. Without it no figure is "
                                                              "written (nothing lands in the current folder).",
                                                show_default=False)] = None,
    markdown: Annotated[Optional[Path], typer.Option("--markdown", help="Also write the table(s) as markdown here.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --png / --markdown files that report did not write.")] = False,
    reference: Annotated[Optional[list[str]], typer.Option("--reference", help="Add published numbers as columns: paper "
                                                                                 "(Qwen2.5-VL-7B and Vision-R1-7B on MathVista, "
                                                                                 "MathVerse, MM-Math, the paper's Table 1).")] = None,
) -> None:
    """Compare eval runs side by side (table + bar chart); GRPO runs by PTST stage and SFT runs (table + curves)."""
    from rich.console import Console

    from visionr1.errors import ConfigError, cli_errors
    from visionr1.report import bar_chart, comparison_markdown, comparison_table, load_run
    from visionr1.report.training import is_training_run, load_training_run, stage_markdown, stage_table, training_plot

    console = Console()
    written, parts = [], []
    with cli_errors(resumable=False):
        from visionr1.report.reference import get_references

        if not runs and not reference:
            raise ConfigError("give run folders to compare, or --reference paper (or both)")
        references = [ref for name in reference or [] for ref in get_references(name)]
        evals, kinds = [], {}  # eval runs; training runs by kind (sft, grpo)
        for r in runs or []:
            _check_run(r)
            if is_training_run(r):
                run = load_training_run(r)
                kinds.setdefault(run.kind, []).append(run)
            else:
                evals.append(load_run(r))
        alone = not evals and not references and len(kinds) == 1
        curves = ({kind: png if alone else png.with_name(f"{png.stem}-{kind}{png.suffix}") for kind in kinds}
                  if png is not None else {})
        charts = [png] if png is not None and (evals or references) else []
        for path in [*charts, *curves.values(), *([markdown] if markdown else [])]:
            _check_output_file(path, force)  # before anything is written
        if evals or references:
            columns = evals + references
            console.print(comparison_table(columns))
            if charts:
                written.append(f"bar chart: {bar_chart(columns, png)}")
            parts.append(comparison_markdown(columns))
            if references:
                written.append("reference: " + "; ".join(sorted({r.source for r in references})))
        for kind, group in kinds.items():
            console.print(stage_table(group))
            if kind in curves:
                written.append(f"{kind} curves: {training_plot(group, curves[kind])}")
            parts.append(stage_markdown(group))
        if png is None:
            written.append("no figure (--png FILE writes the " + ("bar chart" if evals or references else "curves") + ")")
        if markdown is not None:
            from visionr1.files import write_text

            write_text(markdown, "\n\n".join(parts).rstrip("\n") + "\n\n" + MARKDOWN_MARK + "\n")
            written.append(f"markdown: {markdown}")
    console.print("; ".join(written))


MARKDOWN_MARK = "<!-- written by visionr1 report -->"
"""The last line of a ``--markdown`` file: ``visionr1 report`` replaces only such files unless ``--force``."""


def _check_run(path: Path) -> None:
    """A clear error for a folder that does not exist or holds no run (report reads eval, SFT and GRPO runs)."""
    from visionr1.errors import ConfigError

    if not path.exists():
        raise ConfigError(f"{path} does not exist; give a run folder written by `visionr1 eval --out`, "
                          "`visionr1 sft` or `visionr1 grpo`")
    if path.is_dir() and not (path / "scores.json").is_file() and not (path / "metrics.jsonl").is_file():
        raise ConfigError(f"{path} is not a run folder: no scores.json (an eval run, `visionr1 eval --out`) and no "
                          "metrics.jsonl (a training run, `visionr1 sft` / `visionr1 grpo`, once it has logged a step)")


def _check_output_file(path: Path, force: bool) -> None:
    """Refuse to overwrite a file report did not write (a PNG without our mark, a markdown file without ours)."""
    from visionr1.errors import ConfigError

    if force or not path.exists():
        return
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name")
    ours = False
    try:
        if path.suffix.lower() == ".png":
            from PIL import Image

            from visionr1.report.plots import PNG_SOFTWARE

            with Image.open(path) as im:
                ours = im.info.get("Software") == PNG_SOFTWARE
        else:
            ours = path.read_text(encoding="utf-8").rstrip().endswith(MARKDOWN_MARK)
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise ConfigError(f"{path} exists and was not written by `visionr1 report`; choose another file name, or pass "
                          "--force to overwrite it")
