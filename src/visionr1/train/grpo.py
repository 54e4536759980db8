"""``visionr1 grpo``: GRPO with the hard formatting result reward, in PTST stages, on TRL's ``GRPOTrainer``.

The value added over a plain TRL script is the Vision-R1 recipe: the prompt shared with SFT and eval,
the hard formatting result reward (truncated → 0) with format and accuracy logged beside it (weight 0),
PTST stages in one resumable run (:mod:`visionr1.train.ptst`), and the metrics of
:mod:`visionr1.train.metrics`. Everything else (generation, vLLM server/colocate, DeepSpeed, LoRA with the
adapter-disabled model as reference, the loss) is TRL's, configured through ``trainer:``.

Example:
    >>> cfg = load_config(GRPORunConfig, "recipes/tiny_cpu/grpo.yaml", ["run_dir=/tmp/r"])  # doctest: +SKIP
    >>> run_grpo(cfg)["global_step"]                                                         # doctest: +SKIP
    6
"""

from __future__ import annotations

import gc
import json
import logging
import math
from pathlib import Path
from typing import Any, Callable

import torch
from trl import GRPOTrainer

from visionr1.config import check_model_path
from visionr1.errors import ConfigError
from visionr1.grading import accuracy_reward, format_reward, get_hard_format_result_reward
from visionr1.models.freeze import freeze_parts
from visionr1.train.common import (
    ConvertedCheckpointMixin,
    already_complete,
    check_trainable_matches,
    checkpoint_step,
    checkpoint_to_resume,
    claim_run_dir,
    final_from_checkpoint,
    is_main_process,
    last_checkpoint,
    load_processor,
    make_trl_args,
    record_trainable_callback,
    trainable_record,
    truncate_jsonl,
)
from visionr1.train.config import GRPORunConfig, PTSTStage, resolved_yaml
from visionr1.train.metrics import (
    METRICS_FILE,
    SAMPLES_FILE,
    MetricsCallback,
    SampleWriter,
    TruncationAwareReward,
    quiet_progress,
)
from visionr1.train.ptst import StageEndCallback, check_plan_matches, release_stage, stage_plan
from visionr1.train.speedups import apply_speedups
from visionr1.train.validation import (
    ValidationCallback,
    check_validation_data,
    drop_after,
    stopped_at,
    validation_summary,
)

logger = logging.getLogger(__name__)

GRPO_DEFAULTS: dict[str, Any] = {
    "beta": 0.01,  # paper: KL coefficient 1e-2
    "epsilon": 0.2,  # paper: clip 0.2
    "logging_steps": 1,  # a metrics.jsonl row per step
    "save_strategy": "steps",
    "save_steps": 50,
    "report_to": "none",
    "remove_unused_columns": False,  # answer/choices/id must reach the reward
    "save_only_model": False,  # optimizer + scheduler state must carry across stages and resumes
}
REWARD_WEIGHTS = [1.0, 0.0, 0.0]  # hard formatting result reward optimised; format and accuracy only logged


class VisionR1GRPOTrainer(ConvertedCheckpointMixin, GRPOTrainer):
    """TRL's ``GRPOTrainer``; changed: checkpoint loading (:class:`ConvertedCheckpointMixin`) and the prompt
    order of epochs after the first (:class:`EpochSeededSampler`)."""

    def _get_train_sampler(self, dataset=None):
        return EpochSeededSampler(super()._get_train_sampler(dataset), lambda: math.floor((self.state.epoch or 0) + 1e-9))


