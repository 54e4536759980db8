"""DynaMath: 501 seed questions × 10 generated variants; average-case and worst-case accuracy.

Source of the protocol: DynaMath/DynaMath (``evaluation/``; ICLR 2025), the Hugging Face release
DynaMath/DynaMath_Sample (one split per variant, ``sample_variant1`` … ``sample_variant10``, with
``id``, ``question``, ``image``, ``decoded_image``, ``ground_truth``, ``answer_type`` (``float``,
``multiple choice``, ``free form``), ``subject``, ``knowledge_level``), and VLMEvalKit's
``DynaMath.tsv`` (``index``, ``image``, ``question``, ``answer``, ``answer_type``, ``subject``,
``knowledge_level``, ``qid``, ``varid``) with ``vlmeval/dataset/dynamath.py``.

Query: the question followed by the official answer instruction asking for a JSON object with
``solution`` and ``short answer`` (per answer type). Scoring follows the official rules: parse the
JSON's ``short answer``; floats are right within 0.001 (``π`` understood), multiple choice by
letter, free form by case-insensitive containment in the ground truth. Average-case accuracy is
over all items; worst-case accuracy is over seed questions, right only when every variant is.

Judge-free substitution: when the JSON cannot be parsed the official code asks an LLM for the
short answer; here the rules are applied to the ``<answer>`` content (or the response), then to
``visionr1.grading.extract_answer``'s output. With ``--judge-endpoint`` the LLM step is used.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from visionr1.data.tables import (
    clean_str,
    first_image,
    optional_int,
    read_table,
)
from visionr1.eval.benchmarks._common import (
    EvalItem,
    Scored,
    acc_entry,
    answer_span,
    breakdown,
    item_result,
    make_extractor,
    raw_question,
    row_without_images,
    unique_ids,
)

NAME = "dynamath"
DEFAULT_SPLIT = None
RESULT_FILENAME = "results_dynamath.json"
N_VARIANTS = 10
GUIDE = (
    "\n## Answer Instruction Please provide an answer to the question outlined above. Your response should adhere "
    "to the following JSON format, which includes two keys: 'solution' and 'short answer'. The 'solution' key can "
    "contain detailed steps needed to solve the question, and the 'short answer' key should provide a concise "
    "response. {inst}\n\nExample of expected JSON response format:\n\n"
)
EXAMPLE = json.dumps({"solution": "[Detailed step-by-step explanation]", "short answer": "[Concise Answer]"}, indent=4)
INSTRUCTIONS = {
    "multiple choice": "Provide the corresponing choice option in the 'short answer' key, such as 'A', 'B', 'C', or 'D'.",
    "float": "Format the answer as a three-digit floating-point number and provide it in the 'short answer' key.",
    "free form": "Float numbers in the answer should be formatted as three-digit floating-point numbers.",
}
_VARIANT_RE = re.compile(r"variant[_-]?(\d+)", re.IGNORECASE)


def build_query(question: str, answer_type: str) -> str:
    inst = INSTRUCTIONS.get(answer_type, INSTRUCTIONS["free form"])
    return f"## Question\n {question}" + GUIDE.format(inst=inst) + EXAMPLE


def _json_span(text: str) -> str:
    text = str(text)
    if 0 <= text.find("{") < text.rfind("}"):
        text = text[text.find("{") : text.rfind("}") + 1]
    return text.replace("\\", "").replace("\\n", "\n")


def _to_float(text: str) -> float:
    if "π" in text:
        head = text.split("π")[0].strip()
        return (float(head) if head else 1.0) * math.pi
    return float(text)


def parse_short_answer(answer: str, answer_type: str) -> tuple[bool, Any]:
    """The official ``parse_answer``: ``(parsed, value)``."""
    answer = str(answer).strip()
    if answer_type == "float":
        try:
            return True, _to_float(answer.split(" ")[0] if answer else answer)
        except (ValueError, IndexError):
            return False, None
    if answer_type == "multiple choice":
        if len(answer) == 1:
            return True, answer.upper()
        present = [ch for ch in "ABCDE" if ch in answer.upper()]
        return (True, present[0]) if len(present) == 1 else (False, None)
    return True, answer


def _short_answer(response: str) -> str | None:
    try:
        data = json.loads(_json_span(response), strict=False)
    except (ValueError, TypeError):
        return None
    value = data.get("short answer") if isinstance(data, dict) else None
    return None if value is None else str(value)


def judge_item(response: str, item: EvalItem, llm=None) -> dict[str, Any]:
    """The official per-item verdict (``parse``, ``extracted``, ``correct``), judge-free by default,
    and ``decided``: whether the rules found the answer (no judge, no extraction fallback)."""
    from visionr1.grading import extract_answer

    atype = item.answer_type or "free form"
    parsed, value, decided = False, None, False
    short = _short_answer(response)
    if short is not None:
        parsed, value = parse_short_answer(short, atype)
        decided = parsed
    if not parsed:
        span = answer_span(response)
        inner = _short_answer(span) if span is not response else None
        ex = extract_answer(response, choices=list("ABCDE") if atype == "multiple choice" else None)
        # (candidate, decided by rules): the JSON or a short answer as given, the judge, the extraction rules
        candidates = [(inner, True), (span if len(span) < 64 else None, True)]
        if llm is not None:
            candidates.append((llm(response, item), False))
        candidates.append((ex.text, ex.decided))
        for cand, by_rules in candidates:
            if cand:
                parsed, value = parse_short_answer(cand, atype)
                if parsed:
                    decided = by_rules
                    break
    gold = item.gold
    if not parsed:
        return {"parse": False, "extracted": None, "decided": False,
                "correct": atype == "multiple choice" and bool(gold) and gold in str(response)[:3].upper()}
    if atype == "float":
        try:
            ok = abs(float(value) - _to_float(gold)) <= 0.001
        except ValueError:
            ok = False
        return {"parse": True, "extracted": value, "decided": decided, "correct": ok}
    if atype == "multiple choice":
        return {"parse": True, "extracted": value, "decided": decided, "correct": value == gold.strip().upper()}
    return {"parse": True, "extracted": value, "decided": decided, "correct": str(value).lower() in gold.lower()}


def load(path: Path, split: str | None = None, limit: int | None = None, variants: int | None = None) -> list[EvalItem]:
    rows, root, layout = read_table(path, None if split in (None, "all") else split)
    items = []
    for i, row in enumerate(rows):
        varid = optional_int(row.get("varid"))
        if varid is None:
            m = _VARIANT_RE.search(str(row.get("_source_file", ""))) or _VARIANT_RE.search(str(row.get("split", "")))
            varid = int(m.group(1)) if m else 1
        if variants and varid > variants:
            continue
        qid = clean_str(row.get("qid")) or clean_str(row.get("id")) or str(i)
        iid = f"{qid}-v{varid}"  # the same id in every layout, so canned responses and runs line up
        atype = clean_str(row.get("answer_type")) or "free form"
        question = clean_str(row.get("question"))
        gold = clean_str(row.get("ground_truth")) or clean_str(row.get("answer"))
        items.append(EvalItem(
            id=iid, query=build_query(question, atype), images=first_image(row, root, iid, ("decoded_image", "image")),
            gold=gold, answer_type=atype,
            meta={"qid": qid, "varid": varid, "subject": clean_str(row.get("subject")) or None,
                  "knowledge_level": clean_str(row.get("knowledge_level")) or None, "answer_type": atype},
            row=row_without_images(row),
            raw=raw_question(question, listed=True),  # DynaMath's questions list their options
        ))
    items.sort(key=lambda it: (it.meta["varid"], _natural(it.meta["qid"])))
    if limit:
        items = items[:limit]
    unique_ids(items, str(path))
    return items


def _natural(s: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))


def score(items: list[EvalItem], responses: dict[str, str], judge: dict | None = None) -> Scored:
    llm = make_extractor(judge)
    official, per_item = [], []
    for it in items:
        response = responses.get(it.id, "")
        verdict = judge_item(response, it, llm)
        official.append({**it.row, "index": it.id, "qid": it.meta["qid"], "varid": it.meta["varid"], "prediction": response,
                         "answer": it.gold, **verdict})
        per_item.append(item_result(it, verdict["correct"], verdict["extracted"], decided=verdict["decided"]))
    n = len(per_item)
    correct = sum(r["correct"] for r in per_item)
    seeds: dict[str, dict[str, Any]] = {}
    for r in per_item:
        s = seeds.setdefault(r["qid"], {"correct": True, "subject": r["subject"], "knowledge_level": r["knowledge_level"],
                                        "variants": 0})
        s["correct"] = s["correct"] and r["correct"]
        s["variants"] += 1
    worst_rows = list(seeds.values())
    worst_correct = sum(s["correct"] for s in worst_rows)
    headline = {"average_case": acc_entry(correct, n)["accuracy"],
                "worst_case": acc_entry(worst_correct, len(worst_rows))["accuracy"]}
    breakdowns = {"subject (average)": breakdown(per_item, "subject"),
                  "subject (worst)": breakdown(worst_rows, "subject"),
                  "knowledge_level (average)": breakdown(per_item, "knowledge_level"),
                  "knowledge_level (worst)": breakdown(worst_rows, "knowledge_level"),
                  "variant": breakdown(per_item, "varid")}
    variant_counts = sorted({s["variants"] for s in worst_rows})
    official_scores = {"Average": {"Overall": acc_entry(correct, n), **{f"Subject-{k}": v for k, v in breakdowns["subject (average)"].items()}},
                       "Worst Case": {"Overall": acc_entry(worst_correct, len(worst_rows)),
                                      **{f"Subject-{k}": v for k, v in breakdowns["subject (worst)"].items()}},
                       "variants_per_seed": variant_counts}
    return Scored(official=official, per_item=per_item, headline=headline, breakdowns=breakdowns,
                  official_scores=official_scores, judge_calls=llm.calls if llm else 0)
