"""PTST's stage arithmetic, in one place (standard library only): where each stage starts and ends in global
steps, which stage a step belongs to, and matched compute (the check that every stage samples the same tokens per
step, and the per-device batch each stage derives from the first's).

Computed once per run, when the config is loaded: :class:`~visionr1.train.config.GRPORunConfig` holds the
:class:`PTSTPlan` of its stages as ``cfg.plan``; the stages' TRL arguments, the stage-end callback, the resume check,
``ptst_state.json`` and the run's summary all read it.

Example:
    >>> from visionr1.train.config import PTSTStage
    >>> plan = plan_ptst([PTSTStage(max_completion_length=8, num_generations=4, steps=3),
    ...                   PTSTStage(max_completion_length=16, num_generations=2, steps=3)])
    >>> plan.total_steps, [s.end_step for s in plan.stages], plan.stage_at(3)
    (6, [3, 6], 1)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from visionr1.errors import ConfigError

MATCHED_KEYS = ("per_device_train_batch_size", "generation_batch_size")
"""The batch settings matched compute derives per stage (scaled with the stage's group size G)."""

PER_STEP_KEYS = ("gradient_accumulation_steps", "num_iterations")
"""Settings that change the completions per optimizer step: under matched compute, one value for all stages."""


@dataclass(frozen=True)
class StageSpan:
    """One PTST stage with its global-step range ``[start_step, end_step)``."""

    stage: int
    max_completion_length: int
    num_generations: int
    steps: int
    optional: bool
    start_step: int
    end_step: int


@dataclass(frozen=True)
class PTSTPlan:
    """The stages of one run, back to back, and the batch settings matched compute derives for each."""

    stages: tuple[StageSpan, ...]
    derived: tuple[dict[str, int], ...]
    """Per stage, the ``GRPOConfig`` values matched compute sets (empty without it, and for the first stage)."""

    @property
    def total_steps(self) -> int:
        return self.stages[-1].end_step

    def stage_at(self, global_step: int) -> int:
        """Index of the stage that runs the step *after* ``global_step`` (the last stage when done)."""
        return next((s.stage for s in self.stages if global_step < s.end_step), len(self.stages) - 1)

    def rows(self) -> list[dict[str, Any]]:
        """The stages as plain dicts (``ptst_state.json``'s ``plan``, the summary's ``stages``)."""
        return [asdict(s) for s in self.stages]


def plan_ptst(stages: list[Any], *, matched_compute: bool = False,
              base: dict[str, int | None] | None = None) -> PTSTPlan:
    """The plan of ``stages`` (:class:`~visionr1.train.config.PTSTStage`), and with ``matched_compute`` the per-device
    batch (and ``generation_batch_size``, when set) of each stage: ``base`` (the run's ``trainer:`` values of
    :data:`MATCHED_KEYS`, TRL's defaults where unset) scaled by ``G_i / G_0``, so every stage takes the same prompts
    per step. A ConfigError when matched compute cannot hold."""
    spans, start = [], 0
    for i, s in enumerate(stages):
        spans.append(StageSpan(i, s.max_completion_length, s.num_generations, s.steps, s.optional, start,
                               start + s.steps))
        start += s.steps
    derived: list[dict[str, int]] = [{} for _ in spans]
    if matched_compute:
        _check_matched(spans, [s.trainer for s in stages])
        derived = [{} if i == 0 else _scaled(spans, i, base or {}) for i in range(len(spans))]
    return PTSTPlan(tuple(spans), tuple(derived))


def _check_matched(spans: list[StageSpan], trainers: list[dict[str, Any]]) -> None:
    budgets = [s.num_generations * s.max_completion_length for s in spans]
    if len(set(budgets)) > 1:
        listed = ", ".join(f"stage {s.stage}: {s.num_generations} x {s.max_completion_length} = {b}"
                           for s, b in zip(spans, budgets))
        raise ConfigError(f"ptst.matched_compute needs num_generations x max_completion_length equal in every stage "
                          f"(the paper's 16 x 4096 = 8 x 8192 = 4 x 16384); got {listed}")
    for i, trainer in enumerate(trainers):
        for key in MATCHED_KEYS:
            if key in trainer:
                raise ConfigError(f"ptst.stages[{i}].trainer.{key} is derived by ptst.matched_compute (scaled with the "
                                  f"stage's num_generations); remove it, or set ptst.matched_compute: false")
        for key in PER_STEP_KEYS:
            if key in trainer:
                raise ConfigError(f"ptst.stages[{i}].trainer.{key} would change the tokens sampled per step, which "
                                  f"ptst.matched_compute holds equal in every stage; set trainer.{key} for all stages, "
                                  f"or set ptst.matched_compute: false")


def _scaled(spans: list[StageSpan], i: int, base: dict[str, int | None]) -> dict[str, int]:
    g0, stage = spans[0].num_generations, spans[i]
    out = {}
    for key in MATCHED_KEYS:
        if base.get(key) is None:
            continue
        scaled = base[key] * stage.num_generations / g0
        if scaled < 1 or scaled != int(scaled):
            raise ConfigError(
                f"ptst.matched_compute: stage {i} (num_generations={stage.num_generations}) needs {key} = {base[key]} x "
                f"{stage.num_generations} / {g0} = {scaled:g}, not a whole number >= 1; choose trainer.{key} so that "
                f"it scales to whole numbers (a multiple of {g0 // math.gcd(g0, stage.num_generations)})")
        out[key] = int(scaled)
    return out
