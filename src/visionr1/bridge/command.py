"""``visionr1 bridge``: the typer command (top-level imports: stdlib and typer only, so ``--help`` is fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer


def bridge_command(
    input: Annotated[Optional[Path], typer.Option("--input", help="Records: JSONL, Parquet, ShareGPT JSON or a data folder.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Run folder: resume store, outputs, images.")] = None,
    mllm_url: Annotated[Optional[str], typer.Option("--mllm-url", help="OpenAI-compatible base URL of the MLLM (stages 1-2).")] = None,
    mllm_model: Annotated[Optional[str], typer.Option("--mllm-model", help="MLLM model name.")] = None,
    reasoner_url: Annotated[Optional[str], typer.Option("--reasoner-url", help="Base URL of the text reasoner (stage 3).")] = None,
    reasoner_model: Annotated[Optional[str], typer.Option("--reasoner-model", help="Reasoner model name.")] = None,
    concurrency: Annotated[Optional[int], typer.Option("--concurrency", help="Requests in flight per endpoint (default 64, or the config's).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Client processes sharing the records and the concurrency; 0 (the default) = auto: min(2, CPUs).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="bridge.yaml; flags override it.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Use only the first N good records (reading stops there).")] = None,
    teacher: Annotated[Optional[str], typer.Option("--teacher", help="endpoints (default) or template (offline, synth records).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Estimate calls, tokens and cost; call nothing.")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No live display.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write into --out even if it holds files the bridge did not make.")] = False,
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value config overrides, e.g. filters.max_reasoning_words=6000")] = None,
) -> None:
    """Build cold-start CoT data by modality bridging (MLLM -> description -> reasoner), resumably.

    Rerunning the same command resumes: stored responses are replayed, never paid for twice.
    """
    from rich.console import Console

    from visionr1.bridge.config import BridgeConfig
    from visionr1.config import load_config
    from visionr1.errors import cli_errors

    console = Console(stderr=True)
    with cli_errors(console):
        flags: dict[str, Any] = {"input": input, "out": out, "limit": limit, "teacher": teacher, "workers": workers,
                                 "mllm.base_url": mllm_url, "mllm.model": mllm_model, "mllm.concurrency": concurrency,
                                 "reasoner.base_url": reasoner_url, "reasoner.model": reasoner_model,
                                 "reasoner.concurrency": concurrency, "progress": False if no_progress else None}
        cfg = load_config(BridgeConfig, config, overrides or [], flags=flags)
        if dry_run:
            from visionr1.bridge.estimate import estimate, print_estimate
            from visionr1.bridge.run import MADE_BY, check_same_input, looks_like_bridge_run
            from visionr1.outdir import check_output_dir

            if cfg.out is not None:
                check_output_dir(cfg.out, MADE_BY, force=force, looks_ours=looks_like_bridge_run, what="--out folder")
                if cfg.input is not None:
                    check_same_input(cfg, force)
            print_estimate(estimate(cfg), console)
            return
        from visionr1.bridge.run import run_bridge
        from visionr1.bridge.progress import rich_progress

        stats = run_bridge(cfg, progress=rich_progress(console) if cfg.progress else None, force=force)
    console.print(
        f"kept [bold green]{stats['kept']}[/] of {stats['records']}; rejected {stats['rejected']} "
        f"{stats['rejected_by_reason'] or ''} -> {cfg.out}"
    )
