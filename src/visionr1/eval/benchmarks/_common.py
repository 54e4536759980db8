"""What every benchmark module shares: the item type, the prompt modes, and the accuracy/breakdown arithmetic
of the official score files. The table and cell readers are :mod:`visionr1.data.tables`.

A benchmark module turns rows into :class:`EvalItem` and owns everything benchmark-specific; the scoring loop
they all plug into is :mod:`visionr1.eval.benchmarks.scoring`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.errors import DataError
from visionr1.r1 import choice_letter, r1_instruction, render_user_prompt

PROMPT_MODES = ("official", "r1", "raw")


@dataclass
class EvalItem:
    """One benchmark question, ready to ask.

    ``id`` is the benchmark's own id (MathVista ``pid``, VLMEvalKit ``index``…), unique in a run;
    ``query`` the official prompt text; ``images`` the raw encoded image files (PNG/JPEG bytes);
    ``gold`` the reference answer; ``row`` every original field, kept for the official result file;
    ``raw`` the bare question with its choices (``--prompt raw``; the query when a loader sets none).
    """

    id: str
    query: str
    images: list[bytes]
    gold: str
    choices: list[str] | None = None
    answer_type: str | None = None
    precision: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None


def apply_prompt_mode(item: EvalItem | str, mode: str, multiple_choice: bool | None = None) -> str:
    """The text sent for ``item`` under ``--prompt``: ``official`` the query as the benchmark builds it; ``r1``
    that query plus the ``r1`` form's think/answer instruction (what our SFT and GRPO taught); ``raw`` the bare
    question and its choices (:attr:`EvalItem.raw`: the paper's form, what the authors' eval sends).

    ``item`` may be a bare query string (``raw`` then sends it as it is).
    """
    query = item if isinstance(item, str) else item.query
    if multiple_choice is None:
        multiple_choice = False if isinstance(item, str) else is_multiple_choice(item)
    if mode == "official":
        return query
    if mode == "r1":
        return f"{query.rstrip()}\n{r1_instruction(multiple_choice)}"
    if mode == "raw":
        raw = query if isinstance(item, str) else (item.raw or item.query)
        return raw.strip()
    raise DataError("--prompt", f"unknown prompt mode {mode!r}; valid: {', '.join(PROMPT_MODES)}")


def raw_question(question: str, choices: list[str] | None = None, *, listed: bool = False) -> str:
    """The ``raw`` form of a benchmark question: the question, then its choices as the ``raw`` user template
    lays them out, unless the question text already lists them (``listed``).

    >>> raw_question("Which is larger?", ["3/11", "8/11"])
    'Which is larger?\\nChoices:\\n(A) 3/11\\n(B) 8/11'
    """
    return render_user_prompt(question, None if listed else choices, "raw")


def is_multiple_choice(item: EvalItem) -> bool:
    qtype = str(item.meta.get("question_type") or "")
    return bool(item.choices) or item.answer_type == "multiple choice" or qtype.startswith("multi")


def unique_ids(items: list[EvalItem], source: str) -> None:
    """Every item has an id of its own; an item without one means the file lacks the benchmark's id column."""
    seen: set[str] = set()
    for i, it in enumerate(items):
        if not str(it.id).strip():
            raise DataError(f"item {i + 1}", "has no id: the file lacks this benchmark's id column (is --data a file "
                                             "of the benchmark given with --benchmark?)", source)
        if it.id in seen:
            raise DataError(it.id, "duplicate item id; each benchmark item needs its own id", source)
        seen.add(it.id)


def choices_block(choices: list[str], style: str = "({letter}) {text}") -> str:
    return "\n".join(style.format(letter=choice_letter(i), text=c) for i, c in enumerate(choices))


NOT_COPIED = ("image", "decoded_image", "_source_file")
"""Input columns left out of the official result rows (image payloads and our own bookkeeping)."""


def row_without_images(row: Mapping[str, Any]) -> dict[str, Any]:
    """The input row as the official result files carry it: every column but :data:`NOT_COPIED`."""
    return {k: v for k, v in row.items() if k not in NOT_COPIED}


