"""MathVista: the official and the default protocol on released model outputs, against the released verdicts.

Reads a folder holding the official result files ``output_<model>.json`` (MathVista testmini plus a
model's ``response`` and the official ``extraction`` / ``prediction`` / ``true_false``), strips the
official fields, scores every response with both protocols of ``visionr1.grading.mathvista`` and
prints:

1. per file: records, the official protocol's agreement with the released verdicts, the released
   accuracy, the accuracy of each protocol, and the share each decides by rules;
2. the hand-adjudicated sample (``benchmarks/mathvista_adjudication.json``): records where our
   judge-free verdict differed from the released one at commit 555009b, 70 of them drawn at random
   and kept unseen while the default protocol was developed, then adjudicated by hand. Printed: how
   often each protocol (and the released verdict) gives the right verdict;
3. the records where the verdicts agreed at 555009b: how many verdicts the default protocol
   changes, by kind.

Records without a released verdict, and records with an empty response but an official extraction
(they cannot be scored from the response), are left out, as in tests/grading/test_mathvista_protocol.py.
Figures are printed, never asserted.

    python benchmarks/mathvista_protocols.py ../shared/data/mathvista
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from visionr1.grading.mathvista import score_record, unscored

ADJUDICATION = Path(__file__).resolve().with_name("mathvista_adjudication.json")


def scored_records(root: Path) -> list[dict]:
    """One row per scorable record: ids, the released verdict, and both protocols' scored records."""
    rows = []
    files = sorted(root.glob("output_*.json"))
    if not files:
        raise SystemExit(f"{root} holds no output_<model>.json files")
    for path in files:
        model = path.stem.removeprefix("output_")
        for pid, rec in json.loads(path.read_text(encoding="utf-8")).items():
            stripped = unscored(rec)
            if stripped is None:
                continue  # an API error in the official run, or an extraction without a response
            rows.append({"id": f"{model}/{pid}", "model": model, "released": rec["true_false"],
                         "official": score_record(stripped), "default": score_record(stripped, protocol="default"),
                         "question_type": rec.get("question_type")})
    return rows


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def per_file(rows: list[dict]) -> None:
    print("| file | records | official protocol: agreement with released | released accuracy | official protocol "
          "accuracy | default protocol accuracy | decided by rules (default) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    models = list(dict.fromkeys(r["model"] for r in rows))
    for model in models + ["all"]:
        rs = [r for r in rows if model in ("all", r["model"])]
        n = len(rs)
        agree = sum(r["official"]["correct"] == r["released"] for r in rs)
        print(f"| {model} | {n} | {pct(agree, n)} | {pct(sum(r['released'] for r in rs), n)} | "
              f"{pct(sum(r['official']['correct'] for r in rs), n)} | {pct(sum(r['default']['correct'] for r in rs), n)} | "
              f"{pct(sum(r['default']['decided'] for r in rs), n)} |")


def adjudicated(rows: list[dict], adjudication: dict) -> None:
    by_id = {r["id"]: r for r in rows}
    verdicts = adjudication.get("adjudication") or {}
    sample = [i for i in adjudication["unseen"] if i in verdicts and i in by_id]
    missing = [i for i in adjudication["unseen"] if i not in verdicts]
    n = len(sample)
    print(f"\nUnseen hand-adjudicated sample: {n} of the {len(adjudication['disagreements'])} records where the "
          f"judge-free verdict differed from the released one at {adjudication['baseline_commit']}"
          + (f" ({len(missing)} not adjudicated)" if missing else ""))
    right = {k: sum(by_id[i][k]["correct"] == verdicts[i]["correct"] for i in sample) for k in ("default", "official")}
    released = sum(by_id[i]["released"] == verdicts[i]["correct"] for i in sample)
    print("| verdict | right | share |")
    print("|---|---:|---:|")
    print(f"| default protocol | {right['default']}/{n} | {pct(right['default'], n)} |")
    print(f"| official protocol (judge-free) | {right['official']}/{n} | {pct(right['official'], n)} |")
    print(f"| released (official GPT-4 extraction) | {released}/{n} | {pct(released, n)} |")
    wrong = [i for i in sample if by_id[i]["default"]["correct"] != verdicts[i]["correct"]]
    for i in wrong:
        print(f"  default wrong on {i}: right verdict {verdicts[i]['correct']} ({verdicts[i]['reason']})")


def change_kind(r: dict) -> str:
    d = r["default"]
    if not d["decided"] and d["extraction_rule"] != "judge":
        return "undecided reply (refusal, no answer, last-number fallback): no longer credited"
    if r["question_type"] == "multi_choice" and d["prediction"] is None:
        return "stated answer that is not an option: no longer snapped to the nearest option"
    if r["question_type"] != "multi_choice" and d["prediction"] is None:
        return "free-form answer that is not one number (a range, several numbers)"
    return "other"


def agreed(rows: list[dict], adjudication: dict) -> None:
    disagreements = set(adjudication["disagreements"])
    rs = [r for r in rows if r["id"] not in disagreements]
    changed = [r for r in rs if r["default"]["correct"] != r["released"]]
    kinds = Counter(change_kind(r) for r in changed)
    print(f"\nRecords where the verdicts agreed at {adjudication['baseline_commit']}: {len(rs)}; "
          f"the default protocol changes {len(changed)} ({pct(len(changed), len(rs))})")
    print("| kind of change | records | share of the agreed records | released verdict -> default |")
    print("|---|---:|---:|---|")
    for kind, count in kinds.most_common():
        directions = Counter(f"{r['released']} -> {r['default']['correct']}" for r in changed if change_kind(r) == kind)
        print(f"| {kind} | {count} | {pct(count, len(rs))} | "
              + ", ".join(f"{k}: {v}" for k, v in directions.items()) + " |")
    for kind in kinds:
        by_file = Counter(r["model"] for r in changed if change_kind(r) == kind)
        print(f"  {kind}, by file: " + ", ".join(f"{m} {c}" for m, c in by_file.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="folder with the official output_<model>.json files")
    parser.add_argument("--adjudication", type=Path, default=ADJUDICATION)
    args = parser.parse_args()
    rows = scored_records(args.data)
    adjudication = json.loads(args.adjudication.read_text(encoding="utf-8"))
    per_file(rows)
    adjudicated(rows, adjudication)
    agreed(rows, adjudication)


if __name__ == "__main__":
    main()
