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

import json
import math
from pathlib import Path
from typing import Any

from trl import SFTTrainer

from visionr1.errors import ConfigError
from visionr1.models.freeze import freeze_parts
from visionr1.models.vision_windows import try_vision_windows
from visionr1.train.common import (
    ConvertedCheckpointMixin,
    check_trainable_matches,
    checkpoint_step,
    checkpoint_to_resume,
    is_main_process,
    load_processor,
    make_trl_args,
    record_trainable_callback,
    trainable_record,
    truncate_jsonl,
)
from visionr1.train.config import SFTRunConfig, resolved_yaml
from visionr1.train.metrics import METRICS_FILE, MetricsCallback
from visionr1.train.validation import ValidationCallback, check_validation_data, drop_after, validation_summary

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


def plan_sft(cfg: SFTRunConfig, world_size: int = 1, count_tokens: bool = False) -> dict[str, Any]:
    """What :func:`run_sft` would do with ``world_size`` processes, without loading a model: checks the
    TRL arguments and every example (bad ones reported by id) and returns the batch and step arithmetic.

    ``count_tokens``: also load the processor and count every example's tokens (images included), against
    ``max_length``: an example over it is cut at the end, losing the end of its answer.
    """
    from visionr1.train.data import build_sft_dataset, length_summary, token_lengths

    if world_size < 1:
        raise ConfigError(f"world size must be >= 1, got {world_size}")
    args = sft_args(cfg, host_only=True)
    dataset = build_sft_dataset(cfg.data)
    micro = math.ceil(len(dataset) / (args.per_device_train_batch_size * world_size))  # batches per rank and epoch
    per_epoch = max(math.ceil(micro / args.gradient_accumulation_steps), 1)
    steps = args.max_steps if args.max_steps > 0 else math.ceil(args.num_train_epochs * per_epoch)
    plan: dict[str, Any] = {
        "run_dir": str(cfg.run_dir), "world_size": world_size, "examples": len(dataset),
        "global_batch": args.per_device_train_batch_size * args.gradient_accumulation_steps * world_size,
        "steps_per_epoch": per_epoch, "total_steps": steps, "max_length": args.max_length,
        "frozen": cfg.model.frozen_parts(), "lora": cfg.model.lora.enabled, "prompt_forms": prompt_forms(dataset),
        "resume": None}
    if count_tokens:
        plan["tokens"] = length_summary(token_lengths(dataset, load_processor(cfg.model), "messages"), args.max_length)
    ckpt = checkpoint_to_resume(Path(cfg.run_dir), cfg.resume)
    if ckpt is not None:
        plan["resume"] = {"checkpoint": str(ckpt), "global_step": checkpoint_step(ckpt)}
    return plan


def prompt_forms(dataset) -> dict[str, int]:
    """The prompt forms of the examples' first user turns (r1, raw, other: :func:`visionr1.prompting.detect_prompt_form`)."""
    from visionr1.prompting import count_prompt_forms

    def user_text(messages) -> str:
        for m in messages:
            if m["role"] == "user":
                return "".join(p["text"] or "" for p in m["content"] if p["type"] == "text")
        return ""

    return count_prompt_forms(user_text(m) for m in dataset["messages"])


def run_sft(cfg: SFTRunConfig) -> dict[str, Any]:
    """Train (or resume) cold-start SFT; returns a summary (global_step, final model path, train loss)."""
    from visionr1.train.data import build_sft_dataset

    run_dir = Path(cfg.run_dir)
    args = sft_args(cfg)
    ckpt = checkpoint_to_resume(run_dir, cfg.resume)
    start = checkpoint_step(ckpt) if ckpt else 0
    if is_main_process():
        run_dir.mkdir(parents=True, exist_ok=True)
        truncate_jsonl(run_dir / METRICS_FILE, lambda r: r.get("global_step", 0) <= start)
    dataset = build_sft_dataset(cfg.data)
    processor = load_processor(cfg.model)
    validation = None
    if cfg.validation is not None:
        check_validation_data(cfg.validation)
        if is_main_process():
            drop_after(run_dir, start)
        validation = ValidationCallback(cfg.validation, run_dir, processor, keep_best=cfg.checkpoint_selection == "best_validation")
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
    if is_main_process():  # once the run is accepted: a refused resume leaves the folder's config as it was
        (run_dir / "config.yaml").write_text(resolved_yaml(cfg), encoding="utf-8")
    windows = try_vision_windows(trainer.model) if cfg.vision_windows else False
    result = trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
    final = run_dir / "final"
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
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    trainer.accelerator.wait_for_everyone()  # every rank leaves once the main one has written the outputs
    return summary