# ----------------------------------------------------------------------------- scoring arithmetic


def acc_entry(correct: int, total: int) -> dict[str, Any]:
    """``{"accuracy": percent (2 decimals), "correct", "total"}`` as the official score files write it."""
    return {"accuracy": round(100.0 * correct / total, 2) if total else 0.0, "correct": correct, "total": total}


def breakdown(rows: Iterable[Mapping[str, Any]], key: str, ok: str = "correct") -> dict[str, dict[str, Any]]:
    """Accuracy per value of ``key`` (list values count for each element), sorted best first."""
    counts: dict[str, list[int]] = {}
    for r in rows:
        value = r.get(key)
        for v in value if isinstance(value, list) else [value]:
            if v is None or v == "":
                continue
            c = counts.setdefault(str(v), [0, 0])
            c[0] += bool(r.get(ok))
            c[1] += 1
    table = {k: acc_entry(c, t) for k, (c, t) in counts.items()}
    return dict(sorted(table.items(), key=lambda kv: (-kv[1]["accuracy"], kv[0])))


def read_json_file(path: Path | str, what: str) -> Any:
    """A result file's JSON (``.jsonl``: a list of its lines' objects); :class:`DataError` naming the file and line."""
    import json

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(str(path), f"{what} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(str(path), f"cannot read {what}: {e}") from None
    if path.suffix == ".jsonl":
        from visionr1.files import loads_jsonl

        return loads_jsonl(text, str(path))
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise DataError(str(path), f"{what} is not valid JSON ({e})") from None
    except _RepeatedKey as e:
        raise DataError(f"key {e.args[0]!r}", f"is given twice in one JSON object of the {what} (JSON readers keep "
                                              "the last without a word); keep one entry per key (were two runs' "
                                              "outputs joined?)", str(path)) from None


class _RepeatedKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's dict, refusing a key given twice (``json`` would keep the last without a word)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        from collections import Counter

        raise _RepeatedKey(next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1))
    return found


def add_response(responses: dict[str, str], rid: str, reply: str, source: str) -> None:
    """Record ``reply`` as the result file's answer to item ``rid``; an id the file already answered is a
    :class:`DataError` naming it (two runs' outputs concatenated would otherwise be scored by whichever came last)."""
    if rid in responses:
        raise DataError(f"item {rid}", "is answered more than once in the result file; keep one reply per item "
                                       "(were two runs' outputs joined?)", source)
    responses[rid] = reply


def join_results(items: list[EvalItem], responses: dict[str, str], source: str) -> list[EvalItem]:
    """The items a result file answers, in its order; a result id the annotations lack is an error naming it."""
    by_id = {it.id: it for it in items}
    missing = [rid for rid in responses if rid not in by_id]
    if missing:
        raise DataError(f"item {missing[0]}", f"is not in the annotations given with --data ({len(missing)} result id(s) "
                                              "missing there; is --data the benchmark's annotation file?)", source)
    return [by_id[rid] for rid in responses]


def require_fields(rows: list[dict[str, Any]], fields: tuple[str, ...], benchmark: str, source: str,
                   alternatives: dict[str, tuple[str, ...]] | None = None) -> None:
    """Refuse rows that do not carry ``benchmark``'s fields (issue 33: a MathVista folder given as MathVerse data
    must not run): a :class:`DataError` naming the missing fields. ``alternatives`` maps a field to other names
    that stand for it in other layouts (``id`` ← ``index``)."""
    if not rows:
        return
    alternatives = alternatives or {}
    present = set().union(*(r.keys() for r in rows[:20]))
    missing = [f for f in fields if f not in present and not any(a in present for a in alternatives.get(f, ()))]
    if missing:
        names = [f + (f" (or {', '.join(alternatives[f])})" if f in alternatives else "") for f in missing]
        raise DataError(source, f"is not {benchmark} data: its rows lack the field(s) {', '.join(names)} "
                                 f"(they have: {', '.join(sorted(k for k in present if not k.startswith('_'))[:15])})")
