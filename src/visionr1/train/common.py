"""Pieces both trainers share: the processor with its pixel budget, TRL argument objects, run folders."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError
from visionr1.files import filter_jsonl as truncate_jsonl  # noqa: F401 - grpo.py's name for it, until grpo.py is split
from visionr1.files import replacing_dir, write_json
from visionr1.train.config import ModelSettings


def load_processor(model: ModelSettings, padding_side: str | None = None):
    """The model's processor with the configured image pixel budget (min/max pixels after resizing).

    GRPO needs ``padding_side="left"`` (what TRL sets when it loads the processor itself): its prompt ids are
    left-padded, and a right-padded processor call gives ``mm_token_type_ids`` that no longer line up with
    them, so Qwen2.5-VL's rope index fails as soon as two prompts of different lengths share a batch.
    """
    from transformers import AutoProcessor

    kwargs = {"padding_side": padding_side, "truncation_side": padding_side} if padding_side else {}
    try:
        processor = AutoProcessor.from_pretrained(model.path, **kwargs)
    except OSError as e:  # a hub id that cannot be fetched, a folder without processor files
        raise ConfigError(f"cannot load the processor of model.path {model.path}: {' '.join(str(e).split())[:400]}") from None
    ip = getattr(processor, "image_processor", None)
    if ip is not None and (model.min_pixels or model.max_pixels):
        size = dict(ip.size) if getattr(ip, "size", None) else {}
        if model.min_pixels:
            size["shortest_edge"] = model.min_pixels
        if model.max_pixels:
            size["longest_edge"] = model.max_pixels
        ip.size = size
        for name in ("min_pixels", "max_pixels"):  # stale copies would be passed as deprecated call kwargs
            if getattr(ip, name, None) is not None:
                setattr(ip, name, None)
    return processor


def make_trl_args(cls, values: dict[str, Any], *, where: str = "trainer"):
    """Build ``cls(**values)`` (``SFTConfig``/``GRPOConfig``), turning TRL's own checks into ConfigErrors."""
    import warnings

    try:
        with warnings.catch_warnings():
            if not {"gradient_checkpointing", "activation_checkpointing"} & set(values):
                # TRL 1.16 defaults transformers 5's deprecated `gradient_checkpointing` (to True), which then warns
                # on every config; a recipe that names the old key itself still hears about it
                warnings.filterwarnings("ignore", "`gradient_checkpointing` is deprecated", FutureWarning,
                                        r"transformers\.training_args")
            return cls(**values)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{where}: {e}") from None


def last_checkpoint(run_dir: Path) -> Path | None:
    """Newest *complete* ``checkpoint-N`` (its trainer_state.json, written last, exists); None if none.

    A process killed while saving leaves a partial folder; that one is skipped, not resumed from.
    """
    best, best_step = None, -1
    if not run_dir.is_dir():
        return None
    for p in run_dir.iterdir():
        if p.is_dir() and p.name.startswith("checkpoint-") and p.name[11:].isdigit():
            step = int(p.name[11:])
            if step > best_step and (p / "trainer_state.json").is_file():
                best, best_step = p, step
    return best


def checkpoint_to_resume(run_dir: Path, resume: bool) -> Path | None:
    """The checkpoint a run in ``run_dir`` continues from (None: a fresh run); an error if it holds one and
    ``resume`` is off, so a finished or interrupted run is never overwritten by accident."""
    ckpt = last_checkpoint(run_dir)
    if ckpt is not None and not resume:
        raise ConfigError(f"{run_dir} already holds checkpoints ({ckpt.name}); set resume=true or use a new run_dir")
    return ckpt


def checkpoint_step(ckpt: Path) -> int:
    return int(json.loads((ckpt / "trainer_state.json").read_text())["global_step"])


