"""Answer extraction: pull the final answer out of free model text, judge-free.

Rules run in a fixed order and the first that fires wins; the rule's name is reported so a
scorer can show *how* each answer was found (and a reviewer can spot a rule that misfires):

1. ``answer_tag``    the content of ``<answer>…</answer>`` (a leading ``Final Answer:`` dropped);
2. ``boxed``         the last ``\\boxed{…}`` / ``\\fbox{…}``, braces matched;
3. ``phrase``        "the answer is …", "Answer: …", "the correct option is …";
4. ``choice_letter`` a choice: ``(B)``, ``B.``, a bare letter on the last line, "option B", or a
                     line that is exactly one of the ``choices``;
5. ``last_number``   the last number in the text;
6. ``none``          nothing found.

Every regular expression here is linear in the input (no nested quantifiers), so a megabyte of
text costs milliseconds, not minutes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

RULES: tuple[str, ...] = ("answer_tag", "boxed", "phrase", "choice_letter", "last_number", "none")

# Texts longer than this are graded on their tail only: a final answer lives at the end, and the
# cap bounds the work a pathological completion can cause.
MAX_TEXT_CHARS = 200_000


class Extraction(NamedTuple):
    """What :func:`extract_answer` found (``text``, ``None`` when nothing) and the ``rule`` that fired.

    A named tuple, so ``text, rule = extract_answer(...)`` works.
    """

    text: str | None
    rule: str


_ANSWER_TAG_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_FINAL_ANSWER_PREFIX_RE = re.compile(r"^\s*(?:\*\*)?\s*final\s+answer\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?", re.IGNORECASE)
_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BOX_BARE_RE = re.compile(r"\\boxed\s+([^\s$]+)")

_PHRASE_RE = re.compile(
    r"(?:"
    r"\b(?:final\s+|correct\s+|right\s+|best\s+)?answer\s*(?:is|would\s+be|should\s+be|will\s+be|=)\s*[:：]?"
    r"|\b(?:final\s+)?answer\s*(?:\*\*)?\s*[:：]"
    r"|\b(?:correct|right|best|closest|final)\s+(?:option|choice)\s*(?:letter\s*)?(?:is|would\s+be|should\s+be|:)\s*[:：]?"
    r"|\b(?:option|choice)\s+letter\s+(?:is|would\s+be|should\s+be|:)\s*[:：]?"
    r"|答案\s*(?:是|为|應為|应为)?\s*[:：]?"
    r")[ \t]*(?:\*\*)?[ \t]*(?:\n[ \t]*){0,2}",
    re.IGNORECASE,
)
# The captured answer runs to the end of the line or of the sentence (a period then space or end;
# "1.5" does not end a sentence).
_SENTENCE_END_RE = re.compile(r"\.(?=\s|$)|\n|。")

_PAREN_LETTER_RE = re.compile(r"\(([A-Za-z])\)")
_PAREN_OR_QUOTED_LETTER_RE = re.compile(r"(?:\(|[\"“])([A-Za-z])(?:\)|[\"”])")
_OPTION_WORD_RE = re.compile(r"\b(?:option|choice)\s*\(?([A-Z])\b\)?", re.IGNORECASE)
_LINE_LETTER_RE = re.compile(r"^\s*(?:\*\*)?\(?([A-Z])(?:\)|\.|:|\*\*|\s|$)")
_LETTER_LINE_RE = re.compile(r"^\s*\(?([A-Z])(?:\)|\.|:)?(?:\s*$|[.):]\s+(.+)$)")
_CN_OPTION_RE = re.compile(r"选项\s*([A-Z])")
_CODE_FENCE_RE = re.compile(r"```.*?(?:```|\Z)", re.S)  # a fenced block (diagrams, code): its lines are not answers
_FINAL_LETTER_RE = re.compile(r"(?:^|[\s(])([A-Z])\)?[.。!]?\s*$")
_BARE_LETTER_RE = re.compile(r"^\s*\(?([A-Za-z])\)?\s*[.)]?\s*$")

# Numbers that are exponents (``m^2``) or function arguments (``f(0)``) are not answers.
_NUMBER_RE = re.compile(r"(?<![\w.^])(?<!\^\{)(?<![A-Za-z]\()[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])|(?<![\w.])[-−]?\.\d+")


def _matched_brace(text: str, open_index: int) -> int | None:
    """Index of the ``}`` matching the ``{`` at ``open_index``, or ``None`` when unbalanced."""
    depth = 0
    for i in range(open_index, len(text)):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{…}`` (nested braces allowed), else ``None``.

    >>> last_boxed(r"so \\boxed{\\frac{1}{2}}.")
    '\\\\frac{1}{2}'
    """
    matches = list(_BOX_RE.finditer(text))
    for m in reversed(matches[-20:]):
        end = _matched_brace(text, m.end() - 1)
        if end is not None:
            return text[m.end() : end].strip()
    bare = list(_BOX_BARE_RE.finditer(text))
    if bare:
        return bare[-1].group(1).strip()
    return None


_LATEX_TEXT_RE = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textit|operatorname)\s*\{([^{}]*)\}")


