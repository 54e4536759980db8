"""Progressive thinking suppression (PTST): GRPO stages with growing completion budgets, in one run.

TRL fixes ``num_generations`` and ``max_completion_length`` when a ``GRPOTrainer`` is built, so each stage
gets its own trainer. What makes the stages *one* run rather than several:

* every stage's ``GRPOConfig`` has ``max_steps`` = the total over all stages, so the LR schedule (warmup,
  cosine) spans the whole run and ``TrainerState.max_steps`` never changes;
* :class:`StageEndCallback` stops a stage at its last global step and forces a checkpoint there;
* the next stage's trainer resumes from that checkpoint: weights, optimizer state (Adam moments and step
  counts), LR-scheduler state, RNG, global step and log history all carry over, exactly as in a resumed
  run. This path (rather than handing optimizer objects from trainer to trainer) is also the one that
  works under DeepSpeed ZeRO-3, where ``Trainer`` refuses optimizers passed in;
* a rerun after a crash finds the newest complete checkpoint, works out the stage from its global step
  (:meth:`~visionr1.train.ptst_plan.PTSTPlan.stage_at`), drops metric/sample rows logged after it, and carries on.

The stage arithmetic itself (step ranges, matched compute) is :mod:`visionr1.train.ptst_plan`'s, computed once
per run (``cfg.plan``).

Between stages :func:`release_stage` frees the finished stage's trainer: its DeepSpeed engines are
destroyed and accelerate's state is reset (accelerate refuses a second ``Accelerator`` with a DeepSpeed
plugin in one process; the process group is kept). A colocated vLLM engine is not freed but kept: the next
stage's trainer takes it (:mod:`visionr1.train.colocate`), so no second engine is built beside it.

Each checkpoint also holds ``ptst_state.json`` (stage index and the stage plan) so a rerun with a
different plan for stages already run is refused instead of silently mixing two runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from visionr1.errors import ConfigError
from visionr1.train.common import write_into_checkpoint
from visionr1.train.ptst_plan import PTSTPlan

STATE_FILE = "ptst_state.json"


class StageEndCallback(TrainerCallback):
    """Stop training at the stage's last global step and save a checkpoint there (plus ``ptst_state.json``)."""

    def __init__(self, plan: PTSTPlan, stage: int) -> None:
        self.plan = plan
        self.stage = stage
        self.end_step = plan.stages[stage].end_step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.end_step:
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_save(self, args, state, control, **kwargs):
        done = self.stage + 1 if state.global_step >= self.end_step else self.stage
        write_into_checkpoint(args, state, STATE_FILE, {"global_step": state.global_step, "stage": self.stage,
                                                        "stages_completed": done, "plan": self.plan.rows()})
        return control


def release_stage(trainer: Any) -> None:
    """Free a finished stage's trainer so the next stage's can be built in the same process.

    Under DeepSpeed the policy's and the reference model's engines are destroyed (ZeRO-3 hooks and
    partitioned buffers go with them) and accelerate's ``AcceleratorState`` is reset, keeping the process
    group (``PartialState``): accelerate refuses to create a second ``Accelerator`` with a DeepSpeed plugin.
    """
    accelerator = trainer.accelerator
    deepspeed = getattr(trainer, "is_deepspeed_enabled", False)
    engines = [trainer.model_wrapped, getattr(trainer, "ref_model", None)] if deepspeed else []
    accelerator.free_memory()
    for engine in engines:
        if hasattr(engine, "destroy"):
            engine.destroy()
    if deepspeed:
        from accelerate.state import AcceleratorState

        AcceleratorState._reset_state(reset_partial_state=False)


def check_plan_matches(ckpt: Path, plan: PTSTPlan) -> None:
    """Refuse to resume when the stages already (partly) run had different settings."""
    path = ckpt / STATE_FILE
    if not path.is_file():
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    step = int(saved["global_step"])
    now = plan.rows()
    for old in saved["plan"]:
        if old["start_step"] >= step:
            continue  # not started yet: may be changed (e.g. a stage added or lengthened)
        keys = ["max_completion_length", "num_generations", "start_step"]
        if old["end_step"] <= step:
            keys.append("steps")  # completed stages must keep their length too
        new = now[old["stage"]] if old["stage"] < len(now) else None
        if new is None or any(old[k] != new[k] for k in keys):
            raise ConfigError(
                f"{ckpt} was trained with ptst stage {old['stage']} = {({k: old[k] for k in keys})}, but the config "
                f"now says {new and {k: new[k] for k in keys}}; use a new run_dir, or restore the stage settings used so far"
            )
