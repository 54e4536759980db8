"""MM-Math: open-ended middle-school geometry/function problems with a diagram, answers in ``\\boxed{}``.

Source of the protocol: kge-sun/MM-Math (paper "MM-MATH: Advancing Multimodal Math Evaluation
with Process Evaluation and Fine-grained Classification"). Records are JSON with ``question``,
``file_name`` (the image, under the data folder or its ``images/``), ``solution`` (whose last
``\\boxed{}`` is the final answer), ``year`` (grade: seven/eight/nine), ``difficult`` (easy,
medium, hard) and ``knowledge``. The same fields in a parquet/HF layout (``image`` column) and a
TSV (``index``, ``image`` base64, ``answer``) are read too.

Two protocols (``visionr1 eval --protocol``):

* ``default``, outcome evaluation as the MM-Math paper states it: the question plus "put your final answer
  within ``\\boxed{}``"; the reply's last ``\\boxed{}`` is compared with the boxed answer of the solution by
  ``visionr1.grading.is_equivalent`` (Math-Verify with fast paths). When no ``\\boxed{}`` is found the
  ``<answer>`` content (``--prompt r1``) or the general extraction rules are used, and ``extracted_by`` records
  which one fired.
* ``official``, the released scorer the Vision-R1 authors ran (VLMEvalKit's MM-Math through their evalscope
  fork): the raw question, no instruction; the reply's ``<answer> Final Answer:… </answer>`` content (their
  extraction) or the whole reply goes to MM-Math's sympy scorer at tolerance 1e-2
  (:mod:`visionr1.grading.mmmath`). Use it to compare with the paper's MM-Math numbers.

Process evaluation (GPT-4V error classification) is not reproduced.
"""

from __future__ import annotations

from pathlib import Path

from visionr1.data.tables import (
    clean_str,
    first_image,
    read_table,
)
from visionr1.eval.benchmarks._common import (
    EvalItem,
    acc_entry,
    breakdown,
    join_results,
    raw_question,
    read_json_file,
    require_fields,
    row_without_images,
    unique_ids,
)
from visionr1.eval.benchmarks.scoring import Metrics, Reading
from visionr1.errors import DataError

NAME = "mmmath"
DEFAULT_SPLIT = None
RESULT_FILENAME = "results_mmmath.json"
PROMPT_SUFFIX = "Please reason step by step, and put your final answer within \\boxed{}."
PROTOCOLS = ("default", "official")
JUDGED = ("default",)
"""Ours asks the judge for a reply with no ``\\boxed{}``."""
NO_JUDGE_PROTOCOLS = ("official",)
"""Protocols with no LLM step: eval refuses a judge with them before anything is generated."""


def gold_from_solution(solution: str) -> str:
    """The last ``\\boxed{}`` of an official solution (its final answer); the whole text when none."""
    from visionr1.grading.extract import last_boxed

    found = last_boxed(solution or "")
    return (found or solution or "").strip()


FIELDS = ("question", "solution")
ALTERNATIVES = {"solution": ("answer",)}
RESPONSE_FIELDS = ("response", "model_solution", "model_answer", "prediction")
"""Where a result record keeps the model's reply (the released ``eval.py`` takes the field's name as an argument)."""


def load(path: Path, split: str | None = None, limit: int | None = None, protocol: str = "default") -> list[EvalItem]:
    """MM-Math items; under ``protocol="official"`` the query is the raw question (no boxed instruction)."""
    rows, root, layout = read_table(path, split)
    require_fields(rows, FIELDS, "MM-Math", str(path), ALTERNATIVES)
    items = _items(rows, root, protocol=protocol, limit=limit)
    unique_ids(items, str(path))
    return items


def read_results(path: Path, data: Path | None) -> tuple[list[EvalItem], dict[str, str]]:
    """The layout the released ``eval.py`` reads: a JSON object id → record (the annotation fields and the model's
    reply in one of :data:`RESPONSE_FIELDS`); annotations from the records, or from ``data`` when given."""
    found = read_json_file(path, "MM-Math result file")
    if not isinstance(found, dict):
        raise DataError(str(path), "expected a JSON object keyed by item id (the layout MM-Math's eval.py reads)")
    rows, responses = [], {}
    for rid, rec in found.items():
        field_name = next((f for f in RESPONSE_FIELDS if isinstance(rec, dict) and f in rec), None)
        if field_name is None:
            raise DataError(f"item {rid}", f"has no reply (one of the fields {', '.join(RESPONSE_FIELDS)})", str(path))
        rows.append({**rec, "_key": rid})
        responses[str(rid)] = str(rec[field_name] or "")
    if data is not None:
        table, root, _ = read_table(data, None)
        return join_results(_items(table, root, images=False), responses, str(path)), responses
    require_fields(rows, FIELDS, "MM-Math", str(path), ALTERNATIVES)
    return _items(rows, Path(path).parent, images=False), responses


