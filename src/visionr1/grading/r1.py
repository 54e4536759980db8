"""The R1 completion grammar and reflection-word counts.

A Vision-R1 completion is reasoning in ``<think>`` followed by the final answer in ``<answer>``.
The hard formatting result reward only pays for completions that follow this grammar exactly, so
the parser is strict and says *why* a completion fails: that reason is what a training log needs
to explain a format-reward collapse.

Two answer forms are accepted: ``<answer>X</answer>`` and the paper's ``<answer> Final Answer: X
</answer>`` (the form of the released Vision-R1 data and model, and the pattern the authors' eval
reads). The ``Final Answer:`` label is part of the form, not of the answer: :func:`final_answer`
drops it, so both forms give the same answer, and a tag holding only the label is an empty answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
_TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)

FINAL_ANSWER_LABEL_RE = re.compile(
    r"^\s*(?:\*\*)?\s*final\s+answer\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?", re.IGNORECASE
)
"""The paper's label at the start of the answer tag: ``Final Answer:`` (any case, markdown bold allowed)."""

REFLECTIVE_WORDS: tuple[str, ...] = ("Wait", "Hmm", "Mistake", "Alternatively", "Check")
"""The five self-reflective indicators the paper counts (arXiv 2503.06749, Table 2), in its order."""
_REFLECTIVE_RE = re.compile(r"\b(" + "|".join(REFLECTIVE_WORDS) + r")\b", re.IGNORECASE)
_CANONICAL = {w.lower(): w for w in REFLECTIVE_WORDS}


ANSWER_FORMS: tuple[str, ...] = ("final_answer", "short")
"""How :func:`format_r1` writes the answer: ``final_answer`` is the paper's ``<answer> Final Answer:X </answer>``
(its released Vision-R1-cold data and Vision-R1-7B write exactly this, and the authors' eval reads the answer
with the pattern ``<answer> Final Answer:(.*?) </answer>``); ``short`` is ``<answer>X</answer>``."""


def format_r1(think: str, answer: str, form: str = "final_answer") -> str:
    """A completion in R1 form: ``<think>think</think>`` then the answer in ``form`` (:data:`ANSWER_FORMS`).

    >>> format_r1("2 and 2 make 4.", "4")
    '<think>2 and 2 make 4.</think><answer> Final Answer:4 </answer>'
    >>> format_r1("2 and 2 make 4.", "4", "short")
    '<think>2 and 2 make 4.</think><answer>4</answer>'
    """
    if form == "final_answer":
        return f"{THINK_OPEN}{think}{THINK_CLOSE}{ANSWER_OPEN} Final Answer:{answer} {ANSWER_CLOSE}"
    if form == "short":
        return f"{THINK_OPEN}{think}{THINK_CLOSE}{ANSWER_OPEN}{answer}{ANSWER_CLOSE}"
    raise ValueError(f"unknown answer form {form!r}; valid: {', '.join(ANSWER_FORMS)}")


@dataclass(frozen=True)
class R1Parse:
    """The outcome of :func:`parse_r1`.

    ``think`` is the stripped reasoning and ``answer`` the final answer (the tag content, stripped,
    with the paper's ``Final Answer:`` label dropped) when ``ok``; both are ``None`` otherwise, and
    ``reason`` says what broke the grammar.
    """

    ok: bool
    think: str | None = None
    answer: str | None = None
    reason: str | None = None


def _fail(reason: str) -> R1Parse:
    return R1Parse(ok=False, reason=reason)


def final_answer(content: str) -> str:
    """The answer an ``<answer>`` tag holds: its content stripped, a leading ``Final Answer:`` label dropped.

    >>> final_answer(" Final Answer: 7 "), final_answer("7"), final_answer("**Final answer:**")
    ('7', '7', '')
    """
    return FINAL_ANSWER_LABEL_RE.sub("", content, count=1).strip() if isinstance(content, str) else ""


def parse_r1(text: str) -> R1Parse:
    """Parse ``<think>…</think><answer>…</answer>``, strictly.

    Well-formed means: optional whitespace, ``<think>``, non-empty reasoning, ``</think>``,
    optional whitespace, ``<answer>``, non-empty answer (``X`` or ``Final Answer: X``), ``</answer>``,
    optional whitespace; one of each tag, in that order, nothing else outside. Never raises; a
    non-string is malformed.

    >>> parse_r1("<think>2+2 is 4</think> <answer>4</answer>").answer
    '4'
    >>> parse_r1("<think>2+2 is 4</think><answer> Final Answer: 4 </answer>").answer
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
    answer = final_answer(answer)
    if not answer:
        return _fail("empty answer")
    return R1Parse(ok=True, think=think.strip(), answer=answer)


def count_reflective_words(text: str) -> dict[str, int]:
    """Count the paper's reflective words (Wait, Hmm, Mistake, Alternatively, Check) in ``text``.

    Whole words in any case. The paper does not state its counting rule; its own reflective examples
    write them mid-sentence in lower case ("But wait, maybe I made a mistake. Let me double-check
    again", Vision-R1-7B on MathVerse), so a capitalised-only count would miss most "mistake" and
    "check" it reports in Table 2. Inflected forms ("Waiting", "checked", "Hmmm") do not count.

    >>> count_reflective_words("Hmm. Wait, no. But wait, a mistake: let me double-check.")
    {'Wait': 2, 'Hmm': 1, 'Mistake': 1, 'Alternatively': 0, 'Check': 1}
    """
    counts = dict.fromkeys(REFLECTIVE_WORDS, 0)
    if isinstance(text, str):
        for m in _REFLECTIVE_RE.finditer(text):
            counts[_CANONICAL[m.group(1).lower()]] += 1
    return counts
