"""Step by step, what a demo run's models get right in their chains of thought (colour_count / colour_value).

    .venv/bin/python benchmarks/demo_chains.py runs/demo-seeds/seed-*       # one row per run folder and model

Reads each run's test split (``data/test.jsonl``) and the cold-start and RL models' test completions
(``eval/<model>/generations.jsonl``; also the Long and Zero models' in a ``demo --ablation`` run), and prints, per model: the
share of completions that name the right colour ("The shape is blue"), state its value ("blue=7"), write the whole
count right (colour_count: "8 (2 left), 9 (1 left), 10 (0 left)."), write the sum right ("7+3=10"), conclude right
("So the final answer is 10."), and put the conclusion's number in the answer tag (of those that have both), and
their mean length and share cut at the budget (from ``summary.json``). The checks are
:mod:`visionr1.demo.chains`'s (the report's "one item" is chosen with them). Figures only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from visionr1.demo.chains import chain_stats


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: demo_chains.py RUN_DIR [RUN_DIR ...]  (folders `visionr1 demo --out` wrote)")
    print("| run | model | colour right % | value right % | count right % | sum right % | conclusion right % "
          "| tag = conclusion % | accuracy % | mean tokens | truncated % |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for arg in sys.argv[1:]:
        run = Path(arg)
        if not (run / "summary.json").is_file() or not (run / "data" / "test.jsonl").is_file():
            sys.exit(f"{run}: not a finished `visionr1 demo` run folder (no summary.json or data/test.jsonl)")
        summary = json.loads((run / "summary.json").read_text())
        evals = {**summary["eval"], **(summary.get("ablation") or {}).get("eval", {})}
        for model in ("cold_start", "rl", "long", "zero"):
            if model not in evals:
                continue
            s = chain_stats(run, model)
            print(f"| {run.name} | {model} | {s['colour']:.0f} | {s['value']:.0f} | {s['count']:.0f} | {s['sum']:.0f} | "
                  f"{s['conclusion']:.0f} | {s['copied']:.0f} | {evals[model]['accuracy']:.1f} | "
                  f"{evals[model]['mean_tokens']} | {evals[model]['truncated']} |")


if __name__ == "__main__":
    main()
