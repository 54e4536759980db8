"""Published numbers to set beside your runs: ``visionr1 report --reference paper``.

A reference is a column of the comparison table (and a bar group of the chart) holding numbers a paper
reports, on the rows of :func:`visionr1.report.tables.comparison_rows` (benchmark, metric). They are what a
reproduction is checked against, so they live in one place, with their source.

Example:
    >>> [r.name for r in get_references("paper")]
    ['Qwen2.5-VL-7B (paper)', 'Vision-R1-7B (paper)']
    >>> get_references("paper")[1].value("mathvista", "accuracy")
    73.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError


@dataclass
class Reference:
    """One published model's numbers: ``values[(benchmark, metric)]``, and where they come from."""

    name: str
    source: str
    values: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def path(self) -> Path:  # a column's name is made unique by its parent folder (report.tables.unique_names)
        return Path("reference") / self.name

    def keys(self) -> list[tuple[str, str]]:
        return list(self.values)

    def value(self, bench: str, metric: str) -> Any:
        return self.values.get((bench, metric))


PAPER_SOURCE = ("Vision-R1, arXiv 2503.06749v1, Table 1: MathVista (testmini, ALL), MathVerse (testmini), MM-Math. "
                "The authors' released evaluation (Osilly/Vision-R1 evaluation/, May 2025) asks the raw question, samples "
                "at temperature 0.6 / top_p 0.95 and scores MM-Math with its released sympy scorer; the paper does not "
                "say how each baseline number was obtained")
REFERENCES: dict[str, list[Reference]] = {
    "paper": [
        Reference("Qwen2.5-VL-7B (paper)", PAPER_SOURCE,
                  {("mathvista", "accuracy"): 68.1, ("mathverse", "accuracy"): 46.7, ("mmmath", "accuracy"): 34.1}),
        Reference("Vision-R1-7B (paper)", PAPER_SOURCE,
                  {("mathvista", "accuracy"): 73.5, ("mathverse", "accuracy"): 52.4, ("mmmath", "accuracy"): 40.2}),
    ],
}
"""Named sets of reference columns (``--reference NAME``)."""


def get_references(name: str) -> list[Reference]:
    """The reference columns named ``name``; an error listing the names there are."""
    if name not in REFERENCES:
        raise ConfigError(f"unknown reference {name!r}; valid: {', '.join(sorted(REFERENCES))}")
    return REFERENCES[name]
