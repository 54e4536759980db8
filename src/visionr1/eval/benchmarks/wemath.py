"""We-Math (testmini): multi-step problems decomposed into one-step sub-problems, four-dimensional metrics.

Source of the protocol: We-Math/We-Math (``evaluation/four_dimensional_metrics.py``,
``evaluation/accuracy.py``), its release ``testmini.json`` (``ID``, ``split``, ``knowledge concept``,
``question``, ``option``, ``answer`` (a letter), ``image_path``, ``key`` (``2steps_1``, ``2steps_2``,
``2steps_multi``, ``3steps_1`` …), ``question number``, ``knowledge concept description``), the same
columns as parquet (``image``), and VLMEvalKit's ``WeMath.tsv`` with ``vlmeval/dataset/utils/wemath.py``.

Query: the official template (question, ``Option:``, and the ``<Thought process>: <<…>> <Answer>:
<<…>>`` format request). Per-item verdict as the official ``load_and_process_data``: the text after
the last ``Answer``, stripped of ``<>:.``, whose first character must be the gold letter. A composite
problem (all rows sharing an ``ID`` within 2-step or 3-step) is then classified:

* IK, insufficient knowledge: some sub-problem wrong and the composite wrong;
* IG, inadequate generalisation: every sub-problem right, composite wrong;
* CM, complete mastery: composite right and every (strict) / any (loose) sub-problem right;
* RM, rote memorisation: composite right but some (strict) / every (loose) sub-problem wrong;
  its rate is RM / (RM + CM);

Score = (N − 0.5·IG − RM − IK) / N. The official code fixes N = 525 (the testmini composites);
here N is the number of composite problems present, which is 525 on the full testmini. One-step
(S1), two-step (S2) and three-step (S3) accuracies are reported too.

Layouts read: the repository We-Math/We-Math (``data/testmini.json``, a list of the rows above, images under
``image_path`` beside it), whether ``--data`` names the file or the repository; the Hugging Face parquet;
VLMEvalKit's TSV. Item ids: ``question number`` (1 … 1740).

Protocols (``--protocol``): ``official`` is the released rule alone (no GPT step; no letter → wrong, undecided);
``default`` adds, when the official rule finds no letter (an R1 ``<answer>`` tag, a ``\\boxed{}``), the letter
:func:`visionr1.grading.extract_answer` finds when it is decided (an undecided reply is never credited).

Released result layout (``visionr1 score wemath``): the README's JSON list of the testmini rows, each with the
model's ``response``; ``--data`` is optional.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from visionr1.data.splits import split_of
from visionr1.data.tables import (
    clean_str,
    first_image,
    read_table,
)
from visionr1.eval.benchmarks._common import (
    EvalItem,
    add_response,
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
from visionr1.r1 import LETTERS, choice_letter

NAME = "wemath"
DEFAULT_SPLIT = "testmini"
RESULT_FILENAME = "results_wemath.json"
TEMPLATE = (
    "Now, we require you to solve a multiple-choice math question. Please briefly describe your thought process "
    "and provide the final answer(option).\nQuestion: {question}\nOption: {option}\nRegarding the format, please "
    "answer following the template below, and be sure to include two <> symbols:\n"
    "<Thought process>: <<your thought process>> <Answer>: <<your option>>"
)
_OPTION_SPLIT_RE = re.compile(r"([A-H])\.\s*")


def option_texts(option: str) -> list[str] | None:
    """``"A. 3 cm; B. 4 cm"`` → ``["3 cm", "4 cm"]`` (for the fallback extractor)."""
    parts = _OPTION_SPLIT_RE.split(option or "")
    if len(parts) < 3:
        return None
    out = [parts[i + 1].strip().rstrip(";").strip() for i in range(1, len(parts) - 1, 2)]
    return out or None


OFFICIAL_LETTERS = LETTERS[:8]
"""The option letters the official rule accepts (A-H)."""

def official_letter(prediction: str) -> str | None:
    """The official rule: text after the last ``Answer``, ``<>:.`` removed, first char if a letter A–H."""
    tail = str(prediction).split("Answer")[-1].strip()
    tail = re.sub(r"[><:.]", "", tail).strip()
    return tail[0] if tail and tail[0] in OFFICIAL_LETTERS else None


PROTOCOLS = ("default", "official")
JUDGED = ("default",)
"""The released rule has no GPT step; ours asks the judge when the rule finds no letter."""
FIELDS = ("question", "option", "answer", "key")


def load(path: Path, split: str | None = None, limit: int | None = None) -> list[EvalItem]:
    rows, root, layout = read_table(path, split_of(path, split, DEFAULT_SPLIT))
    require_fields(rows, FIELDS, "We-Math", str(path))
    items = _items(rows, root, layout, limit=limit)
    unique_ids(items, str(path))
    return items


def read_results(path: Path, data: Path | None) -> tuple[list[EvalItem], dict[str, str]]:
    """The README's result layout: a JSON list of testmini rows, each with ``response`` (annotations from the rows
    themselves, or from ``data`` when given)."""
    rows = read_json_file(path, "We-Math result file")
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "response" in r for r in rows):
        raise DataError(str(path), "expected a JSON list of testmini rows, each with the model's response")
    require_fields(rows, FIELDS + ("question number",), "We-Math", str(path))
    items = _items(rows, Path(path).parent, "json", images=False)
    responses: dict[str, str] = {}
    for it, r in zip(items, rows):
        add_response(responses, it.id, str(r.get("response") or ""), str(path))
    if data is not None:
        table, root, layout = read_table(data, split_of(data, None, DEFAULT_SPLIT))
        return join_results(_items(table, root, layout, images=False), responses, str(path)), responses
    return items, responses


def _items(rows, root: Path, layout: str, *, limit: int | None = None, images: bool = True) -> list[EvalItem]:
    items = []
    for i, row in enumerate(rows):
        key = clean_str(row.get("key"))
        pid = clean_str(row.get("ID"))
        iid = (clean_str(row.get("index")) if layout == "tsv" else "") or clean_str(row.get("question number")) \
            or (f"{pid}@{key}" if pid else str(i))
        option = clean_str(row.get("option"))
        question = clean_str(row.get("question"))
        query = TEMPLATE.format(question=question, option=option) if option or layout != "tsv" else question
        images = first_image(row, root, iid, ("decoded_image", "image", "image_path")) if images else []
        items.append(EvalItem(
            id=iid, query=query, images=images, gold=clean_str(row.get("answer")).upper()[:1],
            choices=option_texts(option),
            meta={"ID": pid, "key": key, "knowledge_concept": clean_str(row.get("knowledge concept")) or None},
            row=row_without_images(row),
            raw=raw_question(f"{question}\n{option}".strip() if option else question, listed=True),
        ))
        if limit and len(items) >= limit:
            break
    return items


def read_letter(response: str, item: EvalItem, llm=None, protocol: str = "default") -> tuple[str | None, bool]:
    """The option letter and whether the rules decided it (the official rule, or an extraction
    rule that finds a stated answer; not a fallback, not the judge). ``official``: the released rule alone."""
    from visionr1.grading import extract_answer

    found = official_letter(response)
    if found or protocol == "official":
        return found, found is not None
    ex = extract_answer(response, choices=item.choices, question=str(item.row.get("question") or ""))
    judged = _as_letter(llm(response, item), item) if llm is not None else None
    if judged:
        return judged, False
    found = _as_letter(ex.text, item)
    decided = found is not None and ex.decided
    return (found, True) if decided else (None, False)  # an undecided reply is never credited


def _as_letter(cand: str | None, item: EvalItem) -> str | None:
    """An option letter from an extracted answer: a letter, or an option's text."""
    from visionr1.grading.equivalence import choice_index

    if not cand:
        return None
    idx = choice_index(cand, item.choices) if item.choices else None
    if idx is not None:
        return choice_letter(idx)
    cand = re.sub(r"[()<>:.\s]", "", cand)
    return cand.upper() if len(cand) == 1 and cand.upper() in OFFICIAL_LETTERS else None


