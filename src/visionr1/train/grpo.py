"""``visionr1 grpo``: GRPO with the hard formatting result reward, in PTST stages, on TRL's ``GRPOTrainer``.

The value added over a plain TRL script is the Vision-R1 recipe: the prompt shared with SFT and eval,
the hard formatting result reward (truncated → 0) with format and accuracy logged beside it (weight 0; or the
three weighted by ``reward.kind: additive``, Vision-R1-Zero's format + result),
PTST stages in one resumable run (:mod:`visionr1.train.ptst`), and the metrics of
:mod:`visionr1.train.metrics`. Everything else (generation, vLLM server/colocate, DeepSpeed, LoRA with the
adapter-disabled model as reference, the loss) is TRL's, configured through ``trainer:``.

Example:
    >>> cfg = load_config(GRPORunConfig, "recipes/tiny_cpu/grpo.yaml", ["run_dir=/tmp/r"])  # doctest: +SKIP
    >>> run_grpo(cfg)["global_step"]                                                         # doctest: +SKIP
    6
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import math
from pathlib import Path
from typing import Any, Callable

import torch

from visionr1.config import check_model_path
from visionr1.data.record import long_questions_warning
from visionr1.errors import ConfigError
from visionr1.grading import accuracy_reward, format_reward, get_hard_format_result_reward
from visionr1.models.cpu import tune_cpu
from visionr1.models.freeze import freeze_parts
from visionr1.outdir import releases_held_dirs
from visionr1.r1 import template_form
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
from visionr1.train.colocate import (
    RunEngine,
    check_vllm_settings,
    engine_context_length,
    uses_colocated_vllm,
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
from visionr1.train.objective import objective_record
from visionr1.train.ptst import StageEndCallback, check_plan_matches, release_stage
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


@functools.cache
def trainer_class() -> type:
    """``VisionR1GRPOTrainer``: TRL's ``GRPOTrainer``, changed in checkpoint loading (:class:`ConvertedCheckpointMixin`)
    and in the prompt order of epochs after the first (:class:`EpochSeededSampler`).

    Made on first use, not at import: importing ``GRPOTrainer`` imports vLLM (where it is installed), which reads
    its CPU settings from the environment then, so :func:`~visionr1.models.vllm_engine.prepare_environment` sets
    them right before; importing this module changes nothing.
    """
    from visionr1.models.vllm_engine import prepare_environment

    prepare_environment()
    from trl import GRPOTrainer

    class VisionR1GRPOTrainer(ConvertedCheckpointMixin, GRPOTrainer):
        """TRL's ``GRPOTrainer``; changed: checkpoint loading and the prompt order of epochs after the first."""

        def _get_train_sampler(self, dataset=None):
            return EpochSeededSampler(super()._get_train_sampler(dataset),
                                      lambda: math.floor((self.state.epoch or 0) + 1e-9))

    return VisionR1GRPOTrainer


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


def stage_values(cfg: GRPORunConfig, i: int) -> dict[str, Any]:
    """The ``GRPOConfig`` values of PTST stage ``i`` before TRL sees them: defaults, ``trainer:``, the stage's
    ``trainer:``, and what PTST sets (:mod:`visionr1.train.ptst_plan`, ``cfg.plan``): completion budget, group
    size, one LR schedule over all stages, and with ``ptst.matched_compute`` the per-device batch (and
    ``generation_batch_size``, if set) scaled with the group size; and the reward weights."""
    stage: PTSTStage = cfg.ptst.stages[i]
    values = {**GRPO_DEFAULTS, **cfg.trainer, **stage.trainer, **cfg.plan.derived[i]}
    values.update(
        output_dir=str(cfg.run_dir),
        max_steps=cfg.plan.total_steps,  # one LR schedule over all stages
        num_generations=stage.num_generations,
        max_completion_length=stage.max_completion_length,
        reward_weights=cfg.reward.trl_weights(),
    )
    values.setdefault("model_init_kwargs", cfg.model.init_kwargs())
    return values


