"""Stage 4: keep a long CoT only if it is right, whole and readable; say why otherwise.

Checks run in a fixed order and the first that fails names the rejection (:data:`REASONS`). A kept
CoT has its references to "the description" rewritten into references to the image (the SFT model
will see the image, never the description), and a rewrite that would leave broken text rejects the
CoT instead of shipping it.

Example:
    >>> from visionr1.data.record import Record
    >>> rec = Record(id="r", question="How many?", answer="3", answer_type="integer")
    >>> v = check(Candidate("The description says there are 3 dots. " * 2 + "So 3.", "Final answer: 3"), rec,
    ...           FilterConfig(min_reasoning_words=5))
    >>> v.ok, v.answer, v.reasoning[:29]
    (True, '3', 'The image shows there are 3 d')
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass

from visionr1.bridge.config import FilterConfig
from visionr1.data.record import Record
from visionr1.grading import extract_answer, is_equivalent
from visionr1.r1 import R1_TAGS, choice_letter, reasoning_unclosed, split_reasoning

REASONS: dict[str, str] = {
    "failed_call": "an endpoint call failed for good (retries exhausted or a permanent error)",
    "empty_response": "a stage returned no text, every attempt",
    "no_solution": "the template teacher needs metadata['solution'] (records from visionr1 synth)",
    "truncated": "the reasoning hit the token limit or never closed",
    "missing_reasoning": "no reasoning: neither <think>…</think> nor a reasoning_content field",
    "garbled_reasoning": "the reasoning holds format tags, control characters or little text",
    "no_final_answer": "no final answer could be extracted",
    "wrong_answer": "the final answer is not equivalent to the ground truth",
    "undecided_answer": "the grader could not decide, within its budget, whether the final answer is right",
    "repetition": "the reasoning repeats itself (degenerate generation)",
    "language_mixing": "the reasoning mixes in another script (e.g. Chinese in English)",
    "too_short": "the reasoning is shorter than filters.min_reasoning_words",
    "too_long": "the reasoning is longer than filters.max_reasoning_words",
    "mentions_description": "the reasoning still refers to the description after rewriting",
    "broken_rewrite": "rewriting the description references would leave broken text",
}
"""Every rejection reason, with what it means (also written to stats.md)."""


@dataclass
class Candidate:
    """A stage-3 output (or the template teacher's): reasoning, the text after it, and why it stopped."""

    reasoning: str | None
    content: str
    finish_reason: str | None = "stop"
    unclosed: bool = False

    @classmethod
    def from_response(cls, content: str | None, reasoning: str | None, finish_reason: str | None) -> Candidate:
        """Split inline ``<think>`` or take the separate reasoning field (:func:`visionr1.r1.split_reasoning`)."""
        r, rest = split_reasoning(content, reasoning)
        return cls(reasoning=r, content=rest, finish_reason=finish_reason, unclosed=reasoning_unclosed(content, reasoning))


@dataclass
class Verdict:
    """The outcome for one candidate: kept (``ok``) with the rewritten reasoning and the ``<answer>`` text,
    or rejected with a ``reason`` from :data:`REASONS` and a ``detail``."""

    ok: bool
    reason: str | None = None
    detail: str = ""
    reasoning: str = ""
    answer: str = ""
    extracted: str | None = None


def reject(reason: str, detail: str = "", extracted: str | None = None) -> Verdict:
    assert reason in REASONS, reason
    return Verdict(ok=False, reason=reason, detail=detail, extracted=extracted)


def check(cand: Candidate, record: Record, cfg: FilterConfig) -> Verdict:
    """Run every filter on ``cand`` for ``record``; see the module docstring."""
    if cand.finish_reason == "length" or cand.unclosed:
        return reject("truncated", f"finish_reason={cand.finish_reason}" + (", <think> never closed" if cand.unclosed else ""))
    reasoning = (cand.reasoning or "").strip()
    if not reasoning:
        return reject("missing_reasoning")
    bad = garbled(reasoning)
    if bad:
        return reject("garbled_reasoning", bad)
    extracted = final_answer(cand, record)
    if extracted is None:
        return reject("no_final_answer")
    precision = record.precision
    same = is_equivalent(extracted, record.answer, choices=record.choices, answer_type=record.answer_type, precision=precision)
    if same is None:  # only answers shown right are kept, but an undecided one is not called wrong
        return reject("undecided_answer", f"got {extracted!r}, expected {record.answer!r}", extracted)
    if not same:
        return reject("wrong_answer", f"got {extracted!r}, expected {record.answer!r}", extracted)
    rep = repetition(reasoning, cfg)
    if rep:
        return reject("repetition", rep, extracted)
    mix = language_mixing(reasoning, record.question, cfg.max_foreign_script_ratio)
    if mix:
        return reject("language_mixing", mix, extracted)
    n_words = len(reasoning.split())
    if n_words < cfg.min_reasoning_words:
        return reject("too_short", f"{n_words} words < {cfg.min_reasoning_words}", extracted)
    if n_words > cfg.max_reasoning_words:
        return reject("too_long", f"{n_words} words > {cfg.max_reasoning_words}", extracted)
    rewritten = rewrite_description_refs(reasoning)
    if re.search(r"\bdescri(?:ption|bed)s?\b", rewritten, re.IGNORECASE) and not re.search(
        r"\bdescri", record.question, re.IGNORECASE
    ):
        m = re.search(r".{0,40}\bdescri(?:ption|bed)s?\b.{0,40}", rewritten, re.IGNORECASE)
        return reject("mentions_description", m.group(0) if m else "", extracted)
    broken = broken_text(rewritten)
    if broken:
        return reject("broken_rewrite", broken, extracted)
    return Verdict(ok=True, reasoning=rewritten, answer=answer_text(extracted, record), extracted=extracted)


# ----------------------------------------------------------------------------- answers


def final_answer(cand: Candidate, record: Record) -> str | None:
    """The final answer: from the text after the reasoning, else from the reasoning's last lines."""
    for text in (cand.content, (cand.reasoning or "")[-1500:] if not cand.content.strip() else ""):
        if text and text.strip():
            ex = extract_answer(text, choices=record.choices)
            if ex.text:
                return ex.text
    return None


def answer_text(extracted: str, record: Record) -> str:
    """What goes in ``<answer>``: the choice letter for multiple choice, else the model's (verified) answer.

    >>> answer_text("(B) 8/11", Record(id="r", question="q", answer="8/11", choices=["3/11", "8/11"]))
    'B'
    """
    if record.choices:
        for i in range(len(record.choices)):
            if is_equivalent(extracted, choice_letter(i), choices=record.choices):
                return choice_letter(i)
        return record.answer_letter or extracted
    return extracted.strip()


# ----------------------------------------------------------------------------- garbage and degeneration


def garbled(text: str) -> str | None:
    """Why ``text`` is unusable as reasoning, or None: R1 tags inside, control/replacement characters,
    or too few letters (binary noise, base64, a wall of symbols)."""
    for tag in R1_TAGS:
        if tag in text:
            return f"contains {tag}"
    bad = sum(1 for ch in text if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t"))
    if bad > max(2, len(text) // 1000):
        return f"{bad} control or replacement characters"
    non_space = [ch for ch in text if not ch.isspace()]
    if non_space:
        letters = sum(ch.isalpha() for ch in non_space)
        if letters / len(non_space) < 0.3:
            return f"only {letters / len(non_space):.0%} letters"
    if re.search(r"\S{200,}", text):
        return "a 200+ character run without spaces"
    return None


def repetition(text: str, cfg: FilterConfig, n: int = 10) -> str | None:
    """Why ``text`` looks degenerate, or None: a 10-word sequence repeated too often, or a text that
    compresses far better than prose does (loops of a phrase)."""
    words = text.split()
    if len(words) >= n:
        grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
        gram, count = grams.most_common(1)[0]
        if count > cfg.max_ngram_repeats:
            return f"{' '.join(gram)!r} x{count}"
    raw = text.encode("utf-8")
    if len(raw) >= 2000:
        ratio = len(raw) / len(zlib.compress(raw, 6))
        if ratio > cfg.max_compression_ratio:
            return f"compression ratio {ratio:.1f} > {cfg.max_compression_ratio}"
    return None


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    if ord(ch) < 0x250:
        return "LATIN"
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "OTHER"
    for script in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "CYRILLIC", "ARABIC", "HEBREW", "THAI", "DEVANAGARI",
                   "GREEK", "LATIN"):
        if name.startswith(script) or f" {script} " in f" {name} ":
            return {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}.get(script, script)
    return "OTHER"


def language_mixing(text: str, question: str, max_ratio: float) -> str | None:
    """Why ``text`` mixes languages, or None: letters in scripts other than the question's main one.

    Greek is ignored (it is maths: θ, π, α). R1-class reasoners drift into Chinese mid-thought; that
    is the case this catches.

    >>> language_mixing("So the angle is 40 degrees, 所以答案是 40.", "What is the angle?", 0.01)
    'CJK letters: 5 of 24 (21%)'
    """
    q = Counter(s for s in map(_script, question) if s and s != "GREEK")
    main = q.most_common(1)[0][0] if q else "LATIN"
    counts = Counter(s for s in map(_script, text) if s and s != "GREEK")
    total = sum(counts.values())
    foreign = {s: c for s, c in counts.items() if s != main and s != "OTHER"}
    n_foreign = sum(foreign.values())
    if total and n_foreign >= 3 and n_foreign / total > max_ratio:
        worst = max(foreign, key=foreign.__getitem__)
        return f"{worst} letters: {n_foreign} of {total} ({n_foreign / total:.0%})"
    return None


# ----------------------------------------------------------------------------- "the description" -> the image

_ADJ = r"(?:(?:given|provided|above|detailed|image|textual|written|following|original|full)\s+)*"
_DESC = rf"(?:the|this|that)\s+{_ADJ}description"
_SAY = r"(?:says|states|mentions|notes|indicates|tells\s+us|specifies|reads|describes|lists|gives|shows|explains|reports|clarifies|depicts|confirms)"
_SAY_BASE = r"(?:say|state|mention|note|indicate|tell\s+us|specify|list|give|show|explain|report|clarify|confirm)"
_SEE = r"(?:shows|contains|has|depicts|includes|displays|illustrates)"

# (pattern, replacement), applied in order; verbs map to verbs and nouns to nouns so nothing like
# "The image shows illustrates" can come out. Case of the first letter is kept.
_RULES: list[tuple[re.Pattern[str], str]] = [
    # "the description says (that) the image shows X" -> "the image shows X"
    (re.compile(rf"\b{_DESC}\s+{_SAY}(?:\s+that)?\s*,?\s+(?:the\s+image|the\s+picture|it)\s+({_SEE})\b", re.I), r"the image \1"),
    # "according to / based on / from / in the description," -> "looking at the image,"
    (re.compile(rf"\b(?:according\s+to|based\s+on|going\s+by|per)\s+{_DESC}\b", re.I), "looking at the image"),
    # "the description doesn't mention / say" -> "the image doesn't show"
    (re.compile(rf"\b{_DESC}\s+(doesn't|does\s+not|didn't|did\s+not)\s+{_SAY_BASE}\b", re.I), r"the image \1 show"),
    # "the description says (that)" -> "the image shows"
    (re.compile(rf"\b{_DESC}\s+{_SAY}(?:\s+that)?\b", re.I), "the image shows"),
    # "the description also / clearly says" -> "the image also shows"
    (re.compile(rf"\b{_DESC}\s+(also|clearly|explicitly|only|just)\s+{_SAY}(?:\s+that)?\b", re.I), r"the image \1 shows"),
    # "(as) described/stated/mentioned in the description" -> "(as) shown in the image"
    (re.compile(rf"\b(?:described|stated|mentioned|given|listed|noted|specified)\s+(in|by)\s+{_DESC}\b", re.I), "shown in the image"),
    # "as described" / "as stated" (without an object) -> "as shown"
    (re.compile(r"\bas\s+(?:described|stated\s+in\s+the\s+text)\b", re.I), "as shown"),
    # "the X described" -> "the X shown"
    (re.compile(r"\b(the\s+\w+(?:\s+\w+)?)\s+described\b(?!\s+(?:as|by|in))", re.I), r"\1 shown"),
    # "the image description" / "the description of the image" -> "the image"
    (re.compile(r"\b(?:the|this)\s+(?:image|picture)\s+description\b", re.I), "the image"),
    (re.compile(rf"\b{_DESC}\s+of\s+the\s+(?:image|picture|figure|diagram)\b", re.I), "the image"),
    # any remaining "the description" noun -> "the image"
    (re.compile(rf"\b{_DESC}\b", re.I), "the image"),
    # "the described triangle" -> "the triangle shown" is awkward; "the described" -> "the"
    (re.compile(r"\bthe\s+described\s+", re.I), "the "),
]


def _keep_case(repl: str | None):
    def sub(m: re.Match[str]) -> str:
        out = m.expand(repl) if repl is not None else m.group(0)
        return out[:1].upper() + out[1:] if m.group(0)[:1].isupper() else out

    return sub


def rewrite_description_refs(text: str) -> str:
    """Turn references to "the description" into references to the image, keeping the grammar.

    >>> rewrite_description_refs("The description says that there are 3 red circles.")
    'The image shows there are 3 red circles.'
    >>> rewrite_description_refs("The description states the image shows a right angle.")
    'The image shows a right angle.'
    >>> rewrite_description_refs("According to the description, bar A is 2.5.")
    'Looking at the image, bar A is 2.5.'
    >>> rewrite_description_refs("The description illustrates two circles, as described.")
    'The image illustrates two circles, as shown.'
    """
    for pattern, repl in _RULES:
        text = pattern.sub(_keep_case(repl), text)
    return text


_BROKEN_RES = [
    re.compile(r"\bthe\s+image\s+(?:shows|depicts|illustrates|contains|displays)\s+(?:shows|says|states|mentions|illustrates|depicts|indicates|notes|describes)\b", re.I),
    re.compile(r"\b(?:image|picture)\s+(?:image|picture)\b", re.I),
    re.compile(r"\bthe\s+the\b", re.I),
    re.compile(r"\b(?:shown\s+shown|shows\s+shows)\b", re.I),
]


def broken_text(text: str) -> str | None:
    """A snippet of doubled words or verb pile-ups a rewrite can leave ("The image shows illustrates")."""
    for r in _BROKEN_RES:
        m = r.search(text)
        if m:
            return m.group(0)
    return None