class EpochSeededSampler(torch.utils.data.Sampler):
    """TRL's shuffling ``RepeatSampler`` with each epoch's order drawn from ``seed + epoch``.

    TRL draws each epoch's permutation from one generator seeded once, so a trainer that starts after an
    epoch boundary (every PTST stage after the first, and any resumed run) replays epoch 0's prompt order.
    Here the epoch is read from the trainer's state when an epoch's iteration starts, so stages and resumed
    runs see the prompts a continuous run sees. (``set_epoch`` would be the usual route, but accelerate's
    wrappers do not pass it on to the sampler when a resumed run skips the batches already trained on.)
    Epoch 0 keeps TRL's order; a sampler without a seed, or not shuffling, is iterated as it is.
    """

    def __init__(self, sampler, epoch: Callable[[], int]) -> None:
        self.sampler, self.epoch = sampler, epoch

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        generator, seed = getattr(self.sampler, "generator", None), getattr(self.sampler, "seed", None)
        if getattr(self.sampler, "shuffle", False) and isinstance(generator, torch.Generator) and seed is not None:
            generator.manual_seed(seed + self.epoch())
        return iter(self.sampler)


def stage_args(cfg: GRPORunConfig, i: int, *, host_only: bool = False, world_size: int = 1):
    """The ``GRPOConfig`` of PTST stage ``i``; TRL's batch/group checks become errors naming the stage.

    ``host_only``: built for a plan, in one process that may lack the run's accelerator: device checks
    are skipped, and TRL's generation-batch check (which counts this process's world) is given the
    generation batch of ``world_size`` processes.
    """
    from trl import GRPOConfig

    stage: PTSTStage = cfg.ptst.stages[i]
    values = {**GRPO_DEFAULTS, **cfg.trainer, **stage.trainer}
    if host_only:
        if not torch.cuda.is_available():
            values["use_cpu"] = True
        if world_size > 1 and values.get("generation_batch_size") is None:
            per_device = values.get("per_device_train_batch_size",
                                    GRPOConfig.__dataclass_fields__["per_device_train_batch_size"].default)
            per_generation = values.pop("steps_per_generation", None) or values.get("gradient_accumulation_steps", 1)
            values["generation_batch_size"] = per_device * per_generation * world_size
    values.update(
        output_dir=str(cfg.run_dir),
        max_steps=cfg.ptst.total_steps,  # one LR schedule over all stages
        num_generations=stage.num_generations,
        max_completion_length=stage.max_completion_length,
        reward_weights=REWARD_WEIGHTS,
    )
    values.setdefault("model_init_kwargs", cfg.model.init_kwargs())
    if values.get("save_only_model"):
        raise ConfigError("trainer.save_only_model must be false: PTST carries optimizer state through checkpoints")
    where = (f"ptst.stages[{i}] (max_completion_length={stage.max_completion_length}, "
             f"num_generations={stage.num_generations})")
    return make_trl_args(GRPOConfig, values, where=where)


