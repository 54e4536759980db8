"""Process settings for training and evaluating on a CPU that is not an Intel one.

Why: the demo's seed took 2.1x longer on a 2-core AMD EPYC than on a 2-core Intel Xeon, in every training stage.
A profile of a warm-up step (``benchmarks/demo_step_profile.py``) shows where the AMD time goes:

* **Freed memory handed back to the OS every step.** glibc's malloc serves a block above its mmap threshold
  (128 KiB, raised up to 32 MiB as such blocks are freed) with a fresh ``mmap`` and gives it back on ``free``, and
  it trims the top of its heap whenever more than twice that threshold lies free there. A training step of the
  tiny model makes hundreds of temporaries of 1-80 MB (activations, logits over the vocabulary, their gradients),
  so every step maps fresh memory and pays one page fault per 4 KiB page as it is first touched: ~70,000 faults
  in a warm-up step, ~3.7 us each in this VM (20 MB allocated and touched: 44 ms of CPU with the default, 9 ms
  with the settings below). :func:`tune_cpu` raises the mmap threshold to glibc's largest (32 MiB) and the trim
  threshold to 1 GiB, so freed blocks stay in the heap and the next step reuses pages already mapped.

Only float rounding may change: nothing here changes what is computed, only where memory comes from.

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
