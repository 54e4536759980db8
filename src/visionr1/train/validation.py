"""Validation during training: ``visionr1 eval``'s code path run on the policy being trained.

Why not TRL's ``eval_dataset``: the Trainer's evaluation computes a loss (SFT) or nothing useful for
generation-scored RL, while what a Vision-R1 user needs to see during training is held-out *accuracy* under
the benchmark's own scoring, the R1 format rate, and completion length and truncation, exactly as
``visionr1 eval`` reports them. So the callback builds a :class:`~visionr1.eval.backends.TransformersBackend`
over the model in memory (no copy, no reload) and calls :func:`visionr1.eval.run.run_eval` with it; each
validation is an ordinary eval run folder (``RUN_DIR/validation/step-N/``) with its scores, verdicts and
report, and one row of ``RUN_DIR/validation.jsonl``::

    {"step": 20, "stage": 0, "accuracy": 61.5, "format": 98.0, "mean_length": 74.2, "truncated": 1.0,
     "items": 200, "seconds": 9.1, "best": true}

When it runs: before the first step of a fresh run (the starting point), every ``every_steps`` steps, at
each PTST stage boundary and at the last step. With ``checkpoint_selection: best_validation`` a validation
that beats every earlier one saves the policy to ``RUN_DIR/best`` (with ``best.json``: step, stage,
accuracy). With ``stop_after_no_gain: N`` training stops after N validations in a row without a new best
(the warm-up of ``visionr1 demo`` trains its base model this way: until held-out accuracy stops rising).

Training is not disturbed: the model is put in ``eval()`` mode and back, the processor is a copy (the
backend pads on the left; SFT's collator pads on the right), and torch's RNG state is saved and restored,
so a run with validation samples the same rollouts as one without. Under DeepSpeed ZeRO-3 the parameters
are gathered for generation with TRL's ``unwrap_model_for_generation``; the main process generates, the
others wait. A GRPO run that samples with a colocated vLLM engine validates through that engine
(:mod:`visionr1.train.colocate`): the policy's weights are synced into it first (every process takes part,
as in a rollout) and its row says ``"engine": "vllm"``; no second copy of the model is loaded for it.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from visionr1.files import append_jsonl, filter_jsonl, read_jsonl, write_json
from visionr1.train.colocate import after_validation, sync_for_validation
from visionr1.train.config import ValidationSettings

VALIDATION_FILE = "validation.jsonl"
VALIDATION_DIR = "validation"
BEST_DIR = "best"
BEST_FILE = "best.json"
STOPPED_FILE = "stopped_early.json"


def read_validation(run_dir: Path | str) -> list[dict[str, Any]]:
    """The rows of ``RUN_DIR/validation.jsonl`` (empty when the run had no validation)."""
    return read_jsonl(Path(run_dir) / VALIDATION_FILE, missing_ok=True)


def _eval_config(settings: ValidationSettings, out: Path, label: str):
    from visionr1.eval.run import EvalConfig

    return EvalConfig(benchmark=settings.benchmark, data=Path(settings.data), out=out, model=label, split=settings.split,
                      limit=settings.max_items, prompt=settings.prompt, system_prompt=settings.system_prompt,
                      temperature=settings.temperature,
                      top_p=settings.top_p, max_tokens=settings.max_tokens, seed=settings.seed,
                      batch_size=settings.batch_size, progress=False,
                      allow_failed=True)  # an item the model cannot take is left out; training goes on


def check_validation_data(settings: ValidationSettings) -> int:
    """Load the validation items once (as eval would) so a bad path or layout fails before training starts."""
    from visionr1.errors import ConfigError
    from visionr1.eval.benchmarks import get_benchmark

    bench = get_benchmark(settings.benchmark)
    items = bench.load(Path(settings.data), split=settings.split, limit=settings.max_items)
    if not items:
        raise ConfigError(f"validation.data {settings.data} holds no {bench.NAME} items")
    return len(items)


def validate(model, processor, settings: ValidationSettings, out: Path, label: str, engine=None) -> dict[str, Any]:
    """Evaluate ``model`` (in memory) on the validation set into the eval run folder ``out``; returns a summary row.

    ``engine``: a vLLM engine that holds ``model``'s weights (a GRPO run's colocated one, synced by the caller):
    generation goes through it (:class:`~visionr1.eval.backends.VLLMBackend`) instead of transformers.
    The model's train/eval mode and torch's RNG state are restored afterwards.
    """
    import torch

    from visionr1.eval.backends import TransformersBackend, VLLMBackend
    from visionr1.eval.run import run_eval

    cfg = _eval_config(settings, out, label)
    rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    was_training = model.training
    t0 = time.perf_counter()
    model.eval()
    try:
        if engine is not None:
            backend = VLLMBackend.from_engine(engine, processor, cfg.sampling(), batch_size=settings.batch_size, label=label)
        else:
            backend = TransformersBackend.from_loaded(model, processor, cfg.sampling(), batch_size=settings.batch_size,
                                                      label=label)
        scores = run_eval(cfg, backend=backend)
    finally:
        if was_training:
            model.train()
        torch.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    comp = scores["completion"]
    n = max(1, comp["completions"])
    return {"accuracy": scores["headline"].get("accuracy"), "format": scores["headline"].get("format"),
            "mean_length": comp["length"]["mean"], "truncated": round(100 * comp["truncated"] / n, 2),
            "items": scores["items"], "seconds": round(time.perf_counter() - t0, 2)}


class ValidationCallback(TrainerCallback):
    """Validate on schedule, append ``validation.jsonl``, keep ``best/``, stop when accuracy stops rising.

    ``trainer`` must be set (``callback.trainer = trainer``) before training: saving ``best/`` goes through
    ``trainer.save_model`` (which gathers ZeRO-3 shards). ``stage``/``stage_end``: the PTST stage this
    trainer runs and its last global step (a boundary validation); None for SFT.
    """

    def __init__(self, settings: ValidationSettings, run_dir: Path, processor, *, keep_best: bool,
                 stage: int | None = None, stage_end: int | None = None) -> None:
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.processor = copy.deepcopy(processor)
        self.keep_best = keep_best
        self.stage, self.stage_end = stage, stage_end
        self.trainer = None
        rows = read_validation(self.run_dir)
        self.best = max((r["accuracy"] for r in rows if r.get("accuracy") is not None), default=None)
        self.since_best = _since_best(rows)
        self.stopped = False
        self.done_steps = {r["step"] for r in rows}

    def on_train_begin(self, args, state, control, **kwargs):
        if state.global_step == 0 and 0 not in self.done_steps:
            self._run(args, state, control, kwargs.get("model"))
        return control

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        due = step % self.settings.every_steps == 0 or step == self.stage_end or step >= state.max_steps
        if due and step not in self.done_steps:
            self._run(args, state, control, kwargs.get("model"))
        return control

    def _run(self, args, state, control, model) -> None:
        trainer = self.trainer
        model = trainer.model if trainer is not None else model
        accelerator = getattr(trainer, "accelerator", None)
        gather = nullcontext(model)
        engine = sync_for_validation(trainer) if trainer is not None else None  # every process: a collective
        if engine is None and trainer is not None and getattr(trainer, "is_deepspeed_enabled", False):
            from trl.models import unwrap_model_for_generation

            gather = unwrap_model_for_generation(trainer.model_wrapped, accelerator)
        step = state.global_step
        row: dict[str, Any] = {"step": step}
        with gather as unwrapped:
            if state.is_world_process_zero:
                folder = self.run_dir / VALIDATION_DIR / f"step-{step}"
                if folder.exists():  # left by a run killed before its checkpoint: this step is validated anew
                    shutil.rmtree(folder)
                through = {"engine": engine} if engine is not None else {}
                row.update(validate(unwrapped, self.processor, self.settings, folder, f"{self.run_dir}@step-{step}",
                                    **through))
        if engine is not None:
            row["engine"] = "vllm"
            after_validation(trainer)
        if accelerator is not None:
            accelerator.wait_for_everyone()
        self.done_steps.add(step)
        if not state.is_world_process_zero:
            return
        if self.stage is not None:
            row["stage"] = self.stage
        acc = row.get("accuracy")
        row["best"] = acc is not None and (self.best is None or acc > self.best + self.settings.min_gain)
        if row["best"]:
            self.best, self.since_best = acc, 0
        else:
            self.since_best += 1
        row["time"] = time.time()
        append_jsonl(self.run_dir / VALIDATION_FILE, [row], ensure_ascii=True)
        if row["best"] and self.keep_best and trainer is not None:
            best = self.run_dir / BEST_DIR
            trainer.save_model(str(best))  # with the trainer's processor (not the left-padding copy)
            write_json(best / BEST_FILE, {k: row.get(k) for k in ("step", "stage", "accuracy", "format")},
                       indent=None, ensure_ascii=True, end="")
        patience = self.settings.stop_after_no_gain
        if patience is not None and self.since_best >= patience:
            self.stopped = True
            control.should_training_stop = True
            control.should_save = True  # the checkpoint at this step; a rerun finds the run complete
            write_json(self.run_dir / STOPPED_FILE, {"step": step, "best_accuracy": self.best,
                                                     "validations_without_gain": self.since_best},
                       indent=None, ensure_ascii=True, end="")


def stopped_at(run_dir: Path | str) -> int | None:
    """The step at which validation ended a run (``stop_after_no_gain``), or None: a rerun that resumes from
    that step's checkpoint has nothing left to train."""
    path = Path(run_dir) / STOPPED_FILE
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _since_best(rows: list[dict[str, Any]]) -> int:
    """Validations since the last new best, from the rows so far (for a resumed run's patience)."""
    n = 0
    for r in rows:
        n = 0 if r.get("best") else n + 1
    return n