def looks_like_run(kind: str):
    """``looks_ours`` for :mod:`visionr1.outdir`: a ``kind`` (``sft``/``grpo``) run folder from before folders were
    marked: it holds checkpoints or step metrics, and its config.yaml (when there) has PTST stages iff GRPO."""

    def check(path: Path) -> bool:
        has_run = (path / "metrics.jsonl").is_file() or (path / "summary.json").is_file() or any(
            p.is_dir() and p.name.startswith("checkpoint-") for p in path.iterdir())
        if not has_run:
            return False
        from visionr1.config import load_yaml

        try:
            config = load_yaml(path / "config.yaml")
        except (ConfigError, OSError, ValueError):  # no config.yaml, or one cut short by a kill
            return True
        return not config or ("ptst" in config) == (kind == "grpo")

    return check


def claim_run_dir(run_dir: Path, kind: str, force: bool = False, *, create: bool = True) -> None:
    """Make sure ``visionr1 {kind}`` may write into ``run_dir`` (new, empty, its own, or ``force``), and on the
    main process create, mark and hold it (``create``: another run into it is refused while this one runs); other
    processes only check. See :mod:`visionr1.outdir`."""
    from visionr1.outdir import check_output_dir, claim_output_dir

    made_by, how = f"visionr1 {kind}", dict(force=force, looks_ours=looks_like_run(kind), what="run_dir")
    if create and is_main_process():  # and held for the run (run_sft / run_grpo release it)
        claim_output_dir(run_dir, made_by, hold=True, **how)
    else:
        check_output_dir(run_dir, made_by, **how)


CHECKPOINT_ONLY = ("optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.json", "training_args.bin")


def without_truncation(processor: Any) -> Any:
    """``processor`` with its fast tokenizer's truncation switched off (returned for chaining).

    Why: SFTTrainer tokenizes with ``truncation=True, max_length=trainer.max_length``, which a fast tokenizer keeps
    as its own state, and ``save_pretrained`` writes it into ``tokenizer.json``. A model saved so truncates (and
    warns "`max_length` is ignored when `padding`=`True`…" on every padded call) wherever it is loaded next: GRPO,
    eval, vLLM. The limit belongs to the SFT run, not to the model.
    """
    tokenizer = getattr(processor, "tokenizer", processor)
    backend = getattr(tokenizer, "_tokenizer", None)
    if backend is not None and getattr(backend, "truncation", None) is not None:
        backend.no_truncation()
    return processor


def final_from_checkpoint(ckpt: Path, final: Path, processor: Any) -> None:
    """Write ``final/`` from the last checkpoint of a finished run whose ``final/`` is missing (a run killed
    between its last checkpoint and the final save): the model files, without the optimizer and trainer state."""
    with replacing_dir(final) as tmp:
        shutil.copytree(ckpt, tmp, dirs_exist_ok=True,
                        ignore=lambda _, names: [n for n in names if n in CHECKPOINT_ONLY or n.startswith("rng_state")
                                                 or n.endswith("_state.json") or n == TRAINABLE_FILE])
        without_truncation(processor).save_pretrained(str(tmp))


