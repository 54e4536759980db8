"""MATH-V: our protocols against the verdicts released with every model's outputs.

Scores each released model file of a mathllm/MATH-V checkout (``outputs/**/*.jsonl``, rows ``id``, ``response``,
``model_answer``, ``correct``) with ``--data data/test.jsonl`` under both protocols, the library call behind
``visionr1 score mathvision FILE --data data/test.jsonl --protocol official``, and prints per model: how often our
official verdict agrees with the released ``correct``, the accuracy released / our official / our default, and the
kinds of difference with their counts (official vs released, and default vs official). Figures for
docs/evaluation.md (MATH-V section).

Usage: ``python benchmarks/mathvision_released.py PATH/TO/MATH-V [--examples N]``
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path


def same_value(a: str, b: str) -> bool:
    """``a`` and ``b`` are one answer: equal less case and spacing (the official extraction drops spaces), or
    equivalent (:func:`visionr1.grading.is_equivalent`)."""
    import re

    from visionr1.grading import is_equivalent
    from visionr1.grading.equivalence import normalize_text

    def bare(x: str) -> str:
        return re.sub(r"\s", "", normalize_text(x))

    return bool(a) and (bare(a) == bare(b) or is_equivalent(a, b))


KINDS = {
    "D1": "default credits, official not: the gold option's value, its LaTeX or unit spelt otherwise (`120` for "
          "`$120^{\\circ}$`, `Beetle with 7 points`, `13 \\%`)",
    "D2": "default credits, official not: the gold value written otherwise (`1/3` for `\\frac{1}{3}`)",
    "D3": "default credits, official not: the official extraction misreads the reply (`(C) 12` read as `c12`, a "
          "letter taken out of a formula: `e+d=a` read as `a`)",
    "O1": "official credits, default not: another value the official match takes as equal (equal at two decimals: "
          "`1/300` for `1/900`; an ordering read as arithmetic: `5-2-3-4-1` for `5-2-3-1-4`)",
    "O2": "official credits, default not: an undecided reply",
    "O3": "official credits, default not: the reply gives two answers (a boxed value, then another option's letter); "
          "default reads the boxed one",
}
"""The kinds of difference between our two protocols, by code (the table's last column counts them)."""


def kind_official_vs_default(item, r, default_extracted) -> str:
    """The :data:`KINDS` code of why our default verdict differs from the official one on ``item`` (``r``: its
    merged per-item row, whose ``extracted`` is the official protocol's reading; ``default_extracted`` the
    default's)."""
    from visionr1.r1 import LETTERS

    official = str(r["extracted"] or "")
    if r["correct_official"] and not r["correct_default"]:
        if not r["decided_default"]:
            return "O2"
        return "O1" if same_value(str(default_extracted or ""), official) else "O3"
    letter = item.gold.strip().upper()
    if item.choices and letter in LETTERS[: len(item.choices)]:
        if same_value(official, item.choices[LETTERS.index(letter)]):
            return "D1"
    elif same_value(official, item.gold):
        return "D2"
    return "D3"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="a checkout of mathllm/MATH-V")
    parser.add_argument("--examples", type=int, default=0, help="print up to N differing items per model")
    args = parser.parse_args()

    from visionr1.eval.benchmarks import mathvision
    from visionr1.eval.benchmarks.scoring import score_protocols

    data = args.repo / "data" / "test.jsonl"
    files = sorted(p for p in (args.repo / "outputs").rglob("*.jsonl") if p.stat().st_size > 0)
    if not files:
        print(f"no released outputs under {args.repo / 'outputs'}", file=sys.stderr)
        return 1
    print("| model | items | agreement (official vs released) | accuracy released | our official | our default | "
          "decided (official / default) | official vs released | default vs official |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    worst = 1.0
    for path in files:
        items, responses = mathvision.read_results(path, data)
        released = {str(r["id"]): bool(r["correct"]) for r in map(json.loads, path.read_text().splitlines()) if r}
        scored = score_protocols(mathvision, items, responses, "official")  # as `visionr1 score`, without a judge
        default_extracted = {it.id: r.extracted for it, r in zip(items, scored.readings["default"])}
        by_id = {it.id: it for it in items}
        n = len(scored.per_item)
        agree = sum(1 for r in scored.per_item if r["correct_official"] == released[r["id"]])
        worst = min(worst, agree / n)
        vs_released = collections.Counter(
            "official credits, released not" if r["correct_official"] else "released credits, official not"
            for r in scored.per_item if r["correct_official"] != released[r["id"]])
        vs_official = collections.Counter(kind_official_vs_default(by_id[r["id"]], r, default_extracted[r["id"]])
                                          for r in scored.per_item if r["correct_official"] != r["correct_default"])
        p = scored.protocols

        def fmt(c: collections.Counter) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"

        print(f"| {path.stem} | {n} | {100 * agree / n:.2f}% ({n - agree} differ) | "
              f"{100 * sum(released.values()) / n:.2f} | {p['official']['accuracy']:.2f} | {p['default']['accuracy']:.2f} | "
              f"{100 * p['official']['decided_share']:.1f}% / {100 * p['default']['decided_share']:.1f}% | "
              f"{fmt(vs_released)} | {fmt(vs_official)} |", flush=True)
        if args.examples:
            shown = [r for r in scored.per_item if r["correct_official"] != r["correct_default"]][: args.examples]
            for r in shown:
                it = by_id[r["id"]]
                print(f"    {r['id']} [{kind_official_vs_default(it, r, default_extracted[r['id']])}]: gold {it.gold!r} "
                      f"options {it.choices} | official {r['correct_official']} "
                      f"({r['extracted']!r}) default {r['correct_default']} ({default_extracted[r['id']]!r}) | "
                      f"{responses[r['id']][-160:]!r}", file=sys.stderr)
    print(f"\nlowest agreement over {len(files)} files: {100 * worst:.2f}%\n")
    for code, text in KINDS.items():
        print(f"- {code}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