def stage_args(cfg: GRPORunConfig, i: int, *, host_only: bool = False, world_size: int = 1):
    """The ``GRPOConfig`` of PTST stage ``i`` (:func:`build_stage`)."""
    return build_stage(cfg, i, host_only=host_only, world_size=world_size)[0]


def build_stage(cfg: GRPORunConfig, i: int, *, host_only: bool = False, world_size: int = 1):
    """The ``GRPOConfig`` of PTST stage ``i`` and its batch arithmetic (:func:`stage_batch`); TRL's batch/group
    checks become errors naming the stage, as does a stage that is not a whole number of rollout batches.

    ``host_only``: built for a plan, in one process that may lack the run's accelerator: device checks
    are skipped, and TRL's generation-batch check (which counts this process's world) is given the
    generation batch of ``world_size`` processes.
    """
    from trl import GRPOConfig

    stage: PTSTStage = cfg.ptst.stages[i]
    values = stage_values(cfg, i)
    given = dict(values)  # as the config gives them; a plan adapts them to this process below
    if host_only:
        if not torch.cuda.is_available():
            values["use_cpu"] = True
        if world_size > 1 and values.get("generation_batch_size") is None:
            per_device = values.get("per_device_train_batch_size",
                                    GRPOConfig.__dataclass_fields__["per_device_train_batch_size"].default)
            per_generation = values.pop("steps_per_generation", None) or values.get("gradient_accumulation_steps", 1)
            values["generation_batch_size"] = per_device * per_generation * world_size
    if values.get("save_only_model"):
        raise ConfigError("trainer.save_only_model must be false: PTST carries optimizer state through checkpoints")
    where = (f"ptst.stages[{i}] (max_completion_length={stage.max_completion_length}, "
             f"num_generations={stage.num_generations})")
    args = make_trl_args(GRPOConfig, values, where=where)
    batch = stage_batch(stage, given, args, world_size if host_only else None)
    if batch["updates_per_rollout_batch"].is_integer() and stage.steps % int(batch["updates_per_rollout_batch"]):
        raise ConfigError(
            f"{where}: steps={stage.steps} is not a whole number of rollout batches ({batch['updates_per_rollout_batch']:g} "
            f"optimizer steps each: steps_per_generation x num_iterations / gradient_accumulation_steps); the stage "
            f"would end inside a rollout batch and throw the rest of it away")
    return args, batch


def stage_batch(stage: PTSTStage, values: dict[str, Any], args, world_size: int | None = None) -> dict[str, Any]:
    """A stage's batch arithmetic at ``world_size`` processes (the args' own world when None), from its
    ``GRPOConfig`` ``args`` and the ``values`` they were built from (:func:`stage_values`).

    Per optimizer step (an *update*): completions = per-device batch x gradient accumulation x processes, prompts
    = completions / G. Per rollout batch (one generation): completions = per-device batch x steps_per_generation x
    processes; it feeds ``steps_per_generation x num_iterations / gradient_accumulation_steps`` updates. Tokens
    sampled count each completion at the stage's budget (completions x max_completion_length): the compute PTST
    holds constant per prompt (16 x 4K = 8 x 8K)."""
    world = world_size or args.world_size
    per_device, accumulation = args.per_device_train_batch_size, args.gradient_accumulation_steps
    if values.get("generation_batch_size") is not None:
        per_generation = values["generation_batch_size"] / (per_device * world)
    else:
        per_generation = values.get("steps_per_generation") or accumulation
    updates = per_generation * args.num_iterations / accumulation
    rollout_completions = per_device * per_generation * world
    rollout_tokens = rollout_completions * stage.max_completion_length
    return {
        "completions_per_step": per_device * accumulation * world,
        "prompts_per_step": rollout_completions / stage.num_generations / updates,  # new prompts per optimizer step
        "updates_per_rollout_batch": updates,
        "rollout_batches": stage.steps / updates,
        "prompts_per_rollout_batch": rollout_completions / stage.num_generations,
        "completions_per_rollout_batch": rollout_completions,
        "tokens_sampled_per_rollout_batch": rollout_tokens,
        "tokens_sampled_per_step": rollout_tokens / updates,
    }


