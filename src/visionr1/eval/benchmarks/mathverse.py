"""MathVerse (testmini): the same 788 problems in five versions, scored per version.

Source of the protocol: ZrrSkywalker/MathVerse ``evaluation/`` (GPT-4 extraction, then a GPT-4
consistency judgement of the extracted answer against the standard answer), the Hugging Face
release AI4Math/MathVerse (``sample_index``, ``problem_index``, ``problem_version``, ``question``,
``image``, ``answer``, ``question_type``, ``metadata`` {split, source, subject, subfield},
``query_wo``, ``query_cot``, ``question_for_eval``), and VLMEvalKit's ``MathVerse_MINI.tsv``
(``index``, ``image`` base64, ``question`` = the query, ``answer``, ``question_for_eval``,
``problem_version``/``metadata``) with ``vlmeval/dataset/utils/mathverse.py``.

Versions: Text Dominant, Text Lite, Vision Intensive, Vision Dominant, Vision Only (and Text Only
when the ``testmini_text_only`` split is given). Query: ``query_cot`` (the CoT query the
leaderboard uses) unless ``query_wo`` is asked for.

Judge-free substitution: extraction by ``visionr1.grading.extract_answer`` (on the ``<answer>``
content when present) instead of GPT-4; the official exact-match prefetch
(``extract == answer``) is kept, and the GPT-4 consistency judgement is replaced by
``visionr1.grading.is_equivalent`` (letters and option texts interchangeable for multiple choice).
With ``--judge-endpoint`` the extraction step uses the LLM; the verdict stays rule-based.
"""

from __future__ import annotations

import re
from pathlib import Path

from visionr1.data.tables import (
    as_dict,
    clean_str,
    first_image,
    read_table,
)
from visionr1.eval.benchmarks._common import (
    EvalItem,
    Scored,
    acc_entry,
    breakdown,
    item_result,
    make_extractor,
    raw_question,
    row_without_images,
    unique_ids,
)

NAME = "mathverse"
DEFAULT_SPLIT = "testmini"
RESULT_FILENAME = "results_mathverse.json"
VERSIONS = ("Text Dominant", "Text Lite", "Vision Intensive", "Vision Dominant", "Vision Only", "Text Only")
_CHOICE_LINE_RE = re.compile(r"^\s*\(?([A-H])\)?\s*[:：.)]\s*(.+?)\s*$")


def parse_choices(question: str) -> list[str] | None:
    """Option texts from the ``Choices:`` block MathVerse writes into its questions (``A:2``, ``B:√3``…)."""
    if "Choices" not in question and "choices" not in question:
        return None
    block = re.split(r"Choices\s*[:：]?", question, flags=re.IGNORECASE)[-1]
    found: dict[str, str] = {}
    for line in block.splitlines():
        m = _CHOICE_LINE_RE.match(line)
        if m and m.group(1) not in found:
            found[m.group(1)] = m.group(2)
    letters = sorted(found)
    if not letters or letters[0] != "A":
        return None
    return [found[k] for k in letters]


def load(path: Path, split: str | None = None, limit: int | None = None, query_column: str = "query_cot") -> list[EvalItem]:
    rows, root, layout = read_table(path, split or DEFAULT_SPLIT)
    items = []
    for i, row in enumerate(rows):
        metadata = as_dict(row.get("metadata"))
        sid = clean_str(row.get("sample_index")) or clean_str(row.get("index")) or str(i)
        version = clean_str(row.get("problem_version")) or clean_str(metadata.get("problem_version"))
        query = clean_str(row.get(query_column)) or clean_str(row.get("query_cot")) or clean_str(row.get("question"))
        q_eval = clean_str(row.get("question_for_eval")) or clean_str(row.get("question"))
        qtype = clean_str(row.get("question_type")) or ("multi-choice" if parse_choices(q_eval) else "free-form")
        choices = parse_choices(q_eval) if qtype.startswith("multi") else None
        record = row_without_images(row)
        record.update({"sample_index": sid, "problem_version": version, "query": query, "metadata": metadata})
        items.append(EvalItem(
            id=sid, query=query, images=first_image(row, root, sid, ("decoded_image", "image")),
            gold=clean_str(row.get("answer")), choices=choices, answer_type=None,
            meta={"problem_version": version, "problem_index": clean_str(row.get("problem_index")),
                  "subject": metadata.get("subject"), "subfield": metadata.get("subfield") or row.get("subfield"),
                  "question_type": qtype, "question_for_eval": q_eval},
            row=record,
            # the version's own question text (it lists the options); Vision Only has none: the query stays
            raw=raw_question(shown, listed=True) if (shown := clean_str(row.get("question"))) else None,
        ))
        if limit and len(items) >= limit:
            break
    unique_ids(items, str(path))
    return items


def score(items: list[EvalItem], responses: dict[str, str], judge: dict | None = None) -> Scored:
    from visionr1.grading import extract_answer, is_equivalent

    llm = make_extractor(judge)
    official, per_item = {}, []
    for it in items:
        response = responses.get(it.id, "")
        ex = extract_answer(response, choices=it.choices)
        extract = llm(response, it) if llm else None
        how = "judge" if extract is not None else ex.rule
        if extract is None:
            extract = ex.text or ""
        if extract.strip() == it.gold.strip():  # the official prefetch
            ok = True
        else:
            ok = bool(extract) and is_equivalent(extract, it.gold, choices=it.choices)
        official[it.id] = {**it.row, "model_answer": response, "extraction": extract, "extracted_by": how,
                           "true_false": ok}
        per_item.append(item_result(it, ok, extract, decided=ex.decided, extracted_by=how))
    correct = sum(r["correct"] is True for r in per_item)  # undecided (None) is not credited
    versions = breakdown(per_item, "problem_version")
    ordered = {v: versions[v] for v in VERSIONS if v in versions}
    ordered.update({k: v for k, v in versions.items() if k not in ordered})
    headline = {"accuracy": acc_entry(correct, len(per_item))["accuracy"]}
    headline.update({v: e["accuracy"] for v, e in ordered.items()})
    breakdowns = {"problem_version": ordered, "subject": breakdown(per_item, "subject"),
                  "subfield": breakdown(per_item, "subfield")}
    official_scores = {"average": acc_entry(correct, len(per_item)), "problem_version": ordered,
                       "subfield": breakdowns["subfield"]}
    return Scored(official=official, per_item=per_item, headline=headline, breakdowns=breakdowns,
                  official_scores=official_scores, judge_calls=llm.calls if llm else 0)
