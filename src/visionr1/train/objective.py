"""The RL objective a GRPO run optimises, read back from TRL's ``GRPOConfig``, and the batch arithmetic behind it.

Why this exists: TRL's loss has several switches whose defaults moved between versions (since TRL 0.2x the
default ``loss_type`` is DAPO's token-level ``"dapo"``, not the per-sequence mean of the GRPO paper; with vLLM
an importance-sampling correction is on by default). A run that leaves them unset optimises whatever the
installed TRL picks. So every recipe sets them, and this module reads them back from the trainer's own
arguments into ``summary.json`` and ``--dry-run``: what a run *did* optimise, not what its YAML meant.

The objectives that pass through to TRL (docs/training.md has the table):

================  ========================================================================================
name              ``trainer:`` keys
================  ========================================================================================
grpo              ``loss_type: grpo`` (each completion's token mean, then the mean over completions: the
                  paper's Eq. 1 as the GRPO paper it cites writes it), ``scale_rewards: group``
dr_grpo           ``loss_type: dr_grpo``, ``scale_rewards: none`` (Dr. GRPO: a constant normaliser, no std)
dapo              ``loss_type: dapo`` (token mean over the global accumulated batch; TRL's default)
bnpo              ``loss_type: bnpo`` (token mean over each micro-batch: EasyR1's aggregation in March 2025)
gspo              ``importance_sampling_level: sequence`` with ``loss_type: grpo`` (GSPO: one length-normalised
                  ratio per sequence)
+ clip-higher     ``epsilon_high`` > ``epsilon`` (DAPO's asymmetric clip, e.g. 0.28)
+ overlong mask   ``mask_truncated_completions: true`` (DAPO: truncated completions leave the loss)
+ KL weighting    ``use_bias_correction_kl: true`` (TRL 1.16's default: the k3 KL term times the importance
                  ratio, DeepSeek-V3.2's unbiased KL gradient); ``false`` is the paper's Eq. 1 and EasyR1's
                  ``low_var_kl``: the k3 estimate alone
================  ========================================================================================

Updates per rollout batch: TRL generates ``per_device_train_batch_size x steps_per_generation x processes``
completions at once (a rollout batch) and takes ``steps_per_generation x num_iterations /
gradient_accumulation_steps`` optimizer steps on them. With one update per rollout batch the policy never moves
between sampling and the update, the ratio is 1 and the ε clip never acts.

Example:
    >>> from trl import GRPOConfig
    >>> a = GRPOConfig(output_dir="/tmp/o", use_cpu=True, loss_type="grpo", importance_sampling_level="sequence",
    ...                per_device_train_batch_size=4, gradient_accumulation_steps=2, steps_per_generation=8,
    ...                num_generations=4, report_to="none")
    >>> objective_name(a), updates_per_rollout_batch(a)
    ('gspo', 4.0)
"""

from __future__ import annotations

from typing import Any

OBJECTIVE_KEYS = (
    "loss_type", "scale_rewards", "mask_truncated_completions", "importance_sampling_level",
    "epsilon", "epsilon_high", "delta", "beta", "use_bias_correction_kl", "num_iterations", "steps_per_generation",
    "gradient_accumulation_steps", "per_device_train_batch_size", "generation_batch_size", "num_generations",
    "max_completion_length", "reward_weights", "multi_objective_aggregation", "entropy_coef",
    "top_entropy_quantile", "temperature", "top_p", "use_vllm", "vllm_importance_sampling_correction",
    "vllm_importance_sampling_mode", "learning_rate", "lr_scheduler_type", "weight_decay", "max_grad_norm",
)
"""The ``GRPOConfig`` fields that define what is optimised, and on which batch."""

LOSS_DEFINING_KEYS = ("loss_type", "scale_rewards", "mask_truncated_completions", "importance_sampling_level",
                      "use_bias_correction_kl")
"""The keys every GRPO recipe sets explicitly (their TRL defaults have moved between versions; TRL 1.16's
``use_bias_correction_kl: true`` weights the k3 KL by the importance ratio, which Eq. 1 of the paper does not)."""


def objective_name(args: Any) -> str:
    """``grpo``, ``dr_grpo``, ``dapo``, ``bnpo``, ``gspo`` (sequence-level ratios), or TRL's ``loss_type`` as it is;
    ``+clip-higher`` and ``+overlong-mask`` are appended when those are on."""
    name = "gspo" if args.importance_sampling_level == "sequence" and args.loss_type == "grpo" else args.loss_type
    if args.importance_sampling_level == "sequence" and args.loss_type != "grpo":
        name += "+sequence-ratio"
    if args.epsilon_high is not None and args.epsilon_high > args.epsilon:
        name += "+clip-higher"
    if args.mask_truncated_completions:
        name += "+overlong-mask"
    return name


def updates_per_rollout_batch(args: Any) -> float:
    """Optimizer steps taken on each generated batch: ``steps_per_generation x num_iterations / grad_accum``."""
    return args.steps_per_generation * args.num_iterations / args.gradient_accumulation_steps


def objective_record(args: Any, world_size: int | None = None) -> dict[str, Any]:
    """What ``args`` (a ``GRPOConfig``) optimises: :data:`OBJECTIVE_KEYS` as TRL holds them, the objective's
    name, the updates per rollout batch and, with ``world_size``, the batch in prompts and completions."""
    rec: dict[str, Any] = {"name": objective_name(args)}
    for key in OBJECTIVE_KEYS:
        value = getattr(args, key, None)
        rec[key] = getattr(value, "value", value)  # enums (lr_scheduler_type) as their string
    rec["updates_per_rollout_batch"] = updates_per_rollout_batch(args)
    if world_size is not None:
        per_update = args.per_device_train_batch_size * args.gradient_accumulation_steps * world_size
        rollout = args.per_device_train_batch_size * args.steps_per_generation * world_size
        rec.update(world_size=world_size, completions_per_update=per_update, prompts_per_update=per_update / args.num_generations,
                   completions_per_rollout_batch=rollout, prompts_per_rollout_batch=rollout / args.num_generations)
    return rec