def plan_grpo(cfg: GRPORunConfig, world_size: int = 1, count_tokens: bool = False, *,
              force: bool = False) -> dict[str, Any]:
    """What :func:`run_grpo` would do with ``world_size`` processes, without loading a model.

    Checks what can be checked before a GPU is involved: every stage's TRL arguments (among them, that each
    generation batch holds whole groups at this world size), ``model.path``, that ``run_dir`` is new, empty or a
    GRPO run (``force``: any folder), every RL record (bad ones are reported by id), and that a checkpoint in
    ``run_dir`` can be resumed under these stages. Returns ``warnings`` and, per stage, the completions
    and prompts per optimizer step, the prompts the stage consumes and the passes over the data so far.
    ``count_tokens``: also load the processor and count every prompt's tokens (images included), and each
    stage's longest sequence (longest prompt + completion budget).
    """
    from visionr1.train.data import build_grpo_dataset, length_summary, token_lengths

    if world_size < 1:
        raise ConfigError(f"world size must be >= 1, got {world_size}")
    stages_args = [stage_args(cfg, i, host_only=True, world_size=world_size) for i in range(len(cfg.ptst.stages))]
    warning = check_model_path(cfg.model.path)
    claim_run_dir(Path(cfg.run_dir), "grpo", force, create=False)
    dataset = build_grpo_dataset(cfg.data)
    rows, prompts_so_far = [], 0
    for i, (stage, a) in enumerate(zip(cfg.ptst.stages, stages_args)):
        per_step = a.per_device_train_batch_size * a.gradient_accumulation_steps * world_size
        # each generated batch is optimised on num_iterations times: new prompts per step are 1/num_iterations
        new_prompts = per_step / stage.num_generations / a.num_iterations
        prompts_so_far += new_prompts * stage.steps
        rows.append({"stage": i, "steps": stage.steps, "num_generations": stage.num_generations,
                     "max_completion_length": stage.max_completion_length, "completions_per_step": per_step,
                     "prompts_per_step": new_prompts, "prompts": round(new_prompts * stage.steps),
                     "data_passes_so_far": round(prompts_so_far / len(dataset), 3)})
    plan: dict[str, Any] = {"run_dir": str(cfg.run_dir), "world_size": world_size, "records": len(dataset),
                            "total_steps": cfg.ptst.total_steps, "stages": rows, "resume": None,
                            "warnings": [warning] if warning else []}
    if count_tokens:
        processor = load_processor(cfg.model, padding_side="left")
        plan["prompt_tokens"] = length_summary(token_lengths(dataset, processor, "prompt", generation_prompt=True), None)
        for row in rows:
            row["longest_sequence"] = plan["prompt_tokens"]["max"] + row["max_completion_length"]
    ckpt = checkpoint_to_resume(Path(cfg.run_dir), cfg.resume)
    if ckpt is not None:
        check_plan_matches(ckpt, cfg.ptst)
        step = checkpoint_step(ckpt)
        plan["resume"] = {"checkpoint": str(ckpt), "global_step": step, "stage": cfg.ptst.stage_at(step)}
        if step >= cfg.ptst.total_steps:
            plan["warnings"].append(f"{cfg.run_dir} is already complete ({step} of {cfg.ptst.total_steps} steps): "
                                    "a run would train nothing")
    return plan


def _eos_ids(cfg: GRPORunConfig, processor) -> list[int]:
    from transformers import GenerationConfig

    tok = getattr(processor, "tokenizer", processor)
    ids = {tok.eos_token_id, tok.pad_token_id}
    try:
        gen = GenerationConfig.from_pretrained(cfg.model.path)
        eos = gen.eos_token_id
        ids.update(eos if isinstance(eos, (list, tuple)) else [eos])
    except OSError:
        pass
    return sorted(i for i in ids if i is not None)


def reward_funcs(eos_ids: list[int], max_completion_length: int, stage: int, samples: SampleWriter | None) -> list:
    """[hard formatting result reward, format, accuracy], each told which completions were truncated."""
    hard = TruncationAwareReward(get_hard_format_result_reward(), eos_ids, max_completion_length,
                                 monitor=True, stage=stage, samples=samples)
    return [hard] + [TruncationAwareReward(f, eos_ids, max_completion_length) for f in (format_reward, accuracy_reward)]


