"""What every benchmark module shares: the item type, the prompt modes, and the accuracy/breakdown arithmetic
of the official score files. The table and cell readers are :mod:`visionr1.data.tables`.

A benchmark module turns rows into :class:`EvalItem` and owns everything benchmark-specific.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from visionr1.errors import DataError
from visionr1.r1 import answer_tags, choice_letter, final_answer, r1_instruction, render_user_prompt

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


def item_result(item: EvalItem, correct: bool | None, extracted: Any, **extra: Any) -> dict[str, Any]:
    """One ``per_item`` row: id, verdict, extraction, gold, then ``extra`` and the item's metadata.

    ``correct`` is ``None`` when the grader could not decide in its budget (see
    :func:`visionr1.grading.is_equivalent`): such an item is not credited, and :func:`verdict_counts`
    counts it as undecided, not as wrong.
    """
    return {"id": item.id, "correct": correct, "extracted": extracted, "gold": item.gold, **extra, **item.meta}


def verdict_counts(per_item: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """How many items the grader found right, wrong, and could not decide (their ids listed).

    >>> verdict_counts([{"id": "1", "correct": True}, {"id": "2", "correct": False}, {"id": "3", "correct": None}])
    {'correct': 1, 'wrong': 1, 'undecided': 1, 'undecided_ids': ['3']}
    """
    rows = list(per_item)
    undecided = [str(r.get("id")) for r in rows if r.get("correct") is None]
    correct = sum(r.get("correct") is True for r in rows)
    return {"correct": correct, "wrong": len(rows) - correct - len(undecided), "undecided": len(undecided),
            "undecided_ids": undecided}


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


def answer_span(response: str) -> str:
    """The part of a response the official rules should see: the ``<answer>`` content (the paper's
    ``Final Answer:`` label dropped) when an R1 completion closed one, else the whole response."""
    if not isinstance(response, str):
        return ""
    tags = answer_tags(response)
    if tags and tags[-1].strip():
        return final_answer(tags[-1]) or tags[-1].strip()  # the paper's "Final Answer: X" → X
    return response


@dataclass
class Scored:
    """What a benchmark's ``score`` returns.

    ``official``: the result file in the benchmark's own format (written as ``result_filename``);
    ``per_item``: one dict per item with at least ``id``, ``correct``, ``extracted`` and
    ``decided`` (the benchmark's rules found an answer the response states, no fallback, no judge);
    ``headline``: metric name → percent, first entry is the number leaderboards quote;
    ``breakdowns``: name → value → ``acc_entry``; ``official_scores``: the official score structure.
    """

    official: Any
    per_item: list[dict[str, Any]]
    headline: dict[str, float]
    breakdowns: dict[str, dict[str, dict[str, Any]]]
    official_scores: dict[str, Any] = field(default_factory=dict)
    judge_calls: int = 0
    judge: dict[str, Any] | None = None
    """The judge's counters when one was used (:meth:`visionr1.eval.judge.Judge.summary`)."""


# ----------------------------------------------------------------------------- optional LLM judge


class LLMExtractor:
    """Answer extraction by an OpenAI-compatible LLM, for the protocols whose official step is GPT.

    A thin adapter over :class:`visionr1.eval.judge.Judge` (few-shot extraction through the
    endpoints client, answers kept in a durable store). ``judge`` is ``{"config": EndpointConfig, "store",
    "undecided_only"}``; the :class:`Judge` it opens is kept in
    ``judge["client"]``, so the caller can send what a first scoring pass queued
    (``client.flush()``) and score again with every answer in hand. Returns ``None`` when the
    judge has no answer yet, says there is none, or (with ``undecided_only``) when the rules
    decide the response themselves: the benchmark's rules then decide.
    """

    rule = "judge"

    def __init__(self, judge: dict[str, Any]):
        from visionr1.eval.judge import Judge

        client = judge.get("client")
        if client is None:
            if not judge.get("store"):
                raise DataError("--judge-endpoint", "the judge needs a file to keep its answers in (judge['store'])")
            client = Judge(judge["config"], store_path=judge["store"])
            judge["client"] = client
        self._judge = client
        self.undecided_only = bool(judge.get("undecided_only"))

    @property
    def calls(self) -> int:
        return self._judge.calls

    def __call__(self, response: str, item: EvalItem) -> str | None:
        from visionr1.eval.judge import NO_ANSWER, build_prompt
        from visionr1.grading import extract_answer

        if not response or not response.strip():
            return None
        if self.undecided_only and extract_answer(response, choices=item.choices).decided:
            return None
        record = {"response": response, "query": item.query, "question": item.query, "choices": item.choices,
                  "answer_type": item.answer_type or "text", "precision": item.precision,
                  "question_type": "multi_choice" if item.choices else "free_form"}
        out = self._judge.answer(item.id, build_prompt(response, record))
        if not isinstance(out, str) or out.strip().upper() in NO_ANSWER:
            return None
        return out.strip()


def make_extractor(judge: dict[str, Any] | None) -> LLMExtractor | None:
    """An :class:`LLMExtractor` when a judge endpoint is configured, else ``None`` (judge-free)."""
    if not judge or judge.get("config") is None:
        return None
    return LLMExtractor(judge)