def plan_grpo(cfg: GRPORunConfig, world_size: int = 1, count_tokens: bool = False, sft: str | Path | None = None, *,
              force: bool = False) -> dict[str, Any]:
    """What :func:`run_grpo` would do with ``world_size`` processes, without loading a model.

    Checks what can be checked before a GPU is involved: every stage's TRL arguments (among them, that each
    generation batch holds whole groups at this world size, and that a stage is a whole number of rollout
    batches), ``model.path``, that ``run_dir`` is new, empty or a GRPO run (``force``: any folder), every RL record (bad ones are reported by id), and that a checkpoint in ``run_dir`` can be resumed
    under these stages. Returns per stage the batch arithmetic of :func:`stage_batch` (prompts, completions and
    tokens sampled per step and per rollout batch, updates per rollout batch), the stage's totals, the passes
    over the data so far, and the objective (:mod:`visionr1.train.objective`).

    A data file that does not exist yet is not an error here (the plan of a recipe can be read before its data
    is made): ``warnings`` says so and the passes are unknown. ``warnings`` also says when the SFT the policy comes
    from was trained on another prompt form than GRPO asks in (``sft``: an SFT run folder, SFT config or SFT data
    file; else the ``summary.json`` beside ``model.path`` when that is an SFT run's ``final/``).
    ``count_tokens``: also load the processor and count every prompt's tokens (images included), and each
    stage's longest sequence (longest prompt + completion budget).
    """
    from visionr1.train.data import build_grpo_dataset

    if world_size < 1:
        raise ConfigError(f"world size must be >= 1, got {world_size}")
    built = [build_stage(cfg, i, host_only=True, world_size=world_size) for i in range(len(cfg.ptst.stages))]
    stages_args = [args for args, _ in built]
    warnings: list[str] = check_vllm_settings(stages_args, planning=True)
    warning = check_model_path(cfg.model.path, planning=True)
    if warning:
        warnings.append(warning)
    claim_run_dir(Path(cfg.run_dir), "grpo", force, create=False)
    dataset = None
    if Path(cfg.data.path).exists():
        dataset = build_grpo_dataset(cfg.data)
    else:
        warnings.append(f"data.path {cfg.data.path} does not exist: the records were not checked and the passes over "
                        f"the data are not known")
    rows = _plan_rows(cfg, built, dataset)
    plan: dict[str, Any] = {"run_dir": str(cfg.run_dir), "world_size": world_size,
                            "records": len(dataset) if dataset is not None else None,
                            "total_steps": cfg.plan.total_steps, "skipped_stages": cfg.ptst.skipped,
                            "matched_compute": cfg.ptst.matched_compute,
                            "tokens_sampled_per_step_match": len({r["tokens_sampled_per_step"] for r in rows}) == 1,
                            "reward": cfg.reward.kind, "prompt_form": template_form(cfg.data.user_template),
                            "stages": rows, "resume": None}
    warnings += _prompt_form_warnings(cfg, plan, sft)
    warnings += _vllm_plan_warnings(plan, stages_args, world_size)
    if dataset is not None:
        long = long_questions_warning((i, p[-1]["content"]) for i, p in zip(dataset["id"], dataset["prompt"]))
        if long:
            warnings.append(long)
    if count_tokens and dataset is not None:
        warnings += _count_prompt_tokens(cfg, dataset, plan)
    plan["resume"], warning = _resume_plan(cfg)
    plan["warnings"] = warnings + ([warning] if warning else [])
    return plan


