"""MathVision (MATH-V): competition problems with images, ``testmini`` (304) and ``test`` (3,040).

Layouts read: the repository mathllm/MATH-V as it ships (``data/test.jsonl``, ``data/testmini.jsonl``: ``id``,
``question``, ``options``, ``answer``, ``solution``, ``level``, ``subject``, ``image`` written ``images/1.jpg``
relative to the repository root), whether ``--data`` names the file or the repository; the Hugging Face release
MathLLMs/MathVision (the same fields plus ``decoded_image``; splits ``testmini`` and ``test``); VLMEvalKit's
``MathVision.tsv`` / ``MathVision_MINI.tsv`` (``index``, ``image``, ``question``, ``answer``, ``choices``,
``category``, ``level``).

Query: the question, the options as ``(A) …`` lines, and the official boxed-answer instruction.

Protocols (``--protocol``):

* ``official``: the repository's ``evaluation/evaluate.py`` and ``utils.py`` rule for rule
  (:mod:`visionr1.grading.mathvision`: its extraction, its string/latex2sympy match at two decimals, right when the
  gold letter or the gold option's text matches). Rule-based, no GPT step. It agrees with the released ``correct``
  of every released model file on all but 1 of 48,640 verdicts (``benchmarks/mathvision_released.py``). Its string
  match is strict: ``120`` is not the option ``$120^{\\circ}$``, ``2\\pi`` is not ``$2 \\pi$``…;
* ``default``: the answer the reply states (last ``\\boxed{}``, else ``<answer>``, else the extraction rules of
  :mod:`visionr1.grading`), an option letter for multiple choice (an answer written as an option's value, however
  its LaTeX or unit is spelt, names that option), :func:`visionr1.grading.is_equivalent` for free form; an
  undecided reply is never credited. With ``--judge-endpoint`` an LLM extracts the answer when no ``\\boxed{}``
  is found.

Released result layout (``visionr1 score mathvision``): ``outputs/<model>.jsonl``, one row per item with ``id`` and
``response`` (``model_answer`` and ``correct`` when scored); the annotations come from ``--data``.
"""

from __future__ import annotations

import re
from pathlib import Path