def clean_answer(text: str) -> str:
    """Trim the wrapping that models put around a final answer.

    Drops markdown bold, surrounding ``$``/``\\(\\)``, ``\\text{}`` wrappers, a whole-answer
    ``\\boxed{}``, quotes and trailing punctuation; keeps the mathematical content unchanged.

    >>> clean_answer(r"**$\\boxed{\\text{(B)}}$.**")
    '(B)'
    """
    s = text.strip()
    for _ in range(3):
        before = s
        s = s.replace("**", "").strip()
        if s.startswith("\\boxed") or s.startswith("\\fbox"):
            inner = last_boxed(s)
            if inner is not None and s.rstrip(" .$").endswith("}"):
                s = inner
        if len(s) >= 2 and s[0] == "$" and s[-1] == "$":
            s = s.strip("$").strip()
        if s.startswith("\\(") and s.endswith("\\)"):
            s = s[2:-2].strip()
        if s.startswith("\\[") and s.endswith("\\]"):
            s = s[2:-2].strip()
        s = _LATEX_TEXT_RE.sub(r"\1", s)
        s = s.rstrip(" \t.;,!").lstrip(" \t:")
        if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'`":
            s = s[1:-1].strip()
        if s == before:
            break
    return s


def _from_answer_tag(text: str) -> str | None:
    matches = _ANSWER_TAG_RE.findall(text)
    if matches:
        content = matches[-1]
    else:
        i = text.rfind("<answer>")
        if i < 0:
            return None
        content = text[i + len("<answer>") :]  # truncated completion: take what is there
    content = _FINAL_ANSWER_PREFIX_RE.sub("", content, count=1)
    boxed = last_boxed(content)
    if boxed is not None:
        content = boxed
    content = clean_answer(content)
    return content or None


def _from_phrase(text: str) -> str | None:
    matches = list(_PHRASE_RE.finditer(text))
    for m in reversed(matches[-20:]):
        rest = text[m.end() : m.end() + 500]
        end = _SENTENCE_END_RE.search(rest)
        candidate = clean_answer(rest[: end.start()] if end else rest)
        if candidate:
            return candidate
    return None


def _letters(choices: list[str] | None) -> str:
    n = len(choices) if choices else 26
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: max(0, min(n, 26))]


def _norm_choice_text(s: str) -> str:
    return re.sub(r"\s+", " ", clean_answer(s)).lower()


def _from_choice(text: str, choices: list[str] | None) -> str | None:
    valid = _letters(choices)
    stripped = clean_answer(text)
    m = _BARE_LETTER_RE.match(stripped)
    if m and m.group(1).upper() in valid and (choices or m.group(1).isupper()):
        return m.group(1).upper()
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    last_line = lines[-1] if lines else ""
    if choices:
        norm_choices = [_norm_choice_text(str(c)) for c in choices]
        for candidate in (stripped, clean_answer(last_line)):
            norm = _norm_choice_text(candidate)
            if norm and norm in norm_choices:
                return str(choices[norm_choices.index(norm)])
    if choices:
        prose = [ln for ln in _CODE_FENCE_RE.sub("\n", text).splitlines() if ln.strip()]
        for line in reversed(prose[-30:]):
            m = _LETTER_LINE_RE.match(line.replace("**", ""))
            if m and m.group(1) in valid:
                rest = m.group(2)
                if not rest or _norm_choice_text(rest) == _norm_choice_text(str(choices[valid.index(m.group(1))])):
                    return m.group(1)
    m = _CN_OPTION_RE.search(text[-2000:])
    if m and m.group(1) in valid:
        return m.group(1)
    m = _LINE_LETTER_RE.match(last_line)
    if m and m.group(1) in valid and (choices or len(last_line.strip()) <= 4):
        return m.group(1)
    if choices:
        m = _FINAL_LETTER_RE.search(last_line[-200:])
        if m and m.group(1) in valid:
            return m.group(1)
    tail = text[-5000:]
    found = [x for x in _PAREN_OR_QUOTED_LETTER_RE.findall(tail) if x.upper() in valid and x.isupper()]
    if found:
        return found[-1].upper()
    if choices:
        found = [x.upper() for x in _OPTION_WORD_RE.findall(tail) if x.upper() in valid]
        if found:
            return found[-1]
    return None


def last_number(text: str) -> str | None:
    """The last number in ``text`` as written (thousands separators dropped), else ``None``.

    >>> last_number("from 1,200 to -3.5 m")
    '-3.5'
    """
    tail = text[-5000:]
    found = _NUMBER_RE.findall(tail)
    if not found:
        return None
    return found[-1].replace(",", "").replace("−", "-")


def extract_answer(text: str, *, choices: list[str] | None = None) -> Extraction:
    """Extract the final answer from model text by the rules listed in the module docstring.

    ``choices`` (the option texts, in letter order) lets the choice rule recognise letters beyond
    the obvious ``(B)`` and a final line that is an option's text. Never raises.

    >>> extract_answer("<think>…</think><answer>Final Answer: 12</answer>")
    Extraction(text='12', rule='answer_tag')
    >>> extract_answer("So the answer is (B) 8/11.", choices=["3/11", "8/11"])
    Extraction(text='(B) 8/11', rule='phrase')
    >>> extract_answer("There are 3 cats and 4 dogs.")
    Extraction(text='4', rule='last_number')
    """
    if not isinstance(text, str) or not text.strip():
        return Extraction(None, "none")
    if len(text) > MAX_TEXT_CHARS:
        text = text[-MAX_TEXT_CHARS:]
    try:
        if "<answer>" in text:
            found = _from_answer_tag(text)
            if found:
                return Extraction(found, "answer_tag")
        if "box" in text:
            found = last_boxed(text)
            if found:
                cleaned = clean_answer(found)
                if cleaned:
                    return Extraction(cleaned, "boxed")
        found = _from_phrase(text)
        if found:
            return Extraction(found, "phrase")
        found = _from_choice(text, choices)
        if found:
            return Extraction(found, "choice_letter")
        found = last_number(text)
        if found:
            return Extraction(found, "last_number")
    except (RecursionError, MemoryError, ValueError):  # defensive: extraction must never raise
        pass
    return Extraction(None, "none")
