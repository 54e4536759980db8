"""DynaMath: 501 seed questions × 10 generated variants; average-case and worst-case accuracy.

Layouts read: the repository DynaMath/DynaMath (``dataset/dataset.json``: an object keyed by the official id
``"1"`` … ``"501"``, each with ``question``, ``answer``, ``image`` (``image/image1.png`` beside the file),
``answer_type`` (``float``, ``multiple choice``, ``text``, ``int``, ``single answer``), ``subject``, ``level``;
one variant per file, its number read from a ``trialN``/``variantN`` folder, else 1), whether ``--data`` names
the file or the repository; the Hugging Face release DynaMath/DynaMath_Sample (splits ``sample_variant1`` …
``sample_variant10``: ``id``, ``question``, ``decoded_image``, ``ground_truth``, ``answer_type``, ``subject``,
``knowledge_level``); VLMEvalKit's ``DynaMath.tsv`` (``index``, ``qid``, ``varid``, ``answer``…). Item ids: the
repository's own key for its file; ``<id>-v<variant>`` where several variants are read together.

Query: the question followed by the answer instruction asking for a JSON object with ``solution`` and
``short answer`` (per answer type, as VLMEvalKit sends it). Average-case accuracy is over all items; worst-case
accuracy over seed questions, right only when every variant is.

Protocols (``--protocol``):

* ``official``: the repository's ``evaluation/opensource_json_eval.py``: the reply cut to its outermost braces,
  backslashes dropped, read as JSON; its ``short answer``; a float is right within 0.001 (``π`` read), a
  multiple-choice answer of one character must equal the gold letter, a longer one must hold it in its first three
  characters; any other type is right when the **gold is contained in the short answer**, case as written. When
  the JSON does not parse, the judge gives the short answer if one is configured (VLMEvalKit's LLM step), else
  the repository's own fallback: the reply's last line less its last character (undecided).

  The two released codes check containment in opposite directions: the repository's (gold in answer) and
  VLMEvalKit's ``dynamath.py`` (answer in gold, lower-cased). We follow the repository's: it is the benchmark's
  own release, and its direction credits only a short answer that states the gold, where the other credits any
  fragment of it (an empty answer, ``2`` for ``12``, ``M`` for ``May``).
* ``default``: the JSON's short answer, else the answer the reply states (:mod:`visionr1.grading`); numbers within
  0.001, a letter for multiple choice, :func:`visionr1.grading.is_equivalent` for the rest (no containment either
  way); an undecided reply is never credited.
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
from visionr1.r1 import LETTERS, tagged_answer

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
OPTION_LETTERS = LETTERS[:5]
"""The option letters the repository's ``parse_answer`` looks for (A-E)."""
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
        present = [ch for ch in OPTION_LETTERS if ch in answer.upper()]
        return (True, present[0]) if len(present) == 1 else (False, None)
    return True, answer


def _short_answer(response: str) -> str | None:
    try:
        data = json.loads(_json_span(response), strict=False)
    except (ValueError, TypeError):
        return None
    value = data.get("short answer") if isinstance(data, dict) else None
    return None if value is None else str(value)


PROTOCOLS = ("default", "official")
JUDGED = PROTOCOLS
"""Both protocols ask the judge for the short answer of a reply whose JSON does not parse."""
_NUMERIC_TYPES = ("float", "int")


def _repo_json(text: str) -> str:
    """The repository's ``preprocess``: the reply cut to its outermost braces, backslashes dropped."""
    text = str(text)
    if "{" in text and "}" in text and text.find("{") < text.rfind("}"):
        text = text[text.find("{"): text.rfind("}") + 1]
    return text.replace("\\", "").replace("\\n", "\n")


def official_verdict(response: str, item: EvalItem, llm=None) -> dict[str, Any]:
    """The repository's verdict (module docstring): ``extracted``, ``decided``, ``correct``."""
    atype, gold = item.answer_type or "text", item.gold
    decided, short = True, None
    try:
        data = json.loads(_repo_json(response or ""), strict=False)
        short = data.get("short answer") if isinstance(data, dict) else None
    except (ValueError, TypeError):
        pass
    if short is None:
        decided = False
        short = llm(response, item) if llm is not None else None
        if short is None:  # the repository's fallback: the last line less its last character
            short = str(response or "").split("\n")[-1][:-1]
    answer = str(short)
    try:
        if atype == "float":
            value = _to_float(answer.split(" ")[0]) if not answer.isdigit() else float(answer)
            ok = abs(value - float(gold)) <= 0.001
        elif atype == "multiple choice":
            ok = answer == gold if len(answer) == 1 else gold in answer[0:3]
        else:
            ok = gold in answer
    except (ValueError, IndexError, OverflowError):
        ok = False
    return {"extracted": answer, "decided": decided, "correct": bool(ok)}