from visionr1.data.splits import split_of
from visionr1.data.tables import (
    as_list,
    clean_str,
    first_image,
    read_table,
)
from visionr1.eval.benchmarks._common import (
    EvalItem,
    add_response,
    acc_entry,
    breakdown,
    choices_block,
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

NAME = "mathvision"
DEFAULT_SPLIT = "testmini"
RESULT_FILENAME = "results_mathvision.json"
INSTRUCTION = ('Please solve the problem step by step and put your answer in one "\\boxed{}". '
               'If it is a multiple choice question, only one letter is allowed in the "\\boxed{}".')


def build_query(question: str, options: list[str] | None) -> str:
    text = question
    if options:
        text += "\n\nChoices: " + choices_block(options)
    return f"{text}\n{INSTRUCTION}"


FIELDS = ("question", "answer")
ID_FIELDS = ("id", "index")


def load(path: Path, split: str | None = None, limit: int | None = None) -> list[EvalItem]:
    rows, root, layout = read_table(path, split_of(path, split, DEFAULT_SPLIT))
    require_fields(rows, FIELDS + ("id",), "MATH-V", str(path), {"id": ("index",)})
    items = _items(rows, root, layout, limit=limit)
    unique_ids(items, str(path))
    return items


def _items(rows, root: Path, layout: str, *, limit: int | None = None, images: bool = True) -> list[EvalItem]:
    items = []
    for i, row in enumerate(rows):
        iid = clean_str(row.get("id")) or clean_str(row.get("index")) or str(i)
        options = as_list(row.get("options")) or as_list(row.get("choices"))
        question = clean_str(row.get("question"))
        # VLMEvalKit's question column may already list the options
        listed = layout == "tsv" and "Choices" in question
        items.append(EvalItem(
            id=iid, query=build_query(question, None if listed else options),
            images=first_image(row, root, iid, ("decoded_image", "image")) if images else [],
            gold=clean_str(row.get("answer")), choices=options,
            meta={"subject": clean_str(row.get("subject")) or clean_str(row.get("category")) or None,
                  "level": clean_str(row.get("level")) or None},
            row=row_without_images(row),
            raw=raw_question(question, options, listed=listed),
        ))
        if limit and len(items) >= limit:
            break
    return items


def read_results(path: Path, data: Path | None) -> tuple[list[EvalItem], dict[str, str]]:
    """A released result file (``outputs/<model>.jsonl``: ``id``, ``response``) joined with the annotations
    ``data`` (``data/test.jsonl``, the repository, or any layout :func:`load` reads)."""
    if data is None:
        raise DataError("--data", "MATH-V result files carry no answers: give the annotations, e.g. --data "
                                  "MATH-V/data/test.jsonl")
    rows = read_json_file(path, "MATH-V result file")
    if isinstance(rows, dict):
        rows = list(rows.values())
    responses: dict[str, str] = {}
    for n, row in enumerate(rows if isinstance(rows, list) else [], 1):
        if not isinstance(row, dict) or "id" not in row or "response" not in row:
            raise DataError(f"row {n}", "needs the fields id and response (a MATH-V outputs/*.jsonl row)", str(path))
        add_response(responses, str(row["id"]), row["response"] if isinstance(row["response"], str) else "", str(path))
    table, root, layout = read_table(data, "test" if Path(data).is_dir() else None)
    require_fields(table, FIELDS + ("id",), "MATH-V", str(data), {"id": ("index",)})
    return join_results(_items(table, root, layout, images=False), responses, str(path)), responses


_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_LATEX_CMD_RE = re.compile(r"\\[A-Za-z]+")
WHOLE_REPLY = "whole_reply"
"""The rule name of a reply that is nothing but its answer (a number, a letter, a short formula): decided."""


def extract(response: str, item: EvalItem, llm=None) -> tuple[str | None, str]:
    from visionr1.grading import extract_answer
    from visionr1.grading.extract import clean_answer, last_boxed

    boxed = last_boxed(response or "")
    if boxed:
        return clean_answer(boxed), "boxed"
    whole = clean_answer(response or "")
    if whole and "\n" not in whole and len(whole) <= 40 and not _WORD_RE.search(_LATEX_CMD_RE.sub("", whole)):
        return whole, "whole_reply"  # the reply is its answer ("1", "$5\\sqrt3$", "5-2-3-4-1"): read it whole
    if llm is not None:
        found = llm(response, item)
        if found:
            return found, "judge"
    ex = extract_answer(response, choices=item.choices, question=str(item.row.get("question") or ""))
    return ex.text, ex.rule


PROTOCOLS = ("default", "official")
JUDGED = ("default",)
"""The released protocol has no GPT step; ours asks the judge for a reply with no ``\\boxed{}``."""


def official_rule(response: str) -> str:
    """Which step of the released extraction found the answer (:func:`visionr1.grading.mathvision.official_answer`):
    ``letter``, ``boxed``, ``is_number`` ("… is 12."), ``phrase`` ("the answer is …") or ``whole_response``."""
    from visionr1.grading.mathvision import FLAGS, OPTION_LETTERS, _is_number

    text = (response or "").strip()
    if any(text.endswith((f" {c}.", f" ({c}).")) or text.startswith((f"{c}\n", f"({c})\n")) for c in OPTION_LETTERS):
        return "letter"
    if "oxed{" in text:
        return "boxed"
    if _is_number(text.split("is ")[-1].rstrip(".")):
        return "is_number"
    if any(f in text or f.replace("the", "The") in text for f in FLAGS):
        return "phrase"
    return "whole_response"


def _official(it: EvalItem, response: str) -> dict:
    from visionr1.grading.mathvision import _is_number, official_answer, official_correct

    extracted = official_answer(response)
    rule = official_rule(response)
    # a reply that is itself the answer ("80", "A") is decided too; a sentence taken whole is not
    decided = bool(extracted) and (rule != "whole_response" or _is_number(extracted) or extracted in tuple("abcde"))
    ok = bool(extracted) and official_correct(it.gold, it.choices, extracted)
    return {"extracted": extracted, "extracted_by": rule, "decided": decided, "correct": ok}


def _option_index(extracted: str, choices: list[str]) -> int | None:
    """The option ``extracted`` names: by letter or exact text, else the one option whose value it equals (``2\\pi``
    names ``$2 \\pi$``, ``120`` names ``$120^{\\circ}$``); ``None`` when none or several do."""
    from visionr1.grading import is_equivalent
    from visionr1.grading.equivalence import choice_index

    idx = choice_index(extracted, choices)
    if idx is not None:
        return idx
    hits = [i for i, c in enumerate(choices) if len(str(c)) > 1 and is_equivalent(extracted, str(c))]
    return hits[0] if len(hits) == 1 else None


def _default(it: EvalItem, response: str, llm) -> dict:
    from visionr1.grading import is_equivalent
    from visionr1.grading.extract import DECIDED_RULES

    extracted, how = extract(response, it, llm)
    decided = how in ("boxed", WHOLE_REPLY) or how in DECIDED_RULES
    ok = False
    if extracted and (decided or how == "judge"):  # an undecided reply is never credited
        if it.choices and it.gold.strip().upper() in LETTERS[: len(it.choices)]:
            idx = _option_index(extracted, it.choices)
            ok = idx is not None and choice_letter(idx) == it.gold.strip().upper()
        else:
            ok = is_equivalent(extracted, it.gold, choices=it.choices)
    return {"extracted": extracted, "extracted_by": how, "decided": decided, "correct": ok}


def read(response: str, item: EvalItem, protocol: str, judge=None) -> Reading:
    """``official``: the released extraction and match; ``default``: ours (the judge reads a reply with no box)."""
    v = _official(item, response) if protocol == "official" else _default(item, response, judge)
    return Reading(v["extracted"], v["correct"], v["decided"], v["extracted_by"])


def result_row(item: EvalItem, response: str, readings: dict[str, Reading], protocol: str) -> dict:
    r = readings[protocol]
    return {**item.row, "id": item.id, "response": response, "model_answer": r.extracted, "correct": r.correct,
            "extracted_by": r.rule}


def metrics(per_item: list[dict], readings: list[Reading]) -> Metrics:
    correct = sum(r["correct"] is True for r in per_item)  # undecided (None) is not credited
    breakdowns = {"subject": breakdown(per_item, "subject"), "level": breakdown(per_item, "level")}
    return Metrics({"accuracy": acc_entry(correct, len(per_item))["accuracy"]}, breakdowns,
                   {"average": acc_entry(correct, len(per_item)), **breakdowns})
