"""The R1 completion grammar and reflection-word counts.

A Vision-R1 completion is reasoning in ``<think>`` followed by the final answer in ``<answer>``.
The hard formatting result reward only pays for completions that follow this grammar exactly, so
the parser is strict and says *why* a completion fails: that reason is what a training log needs
to explain a format-reward collapse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
_TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)

REFLECTIVE_WORDS: tuple[str, ...] = ("Wait", "Hmm", "Alternatively")
_REFLECTIVE_RE = re.compile(r"\b(" + "|".join(REFLECTIVE_WORDS) + r")\b")


@dataclass(frozen=True)
class R1Parse:
    """The outcome of :func:`parse_r1`.

    ``think`` and ``answer`` are the stripped tag contents when ``ok``; both are ``None`` otherwise,
    and ``reason`` says what broke the grammar.
    """

    ok: bool
    think: str | None = None
    answer: str | None = None
    reason: str | None = None


def _fail(reason: str) -> R1Parse:
    return R1Parse(ok=False, reason=reason)


def parse_r1(text: str) -> R1Parse:
    """Parse ``<think>…</think><answer>…</answer>``, strictly.

    Well-formed means: optional whitespace, ``<think>``, non-empty reasoning, ``</think>``,
    optional whitespace, ``<answer>``, non-empty answer, ``</answer>``, optional whitespace; one of
    each tag, in that order, nothing else outside. Never raises; a non-string is malformed.

    >>> parse_r1("<think>2+2 is 4</think> <answer>4</answer>").answer
    '4'
    >>> parse_r1("<think>x</think>4").reason
    'missing <answer>'
    """
    if not isinstance(text, str):
        return _fail("not a string")
    for tag in _TAGS:
        n = text.count(tag)
        if n == 0:
            return _fail(f"missing {tag}")
        if n > 1:
            return _fail(f"duplicate {tag}")
    i0, i1, i2, i3 = (text.index(tag) for tag in _TAGS)
    if not (i0 < i1 < i2 < i3):
        return _fail("tags out of order")
    before = text[:i0]
    think = text[i0 + len(THINK_OPEN) : i1]
    between = text[i1 + len(THINK_CLOSE) : i2]
    answer = text[i2 + len(ANSWER_OPEN) : i3]
    after = text[i3 + len(ANSWER_CLOSE) :]
    if before.strip():
        return _fail("text before <think>")
    if between.strip():
        return _fail("text between </think> and <answer>")
    if after.strip():
        return _fail("text after </answer>")
    if not think.strip():
        return _fail("empty reasoning")
    if not answer.strip():
        return _fail("empty answer")
    return R1Parse(ok=True, think=think.strip(), answer=answer.strip())


def count_reflective_words(text: str) -> dict[str, int]:
    """Count the reflection markers the Vision-R1 paper tracks ("Wait", "Hmm", "Alternatively").

    Whole words, case-sensitive: the capitalised forms are the ones that open a self-correction;
    "wait for the bus" does not count.

    >>> count_reflective_words("Hmm. Wait, no. Wait.")
    {'Wait': 2, 'Hmm': 1, 'Alternatively': 0}
    """
    counts = dict.fromkeys(REFLECTIVE_WORDS, 0)
    if isinstance(text, str):
        for m in _REFLECTIVE_RE.finditer(text):
            counts[m.group(1)] += 1
    return counts
