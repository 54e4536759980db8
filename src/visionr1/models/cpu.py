"""Process settings for training and evaluating on a CPU that is not an Intel one.

Why: the demo's seed took 2.1x longer on a 2-core AMD EPYC than on a 2-core Intel Xeon, in every training stage.
A profile of a warm-up step (``benchmarks/demo_step_profile.py``) shows where the AMD time goes:

* **Freed memory handed back to the OS every step.** glibc's malloc serves a block above its mmap threshold
  (128 KiB, raised up to 32 MiB as such blocks are freed) with a fresh ``mmap`` and gives it back on ``free``, and
  it trims the top of its heap whenever more than twice that threshold lies free there. A training step of the
  tiny model makes hundreds of temporaries of 1-80 MB (activations, logits over the vocabulary, their gradients),
  so every step maps fresh memory and pays one page fault per 4 KiB page as it is first touched: 50,000-140,000
  faults in a warm-up step, ~3.7 us each in this VM (two 20 MB temporaries made and freed: 44 ms of CPU with the
  defaults, 9 ms with the settings below). :func:`tune_cpu` raises the mmap threshold to glibc's largest (32 MiB)
  and the trim threshold to 1 GiB, so freed blocks stay in the heap and the next step reuses pages already mapped.
  Blocks above 32 MiB (GRPO's logits over the vocabulary, ~80 MB) are still mapped afresh: glibc allows no higher
  threshold, and turning its mmap off (``M_MMAP_MAX=0``) raised peak RSS by 14% without removing GRPO's faults.

Nothing here changes what is computed, only where memory comes from: a step's loss and gradients came out the same
to the bit here (tests/models/test_cpu.py holds them to :data:`~visionr1.testing.numerics.SAME_UP_TO`).

Looked at and left alone: **the BLAS**. torch 2.14 sends every float32 matmul on x86 to MKL's sgemm (oneDNN only
takes bfloat16/float16, or float32 at reduced precision; ``TORCH_MKLDNN_MATMUL_MIN_DIM`` is read on AArch64
only). On this AMD, ``MKL_VERBOSE`` names MKL's generic branch ("Intel(R) Architecture processors"), but the
kernel it runs (``perf record``) is ``mkl_blas_def_sgemm_kernel_0_zen``, and one thread multiplies 2384x256 by
256x256 at ~64 GFLOP/s, ~80% of a Zen 3 core's AVX2 FMA peak; oneDNN's float32 matmul
(``torch.ops.mkldnn._linear_pointwise``) took 0.8-1.0x MKL's CPU time on the demo's shapes.
``MKL_ENABLE_INSTRUCTIONS=AVX2``, ``MKL_DEBUG_CPU_TYPE=5`` and ``MKL_CBWR=AVX2`` changed nothing.

Scope: a CPU run (a CUDA run is left alone: its host memory is not where its time goes) on a CPU whose vendor is
not ``GenuineIntel``; on an Intel CPU today's path is kept, because the demo's figures were measured there and
nobody has measured these settings there. ``VISIONR1_CPU_TUNING=0`` turns it off (for an A/B comparison).
"""

from __future__ import annotations

import logging
import os
import platform
from typing import Any

logger = logging.getLogger(__name__)

ENV = "VISIONR1_CPU_TUNING"
"""Set to ``0`` to leave the process as it is (an A/B comparison with and without the tuning)."""

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h> parameter numbers
MMAP_THRESHOLD = 32 * 1024 * 1024
"""glibc's largest mmap threshold on 64-bit (``DEFAULT_MMAP_THRESHOLD_MAX``): blocks below it come from the heap."""
TRIM_THRESHOLD = 1024 * 1024 * 1024
"""Free memory at the top of the heap kept before glibc gives it back (1 GiB: more than a demo step's peak)."""

_done: list[str] | None = None


def cpu_vendor() -> str:
    """The CPU's vendor id as the kernel reports it (``GenuineIntel``, ``AuthenticAMD``, ...; ``""`` if unknown)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def tune_cpu(device: Any = "cpu") -> list[str]:
    """Tune this process for training or evaluating on ``device`` (see the module docstring); returns what was done.

    Idempotent (the first call decides; later calls return the same list), process-wide, and a no-op for a
    device other than the CPU, on an Intel CPU, off glibc, or with ``VISIONR1_CPU_TUNING=0``. Logs one line.

    >>> tune_cpu("cuda")
    []
    """
    global _done
    if str(device).split(":")[0] != "cpu":
        return []
    if _done is not None:
        return _done
    vendor = cpu_vendor()
    if os.environ.get(ENV, "1").strip() == "0":
        _done, why = [], f"{ENV}=0"
    elif vendor == "GenuineIntel":
        _done, why = [], "an Intel CPU keeps the default path"
    else:
        _done, why = _keep_freed_memory(), f"a {vendor or 'unknown-vendor'} CPU"
    logger.info("CPU tuning (%s): %s", why, ", ".join(_done) or "nothing changed")
    return _done


def _keep_freed_memory() -> list[str]:
    """Raise glibc malloc's mmap and trim thresholds (``mallopt``), so freed memory is reused, not unmapped."""
    if platform.libc_ver()[0] != "glibc":
        return []
    import ctypes

    libc = ctypes.CDLL(None)
    if not (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return []
    return [f"malloc keeps freed memory (mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold "
            f"{TRIM_THRESHOLD >> 20} MiB)"]
