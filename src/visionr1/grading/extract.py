"""Answer extraction: pull the final answer out of free model text, judge-free.

Text after a new ``Question:`` that follows an answer is cut off first (a few-shot model that runs
on answers a question nobody asked; see :mod:`visionr1.grading.statements`). Then rules run in a
fixed order and the first that fires wins; the rule's name is reported so a scorer can show *how*
each answer was found (and a reviewer can spot a rule that misfires):

1. ``answer_tag``    the content of ``<answer>…</answer>`` (a leading ``Final Answer:`` dropped, a
                     ``\\boxed{}`` inside taken). A closed tag is final: when it holds nothing (or
                     an empty ``\\boxed{}``) the reply gave no answer (``none``), and numbers in the
                     reasoning are *not* read instead;
2. ``boxed``         the last non-empty ``\\boxed{…}`` / ``\\fbox{…}``, braces matched;
3. ``phrase``        "the answer is …", "Answer: …", "the correct option is …" (up to a clause that
                     gives its reason: ", since …", " because …");
4. ``choice_letter`` a choice: ``(B)``, ``B.``, a bare letter on the last line, "option B", or a
                     line that is exactly one of the ``choices`` (an echoed list of the options is
                     not an answer and is skipped, by this rule and the ones after it);
5. ``refusal``       the reply declines or says the question lacks information, or its stated
                     answer says there is none ("The answer is not provided."): no answer, and
                     the statement rules below are not tried (a refusal is not a "no"). When an
                     option itself says "cannot be determined", a declining reply picks it;
6. ``option_text``   an option named by its text, or uniquely by a word only it has, in an answer
                     sentence ("… the wettest month is May.");
7. ``yes_no``        for a yes/no question: a leading "Yes"/"No", or a statement that restates the
                     question, negated ("Periwinkle is not the maximum.") or not;
8. ``stated_number`` the number an answer sentence is about ("There are 2 items sold less than 5
                     units." → 2); a value written with several numbers is read whole (``1/2``,
                     ``5\\sqrt3``, ``(3, -4)``, ``40–60``, ``5-2-3-4-1``), not as its last digit;
9. ``last_number``   the last number in the text, such a value taken whole (a fallback);
10. ``none``         nothing found.

Rules 1–8 find an answer the reply states: the extraction is *decided*. ``last_number``,
``refusal`` and ``none`` are not (``Extraction.decided`` is False): an evaluation can send just
those to an LLM judge.

Every regular expression here is linear in the input (no nested quantifiers), so a megabyte of
text costs milliseconds, not minutes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from visionr1.grading import statements
from visionr1.r1 import LETTERS, choice_letter, final_answer, tagged_answer

RULES: tuple[str, ...] = (
    "answer_tag", "boxed", "phrase", "choice_letter", "refusal", "option_text", "yes_no", "stated_number",
    "last_number", "none",
)
DECIDED_RULES: frozenset[str] = frozenset(
    {"answer_tag", "boxed", "phrase", "choice_letter", "option_text", "yes_no", "stated_number"}
)
"""Rules that find an answer the reply states; the others are fallbacks or find none."""

# Texts longer than this are graded on their tail only: a final answer lives at the end, and the
# cap bounds the work a pathological completion can cause.
MAX_TEXT_CHARS = 200_000


class Extraction(NamedTuple):
    """What :func:`extract_answer` found (``text``, ``None`` when nothing) and the ``rule`` that fired.

    A named tuple, so ``text, rule = extract_answer(...)`` works; ``decided`` says whether the
    reply states its answer (see :data:`DECIDED_RULES`).
    """

    text: str | None
    rule: str

    @property
    def decided(self) -> bool:
        """True when an explicit answer was found, False for a fallback (``last_number``) or no answer."""
        return self.rule in DECIDED_RULES


_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BOX_BARE_RE = re.compile(r"\\boxed\s+([^\s$]+)")

_PHRASE_RE = re.compile(
    r"(?:"
    r"\b(?:final\s+|correct\s+|right\s+|best\s+)?answer(?:\s+to\s+(?:the|this)\s+question)?\s*"
    r"(?:is|would\s+be|should\s+be|will\s+be|=)\s*[:：]?"
    r"|\b(?:final\s+)?answer\s*(?:\*\*)?\s*[:：]"
    r"|\b(?:correct|right|best|closest|final)\s+(?:option|choice)\s*(?:letter\s*)?(?:is|would\s+be|should\s+be|:)\s*[:：]?"
    r"|\b(?:option|choice)\s+letter\s+(?:is|would\s+be|should\s+be|:)\s*[:：]?"
    r"|答案\s*(?:是|为|應為|应为)?\s*[:：]?"
    r")[ \t]*(?:\*\*)?[ \t]*(?:\n[ \t]*){0,2}",
    re.IGNORECASE,
)
# The captured answer runs to the end of the line or of the sentence (a period then space or end;
# "1.5" does not end a sentence), and stops before a clause that explains it ("The correct option
# is C, since the other values do not satisfy …": the answer is C, the rest is its reason).
_SENTENCE_END_RE = re.compile(r"\.(?=\s|$)|\n|。")
_REASON_CLAUSE_RE = re.compile(
    r"(?:,|;|\s[-–—])\s*(?:since|because|as|which|given|due\s+to|for|so|while|whereas|but|however|"
    r"considering|meaning|indicating|suggesting|therefore|thus|hence|where|when|if|according\s+to|based\s+on)\b"
    r"|\s+(?:since|because|as\s+(?:it|they|this|the|there)|due\s+to)\b",
    re.IGNORECASE,
)

_PAREN_LETTER_RE = re.compile(r"\(([A-Za-z])\)")
_PAREN_OR_QUOTED_LETTER_RE = re.compile(r"(?:\(|[\"“])([A-Za-z])(?:\)|[\"”])")
# "option B", not "option A or B" (an alternative is no pick)
_OPTION_WORD_RE = re.compile(r"\b(?:option|choice)\s*\(?([A-Z])\b\)?(?!\s*(?:or|and|/|,)\s*\(?[A-Z]\b)", re.IGNORECASE)
# "B 8/11" starts with a letter answer; "A decrease in …" starts with the article
_LINE_LETTER_RE = re.compile(r"^\s*(?:\*\*)?\(?([A-Z])(?:\)|\.|:|\*\*|\s(?![a-z])|$)")
_LETTER_LINE_RE = re.compile(r"^\s*\(?([A-Z])(?:\)|\.|:)?(?:\s*$|[.):]\s+(.+)$)")
_CN_OPTION_RE = re.compile(r"选项\s*([A-Z])")
_CODE_FENCE_RE = re.compile(r"```.*?(?:```|\Z)", re.S)  # a fenced block (diagrams, code): its lines are not answers
_FINAL_LETTER_RE = re.compile(r"(?:^|[\s(])([A-Z])\)?[.。!]?\s*$")
_NAME_BEFORE_RE = re.compile(r"([A-Za-z]+)\s+$")
_BARE_LETTER_RE = re.compile(r"^\s*\(?([A-Za-z])\)?\s*[.)]?\s*$")



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


_DOLLAR_RE = re.compile(r"(?<!\\)\$")
_LATEX_TEXT_RE = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textit|operatorname)\s*\{([^{}]*)\}")


def clean_answer(text: str) -> str:
    """Trim the wrapping that models put around a final answer.

    Drops markdown bold, ``$`` signs (math delimiters, also unpaired or mid-answer as a reply cut from
    its sentence leaves them: ``2$\\sqrt{10}$``; an escaped ``\\$`` stays), surrounding ``\\(\\)`` /
    ``\\[\\]`` and a closing one left alone (``A.\\]``), ``\\text{}`` wrappers, a whole-answer ``\\boxed{}``
    (also one the reply never closed: ``\\boxed{D.``), quotes and trailing punctuation; keeps the
    mathematical content unchanged.

    >>> clean_answer(r"**$\\boxed{\\text{(B)}}$.**"), clean_answer(r"2$\\sqrt{10}$"), clean_answer(r"\\text{A}.\\]")
    ('(B)', '2\\\\sqrt{10}', 'A')
    >>> clean_answer(r"\\boxed{D."), clean_answer(r"\\frac{2}{\\sqrt{\\pi}}$")
    ('D', '\\\\frac{2}{\\\\sqrt{\\\\pi}}')
    """
    s = text.strip()
    for _ in range(3):
        before = s
        s = s.replace("**", "").strip()
        if s.startswith("\\boxed") or s.startswith("\\fbox"):
            inner = last_boxed(s)
            if inner is not None and s.rstrip(" .$").endswith("}"):
                s = inner
            elif inner is None and s.count("{") > s.count("}"):  # a box the reply never closed
                s = s[s.index("{") + 1:].strip()
        s = _DOLLAR_RE.sub("", s).strip()
        if s.startswith("\\(") and s.endswith("\\)"):
            s = s[2:-2].strip()
        if s.startswith("\\[") and s.endswith("\\]"):
            s = s[2:-2].strip()
        if s.endswith(("\\]", "\\)")) and not any(o in s for o in ("\\[", "\\(")):
            s = s[:-2].strip()
        s = _LATEX_TEXT_RE.sub(r"\1", s)
        s = s.rstrip(" \t.;,!").lstrip(" \t:")
        if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'`":
            s = s[1:-1].strip()
        if s == before:
            break
    return s


def answer_in_tag(content: str) -> str:
    """The answer an ``<answer>`` tag's content gives, cleaned; ``""`` when it gives none.

    The paper's ``Final Answer:`` label is dropped; a ``\\boxed{}`` inside is taken, and an empty
    one is no answer (``<answer>\\boxed{}</answer>`` must not earn a reward).

    >>> answer_in_tag(" Final Answer: \\\\boxed{7} "), answer_in_tag("\\\\boxed{}"), answer_in_tag("  ")
    ('7', '', '')
    """
    return _cleaned_tag_answer(final_answer(content))


def _cleaned_tag_answer(answer: str) -> str:
    """A tag's answer (label dropped) cleaned: a ``\\boxed{}`` inside taken, an unbalanced one no answer."""
    if "box" in answer:
        boxed = last_boxed(answer)
        if boxed is not None:
            answer = boxed
        elif _BOX_RE.search(answer):
            return ""  # an unbalanced \boxed{ holds no answer
    return clean_answer(answer)


def _from_answer_tag(text: str) -> str | None:
    """The answer the reply's answer tag gives (:func:`visionr1.r1.tagged_answer`), cleaned: the last closed tag's
    (``""`` when it holds none), else what follows an unclosed one (a truncated completion: take what is there,
    ``None`` when nothing), else ``None``."""
    tagged = tagged_answer(text)
    if tagged is None:
        return None
    found = _cleaned_tag_answer(tagged.text)
    return found if tagged.closed else (found or None)


_QUOTED_RE = re.compile(r"^[\"“'`]([^\"”'`\n]{1,200})[\"”'`]")


def _from_phrase(text: str) -> str | None:
    matches = list(_PHRASE_RE.finditer(text))
    for m in reversed(matches[-20:]):
        rest = text[m.end() : m.end() + 500]
        quoted = _QUOTED_RE.match(rest)  # 'The answer is "soup." Soup has…': the quote is the answer
        if quoted:
            candidate = clean_answer(quoted.group(1))
        else:
            end = _SENTENCE_END_RE.search(rest)
            sentence = rest[: end.start()] if end else rest
            reason = _REASON_CLAUSE_RE.search(sentence)
            candidate = clean_answer(sentence[: reason.start()] if reason and reason.start() > 0 else sentence)
        if candidate:
            return candidate
    return None


def _without_choice_list(text: str, choices: list[str]) -> str:
    """``text`` with an echoed list of the options ("(A) 1 (B) √3 (C) 2 …") removed.

    A reply that repeats the options names every letter; the last one it names ("(D) 3") is the
    end of the list, not an answer. A list is the first two options or more, in order.
    """
    if len(choices) < 2 or ("(B)" not in text and "B." not in text and "B)" not in text and "B:" not in text):
        return text
    items = [rf"\(?{choice_letter(i)}[).:][ \t]*{re.escape(str(c).strip())}" for i, c in enumerate(choices[:26])]
    sep = r"[\s,;]*"
    pattern = items[0] + sep + items[1] + "".join(f"(?:{sep}{x})?" for x in items[2:])
    return re.sub(pattern, " ", text)


def _letters(choices: list[str] | None) -> str:
    n = len(choices) if choices else 26
    return LETTERS[: max(0, min(n, len(LETTERS)))]


def _norm_choice_text(s: str) -> str:
    return re.sub(r"\s+", " ", clean_answer(s)).lower()


def _from_choice(text: str, choices: list[str] | None, *, mentions: bool = True) -> str | None:
    """A choice letter (or an option's text standing alone). With ``mentions=False`` (the reply
    refuses) a letter merely mentioned in parentheses, quotes or as "option X" counts only when it
    is the one letter mentioned: "I cannot pick option A or B" picks neither, 'I will select "B"'
    picks B."""
    valid = _letters(choices)
    if choices:
        text = _without_choice_list(text, choices)
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
            name = _NAME_BEFORE_RE.search(last_line[-200:][: m.start(1)])
            word = name.group(1) if name else ""
            # "… more balls than Solution B.": a name an option holds, not the letter B; "A or B": no pick
            if word.lower() not in ("or", "and", "nor") and not (
                word and _norm_choice_text(f"{word} {m.group(1)}") in map(_norm_choice_text, choices)
            ):
                return m.group(1)
    tail = text[-5000:]
    found = [x for x in _PAREN_OR_QUOTED_LETTER_RE.findall(tail) if x.upper() in valid and x.isupper()]
    if choices:
        found += [x.upper() for x in _OPTION_WORD_RE.findall(tail) if x.upper() in valid]
    if found and (mentions or len(set(found)) == 1):  # a refusal naming one option ('I select "B"') picks it
        return found[-1].upper()
    return None


def last_number(text: str) -> str | None:
    """The last number in ``text`` as written (thousands separators dropped), else ``None``.

    A value written with several numbers is taken whole (``1/2``, ``5\\sqrt{3}``, ``(3, -4)``; see
    :func:`visionr1.grading.statements.math_tokens`): its last digit is not the answer.

    >>> last_number("from 1,200 to -3.5 m"), last_number("so x = 1/2")
    ('-3.5', '1/2')
    """
    found = statements.math_tokens(text[-5000:])
    if not found:
        return None
    token = found[-1][1]
    if statements.is_compound(token):
        return token.replace("−", "-")
    return token.replace(",", "").replace("−", "-")


_PLAIN_QUANTITY_RE = re.compile(r"^\s*([-−]?\d+(?:\.\d+)?)\s*(?:°|%|\\%|[a-zA-Z]{1,3}(?:\^?[23])?|degrees?)?\s*$")
_LETTER_IN_TEXT_RE = re.compile(r"\(([A-Z])\)|^\s*([A-Z])\s*(?:[.):]|$)")


def _option_by_value(number: str, choices: list[str]) -> str | None:
    """The option whose plain quantity (``12``, ``60°``, ``3.5 cm``) equals ``number``, if exactly one."""
    try:
        value = float(number)
    except ValueError:
        return None
    hits = []
    for c in choices:
        m = _PLAIN_QUANTITY_RE.match(str(c))
        if m and abs(float(m.group(1).replace("−", "-")) - value) <= 1e-9 * max(1.0, abs(value)):
            hits.append(str(c))
    return hits[0] if len(hits) == 1 else None


def _from_statements(text: str, choices: list[str] | None, question: str | None) -> Extraction | None:
    """Rules 6–8: the option, yes/no or number that an answer sentence states (see :mod:`.statements`)."""
    sentences = statements.answer_sentences(text)
    if not sentences:
        return None
    question = question or ""
    yes_no_idx = statements.yes_no_choices(choices)
    if yes_no_idx is not None or (not choices and statements.is_yes_no_question(question)):
        for sentence in sentences:
            said = statements.yes_no(sentence, question)
            if said is not None:
                if yes_no_idx is None:
                    return Extraction("Yes" if said else "No", "yes_no")
                return Extraction(str(choices[yes_no_idx[0 if said else 1]]), "yes_no")
        return None
    clauses = [(statements.first_clause(s), statements.main_clause(s)) for s in sentences]
    if choices:
        for first, whole in clauses:
            idx = statements.named_option(first, choices, question)
            if idx is None and whole != first:
                idx = statements.named_option(whole, choices, question)
            if idx is not None:
                return Extraction(str(choices[idx]), "option_text")
        if not all(statements.is_numeric_option(str(c)) for c in choices):
            return None
    # an answer-first reply states its number in the first sentence, a worked solution at its end
    if not statements.is_short_reply(text):
        sentences = statements.answer_sentences(text, first=False)
        clauses = [(statements.first_clause(s), statements.main_clause(s)) for s in sentences]
    for first, whole in clauses:
        number = statements.stated_number(first, question)
        if number is None and whole != first:
            number = statements.stated_number(whole, question)
        if number is not None:
            if choices:
                return Extraction(_option_by_value(number, choices) or number, "stated_number")
            return Extraction(number, "stated_number")
    return None


_LABEL_RE = re.compile(r"^\s*\(?([A-Z])\)\s*|^\s*([A-Z])[.:]\s+")
_NONE_RE = re.compile(r"^\W*none(?:\s+of\s+(?:the|these)\s+(?:above|options|choices|answers))?\W*$", re.IGNORECASE)


def _says_no_answer(found: str, choices: list[str] | None) -> bool:
    """True when a phrase's answer says there is none: "not among the options", "not provided",
    "(E) Cannot be determined" (a letter the question does not have, labelling a non-answer), or,
    for a question whose options offer no "none", "None of the above". An answer that names an
    option (a valid letter, or an option's text: "cannot be determined" can be one) is an answer."""
    label = _LABEL_RE.match(found)
    letter = (label.group(1) or label.group(2)) if label else None
    if letter and letter in _letters(choices):
        return False
    norm_choices = [_norm_choice_text(str(c)) for c in choices or []]
    if _norm_choice_text(found) in norm_choices:
        return False
    body = found[label.end() :] if label else found
    if letter is None and _LETTER_IN_TEXT_RE.search(found):
        return False  # "... so (B)"
    if statements.refusal(found) or statements.non_answer(body):
        return True
    return bool(choices) and bool(_NONE_RE.match(body)) and not any(re.search(r"\b(?:none|nothing)\b", c)
                                                                    for c in norm_choices)


def _declined(choices: list[str] | None) -> Extraction:
    """A reply that says it cannot answer: no answer, unless an option says exactly that ("cannot
    be determined"), which the reply then picks."""
    idx = statements.declining_option(choices)
    if idx is not None:
        return Extraction(str(choices[idx]), "option_text")
    return Extraction(None, "refusal")


def extract_answer(text: str, *, choices: list[str] | None = None, question: str | None = None) -> Extraction:
    """Extract the final answer from model text by the rules listed in the module docstring.

    ``choices`` (the option texts, in letter order) lets the choice rules recognise letters beyond
    the obvious ``(B)`` and options named by their text. ``question`` (the question asked) lets
    the statement rules tell an answer from an echo of the question ("How many bars are below
    40?" → "There are 3 bars below 40."). Never raises.

    >>> extract_answer("<think>…</think><answer>Final Answer: 12</answer>")
    Extraction(text='12', rule='answer_tag')
    >>> extract_answer("So the answer is (B) 8/11.", choices=["3/11", "8/11"])
    Extraction(text='(B) 8/11', rule='phrase')
    >>> extract_answer("There are 2 items sold less than 5 units.")
    Extraction(text='2', rule='stated_number')
    >>> extract_answer("Periwinkle is not the maximum.", choices=["yes", "no"], question="Is Periwinkle the maximum?")
    Extraction(text='no', rule='yes_no')
    >>> extract_answer("There are 3 cats and 4 dogs.")
    Extraction(text='4', rule='last_number')
    """
    if not isinstance(text, str) or not text.strip():
        return Extraction(None, "none")
    if len(text) > MAX_TEXT_CHARS:
        text = text[-MAX_TEXT_CHARS:]
    try:
        head = statements.cut_at_new_question(text)
        if head != text:  # the answer before a new question; a reply that only restated one is read whole
            found = _extract(head, choices, question)
            if found.decided:
                return found
        return _extract(text, choices, question)
    except (RecursionError, MemoryError, ValueError):  # defensive: extraction must never raise
        return Extraction(None, "none")


def _extract(text: str, choices: list[str] | None, question: str | None) -> Extraction:
    """Rules 1–10 on ``text`` (see the module docstring)."""
    found = _from_answer_tag(text)
    if found is not None:
        return Extraction(found, "answer_tag") if found else Extraction(None, "none")
    if "box" in text:
        found = last_boxed(text)
        if found:
            cleaned = clean_answer(found)
            if cleaned and _says_no_answer(cleaned, choices):  # \boxed{\text{(None)}}, \boxed{N/A}
                return _declined(choices)
            if cleaned:
                return Extraction(cleaned, "boxed")
    if choices:  # an echoed list of the options ("Choose the correct option letter: (A) 1 (B) 2 …") is no answer
        text = _without_choice_list(text, choices)
        if not text.strip():
            return Extraction(None, "none")
    found = _from_phrase(text)
    if found:
        if _says_no_answer(found, choices):
            return _declined(choices)
        return Extraction(found, "phrase")
    yes_no_idx = statements.yes_no_choices(choices)
    if yes_no_idx is not None:  # "No, Periwinkle is not the minimum. The minimum is A.": the "No" answers
        said = statements.leading_yes_no(text.lstrip())
        if said is not None:
            return Extraction(str(choices[yes_no_idx[0 if said else 1]]), "yes_no")
    refused = statements.refusal(text)
    found = _from_choice(text, choices, mentions=not refused)
    if found:
        return Extraction(found, "choice_letter")
    if refused:
        return _declined(choices) if refused == "decline" else Extraction(None, "refusal")
    stated = _from_statements(text, choices, question)
    if stated is not None:
        return stated
    found = last_number(text)
    if found:
        return Extraction(found, "last_number")
    return Extraction(None, "none")
