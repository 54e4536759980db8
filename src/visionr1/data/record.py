"""The one record type every stage reads and writes.

A :class:`Record` is a verifiable visual question: image paths, a question, the exact answer and,
for multiple choice, the choices (``answer`` is then the *text* of the right choice, as in
MathVista). Image paths are stored relative to the folder of the file that lists them, so a data
folder can be moved or shared as a unit.

Example:
    >>> r = Record(id="count-0", images=["images/count-0.png"], question="How many red circles?",
    ...            answer="3", answer_type="integer")
    >>> Record.from_dict(r.to_dict()) == r
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from visionr1.errors import DataError
from visionr1.r1 import choice_letter

ANSWER_TYPES = ("integer", "float", "text", "list")
"""Allowed ``answer_type`` values (MathVista's vocabulary). Multiple choice is marked by ``choices``."""

FIELDS = ("id", "images", "question", "answer", "choices", "answer_type", "source", "metadata")


@dataclass
class Record:
    """One (image(s), question, answer) item.

    Attributes:
        id: unique within its data set; used as the key for resumable work.
        images: image paths relative to the data root (the JSONL file's folder).
        question: the question text, without image placeholders.
        answer: the exact answer; for multiple choice, the text of the correct choice.
        choices: the options of a multiple-choice question, in letter order (A, B, ...), else None.
        answer_type: one of :data:`ANSWER_TYPES`.
        source: where the item comes from (``synth/count``, ``geometry3k``, ...).
        metadata: anything else (precision, unit, difficulty, a programmatic solution, ...).
    """

    id: str
    question: str
    answer: str
    images: list[str] = field(default_factory=list)
    choices: list[str] | None = None
    answer_type: str = "text"
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise DataError(repr(self.id), "record id must be a non-empty string")
        if self.answer_type not in ANSWER_TYPES:
            raise DataError(self.id, f"answer_type {self.answer_type!r} is not one of {ANSWER_TYPES}")
        if not isinstance(self.question, str) or not self.question.strip():
            raise DataError(self.id, "question is empty")
        if self.answer is None or str(self.answer).strip() == "":
            raise DataError(self.id, "answer is empty")
        self.answer = str(self.answer)
        if isinstance(self.images, str):
            self.images = [self.images]
        self.images = [str(p) for p in self.images]
        if self.choices is not None:
            self.choices = [str(c) for c in self.choices]
            if len(self.choices) < 2:
                raise DataError(self.id, "a multiple-choice record needs at least two choices")
            if self.answer not in self.choices:
                raise DataError(self.id, f"answer {self.answer!r} is not one of the choices {self.choices}")

    @property
    def precision(self) -> int | None:
        """Decimal places a float answer is compared at (``metadata["precision"]``), if given."""
        p = self.metadata.get("precision")
        return None if p is None else int(p)

    @property
    def answer_letter(self) -> str | None:
        """The letter (A, B, ...) of the correct choice, for multiple choice."""
        if self.choices is None:
            return None
        return choice_letter(self.choices.index(self.answer))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str | None = None) -> Record:
        """Build a record from its JSON form, with an error that names the item when a field is off."""
        item = str(d.get("id", where or "<no id>"))
        unknown = set(d) - set(FIELDS)
        if unknown:
            raise DataError(item, f"unknown field(s) {sorted(unknown)}; expected {list(FIELDS)}", where)
        missing = [k for k in ("id", "question", "answer") if k not in d]
        if missing:
            raise DataError(item, f"missing field(s) {missing}", where)
        try:
            return cls(**{k: v for k, v in d.items() if v is not None or k == "choices"})
        except DataError as e:
            raise DataError(e.item, e.reason, where) from None
        except TypeError as e:
            raise DataError(item, f"bad field type: {e}", where) from None


LONG_QUESTION_CHARS = 16_000
"""A question longer than this (about 4,000 tokens) is no benchmark-like question: MathVista's longest testmini
question is 942 characters, its longest query 1,295. Usually it is a data error (a pasted document, a bad join)
that costs tokens in every call and may not fit the model's context, so the dry runs name it."""


def long_questions_warning(questions: Iterable[tuple[str, str]], limit: int = LONG_QUESTION_CHARS) -> str | None:
    """A warning naming the items whose question (``(id, text)`` pairs) is over ``limit`` characters; None if none.

    >>> long_questions_warning([("a", "How many?"), ("b", "x" * 20_000)])
    "1 item(s) have a question over 16,000 characters (about 4,000 tokens; MathVista's longest is 942): b (20,000 characters); a pasted document or a bad join? Each costs its length in tokens in every call and may not fit the model's context"
    """
    over = [(i, len(q)) for i, q in questions if isinstance(q, str) and len(q) > limit]
    if not over:
        return None
    over.sort(key=lambda t: -t[1])
    named = ", ".join(f"{i} ({n:,} characters)" for i, n in over[:5]) + (f", … {len(over) - 5} more" if len(over) > 5 else "")
    return (f"{len(over)} item(s) have a question over {limit:,} characters (about {limit // 4:,} tokens; MathVista's "
            f"longest is 942): {named}; a pasted document or a bad join? Each costs its length in tokens in every "
            "call and may not fit the model's context")