def already_complete(run_dir: Path, further: str, step: int, total: int, **now: Any) -> dict[str, Any]:
    """The summary of a rerun that finds ``run_dir`` finished: the last run's summary.json with this rerun's
    ``now`` (what it did: nothing), marked complete; ``further`` says which setting trains on."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = {"run_dir": str(run_dir)}
    summary.update(now)
    summary.update(start_step=step, global_step=step, final=str(run_dir / "final"), already_complete=True,
                   message=f"{run_dir} is already complete ({step} of {total} steps); nothing to train. To train "
                           f"further, raise {further}; to train again from the start, use a new run_dir")
    return summary


TRAINABLE_FILE = "trainable.json"


def trainable_record(model: Any, frozen: dict[str, int]) -> dict[str, Any]:
    """What trains: the tensors and parameters that take gradients, and what ``model.freeze_*`` froze.

    ``frozen`` is :func:`visionr1.models.freeze.freeze_parts`' result. Saved into every checkpoint, so a
    resumed run with other trainable parameters (its optimizer state would not fit) is refused up front.
    """
    tensors = sum(1 for p in model.parameters() if p.requires_grad)
    return {"trainable_tensors": tensors, "trainable": frozen["trainable"],
            "frozen": {part: n for part, n in frozen.items() if part != "trainable"}}


def check_trainable_matches(ckpt: Path | None, now: dict[str, Any]) -> None:
    """Refuse to resume ``ckpt`` with another set of trainable parameters than it was trained with."""
    path = ckpt / TRAINABLE_FILE if ckpt is not None else None
    if path is None or not path.is_file():  # a checkpoint from before this record: nothing to compare
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    if (saved["trainable_tensors"], saved["trainable"]) != (now["trainable_tensors"], now["trainable"]):
        def said(r: dict[str, Any]) -> str:
            frozen = ", ".join(f"{k} {v:,}" for k, v in r["frozen"].items()) or "nothing"
            return f"{r['trainable_tensors']} tensors / {r['trainable']:,} parameters (frozen: {frozen})"

        raise ConfigError(f"{ckpt} was trained with {said(saved)}; this configuration trains {said(now)}. "
                          "model.freeze_* or model.lora changed since that checkpoint, and its optimizer state "
                          "would not fit: restore those settings, or use a new run_dir")


def write_into_checkpoint(args: Any, state: Any, name: str, payload: dict[str, Any]) -> None:
    """From a ``TrainerCallback.on_save``: write ``payload`` as ``name`` into the checkpoint just saved (rank 0)."""
    ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
    if state.is_world_process_zero and ckpt.is_dir():
        write_json(ckpt / name, payload, ensure_ascii=True, end="")


def record_trainable_callback(record: dict[str, Any]):
    """A ``TrainerCallback`` that writes ``record`` into each checkpoint the trainer saves."""
    from transformers import TrainerCallback

    class TrainableRecord(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            write_into_checkpoint(args, state, TRAINABLE_FILE, record)
            return control

    return TrainableRecord()


def is_main_process() -> bool:
    from accelerate import PartialState

    return PartialState().is_main_process


def end_distributed() -> None:
    """Destroy the default process group, if any, at the end of a command (what torch asks of a program
    before it exits; a process group left to the interpreter's exit can abort it after the work is done)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class ConvertedCheckpointMixin:
    """Resume full-weight checkpoints through ``from_pretrained`` so saved-key conversions are applied.

    Why a subclass: ``transformers.Trainer._load_from_checkpoint`` reads ``model.safetensors`` with
    ``load_state_dict(strict=False)``. Qwen2.5-VL in transformers 5 is *saved* in its original key layout
    (``model.layers.*``, ``visual.*``) but its modules are named ``model.language_model.*``,
    ``model.visual.*``; every key misses and a resumed run silently continues from the *base* weights.
    Loading the checkpoint with ``from_pretrained`` (which applies the model's key mapping) and copying
    its state strictly fixes that. DeepSpeed, FSDP and PEFT checkpoints keep the stock path (they store
    module-named states).
    """

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        from accelerate.utils import is_peft_model

        target = model if model is not None else self.model
        full = os.path.isfile(os.path.join(resume_from_checkpoint, "model.safetensors")) or os.path.isfile(
            os.path.join(resume_from_checkpoint, "model.safetensors.index.json"))
        if self.is_deepspeed_enabled or self.is_fsdp_enabled or is_peft_model(target) or not full:
            return super()._load_from_checkpoint(resume_from_checkpoint, model)
        unwrapped = self.accelerator.unwrap_model(target)
        dtype = next(unwrapped.parameters()).dtype
        loaded = type(unwrapped).from_pretrained(resume_from_checkpoint, dtype=dtype)
        unwrapped.load_state_dict(loaded.state_dict(), strict=True)
        del loaded
