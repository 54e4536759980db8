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

Layouts read besides those: the repository ZrrSkywalker/MathVerse (``data/testmini.json``, a list of records
with ``sample_index`` … ``query_cot``; images from ``images.zip`` unpacked to ``data/images/``), whether ``--data``
names the file or the repository. Item ids: ``sample_index``.

Protocols (``--protocol``):

* ``official``: GPT-4 extraction (the judge when one is given, else the extraction rules of
  :mod:`visionr1.grading` stand in, fallbacks included), the official quick match (``extraction == answer``),
  then the GPT-4 consistency judgement, for which :func:`visionr1.grading.is_equivalent` stands in (letters and
  option texts interchangeable). Items the rules leave undecided are counted and reported;
* ``default``: the same extraction and verdict, but an undecided reply (a fallback such as the last number, a
  refusal, nothing) is never credited.

Released result layout (``visionr1 score mathverse``): the README's ``output_testmini.json`` template, a JSON list of
the testmini records each with ``model_answer``; ``--data`` is optional.
"""

from __future__ import annotations

import re
from pathlib import Path

from visionr1.data.splits import split_of
from visionr1.data.tables import (
    as_dict,
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


PROTOCOLS = ("default", "official")
JUDGED = PROTOCOLS
"""Both protocols take the judge's extraction (the official GPT-4 step) when one is given."""
FIELDS = ("question", "answer", "problem_version")
ALTERNATIVES = {"problem_version": ("question_for_eval",)}
"""MathVerse's own fields (VLMEvalKit's TSV may keep the version in ``metadata`` but always has
``question_for_eval``): a MathVista or other table given as MathVerse data is refused, naming them."""


def load(path: Path, split: str | None = None, limit: int | None = None, query_column: str = "query_cot") -> list[EvalItem]:
    rows, root, layout = read_table(path, split_of(path, split, DEFAULT_SPLIT))
    require_fields(rows, FIELDS, "MathVerse", str(path), ALTERNATIVES)
    items = _items(rows, root, query_column=query_column, limit=limit)
    unique_ids(items, str(path))
    return items


def read_results(path: Path, data: Path | None) -> tuple[list[EvalItem], dict[str, str]]:
    """The README's result layout (a JSON list of testmini records, each with ``model_answer``); annotations from
    the records themselves, or from ``data`` when given."""
    rows = read_json_file(path, "MathVerse result file")
    if isinstance(rows, dict):
        rows = list(rows.values())
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "model_answer" in r for r in rows):
        raise DataError(str(path), "expected a JSON list of testmini records, each with the model's model_answer")
    require_fields(rows, FIELDS + ("sample_index",), "MathVerse", str(path), ALTERNATIVES)
    items = _items(rows, Path(path).parent, images=False)
    responses: dict[str, str] = {}
    for it, r in zip(items, rows):
        add_response(responses, it.id, str(r.get("model_answer") or ""), str(path))
    if data is not None:
        table, root, _ = read_table(data, split_of(data, None, DEFAULT_SPLIT))
        return join_results(_items(table, root, images=False), responses, str(path)), responses
    return items, responses


def _items(rows, root: Path, *, query_column: str = "query_cot", limit: int | None = None,
           images: bool = True) -> list[EvalItem]:
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
            id=sid, query=query, images=first_image(row, root, sid, ("decoded_image", "image")) if images else [],
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
    return items


def read(response: str, item: EvalItem, protocol: str, judge=None) -> Reading:
    """The GPT-4 extraction (the judge, else the extraction rules), the official quick match, then
    :func:`visionr1.grading.is_equivalent` for the consistency judgement; ``default`` never credits an undecided
    reply."""
    from visionr1.grading import extract_answer, is_equivalent

    ex = extract_answer(response, choices=item.choices)
    extract = judge(response, item) if judge else None
    how = "judge" if extract is not None else ex.rule
    if extract is None:
        extract = ex.text or ""
    if protocol == "default" and how != "judge" and not ex.decided:
        ok = False  # an undecided reply is never credited
    elif extract.strip() == item.gold.strip():  # the official prefetch
        ok = True
    else:
        ok = bool(extract) and is_equivalent(extract, item.gold, choices=item.choices)
    return Reading(extract, ok, ex.decided, how)


RESULT_BY_ID = True


def result_row(item: EvalItem, response: str, readings: dict[str, Reading], protocol: str) -> dict:
    r = readings[protocol]
    return {**item.row, "model_answer": response, "extraction": r.extracted, "extracted_by": r.rule,
            "true_false": r.correct}


def metrics(per_item: list[dict], readings: list[Reading]) -> Metrics:
    """Accuracy overall and per problem version (in the paper's order), subject and subfield."""
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
    return Metrics(headline, breakdowns, official_scores)
