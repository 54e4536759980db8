"""Step by step, what a demo run's models get right in their chains of thought (colour_count / colour_value).

    .venv/bin/python benchmarks/demo_chains.py runs/demo-seeds/seed-*       # one row per run folder and model

Reads each run's test split (``data/test.jsonl``) and the cold-start and RL models' test completions
(``eval/<model>/generations.jsonl``), and prints, per model: the share of completions that name the right colour
("The shape is blue"), state its value ("blue=7"), write the whole count right (colour_count: "8 (2 left), 9 (1 left),
10 (0 left).", in the format of the code that reads the run), conclude right ("So the final answer is 10."), and put
the conclusion's number in the answer tag (of those that have both; the tag recalling a trained pair's sum instead
of copying is how a right chain ends in a wrong answer), and their mean length and share cut at the budget (from
``summary.json``). Figures only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from visionr1.data.synth.colour_count import count_up
from visionr1.data.synth.colour_value import VALUE
from visionr1.r1 import CONCLUSION_PREFIX, answer_tags, conclusion, final_answer

# the conclusion as the chain writes it, before </think>; the final "." may be missing (a model's slip)
_CONCLUSION_BEFORE_THINK_CLOSE = re.compile(re.escape(CONCLUSION_PREFIX) + r"(\S+?)\.?\s*</think>")


def chain_stats(run: Path, model: str) -> dict[str, float]:
    recs = {r["id"]: r for r in map(json.loads, (run / "data" / "test.jsonl").read_text().splitlines())}
    gens = [json.loads(x) for x in (run / "eval" / model / "generations.jsonl").read_text().splitlines()]
    hits = {"colour": 0, "value": 0, "count": 0, "conclusion": 0}
    both = copied = 0
    for g in gens:
        facts = recs[g["id"]]["metadata"]["facts"]
        text, colour, offset = g.get("response") or "", facts["colour"], facts["offset"]
        hits["colour"] += f"shape is {colour}" in text
        hits["value"] += f"{colour}={VALUE[colour]}" in text
        hits["count"] += count_up(VALUE[colour], offset).split(": ", 1)[1] in text
        hits["conclusion"] += conclusion(str(VALUE[colour] + offset)) in text
        concluded, tags = _CONCLUSION_BEFORE_THINK_CLOSE.search(text), answer_tags(text)
        if concluded and tags:
            both += 1
            copied += final_answer(tags[0]) == concluded.group(1)
    stats = {k: 100 * v / max(1, len(gens)) for k, v in hits.items()}
    stats["copied"] = 100 * copied / both if both else float("nan")
    return stats


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: demo_chains.py RUN_DIR [RUN_DIR ...]  (folders `visionr1 demo --out` wrote)")
    print("| run | model | colour right % | value right % | count right % | conclusion right % | tag = conclusion % "
          "| accuracy % | mean tokens | truncated % |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for arg in sys.argv[1:]:
        run = Path(arg)
        if not (run / "summary.json").is_file() or not (run / "data" / "test.jsonl").is_file():
            sys.exit(f"{run}: not a finished `visionr1 demo` run folder (no summary.json or data/test.jsonl)")
        evals = json.loads((run / "summary.json").read_text())["eval"]
        for model in ("cold_start", "rl"):
            s = chain_stats(run, model)
            print(f"| {run.name} | {model} | {s['colour']:.0f} | {s['value']:.0f} | {s['count']:.0f} | "
                  f"{s['conclusion']:.0f} | {s['copied']:.0f} | {evals[model]['accuracy']:.1f} | "
                  f"{evals[model]['mean_tokens']} | {evals[model]['truncated']} |")


if __name__ == "__main__":
    main()
