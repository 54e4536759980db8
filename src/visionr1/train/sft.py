"""``visionr1 sft``: cold-start supervised fine-tuning on TRL's ``SFTTrainer``.

Reads the bridge's ``cold.jsonl`` (or a LLaMA-Factory ShareGPT file such as Vision-R1-cold), trains the
full model or a LoRA adapter with the loss on assistant tokens only (TRL swaps in Qwen2.5-VL's training
chat template with ``{% generation %}`` markers), resizes images within the configured pixel budget,
writes ``RUN_DIR/metrics.jsonl`` and checkpoints, and resumes from the newest checkpoint on a rerun.
Without flash-attention the vision tower's windowed attention runs batched (``vision_windows``, exact).

Example:
    >>> cfg = load_config(SFTRunConfig, "recipes/tiny_cpu/sft.yaml", ["run_dir=/tmp/sft"])  # doctest: +SKIP
    >>> run_sft(cfg)["final"]                                                                # doctest: +SKIP
    '/tmp/sft/final'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from trl import SFTTrainer

from visionr1.config import check_model_path
from visionr1.data.record import long_questions_warning
from visionr1.errors import ConfigError
from visionr1.files import filter_jsonl, write_json
from visionr1.models.cpu import tune_cpu
from visionr1.models.freeze import freeze_parts
from visionr1.outdir import releases_held_dirs
from visionr1.models.vision_windows import try_vision_windows
from visionr1.train.common import (
    ConvertedCheckpointMixin,
    already_complete,
    check_trainable_matches,
    checkpoint_step,
    checkpoint_to_resume,
    claim_run_dir,
    final_from_checkpoint,
    is_main_process,
    load_processor,
    make_trl_args,
    record_trainable_callback,
    trainable_record,
    without_truncation,
)
from visionr1.train.config import SFTRunConfig, resolved_yaml
from visionr1.train.metrics import METRICS_FILE, MetricsCallback, quiet_progress
from visionr1.train.validation import (
    ValidationCallback,
    check_validation_data,
    drop_after,
    stopped_at,
    validation_summary,
)

SFT_DEFAULTS: dict[str, Any] = {
    "assistant_only_loss": True,  # loss on the assistant's <think>…</think><answer>…</answer> only
    "logging_steps": 1,
    "save_strategy": "steps",
    "save_steps": 500,
    "report_to": "none",
    "max_length": None,  # never truncate silently unless asked (a cut image breaks the sample)
}


class VisionR1SFTTrainer(ConvertedCheckpointMixin, SFTTrainer):
    """TRL's ``SFTTrainer``; only checkpoint loading is changed (see :class:`ConvertedCheckpointMixin`)."""


def sft_args(cfg: SFTRunConfig, *, host_only: bool = False):
    """TRL's ``SFTConfig``; ``host_only``: for a plan on a machine without the run's accelerator."""
    import torch
    from trl import SFTConfig

    values = {**SFT_DEFAULTS, **cfg.trainer, "output_dir": str(cfg.run_dir)}
    if host_only and not torch.cuda.is_available():
        values["use_cpu"] = True
    values.setdefault("model_init_kwargs", cfg.model.init_kwargs())
    return make_trl_args(SFTConfig, values)


def sft_steps(args, examples: int, world_size: int) -> tuple[int, int]:
    """``(optimizer steps per epoch, total steps)`` of ``examples`` on ``world_size`` processes, as the trainer counts."""
    micro = math.ceil(examples / (args.per_device_train_batch_size * world_size))  # batches per rank and epoch
    per_epoch = max(math.ceil(micro / args.gradient_accumulation_steps), 1)
    return per_epoch, args.max_steps if args.max_steps > 0 else math.ceil(args.num_train_epochs * per_epoch)


def plan_sft(cfg: SFTRunConfig, world_size: int = 1, count_tokens: bool = False, *, force: bool = False) -> dict[str, Any]:
    """What :func:`run_sft` would do with ``world_size`` processes, without loading a model: checks the
    TRL arguments, ``model.path``, the run folder and every example (bad ones reported by id) and returns the
    batch and step arithmetic (and ``warnings``, e.g. a hub id that would have to be downloaded).

    ``count_tokens``: also load the processor and count every example's tokens (images included), against
    ``max_length``: an example over it is cut at the end, losing the end of its answer.
    """
    from visionr1.train.data import build_sft_dataset, length_summary, token_lengths

    if world_size < 1:
        raise ConfigError(f"world size must be >= 1, got {world_size}")
    args = sft_args(cfg, host_only=True)
    warning = check_model_path(cfg.model.path, planning=True)
    claim_run_dir(Path(cfg.run_dir), "sft", force, create=False)
    dataset = build_sft_dataset(cfg.data)
    per_epoch, steps = sft_steps(args, len(dataset), world_size)
    plan: dict[str, Any] = {
        "run_dir": str(cfg.run_dir), "world_size": world_size, "examples": len(dataset),
        "global_batch": args.per_device_train_batch_size * args.gradient_accumulation_steps * world_size,
        "steps_per_epoch": per_epoch, "total_steps": steps, "max_length": args.max_length,
        "frozen": cfg.model.frozen_parts(), "lora": cfg.model.lora.enabled, "prompt_forms": prompt_forms(dataset),
        "resume": None, "warnings": [warning] if warning else []}
    long = long_questions_warning(zip(dataset["id"], _user_texts(dataset)))
    if long:
        plan["warnings"].append(long)
    if count_tokens:
        plan["tokens"] = length_summary(token_lengths(dataset, load_processor(cfg.model), "messages"), args.max_length)
        if plan["tokens"].get("over_limit"):
            t = plan["tokens"]
            plan["warnings"].append(
                f"{t['over_limit']} example(s) are longer than trainer.max_length={t['limit']} tokens and would be cut, "
                f"losing the end of their answer (the longest: {t['max']} tokens), e.g. {', '.join(t['over_limit_ids'])}; "
                "raise trainer.max_length, or drop or shorten them")
    ckpt = checkpoint_to_resume(Path(cfg.run_dir), cfg.resume)
    if ckpt is not None:
        plan["resume"] = {"checkpoint": str(ckpt), "global_step": checkpoint_step(ckpt)}
        if checkpoint_step(ckpt) >= steps:
            plan["warnings"].append(f"{cfg.run_dir} is already complete ({checkpoint_step(ckpt)} of {steps} steps): "
                                    "a run would train nothing")
    return plan