def four_dimensional(per_item: list[dict[str, Any]]) -> dict[str, Any]:
    """IK, IG, CM, RM (strict and loose), the final scores, and S1/S2/S3 accuracy."""
    groups: dict[tuple[int, str], dict[str, bool]] = {}
    for r in per_item:
        m = re.match(r"([23])steps_(\w+)", r.get("key") or "")
        if not m:
            continue
        groups.setdefault((int(m.group(1)), r["ID"]), {})[m.group(2)] = bool(r["correct"])
    counts = dict.fromkeys(("IK", "IG", "CM_strict", "CM_loose", "RM_strict", "RM_loose"), 0)
    one_step: list[bool] = []
    multi: dict[int, list[bool]] = {2: [], 3: []}
    for (steps, _pid), g in groups.items():
        if "multi" not in g:
            continue
        subs = [g.get(str(i), False) for i in range(1, steps + 1)]
        one_step.extend(subs)
        whole = g["multi"]
        multi[steps].append(whole)
        all_ok, any_ok = all(subs), any(subs)
        if whole:
            counts["CM_strict"] += all_ok
            counts["CM_loose"] += any_ok
            counts["RM_strict"] += not all_ok
            counts["RM_loose"] += not any_ok
        else:
            counts["IG"] += all_ok
            counts["IK"] += not all_ok
    n = sum(len(v) for v in multi.values())

    def pct(x: float, d: float) -> float:
        return round(100.0 * x / d, 2) if d else 0.0

    out: dict[str, Any] = {"composites": n, "counts": counts}
    for mode in ("strict", "loose"):
        out[f"score_{mode}"] = pct(n - 0.5 * counts["IG"] - counts[f"RM_{mode}"] - counts["IK"], n)
        out[f"IK_{mode}"] = pct(counts["IK"], n)
        out[f"IG_{mode}"] = pct(counts["IG"], n)
        out[f"CM_{mode}"] = pct(counts[f"CM_{mode}"], n)
        out[f"RM_{mode}"] = pct(counts[f"RM_{mode}"], counts[f"CM_{mode}"] + counts[f"RM_{mode}"])
    out["S1"] = pct(sum(one_step), len(one_step))
    out["S2"] = pct(sum(multi[2]), len(multi[2]))
    out["S3"] = pct(sum(multi[3]), len(multi[3]))
    return out


