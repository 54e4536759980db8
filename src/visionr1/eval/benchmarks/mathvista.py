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
``response``), the very format ``visionr1 score mathvista`` reads. Scoring goes through
``visionr1.eval.score.score_command`` itself, so ``eval`` and ``score`` give identical verdicts.
The official GPT-4 extraction is replaced by the judge-free rules of
``visionr1.grading.mathvista`` unless a judge endpoint is given.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from visionr1.data.tables import (
    as_dict,
    as_list,
    clean_str,
    first_image,
    optional_int,
    read_table,
)
from visionr1.eval.benchmarks._common import (
    EvalItem,
    Scored,
    acc_entry,
    choices_block,
    raw_question,
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


def load(path: Path, split: str | None = None, limit: int | None = None) -> list[EvalItem]:
    rows, root, layout = read_table(path, split or DEFAULT_SPLIT)
    require_fields(rows, ("question", "answer", "pid"), "MathVista", str(path), {"pid": ("index", "_key")})
    items = []
    for row in rows:
        problem = _problem(row, layout)
        images = first_image(row, root, problem["pid"], ("decoded_image", "image"))
        meta = problem["metadata"]
        items.append(EvalItem(
            id=problem["pid"], query=problem["query"], images=images, gold=problem["answer"],
            choices=problem["choices"], answer_type=problem["answer_type"], precision=problem["precision"],
            meta={"task": meta.get("task"), "skills": meta.get("skills"), "grade": meta.get("grade"),
                  "category": meta.get("category"), "context": meta.get("context"), "language": meta.get("language"),
                  "source": meta.get("source"), "question_type": problem["question_type"],
                  "answer_type": problem["answer_type"]},
            row=problem,
            raw=raw_question(problem["question"] + (f" (Unit: {problem['unit']})" if problem["unit"] else ""),
                             problem["choices"]),
        ))
        if limit and len(items) >= limit:
            break
    unique_ids(items, str(path))
    return items


def result_file(items: list[EvalItem], responses: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The official result file: ``pid → problem record + response``."""
    return {it.id: {**it.row, "response": responses.get(it.id, "")} for it in items}


PROTOCOLS = ("default", "official")
"""``official``: the official quick rules, extraction (GPT-4, or the judge-free rules of
:mod:`visionr1.grading.mathvista` standing in) and normalisation, with its nearest-option fallback; ``default``: the
same verdict for an answer the rules decided, an undecided reply never credited."""


def _score_with_official_path(results: dict, judge: dict | None, protocol: str = "default") -> tuple[dict[str, dict], dict | None]:
    """Run ``visionr1.eval.score.score_command`` (what ``visionr1 score mathvista`` runs) on ``results``.

    Returns the scored result file and the judge's counters (``None`` without a judge).
    """
    judge = judge or {}
    with tempfile.TemporaryDirectory(prefix="visionr1-mathvista-") as tmp:
        src, dst = Path(tmp) / "results.json", Path(tmp) / "scored.json"
        src.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
        try:
            from visionr1.eval.score import score_command
        except ImportError:  # the score command is not installed: same grading module, no CLI wrapper
            from visionr1.grading.mathvista import score_results

            return score_results(results), None
        import io

        from rich.console import Console

        summary = score_command(
            NAME, src, dst, judge.get("config"), protocol=protocol, judge_undecided=bool(judge.get("undecided_only")),
            judge_store=judge.get("store"), console=Console(file=io.StringIO()),
        )
        return json.loads(dst.read_text(encoding="utf-8")), summary.get("judge")


def score(items: list[EvalItem], responses: dict[str, str], judge: dict | None = None,
          protocol: str = "default") -> Scored:
    from visionr1.grading.mathvista import compute_scores

    scored, judge_summary = _score_with_official_path(result_file(items, responses), judge, protocol)
    official_scores = compute_scores(scored)
    per_item = []
    for it in items:
        rec = scored.get(it.id, {})
        correct = rec.get("true_false") is True and (protocol == "official" or bool(rec.get("decided")))
        per_item.append({"id": it.id, "correct": correct, "extracted": rec.get("extraction"),
                         "prediction": rec.get("prediction"), "gold": it.gold, "decided": bool(rec.get("decided")),
                         "extracted_by": rec.get("extraction_rule"), **it.meta})
    correct = sum(r["correct"] for r in per_item)
    breakdowns = {}
    for key in BREAKDOWN_KEYS:
        table = official_scores.get(key) or {}
        if table:
            breakdowns[key] = {k: acc_entry(v["correct"], v["total"]) for k, v in table.items()}
    return Scored(
        official=scored, per_item=per_item, headline={"accuracy": acc_entry(correct, len(per_item))["accuracy"]},
        breakdowns=breakdowns, official_scores=official_scores,
        judge_calls=(judge_summary or {}).get("calls", 0), judge=judge_summary, protocol=protocol,
    )
