"""Our own records (``visionr1 synth`` output, any file :func:`visionr1.data.read_records` reads) as a benchmark.

Why: the embedded demo evaluates base, cold-start and RL models on a held-out synth test split through
the same ``visionr1 eval`` path (transformers backend, durable store, scores, report) as the public
benchmarks. The query is the question plus its choices block, so ``--prompt r1`` gives exactly the user
prompt SFT and GRPO were trained on (:func:`visionr1.r1.render_user_prompt`). Scoring is
:func:`visionr1.grading.grade` (R1 ``<answer>`` first, then the general extraction rules), with a
``format`` headline: the share of responses :func:`visionr1.grading.parse_r1` accepts.

Example:
    >>> from visionr1.eval.benchmarks import records
    >>> from visionr1.eval.benchmarks.scoring import score_protocols
    >>> items = records.load(Path("runs/demo/data/test.jsonl"))              # doctest: +SKIP
    >>> score_protocols(records, items, {it.id: "<think>…</think><answer>red</answer>" for it in items}).headline  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from visionr1.eval.benchmarks._common import EvalItem, acc_entry, breakdown, raw_question, unique_ids
from visionr1.eval.benchmarks.scoring import Metrics, Reading

NAME = "records"
DEFAULT_SPLIT = "test"
RESULT_FILENAME = "results_records.json"
PROTOCOLS = ("default",)
"""Our records have one protocol, :func:`visionr1.grading.grade`, and no GPT step (a judge given is not asked)."""


def _data_file(path: Path, split: str | None) -> Path:
    path = Path(path)
    if path.is_dir() and (path / f"{split or DEFAULT_SPLIT}.jsonl").is_file():
        return path / f"{split or DEFAULT_SPLIT}.jsonl"
    return path


def query(question: str, choices: list[str] | None) -> str:
    """The question and its ``Choices:`` block, as :func:`visionr1.r1.render_user_prompt` lays them out."""
    from visionr1.r1 import format_choices

    return f"{question.strip()}\n{format_choices(choices)}".rstrip()


def looks_like_records(path: Path, split: str | None = None) -> bool:
    """Does ``path`` hold our records (a JSONL whose first line has ``id``, ``images``, ``question``, ``answer``)?

    What ``visionr1 eval`` uses to say "this is a records file: use ``--benchmark records``" when another
    benchmark is asked for, rather than failing later on a missing benchmark id.
    """
    file = _data_file(Path(path), split)
    if not file.is_file() or file.suffix.lower() != ".jsonl":
        return False
    try:
        with open(file, encoding="utf-8") as f:
            first = json.loads(next((line for line in f if line.strip()), "{}"))
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and {"id", "images", "question", "answer"} <= set(first)


def load(path: Path, split: str | None = None, limit: int | None = None, skip_bad: bool = False) -> list[EvalItem]:
    """Records from ``path`` (a file, or a folder holding ``{split}.jsonl``, default ``test.jsonl``).

    A file with bad records is refused, the first five named; ``skip_bad`` evaluates the good ones and logs
    the bad ones instead.
    """
    from visionr1.data import read_records
    from visionr1.errors import DataError

    file = _data_file(path, split)
    result = read_records(file)
    if result.errors and not (skip_bad and result.records):
        head = "; ".join(str(e) for e in result.errors[:5])
        todo = ("all are bad, so there is nothing to evaluate (with --skip-bad or without); fix them" if not result.records
                else "fix or drop them, or pass --skip-bad to evaluate the good ones")
        raise DataError(str(file), f"{len(result.errors)} bad record(s) ({len(result.records)} good); {todo}: {head}")
    if result.errors:
        logging.getLogger(__name__).warning("%s: skipping %d bad record(s) (--skip-bad): %s", file, len(result.errors),
                                            "; ".join(str(e) for e in result.errors[:5]))
    items = []
    for rec in result.records[:limit] if limit else result.records:
        images = [p.read_bytes() for p in result.image_paths(rec)]
        items.append(EvalItem(
            id=rec.id, query=query(rec.question, rec.choices), images=images, gold=rec.answer, choices=rec.choices,
            answer_type=rec.answer_type, precision=rec.precision,
            meta={"task": rec.metadata.get("task") or rec.source, "difficulty": rec.metadata.get("difficulty")},
            row={"id": rec.id, "question": rec.question, "answer": rec.answer, "choices": rec.choices},
            raw=raw_question(rec.question, rec.choices),
        ))
    unique_ids(items, str(file))
    return items


def read(response: str, item: EvalItem, protocol: str = "default", judge=None) -> Reading:
    """:func:`visionr1.grading.grade` of one reply (R1 ``<answer>`` first, then the general extraction rules)."""
    from visionr1.grading import grade

    g = grade(response, item.gold, choices=item.choices, answer_type=item.answer_type, precision=item.precision)
    return Reading(g.extracted, g.correct, g.decided, extra={"well_formed": g.well_formed}, record=g)


def result_row(item: EvalItem, response: str, readings: dict[str, Reading], protocol: str) -> dict:
    g = readings[protocol].record
    return {**item.row, "response": response, "extracted": g.extracted, "extracted_by": g.rule,
            "correct": g.correct, "well_formed": g.well_formed, "format_reason": g.reason}


def metrics(per_item: list[dict], readings: list[Reading]) -> Metrics:
    """Accuracy, R1 format compliance, breakdowns by task and difficulty."""
    n = len(per_item)
    correct = sum(r["correct"] is True for r in per_item)  # undecided (None) is not credited
    formatted = sum(r["well_formed"] for r in per_item)
    breakdowns = {"task": breakdown(per_item, "task"), "difficulty": breakdown(per_item, "difficulty")}
    headline = {"accuracy": acc_entry(correct, n)["accuracy"], "format": acc_entry(formatted, n)["accuracy"]}
    return Metrics(headline, breakdowns,
                   {"accuracy": acc_entry(correct, n), "format": acc_entry(formatted, n), **breakdowns})
