"""MathVista (testmini), the Vision-R1 paper's headline benchmark.

Source of the protocol: lupantech/MathVista, ``evaluation/build_query.py`` (the zero-shot query),
``evaluation/extract_answer.py`` and ``evaluation/calculate_score.py``; the Hugging Face release
AI4Math/MathVista (``pid``, ``question``, ``image``, ``decoded_image``, ``choices``, ``unit``,
``precision``, ``answer``, ``question_type``, ``answer_type``, ``metadata``, ``query``), and
VLMEvalKit's ``MathVista_MINI.tsv`` (``index``, ``image`` as base64, ``question``, ``answer``,
``choices``, ``task``, ``skills``, ``question_type``, ``answer_type``, ``precision``…).

Query: the dataset's own ``query`` column when present (the official zero-shot query), else it is
rebuilt exactly as ``build_query.py`` does: ``Hint: …`` + ``Question: …`` + ``(Unit: …)`` +
``Choices:`` lines.

Result file: the official ``pid → record`` JSON (every problem field plus ``query`` and
``response``), the very format ``visionr1 score mathvista`` reads (:func:`read_results`); both
commands score it with :func:`score`, so ``eval`` and ``score`` give identical verdicts.

Protocols (``--protocol``, :mod:`visionr1.grading.mathvista`): ``official`` is the released
pipeline (quick rules, GPT-4 extraction — the judge when one is given, else the judge-free rules
standing in —, normalisation with its nearest-option fallback, plain equality); ``default`` is ours
(an undecided reply is never credited, an answer that is not an option is wrong, a numeric answer
is one number equal to the gold one). Each scored record keeps the official fields, ``true_false``
the official verdict, plus ``correct`` (the chosen protocol's verdict), ``correct_official``,
``correct_default``, ``extracted`` and ``decided``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visionr1.data.splits import split_of
from visionr1.data.tables import (
    as_dict,
    as_list,
    clean_str,
    first_image,
    optional_int,
    read_table,
)
from visionr1.errors import DataError
from visionr1.eval.benchmarks.scoring import Metrics, Reading
from visionr1.eval.benchmarks._common import (
    EvalItem,
    acc_entry,
    choices_block,
    raw_question,
    read_json_file,
    require_fields,
    unique_ids,
)

NAME = "mathvista"
DEFAULT_SPLIT = "testmini"
RESULT_FILENAME = "results_mathvista.json"
BREAKDOWN_KEYS = ("task", "skills", "grade", "category", "context", "question_type", "answer_type", "language", "source")
"""Shown in report.md; the leaderboard columns are task (FQA, GPS, MWP, TQA, VQA) and skills."""

_TSV_META = ("category", "context", "grade", "img_height", "img_width", "language", "skills", "source", "split", "task")


def build_query(row: dict[str, Any]) -> str:
    """The official zero-shot query (``build_query.py``, ``shot_num=0``).

    >>> build_query({"question": "How many?", "question_type": "free_form", "answer_type": "integer",
    ...              "choices": None, "unit": None, "precision": None})
    'Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.\\nQuestion: How many?'
    """
    question_type, answer_type = row.get("question_type"), row.get("answer_type")
    choices, unit, precision = as_list(row.get("choices")), clean_str(row.get("unit")), row.get("precision")
    if question_type == "multi_choice":
        hint = "Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end."
    elif answer_type == "integer":
        hint = "Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end."
    elif answer_type == "float" and optional_int(precision) == 1:
        hint = ("Please answer the question requiring a floating-point number with one decimal place and provide the "
                "final value, e.g., 1.2, 1.3, 1.4, at the end.")
    elif answer_type == "float" and optional_int(precision) == 2:
        hint = ("Please answer the question requiring a floating-point number with two decimal places and provide the "
                "final value, e.g., 1.23, 1.34, 1.45, at the end.")
    else:
        hint = ("Please answer the question requiring a Python list as an answer and provide the final list, e.g., "
                "[1, 2, 3], [1.2, 1.3, 1.4], at the end.")
    question = clean_str(row.get("question"))
    if unit:
        question = f"{question} (Unit: {unit})"
    text = f"Hint: {hint}\nQuestion: {question}"
    if choices:
        text += "\nChoices:\n" + choices_block(choices)
    return text


def _problem(row: dict[str, Any], layout: str) -> dict[str, Any]:
    """The official problem record (``pid``, ``question``, …, ``metadata``, ``query``) from any layout."""
    pid = clean_str(row.get("pid")) or clean_str(row.get("index")) or clean_str(row.get("_key"))
    metadata = as_dict(row.get("metadata"))
    if not metadata:  # VLMEvalKit flattens the metadata into columns
        metadata = {k: row[k] for k in _TSV_META if k in row and row[k] not in (None, "")}
        if isinstance(metadata.get("skills"), str):
            metadata["skills"] = as_list(metadata["skills"]) or []
    precision = row.get("precision")
    precision = None if precision in (None, "") or (isinstance(precision, float) and precision != precision) else precision
    if isinstance(precision, str):
        precision = float(precision)
    if isinstance(precision, float) and precision.is_integer():
        precision = int(precision)
    unit = clean_str(row.get("unit")) or None
    problem = {
        "question": clean_str(row.get("question")),
        "image": row.get("image") if isinstance(row.get("image"), str) and len(row["image"]) < 256 else f"images/{pid}.jpg",
        "choices": as_list(row.get("choices")),
        "unit": unit,
        "precision": precision,
        "answer": clean_str(row.get("answer")),
        "question_type": clean_str(row.get("question_type")) or ("multi_choice" if as_list(row.get("choices")) else "free_form"),
        "answer_type": clean_str(row.get("answer_type")) or "text",
        "pid": pid,
        "metadata": metadata,
    }
    query = clean_str(row.get("query"))
    problem["query"] = query or build_query(problem)
    return problem


def _item(problem: dict[str, Any], images: list[bytes], row: dict[str, Any]) -> EvalItem:
    meta = problem["metadata"]
    return EvalItem(
        id=problem["pid"], query=problem["query"], images=images, gold=problem["answer"],
        choices=problem["choices"], answer_type=problem["answer_type"], precision=problem["precision"],
        meta={"task": meta.get("task"), "skills": meta.get("skills"), "grade": meta.get("grade"),
              "category": meta.get("category"), "context": meta.get("context"), "language": meta.get("language"),
              "source": meta.get("source"), "question_type": problem["question_type"],
              "answer_type": problem["answer_type"]},
        row=row,
        raw=raw_question(problem["question"] + (f" (Unit: {problem['unit']})" if problem["unit"] else ""),
                         problem["choices"]),
    )


def load(path: Path, split: str | None = None, limit: int | None = None) -> list[EvalItem]:
    rows, root, layout = read_table(path, split_of(path, split, DEFAULT_SPLIT))
    require_fields(rows, ("question", "answer", "pid"), "MathVista", str(path), {"pid": ("index", "_key")})
    items = []
    for row in rows:
        problem = _problem(row, layout)
        items.append(_item(problem, first_image(row, root, problem["pid"], ("decoded_image", "image")), problem))
        if limit and len(items) >= limit:
            break
    unique_ids(items, str(path))
    return items


RESULT_FIELDS = ("response", "question_type", "answer_type", "answer")
"""The fields every record of a result file needs to be scored."""


def read_results(path: Path, data: Path | None = None) -> tuple[list[EvalItem], dict[str, str]]:
    """The official result file (a JSON object pid → record: the problem's fields and ``response``), for
    ``visionr1 score``. Its records carry the annotations, so ``data`` is not read; each record is kept whole and
    comes back in the scored file with every field it had."""
    found = read_json_file(path, "MathVista result file")
    if not isinstance(found, dict):
        raise DataError(str(path), "expected a JSON object mapping each pid to its record")
    items, responses = [], {}
    for pid, rec in found.items():
        if not isinstance(rec, dict):
            raise DataError(f"pid {pid}", "record is not a JSON object", str(path))
        missing = [f for f in RESULT_FIELDS if f not in rec]
        if missing:
            raise DataError(f"pid {pid}", f"missing field(s) {', '.join(missing)}", str(path))
        if rec.get("question_type") == "multi_choice" and not rec.get("choices"):
            raise DataError(f"pid {pid}", "multi_choice record without choices", str(path))
        problem = _problem({**rec, "pid": rec.get("pid") or pid}, "json")
        items.append(_item({**problem, "pid": str(pid)}, [], rec))
        responses[str(pid)] = rec["response"] if isinstance(rec["response"], str) else ""
    return items, responses


def result_record(item: EvalItem, response: str) -> dict[str, Any]:
    """An item's record in the official result file: its problem record plus ``response``."""
    return {**item.row, "response": response}


PROTOCOLS = ("default", "official")
"""``official``: the released pipeline (:mod:`visionr1.grading.mathvista`, with its nearest-option fallback);
``default``: ours, the right verdict of each reply (the same module's ``default_verdict``)."""
JUDGED = PROTOCOLS
"""Both protocols take the judge's extraction (the official GPT-4 step) when one is given."""


def read(response: str, item: EvalItem, protocol: str, judge=None) -> Reading:
    """``protocol``'s reading (:func:`visionr1.grading.mathvista.score_record` of the item's result record). With a
    judge its extraction replaces the rules' for every record the official quick rules do not settle, or with
    ``undecided_only`` for those the rules leave undecided."""
    from visionr1.eval.judge import MathVistaJudge
    from visionr1.grading.mathvista import score_record

    extractor = MathVistaJudge(judge.judge) if judge is not None else None
    rec = score_record(result_record(item, response), extractor,
                       undecided_only=bool(judge and judge.undecided_only), protocol=protocol)
    return Reading(rec["extracted"], rec["correct"], rec["decided"], rec["extraction_rule"],
                   extra={"prediction": rec["prediction"]}, record=rec)


RESULT_BY_ID = True


def result_row(item: EvalItem, response: str, readings: dict[str, Reading], protocol: str) -> dict[str, Any]:
    """The official scored record (``true_false`` the official verdict) with ``protocol``'s ``correct``,
    ``extracted`` and ``decided``."""
    r = readings[protocol]
    return {**readings["official"].record, "correct": r.correct, "extracted": r.extracted, "decided": r.decided}


def metrics(per_item: list[dict[str, Any]], readings: list[Reading]) -> Metrics:
    """The official scores layout (:func:`visionr1.grading.mathvista.compute_scores`), by the chosen protocol's
    verdicts."""
    from visionr1.grading.mathvista import compute_scores

    official_scores = compute_scores({r["id"]: reading.record for r, reading in zip(per_item, readings)})
    breakdowns = {key: {k: acc_entry(v["correct"], v["total"]) for k, v in official_scores[key].items()}
                  for key in BREAKDOWN_KEYS if official_scores.get(key)}
    correct = sum(r["correct"] for r in per_item)
    return Metrics({"accuracy": acc_entry(correct, len(per_item))["accuracy"]}, breakdowns, official_scores)