def _items(rows, root: Path, *, protocol: str = "default", limit: int | None = None,
           images: bool = True) -> list[EvalItem]:
    items = []
    for i, row in enumerate(rows):
        file_name = clean_str(row.get("file_name"))
        iid = (clean_str(row.get("index")) or clean_str(row.get("id")) or clean_str(row.get("_key"))
               or (Path(file_name).stem if file_name else str(i)))
        images_ = first_image(row, root, iid, ("decoded_image", "image")) if images else []
        if images and not images_ and file_name:
            for base in ("", "images/", "image/", "imgs/"):
                if (root / base / file_name).exists():
                    images_ = first_image({"p": base + file_name}, root, iid, ("p",))
                    break
        solution = clean_str(row.get("solution"))
        gold = clean_str(row.get("answer")) or gold_from_solution(solution)
        question = clean_str(row.get("question"))
        items.append(EvalItem(
            id=iid, query=raw_question(question) if protocol == "official" else f"{question}\n{PROMPT_SUFFIX}",
            images=images_, gold=gold,
            meta={"difficulty": clean_str(row.get("difficult")) or clean_str(row.get("difficulty")) or None,
                  "grade": clean_str(row.get("year")) or None, "knowledge": row.get("knowledge") or None,
                  **({"protocol": protocol} if protocol != "default" else {})},
            row=row_without_images(row),
            raw=raw_question(question),
        ))
        if limit and len(items) >= limit:
            break
    return items


def _official_verdict(it: EvalItem, response: str) -> tuple[str, str, bool, bool]:
    """``(prediction, extracted_by, decided, correct)`` under the released scorer."""
    from visionr1.grading.extract import last_boxed
    from visionr1.grading.mmmath import official_equal, official_prediction

    prediction = official_prediction(response)
    if prediction != (response or ""):
        how = "answer_tag"
    elif last_boxed(prediction):
        how = "boxed"
    else:
        how = "whole_response"
    return prediction, how, how != "whole_response", bool(prediction) and official_equal(it.gold, prediction)


def _default_verdict(it: EvalItem, response: str, judge) -> tuple[str | None, str, bool, bool | None]:
    """``(extracted, extracted_by, decided, correct)`` by ours: the last ``\\boxed{}``, else the extraction rules (or
    the judge); an undecided reply is never credited."""
    from visionr1.grading import extract_answer, is_equivalent
    from visionr1.grading.extract import clean_answer, last_boxed

    boxed = last_boxed(response or "")
    if boxed:
        extracted, how, decided = clean_answer(boxed), "boxed", True
    else:
        ex = extract_answer(response, question=str(it.row.get("question") or ""))
        extracted, decided = (judge(response, it) if judge else None), ex.decided
        how = "judge" if extracted else ex.rule
        if extracted is None:
            extracted = ex.text
    ok = bool(extracted) and (decided or how == "judge") and is_equivalent(extracted, it.gold)
    return extracted, how, decided, ok


def read(response: str, item: EvalItem, protocol: str, judge=None) -> Reading:
    extracted, how, decided, ok = (_official_verdict(item, response) if protocol == "official"
                                   else _default_verdict(item, response, judge))
    return Reading(extracted, ok, decided, how)


def result_row(item: EvalItem, response: str, readings: dict[str, Reading], protocol: str) -> dict:
    r = readings[protocol]
    if protocol == "official":
        return {**item.row, "id": item.id, "response": response, "prediction": r.extracted, "extracted_by": r.rule,
                "gold": item.gold, "hit": r.correct, "correct": r.correct}
    return {**item.row, "id": item.id, "response": response, "extracted": r.extracted, "extracted_by": r.rule,
            "gold": item.gold, "correct": r.correct}


def metrics(per_item: list[dict], readings: list[Reading]) -> Metrics:
    correct = sum(r["correct"] is True for r in per_item)  # undecided (None) is not credited
    breakdowns = {"difficulty": breakdown(per_item, "difficulty"), "grade": breakdown(per_item, "grade"),
                  "knowledge": breakdown(per_item, "knowledge")}
    return Metrics({"accuracy": acc_entry(correct, len(per_item))["accuracy"]}, breakdowns,
                   {"average": acc_entry(correct, len(per_item)), **breakdowns})