def default_verdict(response: str, item: EvalItem, llm=None) -> dict[str, Any]:
    """Ours (module docstring): ``extracted``, ``decided``, ``correct``; undecided is never credited."""
    from visionr1.grading import extract_answer, is_equivalent

    atype, gold = item.answer_type or "text", item.gold
    short, decided = _short_answer(response), True
    if short is None:
        tagged = tagged_answer(response)  # the JSON inside an R1 answer tag
        inner = _short_answer(tagged.text) if tagged and tagged.closed and tagged.text else None
        if inner is not None:
            short = inner
        else:
            choices = list(OPTION_LETTERS) if atype == "multiple choice" else None
            ex = extract_answer(response, choices=choices)
            short, decided = ex.text, ex.decided
            if llm is not None and not decided:
                judged = llm(response, item)
                short, decided = (judged, True) if judged else (short, False)
    if not short or not decided:
        return {"extracted": short, "decided": bool(short) and decided, "correct": False}
    if atype in _NUMERIC_TYPES:
        ok, value = parse_short_answer(short, "float")
        try:
            return {"extracted": value if ok else short, "decided": True,
                    "correct": ok and abs(float(value) - _to_float(gold)) <= 0.001}
        except ValueError:
            return {"extracted": short, "decided": True, "correct": is_equivalent(short, gold)}
    if atype == "multiple choice":
        ok, value = parse_short_answer(short, atype)
        return {"extracted": value if ok else short, "decided": ok, "correct": ok and value == gold.strip().upper()}
    return {"extracted": short, "decided": True, "correct": is_equivalent(short, gold)}


_TRIAL_RE = re.compile(r"(?:trial|variant)[_-]?(\d+)", re.IGNORECASE)


def load(path: Path, split: str | None = None, limit: int | None = None, variants: int | None = None) -> list[EvalItem]:
    rows, root, layout = read_table(path, None if split in (None, "all") else split)
    require_fields(rows, ("question", "answer_type"), "DynaMath", str(path))
    items = _items(rows, root, Path(path), variants=variants)
    if limit:
        items = items[:limit]
    unique_ids(items, str(path))
    return items


def _items(rows, root: Path, path: Path, *, variants: int | None = None, images: bool = True) -> list[EvalItem]:
    """Items of every row; the repository's own ``dataset.json`` (rows keyed by the official id) keeps that id."""
    trial = _TRIAL_RE.search(str(Path(path).resolve()))
    repository = bool(rows) and all("_key" in r and "qid" not in r and "id" not in r for r in rows)
    items = []
    for i, row in enumerate(rows):
        varid = optional_int(row.get("varid"))
        if varid is None:
            m = _VARIANT_RE.search(str(row.get("_source_file", ""))) or _VARIANT_RE.search(str(row.get("split", "")))
            varid = int(m.group(1)) if m else int(trial.group(1)) if trial and repository else 1
        if variants and varid > variants:
            continue
        qid = clean_str(row.get("qid")) or clean_str(row.get("id")) or clean_str(row.get("_key")) or str(i)
        iid = qid if repository else f"{qid}-v{varid}"  # the same id in the other layouts, so runs line up
        atype = clean_str(row.get("answer_type")) or "free form"
        question = clean_str(row.get("question"))
        gold = clean_str(row.get("ground_truth")) or clean_str(row.get("answer"))
        items.append(EvalItem(
            id=iid, query=build_query(question, atype),
            images=first_image(row, root, iid, ("decoded_image", "image")) if images else [],
            gold=gold, answer_type=atype,
            meta={"qid": qid, "varid": varid, "subject": clean_str(row.get("subject")) or None,
                  "knowledge_level": clean_str(row.get("knowledge_level")) or clean_str(row.get("level")) or None,
                  "answer_type": atype},
            row=row_without_images(row),
            raw=raw_question(question, listed=True),  # DynaMath's questions list their options
        ))
    items.sort(key=lambda it: (it.meta["varid"], _natural(it.meta["qid"])))
    return items


def read_results(path: Path, data: Path | None) -> tuple[list[EvalItem], dict[str, str]]:
    """A result file keyed by item id (the repository's report: ``{"1": {..., "response": {"solution", "short
    answer"} or the reply}}``, or ``{"1": "reply"}``) joined with the annotations ``data`` (``dataset.json``)."""
    if data is None:
        raise DataError("--data", "DynaMath result files carry no answer types: give the annotations, e.g. --data "
                                  "DynaMath/dataset/dataset.json")
    found = read_json_file(path, "DynaMath result file")
    if not isinstance(found, dict):
        raise DataError(str(path), "expected a JSON object keyed by item id (the repository's report layout)")
    responses = {}
    for rid, rec in found.items():
        reply = rec.get("response", rec.get("prediction")) if isinstance(rec, dict) else rec
        if isinstance(reply, dict):  # the repository's report keeps the parsed JSON
            reply = json.dumps(reply, ensure_ascii=False)
        if not isinstance(reply, str):
            raise DataError(f"item {rid}", "has no response (a reply string, or the parsed JSON object)", str(path))
        responses[str(rid)] = reply
    rows, root, _ = read_table(data, None)
    require_fields(rows, ("question", "answer_type"), "DynaMath", str(data))
    return join_results(_items(rows, root, Path(data), images=False), responses, str(path)), responses


def _natural(s: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))


def read(response: str, item: EvalItem, protocol: str, judge=None) -> Reading:
    """``protocol``'s reading of one reply (:func:`official_verdict` or :func:`default_verdict`); the judge gives
    the short answer when the reply's JSON does not parse (VLMEvalKit's LLM step)."""
    v = (official_verdict if protocol == "official" else default_verdict)(response, item, judge)
    return Reading(v["extracted"], v["correct"], v["decided"])


def result_row(item: EvalItem, response: str, readings: dict[str, Reading], protocol: str) -> dict[str, Any]:
    r = readings[protocol]
    return {**item.row, "index": item.id, "qid": item.meta["qid"], "varid": item.meta["varid"], "prediction": response,
            "answer": item.gold, "extracted": r.extracted, "decided": r.decided, "correct": r.correct}


def metrics(per_item: list[dict[str, Any]], readings: list[Reading]) -> Metrics:
    """Average-case accuracy over the items, worst-case over the seed questions (right when every variant is)."""
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
    return Metrics(headline, breakdowns, official_scores)
