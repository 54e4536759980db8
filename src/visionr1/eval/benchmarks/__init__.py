"""One module per benchmark: a loader for the layouts users have, the official query, and its reading of a reply
by each protocol (judge-free by default). Each module exposes ``NAME``, ``DEFAULT_SPLIT``, ``RESULT_FILENAME``,
``load(path, split=None, limit=None) -> list[EvalItem]``, ``read_results(path, data)`` (its released result layout,
for ``visionr1 score``), and the pieces :mod:`visionr1.eval.benchmarks.scoring` plugs into its one scoring loop:
``PROTOCOLS``, ``JUDGED``, ``read``, ``result_row`` and ``metrics``.

:data:`BENCHMARKS` are the public benchmarks; ``records`` (alias ``synth``) is our own JSONL records
(``visionr1 synth`` output, a held-out split of your data) as a benchmark: the training prompt, graded by
:func:`visionr1.grading.grade`.

>>> sorted(BENCHMARKS)
['dynamath', 'mathverse', 'mathvision', 'mathvista', 'mmmath', 'wemath']
>>> get_benchmark("synth").NAME
'records'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from visionr1.errors import ConfigError

BENCHMARKS: dict[str, str] = {
    "mathvista": "visionr1.eval.benchmarks.mathvista",
    "mathverse": "visionr1.eval.benchmarks.mathverse",
    "mmmath": "visionr1.eval.benchmarks.mmmath",
    "dynamath": "visionr1.eval.benchmarks.dynamath",
    "mathvision": "visionr1.eval.benchmarks.mathvision",
    "wemath": "visionr1.eval.benchmarks.wemath",
}
"""The public benchmarks, by name."""
OWN = {"records": "visionr1.eval.benchmarks.records"}
"""Our own data as a benchmark, by name."""
PLUG_IN = ("NAME", "RESULT_FILENAME", "load", "read", "result_row", "metrics")
"""What a benchmark module must define (``PROTOCOLS`` defaults to ``("default",)``, ``JUDGED`` to none)."""
_ALIASES = {"mm-math": "mmmath", "mm_math": "mmmath", "math-v": "mathvision", "mathv": "mathvision", "we-math": "wemath",
            "synth": "records"}


def get_benchmark(name: str) -> ModuleType:
    """The benchmark module for ``name`` (case-insensitive; a dotted path to your own module also works)."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key in BENCHMARKS or key in OWN:
        return importlib.import_module({**BENCHMARKS, **OWN}[key])
    if "." in name:
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            raise ConfigError(f"cannot import benchmark module {name!r}: {e}") from None
        missing = [p for p in PLUG_IN if not hasattr(module, p)]
        if missing:
            raise ConfigError(f"benchmark module {name!r} lacks {', '.join(missing)} (what a benchmark gives the "
                              "scoring loop: visionr1.eval.benchmarks.scoring)")
        return module
    raise ConfigError(f"unknown benchmark {name!r}; valid: {', '.join(sorted(BENCHMARKS))}, records (our own JSONL "
                      "records, also called synth), or a dotted module path")


__all__ = ["BENCHMARKS", "OWN", "get_benchmark"]