def drop_after(run_dir: Path, start: int) -> None:
    """A resumed run forgets validations after the checkpoint it resumes from (they will run again):
    their rows, their eval folders, and ``best/`` if it was saved after that checkpoint."""
    run_dir = Path(run_dir)
    filter_jsonl(run_dir / VALIDATION_FILE, lambda r: r.get("step", 0) <= start)
    stop = stopped_at(run_dir)
    if stop is not None and stop > start:
        (run_dir / STOPPED_FILE).unlink()
    folder = run_dir / VALIDATION_DIR
    if folder.is_dir():
        for p in folder.glob("step-*"):
            if p.name[5:].isdigit() and int(p.name[5:]) > start:
                shutil.rmtree(p)
    best = run_dir / BEST_DIR / BEST_FILE
    if best.is_file() and json.loads(best.read_text(encoding="utf-8")).get("step", 0) > start:
        # Saved after the checkpoint: it is not the model this run will have at that step. The earlier best's
        # weights are gone (best/ holds one model), so best/ comes back with the next validation that beats
        # every row kept.
        shutil.rmtree(best.parent)


def validation_summary(run_dir: Path, callback: ValidationCallback) -> dict[str, Any]:
    """For ``summary.json``: validations run, the best (step, accuracy, and where its model is), early stop."""
    rows = read_validation(run_dir)
    best_file = Path(run_dir) / BEST_DIR / BEST_FILE
    top = max(rows, key=lambda r: r.get("accuracy") or -1) if rows else None
    return {"validations": len(rows), "best_step": top and top["step"], "best_accuracy": top and top.get("accuracy"),
            "last_accuracy": rows[-1].get("accuracy") if rows else None, "stopped_early": callback.stopped,
            "best_model": str(best_file.parent) if best_file.is_file() else None}