def _plan_rows(cfg: GRPORunConfig, built: list[tuple[Any, dict[str, Any]]], dataset) -> list[dict[str, Any]]:
    """The plan's row per stage: its settings, batch arithmetic and totals, passes over the data, objective."""
    rows, prompts_so_far = [], 0.0
    for i, (stage, (a, batch)) in enumerate(zip(cfg.ptst.stages, built)):
        prompts = batch["prompts_per_rollout_batch"] * batch["rollout_batches"]
        prompts_so_far += prompts
        objective = objective_record(a)
        rows.append({"stage": i, "steps": stage.steps, "num_generations": stage.num_generations,
                     "max_completion_length": stage.max_completion_length, **batch,
                     "prompts": round(prompts), "completions": round(batch["completions_per_rollout_batch"] * batch["rollout_batches"]),
                     "tokens_sampled": round(batch["tokens_sampled_per_rollout_batch"] * batch["rollout_batches"]),
                     "data_passes_so_far": round(prompts_so_far / len(dataset), 3) if dataset is not None else None,
                     "vllm": _vllm_plan(a),
                     "objective": {k: objective[k] for k in ("name", *LOSS_KEYS_SHOWN)}})
    return rows


def _prompt_form_warnings(cfg: GRPORunConfig, plan: dict[str, Any], sft: str | Path | None) -> list[str]:
    """Record in ``plan`` the prompt form the SFT the policy comes from trained on; a warning when GRPO asks in
    another."""
    sft_form = sft_prompt_form(sft if sft is not None else _sft_run_of(cfg.model.path))
    if sft_form is None:
        return []
    plan["sft_prompt_form"] = sft_form
    if sft_form["form"] == plan["prompt_form"]:
        return []
    return [f"SFT trained on the {sft_form['form']} prompt form ({sft_form['source']}), but GRPO asks in the "
            f"{plan['prompt_form']} form (data.user_template={cfg.data.user_template!r}): the policy meets prompts it "
            f"was not trained on; set data.user_template={sft_form['form'] if sft_form['form'] != 'other' else 'FILE'} "
            f"to match"]


def _vllm_plan_warnings(plan: dict[str, Any], stages_args: list[Any], world_size: int) -> list[str]:
    """Record in ``plan`` the colocated vLLM engine's size; a warning per stage whose vLLM context is unset."""
    rows = plan["stages"]
    if any(uses_colocated_vllm(a) for a in stages_args):
        # per process: one rollout batch's completions on this process, times the tensor-parallel group
        seqs = max(r["completions_per_rollout_batch"] / world_size * a.vllm_tensor_parallel_size
                   for r, a in zip(rows, stages_args))
        plan["vllm_engine"] = {"mode": "colocate", "context": engine_context_length(stages_args),
                               "max_num_seqs": round(seqs)}
    return [f"stage {row['stage']}: trainer.vllm_max_model_length is unset, so vLLM takes the model's "
            f"maximum context; set it to the longest prompt + {row['max_completion_length']} (the "
            "completion budget) in ptst.stages.N.trainer (--count-tokens measures the prompts)"
            for row in rows if row["vllm"] and row["vllm"]["context"] is None]


def _count_prompt_tokens(cfg: GRPORunConfig, dataset, plan: dict[str, Any]) -> list[str]:
    """Record in ``plan`` every prompt's token count (images included) and each stage's longest sequence; a warning
    per stage whose longest sequence exceeds its vLLM context."""
    from visionr1.train.data import length_summary, token_lengths

    processor = load_processor(cfg.model, padding_side="left")
    plan["prompt_tokens"] = length_summary(token_lengths(dataset, processor, "prompt", generation_prompt=True), None)
    warnings = []
    for row in plan["stages"]:
        row["longest_sequence"] = plan["prompt_tokens"]["max"] + row["max_completion_length"]
        context = (row["vllm"] or {}).get("context")
        if context is not None and row["longest_sequence"] > context:
            warnings.append(f"stage {row['stage']}: the longest prompt ({plan['prompt_tokens']['max']} tokens) + "
                            f"the completion budget ({row['max_completion_length']}) = {row['longest_sequence']} "
                            f"tokens exceed trainer.vllm_max_model_length={context}: vLLM refuses that prompt")
    return warnings