def read(response: str, item: EvalItem, protocol: str, judge=None) -> Reading:
    found, decided = read_letter(response, item, judge, protocol)
    return Reading(found, found is not None and found == item.gold, decided)


def result_row(item: EvalItem, response: str, readings: dict[str, Reading], protocol: str) -> dict[str, Any]:
    r = readings[protocol]
    return {**item.row, "index": item.id, "prediction": response, "processed_answer": r.extracted, "joker": r.correct}


def metrics(per_item: list[dict[str, Any]], readings: list[Reading]) -> Metrics:
    """The four-dimensional metrics (:func:`four_dimensional`) and the accuracy over single items."""
    fd = four_dimensional(per_item)
    correct = sum(r["correct"] for r in per_item)
    headline = {"score_strict": fd["score_strict"], "score_loose": fd["score_loose"],
                "IK": fd["IK_strict"], "IG": fd["IG_strict"], "CM_strict": fd["CM_strict"], "RM_strict": fd["RM_strict"],
                "CM_loose": fd["CM_loose"], "RM_loose": fd["RM_loose"],
                "S1": fd["S1"], "S2": fd["S2"], "S3": fd["S3"],
                "item_accuracy": acc_entry(correct, len(per_item))["accuracy"]}
    breakdowns = {"key": breakdown(per_item, "key"), "knowledge_concept": breakdown(per_item, "knowledge_concept")}
    return Metrics(headline, breakdowns, fd)
