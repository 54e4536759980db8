"""One colocated vLLM engine for a whole GRPO run, across its PTST stages.

TRL builds a vLLM engine inside every ``GRPOTrainer`` with ``use_vllm: true, vllm_mode: colocate`` (its
``VLLMGeneration``), and a PTST stage is a new trainer (:mod:`visionr1.train.ptst`). Left alone, stage 2 would
build a second engine in the same process while the first still holds its weights and KV cache (on a GPU, an
out-of-memory at the first stage boundary), and :func:`~visionr1.train.ptst.release_stage` cannot free it:
an in-process vLLM engine does not give its memory back reliably. So the run builds the engine once, for every
stage it will run, and each later stage's trainer takes that engine instead of building its own:

* :class:`RunEngine` holds it. It is built by the first trainer with the largest context any stage needs
  (each stage's ``vllm_max_model_length``: prompt + completion budget) and the largest batch
  (``max_num_seqs``); the KV cache is sized by ``vllm_gpu_memory_utilization``, not by these.
* :meth:`RunEngine.building` is the context in which a stage's trainer is built: TRL's ``VLLMGeneration`` is
  swapped for one that takes the run's engine when there is one (the swap is undone on leaving). Everything
  else is TRL's: the weights are synced to the engine whenever the global step has moved (every optimizer step
  that samples), sleep mode, tensor parallelism. On a machine without CUDA (vLLM's CPU backend) the sync goes
  through vLLM's in-place reload instead (:func:`visionr1.models.vllm_engine.reload_into_engine` says why).
* :meth:`RunEngine.boundary` records at each stage start how many engines the process holds and its memory
  (``RUN_DIR/memory.jsonl``, :func:`visionr1.models.vllm_engine.process_memory`).

Server mode (``vllm_mode: server``) has no engine here; TRL's weight sync to the server needs NCCL on CUDA, so on
a machine without CUDA it is refused before anything loads (:func:`check_vllm_settings`).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError
from visionr1.files import append_jsonl

MEMORY_FILE = "memory.jsonl"


def uses_colocated_vllm(args: Any) -> bool:
    return bool(getattr(args, "use_vllm", False)) and getattr(args, "vllm_mode", None) == "colocate"


def check_vllm_settings(stage_args: list[Any], *, planning: bool = False) -> list[str]:
    """Refuse what cannot run here; returns warnings for the plan.

    Server mode on a machine without CUDA is an error (TRL's weight sync opens an NCCL group with the server).
    A missing vLLM is an error for a run and a warning for a plan (a 7B plan is often read on a laptop).
    """
    from visionr1.models.vllm_engine import INSTALL_HINT, cuda_available, is_vllm_available

    warnings: list[str] = []
    vllm_stages = [i for i, a in enumerate(stage_args) if getattr(a, "use_vllm", False)]
    if not vllm_stages:
        return warnings
    server = [i for i in vllm_stages if stage_args[i].vllm_mode == "server"]
    if server and not cuda_available():
        raise ConfigError(
            f"trainer.vllm_mode=server (stage(s) {server}) needs CUDA: TRL sends the weights to the vLLM server over "
            "NCCL, which this machine (no CUDA) does not have; use trainer.vllm_mode=colocate here, or run on the GPU "
            "machine")
    if not is_vllm_available():
        message = f"trainer.use_vllm=true (stage(s) {vllm_stages}) needs vLLM, which is not installed here; {INSTALL_HINT}"
        if not planning:
            raise ConfigError(message)
        warnings.append(message)
    return warnings


def engine_context_length(stage_args: list[Any]) -> int | None:
    """The context the run's one engine is built with: the largest ``vllm_max_model_length`` of the stages it
    serves, or None (vLLM then takes the model's maximum) when any of them leaves it unset."""
    lengths = [getattr(a, "vllm_max_model_length", None) for a in stage_args]
    return None if any(n is None for n in lengths) else max(lengths)


def engine_max_seqs(stage_args: list[Any]) -> int:
    """The most sequences one generation of any stage sends (TRL's ``max_num_seqs`` for its stage)."""
    return max(a.per_device_train_batch_size * a.vllm_tensor_parallel_size * a.steps_per_generation for a in stage_args)


class RunEngine:
    """The colocated vLLM engine of one GRPO run (built by the first stage's trainer, taken by the others).

    ``stage_args``: the ``GRPOConfig`` of every stage this process will run (they size the engine).
    """

    def __init__(self, stage_args: list[Any], run_dir: Path | str | None = None) -> None:
        self.max_model_length = engine_context_length(stage_args)
        self.max_num_seqs = engine_max_seqs(stage_args)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.llm = None
        self.generation = None  # the VLLMGeneration of the stage running now
        self.builds = 0
        self.syncs = 0  # weight syncs into the engine (rollouts whose step moved, and validations)
        self.rows: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def building(self) -> Iterator[None]:
        """Build a trainer in here: its ``VLLMGeneration`` takes this run's engine (or builds it, the first time)."""
        import trl.trainer.grpo_trainer as grpo_trainer

        stock = grpo_trainer.VLLMGeneration
        keeper = self

        class StageGeneration(stock):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                if kwargs.get("mode") == "colocate":
                    kwargs.update(max_model_length=keeper.max_model_length, max_num_seqs=keeper.max_num_seqs)
                super().__init__(*args, **kwargs)

            def _init_vllm(self) -> None:
                if self.mode != "colocate":
                    return super()._init_vllm()
                previous = keeper.generation
                if keeper.llm is None:
                    super()._init_vllm()
                    keeper.llm, keeper.builds = self.llm, keeper.builds + 1
                    # vLLM freezes the garbage collector's heap when an engine starts (a serving optimisation):
                    # in a training process that would pin everything alive then, the first stage's trainer
                    # included, for good; the stage boundaries must be able to free it
                    gc.unfreeze()
                else:  # the run's engine, as the previous stage left it (asleep or awake)
                    self.llm = keeper.llm
                    self._llm_weights_sleeping = previous._llm_weights_sleeping
                    if getattr(previous, "tp_group", None) is not None:
                        self.tp_group = previous.tp_group
                    self.accelerator.wait_for_everyone()
                keeper.generation = self

            def sync_weights(self) -> None:
                from visionr1.models.vllm_engine import cuda_available, forget_old_weights, reload_into_engine

                if self.mode != "colocate":
                    return super().sync_weights()
                keeper.syncs += 1
                if cuda_available():
                    super().sync_weights()  # TRL's: each tensor into the engine, then its prefix cache reset
                    forget_old_weights(self.llm)  # and the image encodings made with the old weights
                else:
                    reload_into_engine(self.llm, self._iter_named_params())  # vLLM's CPU backend: see there

        grpo_trainer.VLLMGeneration = StageGeneration
        try:
            yield
        finally:
            grpo_trainer.VLLMGeneration = stock

    def boundary(self, stage: int, global_step: int, event: str = "stage_start") -> dict[str, Any]:
        """Record the process at a stage boundary: engines alive, engine builds so far, memory. Appended to
        ``RUN_DIR/memory.jsonl`` when the run has a folder (the main process passes it)."""
        from visionr1.models.vllm_engine import engines_alive, process_memory

        row = {"event": event, "stage": stage, "global_step": global_step, "engines_alive": engines_alive(),
               "engine_builds": self.builds, "engine_syncs": self.syncs, "engine_context": self.max_model_length,
               **process_memory(),
               "time": time.time()}
        self.rows.append(row)
        if self.run_dir is not None:
            append_jsonl(self.run_dir / MEMORY_FILE, [row], ensure_ascii=True)
        return row

    def close(self) -> None:
        """Shut the engine down at the end of the run, once every process is done with it.

        vLLM's shutdown also tears down the distributed state it joined (the run's process group, with TRL's
        ``external_launcher``), so it runs here, last, rather than from the interpreter's exit, where the
        group may already be gone and the teardown fails."""
        from visionr1.models.vllm_engine import shutdown_engine

        if self.llm is not None:
            shutdown_engine(self.llm)
        self.llm = self.generation = None
        gc.collect()


def sync_for_validation(trainer: Any) -> Any:
    """The engine of ``trainer`` with the policy's current weights in it, awake, for validation; None when the
    trainer does not generate with a colocated engine. Every process must call it (the sync gathers ZeRO-3
    shards); :func:`after_validation` puts a sleeping engine back to sleep."""
    generation = getattr(trainer, "vllm_generation", None)
    if generation is None or not uses_colocated_vllm(trainer.args):
        return None
    generation.sync_weights()  # wakes the weights in sleep mode
    trainer._last_loaded_step = trainer.state.global_step  # TRL's marker: these weights are the step's
    if generation.enable_sleep_mode:
        generation.llm.wake_up(tags=["kv_cache"])
    generation._llm_weights_sleeping = False
    return generation.llm


def after_validation(trainer: Any) -> None:
    generation = getattr(trainer, "vllm_generation", None)
    if generation is not None and generation.enable_sleep_mode and uses_colocated_vllm(trainer.args):
        generation.llm.sleep(level=2)
        generation._llm_weights_sleeping = True  # level 2 discards the weights: TRL re-syncs before sampling
