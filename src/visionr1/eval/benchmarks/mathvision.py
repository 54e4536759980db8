"""MathVision (MATH-V): competition problems with images, ``testmini`` (304) and ``test`` (3,040).

Source of the protocol: mathllm/MATH-V (``evaluation/``: answers taken from the last
``\\boxed{}``, multiple choice by option letter, free form by normalised equality), the Hugging
Face release MathLLMs/MathVision (``id``, ``question``, ``options``, ``image``, ``decoded_image``,
``answer``, ``solution``, ``level``, ``subject``; splits ``testmini`` and ``test``) and VLMEvalKit's
``MathVision.tsv`` / ``MathVision_MINI.tsv`` (``index``, ``image``, ``question``, ``answer``,
``choices``, ``category``/``subject``, ``level``) with ``vlmeval/dataset/utils/mathv.py``.

Query: the question, the options as ``(A) …`` lines, and the official boxed-answer instruction.
Scoring: the official protocol is rule-based (no GPT step), so it is judge-free as written: the
last ``\\boxed{}`` (else the ``<answer>`` content, else the extraction rules of
``visionr1.grading``), a letter for multiple choice, ``visionr1.grading.is_equivalent`` for free
form. With ``--judge-endpoint`` an LLM extracts the answer when no ``\\boxed{}`` is found.
"""

from __future__ import annotations

from pathlib import Path

from visionr1.data.tables import (
    as_list,
    clean_str,
    first_image,
    read_table,
)
from visionr1.eval.benchmarks._common import (
    EvalItem,
    Scored,
    acc_entry,
    choices_block,
    breakdown,
    item_result,
    make_extractor,
    raw_question,
    row_without_images,
    unique_ids,
)
from visionr1.r1 import LETTERS

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


def load(path: Path, split: str | None = None, limit: int | None = None) -> list[EvalItem]:
    rows, root, layout = read_table(path, split or DEFAULT_SPLIT)
    items = []
    for i, row in enumerate(rows):
        iid = clean_str(row.get("id")) or clean_str(row.get("index")) or str(i)
        options = as_list(row.get("options")) or as_list(row.get("choices"))
        question = clean_str(row.get("question"))
        # VLMEvalKit's question column may already list the options
        query = build_query(question, None if (layout == "tsv" and "Choices" in question) else options)
        items.append(EvalItem(
            id=iid, query=query, images=first_image(row, root, iid, ("decoded_image", "image")),
            gold=clean_str(row.get("answer")), choices=options,
            meta={"subject": clean_str(row.get("subject")) or clean_str(row.get("category")) or None,
                  "level": clean_str(row.get("level")) or None},
            row=row_without_images(row),
            raw=raw_question(question, options, listed=layout == "tsv" and "Choices" in question),
        ))
        if limit and len(items) >= limit:
            break
    unique_ids(items, str(path))
    return items


def extract(response: str, item: EvalItem, llm=None) -> tuple[str | None, str]:
    from visionr1.grading import extract_answer
    from visionr1.grading.extract import clean_answer, last_boxed

    boxed = last_boxed(response or "")
    if boxed:
        return clean_answer(boxed), "boxed"
    if llm is not None:
        found = llm(response, item)
        if found:
            return found, "judge"
    ex = extract_answer(response, choices=item.choices, question=str(item.row.get("question") or ""))
    return ex.text, ex.rule


def score(items: list[EvalItem], responses: dict[str, str], judge: dict | None = None) -> Scored:
    from visionr1.grading import is_equivalent
    from visionr1.grading.equivalence import choice_index
    from visionr1.grading.extract import DECIDED_RULES

    llm = make_extractor(judge)
    official, per_item = [], []
    for it in items:
        response = responses.get(it.id, "")
        extracted, how = extract(response, it, llm)
        decided = how == "boxed" or how in DECIDED_RULES
        if extracted and it.choices and it.gold.strip().upper() in LETTERS[: len(it.choices)]:
            idx = choice_index(extracted, it.choices)
            ok = idx is not None and LETTERS[idx] == it.gold.strip().upper()
        else:
            ok = bool(extracted) and is_equivalent(extracted, it.gold, choices=it.choices)
        official.append({**it.row, "id": it.id, "model_answer": response, "extraction": extracted, "rule": how,
                         "answer": it.gold, "correct": ok})
        per_item.append(item_result(it, ok, extracted, decided=decided, extracted_by=how))
    correct = sum(r["correct"] is True for r in per_item)  # undecided (None) is not credited
    breakdowns = {"subject": breakdown(per_item, "subject"), "level": breakdown(per_item, "level")}
    return Scored(official=official, per_item=per_item, headline={"accuracy": acc_entry(correct, len(per_item))["accuracy"]},
                  breakdowns=breakdowns, official_scores={"average": acc_entry(correct, len(per_item)), **breakdowns},
                  judge_calls=llm.calls if llm else 0)