def _user_texts(dataset) -> list[str]:
    """The text of each example's first user turn (its image blocks left out)."""

    def user_text(messages) -> str:
        for m in messages:
            if m["role"] == "user":
                return "".join(p["text"] or "" for p in m["content"] if p["type"] == "text")
        return ""

    return [user_text(m) for m in dataset["messages"]]


def prompt_forms(dataset) -> dict[str, int]:
    """The prompt forms of the examples' first user turns (r1, raw, other: :func:`visionr1.r1.detect_prompt_form`)."""
    from visionr1.r1 import count_prompt_forms

    return count_prompt_forms(_user_texts(dataset))


@releases_held_dirs  # the run_dir this run holds
def run_sft(cfg: SFTRunConfig, *, force: bool = False, verbose: bool = False) -> dict[str, Any]:
    """Train (or resume) cold-start SFT; returns a summary (global_step, final model path, train loss).

    ``run_dir`` must be new, empty or an SFT run (``force``: any folder; :mod:`visionr1.outdir`). A run that
    already reached its last step is not trained further: the summary says ``already_complete`` (and
    ``final/`` is written from the last checkpoint if it is missing). ``verbose``: transformers' own progress
    logs (the whole log dict per step) instead of one line of key metrics per logging step.
    """
    from accelerate import PartialState

    from visionr1.train.data import build_sft_dataset

    run_dir = Path(cfg.run_dir)
    args = sft_args(cfg)
    check_model_path(cfg.model.path)
    claim_run_dir(run_dir, "sft", force)
    ckpt = checkpoint_to_resume(run_dir, cfg.resume)
    start = checkpoint_step(ckpt) if ckpt else 0
    if is_main_process():
        filter_jsonl(run_dir / METRICS_FILE, lambda r: r.get("global_step", 0) <= start)
    dataset = build_sft_dataset(cfg.data)
    _, total = sft_steps(args, len(dataset), PartialState().num_processes)
    stopped = ckpt is not None and cfg.validation is not None and stopped_at(run_dir) == start
    if ckpt is not None and (start >= total or stopped):  # the trainer would take one more step past max_steps
        if is_main_process() and not (run_dir / "final").is_dir():
            final_from_checkpoint(ckpt, run_dir / "final", load_processor(cfg.model))
        further = ("validation.stop_after_no_gain (validation stopped it: held-out accuracy stopped rising)" if stopped
                   else "trainer.max_steps or trainer.num_train_epochs")
        return already_complete(run_dir, further, start, total, resumed_from=str(ckpt))
    processor = load_processor(cfg.model)
    validation = None
    if cfg.validation is not None:
        check_validation_data(cfg.validation)
        if is_main_process():
            drop_after(run_dir, start)
        validation = ValidationCallback(cfg.validation, run_dir, processor, keep_best=cfg.checkpoint_selection == "best_validation")
    tune_cpu(args.device)
    trainer = VisionR1SFTTrainer(
        model=cfg.model.path,
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        peft_config=cfg.model.peft_config(),
        callbacks=[MetricsCallback(run_dir)] + ([validation] if validation else []),
    )
    if validation is not None:
        validation.trainer = trainer
    parameters = trainable_record(trainer.model, freeze_parts(trainer.model, cfg.model.frozen_parts()))
    check_trainable_matches(ckpt, parameters)
    trainer.add_callback(record_trainable_callback(parameters))
    if not verbose:
        quiet_progress(trainer)
    if is_main_process():  # once the run is accepted: a refused resume leaves the folder's config as it was
        (run_dir / "config.yaml").write_text(resolved_yaml(cfg), encoding="utf-8")
    windows = try_vision_windows(trainer.model) if cfg.vision_windows else False
    result = trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
    final = run_dir / "final"
    without_truncation(processor)  # trainer.save_model writes the processing class too
    trainer.save_model(str(final))
    if is_main_process():
        processor.save_pretrained(str(final))
    forms = prompt_forms(dataset)
    summary = {"run_dir": str(run_dir), "resumed_from": str(ckpt) if ckpt else None, "start_step": start,
               "global_step": trainer.state.global_step, "train_loss": result.training_loss, "final": str(final),
               "examples": len(dataset), "world_size": trainer.accelerator.num_processes, "vision_windows": windows,
               "parameters": parameters,
               # the user-prompt form trained on (read from the data's user turns): GRPO's --dry-run compares it
               "prompt_form": next(iter(forms), None), "prompt_forms": forms}
    if validation is not None:
        summary["validation"] = validation_summary(run_dir, validation)
    if is_main_process():
        write_json(run_dir / "summary.json", summary, ensure_ascii=True, end="")
    trainer.accelerator.wait_for_everyone()  # every rank leaves once the main one has written the outputs
    return summary