def _resume_plan(cfg: GRPORunConfig) -> tuple[dict[str, Any] | None, str | None]:
    """The checkpoint a run would resume from (checked against the stages), and a warning when it is complete."""
    ckpt = checkpoint_to_resume(Path(cfg.run_dir), cfg.resume)
    if ckpt is None:
        return None, None
    check_plan_matches(ckpt, cfg.plan)
    step = checkpoint_step(ckpt)
    resume = {"checkpoint": str(ckpt), "global_step": step, "stage": cfg.plan.stage_at(step)}
    if step < cfg.plan.total_steps:
        return resume, None
    return resume, f"{cfg.run_dir} is already complete ({step} of {cfg.plan.total_steps} steps): a run would train nothing"


def _vllm_plan(args) -> dict[str, Any] | None:
    """A stage's vLLM settings for the plan (None without vLLM): mode and context (prompt + completion budget)."""
    if not getattr(args, "use_vllm", False):
        return None
    return {"mode": args.vllm_mode, "context": args.vllm_max_model_length}


LOSS_KEYS_SHOWN = ("loss_type", "scale_rewards", "mask_truncated_completions", "importance_sampling_level",
                   "epsilon", "epsilon_high", "beta", "use_bias_correction_kl", "num_iterations", "reward_weights")


def _sft_run_of(model_path: str) -> Path | None:
    """The SFT run folder ``model.path`` comes from, when it is an SFT run's ``final/`` (its ``summary.json``)."""
    folder = Path(model_path)
    return folder.parent if folder.name == "final" and (folder.parent / "summary.json").is_file() else None


def sft_prompt_form(source: str | Path | None) -> dict[str, Any] | None:
    """The prompt form an SFT run trained on: ``{"form", "forms", "source"}``, or None when unknown.

    ``source``: an SFT run folder (its ``summary.json``, written by ``visionr1 sft``), an SFT config YAML (its
    ``data.path`` is read), or an SFT data file (``cold.jsonl`` or ShareGPT; only the user turns are read)."""
    from visionr1.train.data import sft_prompt_forms

    if source is None:
        return None
    path = Path(source)
    if path.is_dir():
        summary = path / "summary.json"
        if not summary.is_file():
            raise ConfigError(f"{path} is not an SFT run folder (no summary.json); give the SFT run folder, config or data file")
        data = json.loads(summary.read_text(encoding="utf-8"))
        if not data.get("prompt_forms"):
            return None  # a run from before summaries recorded it
        return {"form": data["prompt_form"], "forms": data["prompt_forms"], "source": f"{summary}"}
    if path.suffix in (".yaml", ".yml"):
        from visionr1.config import load_yaml

        data_path = ((load_yaml(path).get("data") or {}).get("path"))
        if not data_path:
            raise ConfigError(f"{path} has no data.path: give an SFT config, run folder or data file")
        path = Path(data_path)
    if not path.is_file():
        raise ConfigError(f"SFT data {path} not found (give an SFT run folder, config or data file)")
    forms = sft_prompt_forms(path)
    return {"form": next(iter(forms), "raw"), "forms": forms, "source": str(path)}


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