def run_grpo(cfg: GRPORunConfig, *, force: bool = False, verbose: bool = False) -> dict[str, Any]:
    """Run (or resume) all PTST stages; returns a summary (global_step, stages run, final model path).

    ``run_dir`` must be new, empty or a GRPO run (``force``: any folder; :mod:`visionr1.outdir`). A run whose
    stages are all done is not trained further: the summary says ``already_complete``. ``verbose``:
    transformers' own progress logs instead of one line of key metrics per logging step.
    """
    from visionr1.train.data import build_grpo_dataset

    run_dir = Path(cfg.run_dir)
    all_args = [stage_args(cfg, i) for i in range(len(cfg.ptst.stages))]  # validate every stage up front
    check_model_path(cfg.model.path)
    claim_run_dir(run_dir, "grpo", force)
    ckpt = checkpoint_to_resume(run_dir, cfg.resume)
    start = checkpoint_step(ckpt) if ckpt else 0
    if ckpt is not None:
        check_plan_matches(ckpt, cfg.ptst)
    total = cfg.ptst.total_steps
    main = is_main_process()
    if main:
        # Rows logged after the checkpoint we resume from will be logged again: drop them.
        truncate_jsonl(run_dir / METRICS_FILE, lambda r: r.get("global_step", 0) <= start)
        truncate_jsonl(run_dir / SAMPLES_FILE, lambda r: (r.get("global_step") or 0) <= start)
    summary = {"run_dir": str(run_dir), "resumed_from": str(ckpt) if ckpt else None, "start_step": start,
               "total_steps": total, "stages": stage_plan(cfg.ptst), "stages_run": []}
    stopped = ckpt is not None and cfg.validation is not None and stopped_at(run_dir) == start
    if start >= total or stopped:
        if main and ckpt is not None and not (run_dir / "final").is_dir():
            final_from_checkpoint(ckpt, run_dir / "final", load_processor(cfg.model, padding_side="left"))
        last = len(cfg.ptst.stages) - 1
        further = ("validation.stop_after_no_gain (validation stopped it: held-out accuracy stopped rising)" if stopped
                   else f"ptst.stages.{last}.steps or add a stage")
        return already_complete(run_dir, further, start, total,
                                resumed_from=str(ckpt), stages_run=[])

    dataset = build_grpo_dataset(cfg.data)
    processor = load_processor(cfg.model, padding_side="left")
    eos = _eos_ids(cfg, processor)
    samples = SampleWriter(run_dir, cfg.samples.per_stage) if main and cfg.samples.per_stage else None
    if cfg.validation is not None:
        check_validation_data(cfg.validation)
        if main:
            drop_after(run_dir, start)
    trainer, validation = None, None
    for i in range(cfg.ptst.stage_at(start), len(cfg.ptst.stages)):
        stage = cfg.ptst.stages[i]
        if trainer is not None:  # free the previous stage's model and optimizer before building the next
            release_stage(trainer)
            del trainer
            gc.collect()
        settings = {"num_generations": stage.num_generations, "max_completion_length": stage.max_completion_length}
        callbacks = [MetricsCallback(run_dir, i, settings), StageEndCallback(cfg.ptst, i)]
        if cfg.validation is not None:
            validation = ValidationCallback(cfg.validation, run_dir, processor, stage=i, stage_end=cfg.ptst.boundaries()[i],
                                            keep_best=cfg.checkpoint_selection == "best_validation")
            callbacks.append(validation)
        trainer = VisionR1GRPOTrainer(
            model=cfg.model.path,  # TRL loads it (and the reference model from the same path when beta > 0)
            reward_funcs=reward_funcs(eos, stage.max_completion_length, i, samples),
            args=all_args[i],
            train_dataset=dataset,
            processing_class=processor,
            peft_config=cfg.model.peft_config(),
            callbacks=callbacks,
        )
        if validation is not None:
            validation.trainer = trainer
        summary["parameters"] = trainable_record(trainer.model, freeze_parts(trainer.model, cfg.model.frozen_parts()))
        check_trainable_matches(ckpt, summary["parameters"])
        trainer.add_callback(record_trainable_callback(summary["parameters"]))
        if main and not summary["stages_run"]:  # once the run is accepted (a refused resume leaves it as it was)
            (run_dir / "config.yaml").write_text(resolved_yaml(cfg), encoding="utf-8")
        apply_speedups(trainer, cfg.speed)
        if not verbose:
            quiet_progress(trainer, stage=(i, len(cfg.ptst.stages)))
        logger.info("PTST stage %d/%d: %s, from global step %d", i + 1, len(cfg.ptst.stages), settings, start)
        trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
        trainer.accelerator.wait_for_everyone()
        summary["stages_run"].append(i)
        ckpt = last_checkpoint(run_dir)
        start = trainer.state.global_step
        if validation is not None and validation.stopped:
            logger.info("validation accuracy stopped rising: training ends at step %d", start)
            break
    final = run_dir / "final"
    trainer.save_model(str(final))
    if main:
        processor.save_pretrained(str(final))
    summary.update(global_step=trainer.state.global_step, final=str(final), world_size=trainer.accelerator.num_processes)
    if validation is not None:
        summary["validation"] = validation_summary(run_dir, validation)
    if main:
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    trainer.accelerator.wait_for_everyone()  # every rank leaves once the main one has written the outputs
    return summary
