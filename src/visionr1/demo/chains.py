"""Step by step, what a demo model's chains of thought get right (``colour_count`` / ``colour_value``).

A chain of the demo's task states five things before its answer, each checkable against the record's facts::

    The shape is blue. blue=7. The question adds 3. Counting up 3 from 7: 8 (2 left), 9 (1 left), 10 (0 left).
    7+3=10. So the final answer is 10.</think><answer>10</answer>

:func:`step_checks` says which of them a completion gets right (the count only for ``colour_count``, whose
chains count), and whether the answer tag holds the number the chain concluded (a tag that recalls a trained
pair's sum instead of copying is how a right chain ends in a wrong answer). :func:`chain_right` is all of them
at once; :func:`chain_stats` and :func:`disagreement` are the shares over an eval run; :func:`pick_example`
chooses the report's "one item" among items whose chain is right at every step; :func:`long_chain_errors` is
the share of wrong answers among a model's long chains (the ablation's overthinking column).

Read from run folders only (``data/test.jsonl``, ``eval/<model>/generations.jsonl`` and
``results_records.json``); imports the R1 contract and the synthetic tasks' facts, nothing that trains.

Example:
    >>> facts = {"colour": "blue", "offset": 3}
    >>> text = ("<think>The shape is blue. blue=7. The question adds 3. Counting up 3 from 7: 8 (2 left), "
    ...         "9 (1 left), 10 (0 left). 7+3=10. So the final answer is 10.</think><answer>10</answer>")
    >>> chain_right(text, facts, counts=True)
    True
    >>> step_checks(text.replace("<answer>10", "<answer>11"), facts, counts=True)["tag"]
    False
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from visionr1.data.synth.colour_count import count_up
from visionr1.data.synth.colour_value import VALUE
from visionr1.r1 import concluded_answer, conclusion, split_reasoning, tagged_answer

STEPS = ("colour", "value", "count", "sum", "conclusion", "tag")
"""The checks of :func:`step_checks`, in the order a chain states them (``tag``: the answer tag holds the number
the chain concluded)."""
COUNTING_TASKS = ("colour_count",)
"""Tasks whose chains count up (the ``count`` step applies)."""


def concluded_and_tagged(text: str) -> tuple[str | None, str | None]:
    """The answer a chain's reasoning ends on (:func:`visionr1.r1.concluded_answer`; its final "." may be
    missing, a model's slip) and the answer its closed answer tag gives (:func:`visionr1.r1.tagged_answer`);
    None where either is missing.

    >>> concluded_and_tagged("<think>4+1=5. So the final answer is 5</think><answer>4</answer>")
    ('5', '4')
    >>> concluded_and_tagged("The answer is 5.")
    (None, None)
    """
    reasoning, _ = split_reasoning(text or "")
    reasoning = (reasoning or "").rstrip()
    concluded = concluded_answer(reasoning if reasoning.endswith(".") else reasoning + ".") if reasoning else None
    tagged = tagged_answer(text or "")
    return concluded, (tagged.text if tagged is not None and tagged.closed else None)


def step_checks(text: str, facts: dict[str, Any], counts: bool) -> dict[str, bool | None]:
    """Each of :data:`STEPS` for one completion of a record with ``facts`` (colour, offset): True when the chain
    writes it right; ``count`` is None when the task does not count (``counts`` False) and ``tag`` None when the
    completion lacks a conclusion or an answer tag."""
    text, colour, offset = text or "", facts["colour"], facts["offset"]
    value = VALUE[colour]
    concluded, tagged = concluded_and_tagged(text)
    return {"colour": f"shape is {colour}" in text,
            "value": f"{colour}={value}" in text,
            "count": (count_up(value, offset).split(": ", 1)[1] in text) if counts else None,
            "sum": f"{value}+{offset}={value + offset}" in text,
            "conclusion": conclusion(str(value + offset)) in text,
            "tag": None if concluded is None or tagged is None else tagged == concluded}


def chain_right(text: str, facts: dict[str, Any], counts: bool) -> bool:
    """Every applicable step right and the answer tag a copy of the (right) conclusion."""
    checks = step_checks(text, facts, counts)
    return checks["tag"] is True and all(v is not False for v in checks.values())


def _records(run: Path) -> dict[str, dict[str, Any]]:
    path = Path(run) / "data" / "test.jsonl"
    return {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r}


def _checkable(record: dict[str, Any] | None) -> bool:
    facts = (record or {}).get("metadata", {}).get("facts") or {}
    return facts.get("colour") in VALUE and isinstance(facts.get("offset"), int)


def record_checks(record: dict[str, Any], text: str) -> dict[str, bool | None] | None:
    """:func:`step_checks` for a test record (None when its task has no colour and offset to check)."""
    if not _checkable(record):
        return None
    meta = record["metadata"]
    return step_checks(text, meta["facts"], counts=meta.get("task") in COUNTING_TASKS)


def generations(run: Path, model: str) -> list[dict[str, Any]]:
    """``eval/<model>/generations.jsonl`` of a demo run (id, response, completion_tokens, ...)."""
    path = Path(run) / "eval" / model / "generations.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def chain_stats(run: Path, model: str) -> dict[str, float]:
    """Per step, the % of a model's test completions that write it right (``tag``: of those with a conclusion
    and an answer tag, the % whose tag copies the conclusion; NaN when none has both)."""
    recs, gens = _records(run), generations(run, model)
    hits = dict.fromkeys(STEPS, 0)
    both = 0
    for g in gens:
        checks = record_checks(recs.get(g["id"]), g.get("response") or "") or {}
        for step, ok in checks.items():
            hits[step] += ok is True
        both += checks.get("tag") is not None
    stats = {k: 100 * v / max(1, len(gens)) for k, v in hits.items() if k != "tag"}
    stats["copied"] = 100 * hits["tag"] / both if both else float("nan")
    return stats


def disagreement(texts: list[str]) -> dict[str, Any]:
    """How often a chain's conclusion and its answer tag disagree: of the completions that have both
    (``both``), the number (``differ``) and % (``percent``, None when none has both) whose tag holds another answer.

    >>> disagreement(["So the final answer is 5.</think><answer>4</answer>",
    ...               "So the final answer is 5.</think><answer>5</answer>", "The answer is 5."])
    {'both': 2, 'differ': 1, 'percent': 50.0}
    """
    pairs = [p for p in map(concluded_and_tagged, texts) if None not in p]
    differ = sum(c != t for c, t in pairs)
    return {"both": len(pairs), "differ": differ, "percent": round(100 * differ / len(pairs), 1) if pairs else None}


def pick_example(base: list[dict[str, Any]], rl: list[dict[str, Any]],
                 records: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], dict | None] | None:
    """The report's "one item": a test item the base answers wrong and the RL model right, preferring one whose
    RL chain is right at every step (:func:`chain_right`). ``base`` and ``rl`` are scored items (id, response,
    correct; ``results_records.json``), ``records`` the test records by id. Returns ``(base item, RL item,
    checks)``: ``checks`` None when the chain is right at every step, else the RL chain's :func:`record_checks`
    (the first base-wrong, RL-right item, when no such chain is right at every step); None when no item is
    wrong for the base and right for RL."""
    by_id = {b["id"]: b for b in base}
    candidates = [(by_id[s["id"]], s) for s in rl
                  if s.get("correct") and s["id"] in by_id and not by_id[s["id"]].get("correct")]
    for b, s in candidates:
        checks = record_checks(records.get(s["id"]), s.get("response") or "")
        if checks is not None and checks["tag"] is True and all(v is not False for v in checks.values()):
            return b, s, None
    if not candidates:
        return None
    b, s = candidates[0]
    return b, s, record_checks(records.get(s["id"]), s.get("response") or "") or {}


def long_chain_errors(gens: list[dict[str, Any]], correct: dict[str, bool]) -> dict[str, Any]:
    """The share of wrong answers among a model's long chains, "long" meaning longer than the median length
    (completion tokens) of that model's test completions. ``gens``: generations (id, completion_tokens),
    ``correct``: verdict by id. Returns the median, the long chains' count and the % of them wrong (None when
    no completion is longer than the median, e.g. all of one length).

    >>> long_chain_errors([{"id": "a", "completion_tokens": 10}, {"id": "b", "completion_tokens": 30},
    ...                    {"id": "c", "completion_tokens": 20}], {"a": True, "b": False, "c": True})
    {'median_tokens': 20, 'long': 1, 'wrong_percent': 100.0}
    """
    lengths = {g["id"]: g.get("completion_tokens") for g in gens if isinstance(g.get("completion_tokens"), int)}
    if not lengths:
        return {"median_tokens": None, "long": 0, "wrong_percent": None}
    median = statistics.median(lengths.values())
    long = [i for i, n in lengths.items() if n > median]
    wrong = sum(not correct.get(i, False) for i in long)
    return {"median_tokens": median, "long": len(long),
            "wrong_percent": round(100 * wrong / len(long), 1) if long else None}


def scored_items(run: Path, model: str) -> list[dict[str, Any]]:
    """A model's scored test items (id, question, answer, response, extracted, correct, well_formed), from
    ``eval/<model>/results_records.json``; empty when the model was not evaluated."""
    path = Path(run) / "eval" / model / "results_records.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def read_test_records(run: Path) -> dict[str, dict[str, Any]]:
    """A demo run's test records (``data/test.jsonl``) by id; empty when the file is missing."""
    path = Path(run) / "data" / "test.jsonl"
    return _records(run) if path.is_file() else {}