@releases_held_dirs  # the run_dir this run holds
def run_grpo(cfg: GRPORunConfig, *, force: bool = False, verbose: bool = False) -> dict[str, Any]:
    """Run (or resume) all PTST stages; returns a summary (global_step, stages run, final model path).

    ``run_dir`` must be new, empty or a GRPO run (``force``: any folder; :mod:`visionr1.outdir`). A run whose
    stages are all done is not trained further: the summary says ``already_complete``. ``verbose``:
    transformers' own progress logs instead of one line of key metrics per logging step.
    """
    run_dir = Path(cfg.run_dir)
    all_args = [stage_args(cfg, i) for i in range(len(cfg.ptst.stages))]  # validate every stage up front
    check_vllm_settings(all_args)
    check_model_path(cfg.model.path)
    claim_run_dir(run_dir, "grpo", force)
    ckpt = checkpoint_to_resume(run_dir, cfg.resume)
    start = checkpoint_step(ckpt) if ckpt else 0
    if ckpt is not None:
        check_plan_matches(ckpt, cfg.plan)
    total = cfg.plan.total_steps
    if is_main_process():
        # Rows logged after the checkpoint we resume from will be logged again: drop them.
        truncate_jsonl(run_dir / METRICS_FILE, lambda r: r.get("global_step", 0) <= start)
        truncate_jsonl(run_dir / SAMPLES_FILE, lambda r: (r.get("global_step") or 0) <= start)
    stopped = ckpt is not None and cfg.validation is not None and stopped_at(run_dir) == start
    if start >= total or stopped:
        if is_main_process() and ckpt is not None and not (run_dir / "final").is_dir():
            final_from_checkpoint(ckpt, run_dir / "final", load_processor(cfg.model, padding_side="left"))
        last = len(cfg.ptst.stages) - 1
        further = ("validation.stop_after_no_gain (validation stopped it: held-out accuracy stopped rising)" if stopped
                   else f"ptst.stages.{last}.steps or add a stage")
        return already_complete(run_dir, further, start, total,
                                resumed_from=str(ckpt), stages_run=[])
    summary = {"run_dir": str(run_dir), "resumed_from": str(ckpt) if ckpt else None, "start_step": start,
               "total_steps": total, "stages": cfg.plan.rows(), "stages_run": [], "reward": cfg.reward.kind,
               "prompt_form": template_form(cfg.data.user_template)}
    return _train_stages(cfg, all_args, ckpt, summary, verbose)


def _train_stages(cfg: GRPORunConfig, all_args: list[Any], ckpt: Path | None, summary: dict[str, Any],
                  verbose: bool) -> dict[str, Any]:
    """Train the stages from ``summary["start_step"]`` on, each on its own trainer, one after the other."""
    from visionr1.train.data import build_grpo_dataset

    trainer_cls = trainer_class()  # before anything imports vLLM
    run_dir, start, main = Path(cfg.run_dir), summary["start_step"], is_main_process()
    dataset = build_grpo_dataset(cfg.data)
    processor = load_processor(cfg.model, padding_side="left")
    eos = _eos_ids(cfg, processor)
    samples = SampleWriter(run_dir, cfg.samples.per_stage) if main and cfg.samples.per_stage else None
    if cfg.validation is not None:
        check_validation_data(cfg.validation)
        if main:
            drop_after(run_dir, start)
    trainer, validation = None, None
    tune_cpu(all_args[0].device)
    first = cfg.plan.stage_at(start)
    # one colocated vLLM engine for every stage this process runs (visionr1.train.colocate)
    engine = (RunEngine(all_args[first:], run_dir if main else None)
              if any(uses_colocated_vllm(a) for a in all_args[first:]) else None)
    for i in range(first, len(cfg.ptst.stages)):
        if trainer is not None:  # free the previous stage's model and optimizer before building the next
            release_stage(trainer)
            trainer = validation = None
            gc.collect()
        validation = _validation_callback(cfg, i, processor)
        with engine.building() if engine is not None else contextlib.nullcontext():
            trainer = trainer_cls(
                model=cfg.model.path,  # TRL loads it (and the reference model from the same path when beta > 0)
                reward_funcs=reward_funcs(eos, cfg.ptst.stages[i].max_completion_length, i, samples),
                args=all_args[i],
                train_dataset=dataset,
                processing_class=processor,
                peft_config=cfg.model.peft_config(),
                callbacks=[MetricsCallback(run_dir, i, _stage_settings(cfg, i)), StageEndCallback(cfg.plan, i),
                           *([validation] if validation is not None else [])],
            )
        if engine is not None:
            engine.boundary(i, start)
        if validation is not None:
            validation.trainer = trainer
        _prepare_stage(cfg, i, trainer, summary, ckpt, verbose)
        logger.info("PTST stage %d/%d: %s, from global step %d", i + 1, len(cfg.ptst.stages), _stage_settings(cfg, i),
                    start)
        trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
        trainer.accelerator.wait_for_everyone()
        summary["stages_run"].append(i)
        ckpt = last_checkpoint(run_dir)
        start = trainer.state.global_step
        if engine is not None:
            engine.boundary(i, start, "stage_end")
        if validation is not None and validation.stopped:
            logger.info("validation accuracy stopped rising: training ends at step %d", start)
            break
    return _finish(cfg, trainer, processor, validation, engine, summary)


