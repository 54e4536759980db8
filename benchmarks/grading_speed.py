"""Graded answers per second on the MathVista mix, one core.

Scores every response in the shared MathVista result files (or the small fixture when they are
absent) three ways: the official MathVista protocol (rule extraction + official normalisation),
the generic ``grade`` (extraction + equivalence), and the hard formatting result reward on the
same answers wrapped in R1 tags. Figures are printed, never asserted.

    python benchmarks/grading_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from visionr1.grading import grade, hard_format_result_reward, warmup
from visionr1.grading.equivalence import _math_verdict
from visionr1.grading.mathvista import score_record

REPO = Path(__file__).resolve().parents[1]


def load_records() -> list[dict]:
    env = os.environ.get("VISIONR1_SHARED_DATA")
    root = (Path(env) if env else REPO / ".." / "shared" / "data") / "mathvista"
    files = sorted(root.glob("output_*.json")) if root.is_dir() else []
    if not files:
        files = [REPO / "tests" / "fixtures" / "mathvista" / "results_small.json"]
    records = []
    for f in files:
        for rec in json.loads(f.read_text()).values():
            records.append({k: v for k, v in rec.items() if k not in ("extraction", "prediction", "true_false")})
    return records


def rate(fn, items, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        _math_verdict.cache_clear()  # cold cache every pass: no credit for repeated answers
        t = time.perf_counter()
        for it in items:
            fn(it)
        best = min(best, time.perf_counter() - t)
    return len(items) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed passes; the best is reported")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    records = load_records()
    warmup()
    mathvista = rate(score_record, records, args.repeat)
    generic = rate(
        lambda r: grade(r["response"] or "", str(r["answer"]), choices=r.get("choices"),
                        answer_type=r.get("answer_type"), precision=r.get("precision")),
        records, args.repeat,
    )
    mv_calls = _math_verdict.cache_info().misses
    wrapped = [(f"<think>{r['response']}</think><answer>{r['answer']}</answer>", r) for r in records]
    reward = rate(lambda x: hard_format_result_reward(x[0], str(x[1]["answer"]), choices=x[1].get("choices")),
                  wrapped, args.repeat)
    decided = sum(score_record(r)["decided"] for r in records)
    print(f"records: {len(records)} (MathVista mix), one core, best of {args.repeat}")
    print(f"MathVista official protocol : {mathvista:10,.0f} graded answers/s "
          f"({100 * decided / len(records):.1f}% decided by rules)")
    print(f"grade() generic             : {generic:10,.0f} graded answers/s ({mv_calls} of them reached math-verify)")
    print(f"hard_format_result_reward   : {reward:10,.0f} rewards/s")


if __name__ == "__main__":
    main()
