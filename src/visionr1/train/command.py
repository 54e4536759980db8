"""Typer commands ``visionr1 sft`` and ``visionr1 grpo`` (top-level imports: stdlib and typer only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

CONFIG_HELP = "YAML config (see recipes/); key=value arguments after it override single keys, e.g. trainer.learning_rate=1e-5."


def _run(kind: str, config: Path, overrides: list[str] | None) -> None:
    from rich.console import Console

    from visionr1.config import load_config
    from visionr1.errors import VisionR1Error

    console = Console(stderr=True)
    try:
        if kind == "sft":
            from visionr1.train.config import SFTRunConfig
            from visionr1.train.sft import run_sft

            summary = run_sft(load_config(SFTRunConfig, config, overrides or []))
        else:
            from visionr1.train.config import GRPORunConfig
            from visionr1.train.grpo import run_grpo

            summary = run_grpo(load_config(GRPORunConfig, config, overrides or []))
    except VisionR1Error as e:
        console.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(code=2) from None
    from visionr1.train.common import end_distributed, is_main_process

    if is_main_process():
        typer.echo(json.dumps(summary, indent=1, default=str))
    end_distributed()


def sft_command(
    config: Annotated[Path, typer.Option("--config", "-c", help=CONFIG_HELP)],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value overrides.", show_default=False)] = None,
) -> None:
    """Cold-start SFT on cold.jsonl / ShareGPT data (full or LoRA, loss on assistant tokens, resumable)."""
    _run("sft", config, overrides)


def grpo_command(
    config: Annotated[Path, typer.Option("--config", "-c", help=CONFIG_HELP)],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value overrides.", show_default=False)] = None,
) -> None:
    """GRPO with the hard formatting result reward and PTST stages in one resumable run."""
    _run("grpo", config, overrides)