def _stage_settings(cfg: GRPORunConfig, i: int) -> dict[str, int]:
    stage = cfg.ptst.stages[i]
    return {"num_generations": stage.num_generations, "max_completion_length": stage.max_completion_length}


def _validation_callback(cfg: GRPORunConfig, i: int, processor) -> ValidationCallback | None:
    if cfg.validation is None:
        return None
    return ValidationCallback(cfg.validation, Path(cfg.run_dir), processor, stage=i, stage_end=cfg.plan.stages[i].end_step,
                              keep_best=cfg.checkpoint_selection == "best_validation")


def _prepare_stage(cfg: GRPORunConfig, i: int, trainer, summary: dict[str, Any], ckpt: Path | None,
                   verbose: bool) -> None:
    """Record what stage ``i``'s trainer optimises and trains, check it against the checkpoint, write the resolved
    config (once the run is accepted), and apply the speed-ups and the progress display."""
    # what this stage optimises, read back from the trainer's own args (not from the YAML)
    summary.setdefault("objective", []).append(
        {"stage": i, **objective_record(trainer.args, trainer.accelerator.num_processes)})
    summary["parameters"] = trainable_record(trainer.model, freeze_parts(trainer.model, cfg.model.frozen_parts()))
    check_trainable_matches(ckpt, summary["parameters"])
    trainer.add_callback(record_trainable_callback(summary["parameters"]))
    if is_main_process() and not summary["stages_run"]:  # once the run is accepted (a refused resume leaves it as it was)
        (Path(cfg.run_dir) / "config.yaml").write_text(resolved_yaml(cfg), encoding="utf-8")
    apply_speedups(trainer, cfg.speed)
    if not verbose:
        quiet_progress(trainer, stage=(i, len(cfg.ptst.stages)))


def _finish(cfg: GRPORunConfig, trainer, processor, validation, engine, summary: dict[str, Any]) -> dict[str, Any]:
    """Save the final model, complete and write the summary, and close the run's vLLM engine."""
    run_dir, main = Path(cfg.run_dir), is_main_process()
    final = run_dir / "final"
    trainer.save_model(str(final))
    if main:
        processor.save_pretrained(str(final))
    summary.update(global_step=trainer.state.global_step, final=str(final), world_size=trainer.accelerator.num_processes)
    if validation is not None:
        summary["validation"] = validation_summary(run_dir, validation)
    if engine is not None:
        summary["vllm_engine"] = {"builds": engine.builds, "syncs": engine.syncs, "context": engine.max_model_length,
                                  "max_num_seqs": engine.max_num_seqs, "boundaries": engine.rows}
    if main:
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    trainer.accelerator.wait_for_everyone()  # every rank leaves once the main one has written the outputs
    if engine is not None:
        engine.close()  # last: vLLM's shutdown takes the process group down with it
    return summary
