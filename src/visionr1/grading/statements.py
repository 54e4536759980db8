"""Reading the answer a reply *states*: what an extraction model does that "the answer is" regexes miss.

Many models do not write "the answer is (B)". Short-answer models reply with one statement ("Based
on the graph, the wettest month is May.", "Periwinkle is not the maximum.", "There are 2 items
sold less than 5 units."), and few-shot models run on into a new "Question: …" after answering.
MathVista's official extraction step (GPT-4 with five few-shot examples: "The number missing in
the sequence is 14." → 14, "Luca needs $1.45 to buy …" → 1.45, "The correct answer is (B) 8/11."
→ B) reads such replies as a person would. The rules here do the same for the common forms; each
is general (no benchmark's wording is assumed) and says why it exists:

* :func:`cut_at_new_question` — text after a new ``Question:`` / ``Hint:`` / ``Problem:`` block
  that follows an answer belongs to a question nobody asked; the answer is before it.
* :func:`answer_sentences` — which sentences can hold the answer: a concluding sentence
  ("Therefore, …", "So …"), the first sentence (answer-first replies explain afterwards) and the
  last one (worked solutions end on their result). Introductory clauses ("Based on the graph,",
  "If pelicans increase,") restate the premise, not the answer, and are dropped.
* :func:`named_option` — a multiple-choice option named by its text ("… is May.") or, failing
  that, uniquely by a word only it has ("The letter has been flipped." → "flip"); options the
  sentence merely echoes from the question do not count.
* :func:`yes_no` — a yes/no answer from a leading "Yes"/"No", else from a statement that restates
  the question: negated ("Periwinkle is not the maximum.") → no, affirmed → yes; a comparison
  stated the other way round ("more Y than X" for "fewer X than Y?") is read as such.
* :func:`stated_number` — the number a sentence is about: "There are 2 items sold less than
  5 units" is about 2; numbers after "less than", "at least", "out of", numbers in a tuple
  ("(1, 2)") and numbers repeated from the question are conditions, not answers. Number words
  count.
* :func:`refusal` — replies that give no answer ("cannot be determined", "the question does not
  provide enough information") are recognised, so they stay *undecided* instead of being read as
  an answer (a negated refusal is not a "no"); :func:`non_answer` does the same for an extracted
  answer ("The answer is not provided." → no answer), and :func:`declining_option` finds the
  option a declining reply picks when the question offers one ("cannot be determined").

Everything is pure string work on bounded input (the head and tail of a reply), with regular
expressions that are linear in their input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# ----------------------------------------------------------------------------- new question

_NEW_QUESTION_RE = re.compile(
    r"(?:^|\n|(?<=[.!?。]) )[ \t>#*]*(?:Question|Problem|Hint|Q)[ \t]*\d*[ \t]*\**[ \t]*[:：]", re.MULTILINE
)


def cut_at_new_question(text: str) -> str:
    """``text`` up to a new ``Question:`` (``Problem:``, ``Hint:``, ``Q:``) block that follows some content.

    Few-shot prompting teaches a model the pattern "Question → Solution → Question → …"; after
    answering, such a model often writes the next question and solves it too. The reply's answer
    is the one before that point. A reply that *starts* with "Question:" (restating it) is not cut.

    >>> cut_at_new_question("So the answer is 5.\\n\\nQuestion: What is 2+2?\\nSolution: 4")
    'So the answer is 5.'
    >>> cut_at_new_question("Question: how many? There are 3.")
    'Question: how many? There are 3.'
    """
    for m in _NEW_QUESTION_RE.finditer(text):
        head = text[: m.start()].strip()
        if head:
            return head
    return text


# ----------------------------------------------------------------------------- sentences

_SENTENCE_SPLIT_RE = re.compile(r"(?:(?<=[.!?。！？])|(?<=[.!?][\"”')\]]))\s+|\n+")
_ABBREVIATION_END_RE = re.compile(r"\b(?:e\.g|i\.e|vs|approx|etc|fig|eq|no|cf|resp|mr|mrs|dr|st)\.$", re.I)
_INTRO_RE = re.compile(
    r"^\W*(?:(?:based on|according to|looking at|judging (?:by|from)|from|in|on|at|as (?:shown|seen) in|given|"
    r"if|when|since|because|after|before|without|with|for|by|considering|upon|once|while)\b[^,;:]{0,150}|"
    r"(?:therefore|thus|so|hence|consequently|overall|finally|in (?:conclusion|summary|short)|as a result|"
    r"in (?:this|that) case|however|also|then|yes|no|okay|ok|sure|well))\s*,\s*",
    re.I,
)
_CONCLUSION_RE = re.compile(
    r"^\W*(?:therefore|thus|so|hence|consequently|in (?:conclusion|summary|short)|as a result|overall|"
    r"this means|that means)\b",
    re.I,
)
_HEAD_CHARS, _TAIL_CHARS = 1500, 3000


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split at ``. ! ?`` before a space and at line breaks; ``1.5``,
    ``e.g.`` and ``Fig.`` do not end a sentence). Markdown emphasis and list bullets are dropped."""
    out: list[str] = []
    for part in _SENTENCE_SPLIT_RE.split(text):
        part = part.replace("**", "").strip(" \t-*#>•")
        if not part:
            continue
        if out and _ABBREVIATION_END_RE.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def main_clause(sentence: str) -> str:
    """``sentence`` without its introductory clauses ("Based on the graph, if X, …" → "…").

    An introductory clause restates the question's premise ("If pelicans increase, fish will
    decrease": "increase" is the premise, "decrease" the answer). It is dropped only when a
    clause of at least two words remains.
    """
    s = sentence.strip()
    for _ in range(4):
        m = _INTRO_RE.match(s)
        if not m or len(s[m.end() :].split()) < 2:
            break
        s = s[m.end() :]
    return s


def answer_sentences(text: str, *, first: bool = True) -> list[str]:
    """The sentences that can hold the answer, most likely first.

    A concluding sentence ("Therefore, …", "So …", the last one that opens so) comes first: a
    worked reply states its result there. Then the first sentence (answer-first replies, "The
    wettest month is May. In the graph, …"; left out with ``first=False``) and the last one (a
    solution that ends on its result). Only the head and the tail of a long reply are read.
    """
    if len(text) > _HEAD_CHARS + _TAIL_CHARS:
        head, tail = split_sentences(text[:_HEAD_CHARS]), split_sentences(text[-_TAIL_CHARS:])
        sentences = head[:1] + tail[1:]  # the tail's first piece may be cut mid-sentence
    else:
        sentences = split_sentences(text)
    if not sentences:
        return []
    ordered = [s for s in reversed(sentences) if _CONCLUSION_RE.match(s)][:1]
    ordered += ([sentences[0]] if first else []) + [sentences[-1]]
    return list(dict.fromkeys(ordered))


def is_short_reply(text: str) -> bool:
    """At most three sentences and 600 characters: an answer-first reply, not a worked solution."""
    return len(text) <= 600 and len(split_sentences(text)) <= 3


# ----------------------------------------------------------------------------- words

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    "a an the of and or to in on at by for with from as is are was were be been being will would shall should can "
    "could may might must do does did has have had it its this that these those there their they them he she his "
    "her we our you your i me my which what who whom whose when where why how than then so such not no yes".split()
)


def stem(word: str) -> str:
    """A crude English stem, enough to match "flipped"/"flip", "frogs"/"frog", "decreased"/"decrease".

    >>> [stem(w) for w in ("flipped", "frogs", "decreased", "decrease", "insects", "increasing")]
    ['flip', 'frog', 'decreas', 'decreas', 'insect', 'increas']
    """
    w = word.lower()
    for suffix in ("ing", "ed", "es", "s", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    return w


def content_stems(text: str) -> set[str]:
    """Stems of the words of ``text`` that carry meaning (stopwords dropped)."""
    return {stem(w) for w in _WORD_RE.findall(text.lower()) if w not in STOPWORDS}


# ----------------------------------------------------------------------------- options


def _norm(s: str) -> str:
    s = s.replace("**", "").replace("$", "").replace("−", "-")
    return re.sub(r"\s+", " ", s).strip().strip(".").strip().lower()


_FORMULA_RE = re.compile(r"[\\√π^{}_]")
"""An option written as a formula (``$\\frac{8\\pi}{5}$``, ``2\\sqrt{3}``, ``3π``): LaTeX commands, roots, braces."""


def _option_pattern(option: str) -> re.Pattern[str] | None:
    o = _norm(option)
    if not o:
        return None
    if _FORMULA_RE.search(o):
        # a formula is named only as a whole expression, not as a part of a longer one: "\pi" is not named by
        # "\frac{8\pi}{5}", "8\pi/5" or "-\pi", nor "\sqrt{3}" by "2\sqrt{3}" or "\sqrt{3} + 1"
        return re.compile(r"(?<![\w.\\{}^_/*+\-×÷])(?<![\^_/*+\-×÷] )" + re.escape(o)
                          + r"(?![\w{}^_/*×÷])(?!\s?[-+*/^×÷]\s?[\w\\(])")
    start = r"(?<![a-z0-9])" if o[0].isalnum() else ""
    if o[-1].isalpha():  # allow an inflection: flip → flipped, frog → frogs, decrease → decreased
        end = r"(?:s|es|d|ed|[a-z]ed|ing|[a-z]ing)?(?![a-z0-9])"
    elif o[-1].isdigit():
        end = r"(?![0-9]|\.[0-9])"
    else:
        end = ""
    if o[0].isdigit():  # not a digit of a longer number, nor a part of a formula ("5" in "\frac{8}{5}", "2" in "2πr")
        start = r"(?<![a-z0-9.{^_/\\√π])"
        if o[-1].isdigit():
            end = r"(?![0-9}^/π√\\(]|\.[0-9])"
    return re.compile(start + re.escape(o) + end)


_CALCULATION_RE = re.compile(r"=|[\d})]\s*[-+×*/÷]\s*[\d\\(]")  # "7 + 1", "\sqrt{3}+1", "(2)(3)/4"
_PLAIN_NUMBER_RE = re.compile(r"^[-−]?\d+(?:\.\d+)?\s*(?:°|%|[a-z]{1,3}(?:\^?[23])?)?$")


def _mentions(text: str, choices: Sequence[str]) -> list[int]:
    """Indexes of the options whose whole text occurs in ``text`` (a mention inside a longer
    mentioned option, "decrease" in "will decrease", counts for the longer one only)."""
    t = _norm(text)
    patterns = [_option_pattern(str(c)) for c in choices]
    found = [i for i, pat in enumerate(patterns) if pat is not None and pat.search(t)]
    return [i for i in found if not any(j != i and patterns[i].search(_norm(str(choices[j]))) for j in found)]


def _distinctive(choices: Sequence[str]) -> list[set[str]]:
    """Per option, the content-word stems no other option has (three letters or more, not numbers)."""
    stems = [content_stems(str(c)) for c in choices]
    out = []
    for i, own in enumerate(stems):
        others = set().union(*(s for j, s in enumerate(stems) if j != i))
        out.append({w for w in own - others if len(w) >= 3 and not w.isdigit()})
    return out


def _side_of_comparison(sentence: str, question: str, found: list[int], choices: Sequence[str]) -> list[int]:
    """Of the options a comparison names ("The sun is larger than the moon."), the one it answers
    "Which is larger?" with: the one before "than" when the sentence compares the same way as the
    question asks, the one after it when the other way ("The moon is smaller than the sun.")."""
    qm, sm = _COMPARISON_WORD_RE.search(_last_question(question)), _COMPARISON_RE.search(sentence)
    if not qm or not sm:
        return found
    same_way = _COMPARATIVES[qm.group(1).lower()] == _COMPARATIVES[sm.group(1).lower()]
    side = sentence[: sm.start(1)] if same_way else sm.group(3)
    picked = [i for i in found if (pat := _option_pattern(choices[i])) is not None and pat.search(_norm(side))]
    return picked if len(picked) == 1 else found


def is_numeric_option(option: str) -> bool:
    """True for an option that is a quantity (``12``, ``60°``, ``3.5 cm``, ``\\frac{9}{5}``, ``5√{3}m``):
    such options are read through :func:`stated_number` and value comparison, not as words."""
    o = re.sub(r"\\[a-z]+", "", _norm(str(option)))
    return bool(re.search(r"\d", o)) and not re.search(r"[a-z]{3,}", o)


def named_option(sentence: str, choices: Sequence[str], question: str = "") -> int | None:
    """The index of the one option ``sentence`` names, or ``None`` when it names none or several.

    First by the option's whole text ("… in Christchurch is May." → "May"; inflections allowed; a
    number option only as a whole number, and not as an operand of a calculation), then, among
    the options that are words, by a word only that option has ("The letter has been flipped." →
    "flip" among slide / flip / turn; "the hottest month is July" → "July and August"). When
    several options are named, the ones the sentence echoes from the question ("What happens to
    fish if pelicans increase?" → "increase") are set aside, and of a comparison ("The sun is
    larger than the moon.") the side that answers the question is kept.

    >>> named_option("Based on the graph, the wettest month is May.", ["August", "April", "May"])
    2
    >>> named_option("The letter has been flipped.", ["slide", "flip", "turn"])
    1
    >>> named_option("It is either May or April.", ["August", "April", "May"]) is None
    True
    """
    if not choices or not sentence:
        return None
    choices = [str(c) for c in choices]
    found = _mentions(sentence, choices)
    if _CALCULATION_RE.search(sentence):  # "x = 7 + 1 = 8": the operands are not answers
        found = [i for i in found if not _PLAIN_NUMBER_RE.match(_norm(choices[i]))]
    if len(found) > 1 and question:
        echoed = set(_mentions(question, choices))
        found = [i for i in found if i not in echoed] or found
    if len(found) > 1 and question:
        found = _side_of_comparison(sentence, question, found, choices)
    if len(found) == 1:
        return found[0]
    if found:
        return None
    text_idx = [i for i, c in enumerate(choices) if not is_numeric_option(c)]
    if not text_idx:
        return None
    distinctive = _distinctive([choices[i] for i in text_idx])
    words = content_stems(sentence)
    hits = [k for k, d in enumerate(distinctive) if d & words]
    if len(hits) > 1 and question:
        q_words = content_stems(question)
        hits = [k for k in hits if (distinctive[k] & words) - q_words] or hits
    return text_idx[hits[0]] if len(hits) == 1 else None


# ----------------------------------------------------------------------------- yes / no

YES_WORDS = frozenset({"yes", "true", "correct"})
_LEADING_YES_NO_RE = re.compile(r"^\W*(yes|no|true|false)\b(?![-'])", re.I)
# "not only" adds, it does not negate
_NEGATION_RE = re.compile(r"\b(?:not(?!\s+only\b)|no|never|neither|nor|none|nothing|nobody|cannot)\b|n't\b", re.I)
_CLAUSE_BREAK_RE = re.compile(
    r",?\s+\b(?:but|however|although|though|whereas|while|because|since|as (?:it|they|he|she|this|there)|which|"
    r"where|so that|rather than|instead of)\b|,\s+(?:with|as|and this|meaning|indicating|suggesting|(?:and\s+)?not)\b|;",
    re.I,
)


def first_clause(sentence: str) -> str:
    """The main clause of ``sentence`` up to a clause that explains or elaborates ("…, as they eat
    grass", "…, with 94% of schools", "… because …") or sets an alternative aside ("…, not Red",
    "… rather than Red"): the answer is stated before it, and a negation in the aside does not
    negate it ("Periwinkle is the maximum, not Red." is a yes)."""
    return _CLAUSE_BREAK_RE.split(main_clause(sentence), maxsplit=1)[0]


_COMPARATIVES = {
    "more": 1, "greater": 1, "larger": 1, "bigger": 1, "higher": 1, "taller": 1, "longer": 1, "older": 1, "heavier": 1,
    "fewer": -1, "less": -1, "smaller": -1, "lower": -1, "shorter": -1, "younger": -1, "lighter": -1,
    "largest": 1, "biggest": 1, "most": 1, "smallest": -1, "least": -1,
}
_COMPARISON_RE = re.compile(r"\b(" + "|".join(_COMPARATIVES) + r")\b(.*?)\bthan\b(.*)", re.I)
_COMPARISON_WORD_RE = re.compile(r"\b(" + "|".join(_COMPARATIVES) + r")\b", re.I)
_YES_NO_QUESTION_RE = re.compile(
    r"^\W*(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|should|shall|may|might|must)\b", re.I
)


def yes_no_choices(choices: Sequence[str] | None) -> tuple[int, int] | None:
    """``(index of yes, index of no)`` when the options are a yes/no (or true/false) pair, else ``None``."""
    if not choices or len(choices) != 2:
        return None
    norm = [_norm(str(c)) for c in choices]
    for yes, no in (("yes", "no"), ("true", "false")):
        if set(norm) == {yes, no}:
            return norm.index(yes), norm.index(no)
    return None


def is_yes_no_question(question: str) -> bool:
    """True when the question asked (the last one in ``question``) opens with an auxiliary verb
    ("Is …", "Does …", "Are there …")."""
    return bool(question) and bool(_YES_NO_QUESTION_RE.match(_last_question(question)))


def _last_question(text: str) -> str:
    """The question asked: the last sentence of ``text`` that ends with "?" (a "Question:" label dropped)."""
    parts = [p for p in re.split(r"(?<=[.?!])\s+|\n+", text) if p.strip()]
    asked = [p for p in parts if p.rstrip().endswith("?")]
    return re.sub(r"^\s*(?:question|q)\s*[:：]\s*", "", (asked or parts or [""])[-1], flags=re.I)


def _comparison(text: str) -> tuple[int, set[str], set[str]] | None:
    m = _COMPARISON_RE.search(text)
    if not m:
        return None
    return _COMPARATIVES[m.group(1).lower()], content_stems(m.group(2)), content_stems(m.group(3))


def leading_yes_no(sentence: str) -> bool | None:
    """True/False when ``sentence`` opens with "Yes"/"No" (or "True"/"False"), else ``None``."""
    m = _LEADING_YES_NO_RE.match(sentence.replace("**", ""))
    if not m:
        return None
    return m.group(1).lower() in YES_WORDS


def yes_no(sentence: str, question: str = "") -> bool | None:
    """The yes/no answer ``sentence`` gives to ``question``: True (yes), False (no) or ``None``.

    A leading "Yes"/"No" decides. Otherwise the sentence must restate the question (share at
    least half of its content words, so an unrelated remark is not read as an answer); then an
    odd number of negations in its main clause is "no", none is "yes". A comparison the question
    asks ("fewer X than Y?") and the sentence states with the opposite word or the operands
    swapped ("more Y than X") is read by its meaning.

    >>> yes_no("Periwinkle is not the maximum.", "Is Periwinkle the maximum?")
    False
    >>> yes_no("There are more cubes than spheres.", "Are there fewer spheres than cubes?")
    True
    >>> yes_no("The sky is blue.", "Is Periwinkle the maximum?") is None
    True
    """
    lead = leading_yes_no(sentence)
    if lead is not None:
        return lead
    if not question:
        return None
    asked = _last_question(question)
    q_words = content_stems(asked)
    clause = first_clause(sentence)
    s_words = content_stems(clause)
    if not q_words or len(q_words & s_words) * 2 < len(q_words):
        return None
    answer = len(_NEGATION_RE.findall(clause)) % 2 == 0
    qc, sc = _comparison(asked), _comparison(clause)
    if qc and sc:
        q_dir, q_left, q_right = qc
        s_dir, s_left, s_right = sc
        if s_dir != q_dir:  # "fewer" asked, "more" stated
            answer = not answer
        if len(s_left & q_right) + len(s_right & q_left) > len(s_left & q_left) + len(s_right & q_right):
            answer = not answer  # "more Y than X" stated for "… X than Y?"
    elif qc and re.search(r"\b(?:same|equal)\b", clause, re.I):
        answer = False  # "the same number of X and Y": neither more nor fewer
    return answer


# ----------------------------------------------------------------------------- numbers

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "no": 0, "none": 0,
}
_NUMBER_TOKEN_RE = re.compile(
    r"(?<![\w.^])(?<!\^\{)(?<![A-Za-z]\()[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])|(?<![\w.])[-−]?\.\d+"
    r"|\b(?:" + "|".join(w for w in _NUMBER_WORDS if w not in ("no", "none")) + r")\b",
    re.I,
)
_COUNT_WORD_RE = re.compile(r"\b(?:there (?:is|are|were|was|will be|would be)|are|were)\s+(no|none)\b", re.I)
_CONDITION_BEFORE_RE = re.compile(
    r"(?:(?:less|more|fewer|greater|larger|smaller|higher|lower|bigger|shorter|longer|taller|older|younger)"
    r"\s+than|at\s+(?:least|most)|out\s+of|below|above|under|over|exceeding|exceeds?|up\s+to|between|"
    r"between\s+\S+\s+and|(?:at|when|for|where|if)\s+[a-z]\s*=)\s*$",
    re.I,
)
# "one" is a number before a noun ("one store"), a pronoun elsewhere ("the smallest one.", "one of them")
_PRONOUN_ONE_RE = re.compile(
    r"\b(?:the|this|that|each|any|every|which|no|a|an)\s+one\b|\bone\s+(?:of|another|that|which|who)\b"
    r"|\bone\b(?=\s*(?:[.,;:!?)]|$))",
    re.I,
)
_EQUALS_RE = re.compile(r"=|≈|\bequals?\b|\bis\s+equal\s+to\b")
_EQUALS_AFTER_RE = re.compile(r"\s*(?:=|≈)")


# Numbers written as one mathematical value: a fraction, a surd or multiple of pi, a point, a range, an
# ordering. Read digit by digit they would give a wrong answer ("1/2" -> 2, "5\sqrt3" -> 5, "(3,-4)" -> -4,
# "5-2-3-4-1" -> 1, "40–60" -> 40). Every part is bounded, so the pattern stays linear.
_BRACED = r"\{(?:[^{}]|\{[^{}]{0,40}\}){1,40}\}"
_DIGITS = r"\d+(?:\.\d+)?"
_SURD_OR_PI = rf"(?:\\sqrt\s*(?:\[\d+\])?\s*(?:{_BRACED}|\d+)|√\s*(?:{_BRACED}|\({_DIGITS}\)|{_DIGITS})|\\pi\b|π)"
_COMPOUND_RE = re.compile(
    rf"[-−]?\\[dt]?frac\s*(?:{_BRACED}|\d)\s*(?:{_BRACED}|\d)"                     # \frac{1}{2}, \frac12
    rf"|(?:(?<![\w.^]){_DIGITS}\s*)?{_SURD_OR_PI}(?:\s*{_SURD_OR_PI})?"               # 5\sqrt3, 2\pi, √2
    rf"|\(\s*[-−]?{_DIGITS}(?:\s*,\s*[-−]?{_DIGITS}){{1,9}}\s*\)"                  # (3, -4)
    rf"|(?<![\w.^/])[-−]?{_DIGITS}/{_DIGITS}(?![\w/]|\.\d)"                          # 1/2 (no spaces)
    rf"|(?<![\w.^-]){_DIGITS}\s*[–—]\s*{_DIGITS}(?!\w|\.\d)"                          # 40–60
    rf"|(?<![\w.^-])\d+(?:-\d+){{1,19}}(?![\w-]|\.\d)"                                # 5-2-3-4-1, 40-60
)
_HYPHENS_RE = re.compile(r"^\d+(?:-\d+)+$")
_OPERATION_BEFORE_RE = re.compile(r"(?:=|[\d)]\s*[-+*/×÷])\s*$")
_OPERATION_AFTER_RE = re.compile(r"^\s*[=+*/×÷]")


def _compounds(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, token)`` of the numbers in ``text`` written as one value (see ``_COMPOUND_RE``).

    Numbers joined by hyphens are one value only where they cannot be arithmetic: not after "="
    or an operation, not followed by one, and two of them only as a rising range ("40-60", not
    "60-40", a subtraction); three or more are an ordering ("5-2-3-4-1")."""
    out = []
    for m in _COMPOUND_RE.finditer(text):
        token = m.group(0)
        if _HYPHENS_RE.match(token):
            parts = token.split("-")
            if (_OPERATION_BEFORE_RE.search(text[max(0, m.start() - 20) : m.start()])
                    or _OPERATION_AFTER_RE.match(text[m.end() : m.end() + 5])
                    or (len(parts) == 2 and int(parts[0]) >= int(parts[1]))):
                continue
        out.append((m.start(), m.end(), token.strip()))
    return out


def is_compound(token: str) -> bool:
    """True for a number written as one value that is not a plain number (``1/2``, ``(3, -4)``, ``2\\pi``)."""
    return any(start == 0 and end == len(token) for start, end, _ in _compounds(token))


def several_values(token: str) -> bool:
    """True for a number token that holds several values rather than one: a range (``40–60``), an
    ordering (``5-2-3``) or a point (``(3, 4)``). A fraction or a surd is one value."""
    t = token.strip()
    return is_compound(t) and (t.startswith("(") or "–" in t or "—" in t or bool(_HYPHENS_RE.match(t)))


def math_tokens(text: str, *, words: bool = False) -> list[tuple[int, str]]:
    """``(position, token)`` of the numbers in ``text``, in order: a value written with several numbers
    (``1/2``, ``\\frac{1}{2}``, ``5\\sqrt{3}``, ``(3, -4)``, ``40–60``, ``5-2-3-4-1``) is one token;
    number words ("two") count with ``words``.

    >>> [t for _, t in math_tokens("So x = 1/2, the point (3,-4) and 5\\\\sqrt3.")]
    ['1/2', '(3,-4)', '5\\\\sqrt3']
    """
    compounds = _compounds(text)
    out = [(start, token) for start, _, token in compounds]
    k = 0  # both lists run left to right: one pass skips the numbers inside a compound
    for m in _NUMBER_TOKEN_RE.finditer(text):
        if not words and not m.group(0)[-1].isdigit():
            continue
        while k < len(compounds) and compounds[k][1] <= m.start():
            k += 1
        if k < len(compounds) and compounds[k][0] <= m.start():
            continue
        out.append((m.start(), m.group(0)))
    return sorted(out)


def _numbers(sentence: str) -> list[tuple[int, str]]:
    pronoun = {m.end() - 3 if m.group(0).lower().endswith("one") else m.start()
               for m in _PRONOUN_ONE_RE.finditer(sentence)}
    out = [(p, t) for p, t in math_tokens(sentence, words=True) if p not in pronoun]
    out += [(m.start(1), m.group(1)) for m in _COUNT_WORD_RE.finditer(sentence)]
    return sorted(out)


def _value(token: str) -> str:
    if is_compound(token):
        return token.replace("−", "-")
    t = token.replace(",", "").replace("−", "-").lower()
    if t in _NUMBER_WORDS:
        return str(_NUMBER_WORDS[t])
    return t


def _as_written(token: str) -> str:
    """A number token as written (a word stays a word): "two" echoes "two", not "2"."""
    return token.replace(",", "").replace("−", "-").lower()


def _in_tuple(sentence: str, pos: int) -> bool:
    """True for a number inside parentheses that hold a tuple ("(1, 2)"): a point, not an answer.
    A single parenthetical number ("a right angle (90°)") restates the answer and counts."""
    start = sentence.rfind("(", 0, pos)
    if start < 0 or sentence.rfind(")", 0, pos) > start:
        return False
    end = sentence.find(")", pos)
    inside = sentence[start : end if end > 0 else len(sentence)]
    return "," in inside or ";" in inside


def stated_number(sentence: str, question: str = "") -> str | None:
    """The number ``sentence`` is about, as written (number words as digits), or ``None`` when unclear.

    A value written with several numbers is one number here (``1/2``, ``5\\sqrt{3}``, ``(3, -4)``,
    ``5-2-3-4-1``; see :func:`math_tokens`). Numbers that state a condition (after "less than",
    "at least", "out of", "between"…), a point beside other numbers ("the slope at (1, 2) is 3")
    and numbers repeated as written from ``question`` are set aside; one number left is the
    answer. With several left, the one after the last "=" of a calculation is taken;
    otherwise the sentence is ambiguous (``None``).

    >>> stated_number("There are 2 items sold less than 5 units in at least one store.")
    '2'
    >>> stated_number("There were two bags with at least 60 red buttons.")
    '2'
    >>> stated_number("The area is 6 x 9 / 2 = 27.")
    '27'
    >>> stated_number("There are 3 cats and 4 dogs.") is None
    True
    """
    found = _numbers(sentence)
    if not found:
        return None
    echoes = {_as_written(t) for _, t in _numbers(question)} if question else set()
    kept = [(p, t) for p, t in found
            if not _CONDITION_BEFORE_RE.search(sentence[max(0, p - 40) : p]) and not _in_tuple(sentence, p)]
    # the left side of an equation is worked out, not stated: in "there are 4/2 = 2 dots" the answer is 2
    kept = [(p, t) for p, t in kept if not _EQUALS_AFTER_RE.match(sentence, p + len(t))] or kept
    fresh = [(p, t) for p, t in kept if _as_written(t) not in echoes]
    kept = fresh or kept
    # a point beside other numbers is where something is measured ("the slope at (1, 2) is 3"); alone, it is the answer
    kept = [(p, t) for p, t in kept if not t.startswith("(")] or kept
    if len({_value(t) for _, t in kept}) == 1:
        return _value(kept[0][1])
    if len(kept) > 1:
        eq = [m.end() for m in _EQUALS_RE.finditer(sentence)]
        if eq:
            after = [(p, t) for p, t in kept if p >= eq[-1]]
            if after:
                return _value(after[0][1])
    return None


# ----------------------------------------------------------------------------- refusals

_DECLINE_RE = re.compile(
    r"\b(?:cannot|can ?not|can't|could not|couldn't|unable to|impossible to|not possible to|no way to|"
    r"not able to)\s+(?:be\s+)?(?:definitively\s+|accurately\s+|exactly\s+|reliably\s+|precisely\s+)?"
    r"(?:determin|answer|tell|say|provide|give|calculat|find|found|solv|see|view|identif|confirm|know|infer|"
    r"conclud|judg|access|analy[sz]|interpret|process|read|perceiv|deduc|assess|evaluat|verif|decid|select|choos|"
    r"compar|comput|count|estimat|measur|specif|answer)\w*"
    r"|\bas an ai\b|\bi'?m sorry\b|\bi apologi[sz]e\b"
    r"|\b(?:does not|doesn't|do not|don't)\s+allow\s+(?:for\s+|us\s+to\s+give\s+)?(?:a\s+)?(?:definitive|definite|"
    r"clear|precise|conclusive)\s+answer"
    r"|无法(?:确定|判断|回答|计算|得出|求出|看到)|不能确定",
    re.I,
)
_CLAIM_RE = re.compile(
    r"\b(?:does not|doesn't|do not|don't|did not|didn't)\s+(?:provide|give|specify|include|contain|mention|"
    r"state|list|offer)\b[^.]{0,80}?\b(?:information|details?|data|context|values?|figures?|images?|diagrams?|"
    r"graphs?|tables?|function|options?|numbers?|measurements?|descriptions?)\b"
    r"|\b(?:not enough|insufficient|no (?:specific|additional|sufficient|further)?\s*|(?:not|n't) have (?:enough|"
    r"sufficient|the (?:necessary|required))\s*)\s*(?:information|context|data|details|evidence)\b"
    r"|\bnot enough \w+ (?:\w+ )?to (?:say|tell|determine|conclude|know|answer|decide|judge)\b"
    r"|\b(?:question|problem|figure|image|diagram|graph|table|chart|function|information|data|context|picture|"
    r"details?|text|options?|choices?|values?|answer|result|outcome|evidence)\s+(?:is|are|was|were|remains?|"
    r"seems? to be|appears? to be)\s+(?:not (?:provided|given|specified|shown|included|available|visible|clear|valid)|"
    r"incomplete|unclear|ambiguous|missing|nonsensical|too vague|invalid|subjective|inconclusive|indeterminate|"
    r"undetermined)\b"
    r"|\bit is (?:not |un)clear (?:what|which|whether|if|from)\b"
    r"|\bwithout (?:the|more|additional|specific|further|any|a|an|knowing|seeing)\b[^.,]{0,50}?\b(?:information|"
    r"context|data|image|figure|diagram|table|graph|function|details|values?|picture|visual)\b"
    r"|\bplease provide\b|\bneed (?:more|additional|further) (?:information|context|details|data)\b",
    re.I,
)
_NO_OPTION_RE = re.compile(
    r"\b(?:none of the (?:options|choices|given|answer)|not (?:among|in|one of|listed in) the (?:options|choices|"
    r"given|answer)|no (?:correct |matching |valid )?(?:option|choice)|mistake in the (?:question|problem|options|"
    r"choices)|options? (?:is|are) (?:not|in)correct)|不在(?:选项|选择)|没有(?:正确|符合)的?(?:选项|答案)",
    re.I,
)


def refusal(text: str) -> str | None:
    """Why ``text`` gives no answer, or ``None`` when it is not a refusal.

    ``"decline"``: the reply says it cannot answer ("cannot be determined", "impossible to say",
    "As an AI, I can't see images"); ``"claim"``: it states that the question lacks something
    ("The question does not provide enough information…", "The figure is not provided.");
    ``"no_option"``: it finds no option that fits ("none of the options", "not among the
    choices"). Only the head and the tail of a long reply are read.

    >>> refusal("The question does not provide enough information to determine x.")
    'claim'
    >>> refusal("Without the figure, it is impossible to determine the angle.")
    'decline'
    >>> refusal("Periwinkle is not the maximum.") is None
    True
    """
    if not text:
        return None
    probe = text if len(text) <= _HEAD_CHARS + _TAIL_CHARS else text[:_HEAD_CHARS] + "\n" + text[-_TAIL_CHARS:]
    if _DECLINE_RE.search(probe):
        return "decline"
    if _CLAIM_RE.search(probe):
        return "claim"
    if _NO_OPTION_RE.search(probe):
        return "no_option"
    return None


_NON_ANSWER_RE = re.compile(
    r"^\W*(?:(?:it|this|that|the answer|answer|the result|result)\s+(?:is\s+|was\s+|remains\s+)?)?(?:"
    r"not\s+(?:provided|given|available|specified|shown|stated|known|listed|visible|determinable|clear|applicable|"
    r"possible to (?:tell|say|determine|know|answer)|enough\b[^.\n]{0,80})"
    r"|inconclusive|indeterminate|undetermined|undeterminable|unknown|unclear|uncertain|unanswerable|n/?a"
    r"|no answer|no solution|insufficient (?:information|data|context)"
    r"|(?:cannot|can ?not|can't) be (?:determined|answered|known|found|calculated|computed|said|told)"
    r"|impossible to (?:tell|say|determine|know|answer))(?=\W*$|\s+(?:from|based|with|without|given|due|as|because)\b)",
    re.I,
)


def non_answer(answer: str) -> bool:
    """True when an answer *as extracted* says there is none: "not provided", "inconclusive",
    "unknown", "N/A", "cannot be determined (from the image)".

    A reply that writes "The answer is not provided." or "Answer: inconclusive" fills the answer
    slot with a statement that it has no answer; read as an answer, the official normalisation
    would snap it to the nearest option. Only the whole extracted answer is tested (a worked
    solution may well say "the length is unknown, so let it be x"). "none" and "nothing" are not
    listed: they answer "how many?" (0) and can be options.

    >>> non_answer("not provided"), non_answer("Inconclusive."), non_answer("cannot be determined from the image")
    (True, True, True)
    >>> non_answer("not parallel"), non_answer("none"), non_answer("12")
    (False, False, False)
    """
    return bool(answer) and len(answer) <= 200 and bool(_NON_ANSWER_RE.match(answer.replace("**", "").strip()))


def declining_option(choices: Sequence[str] | None) -> int | None:
    """The index of the one option that says the answer cannot be found ("cannot be determined",
    "Unable to determine."), else ``None``: a reply that declines picks it."""
    found = [i for i, c in enumerate(choices or []) if refusal(str(c)) == "decline" or non_answer(str(c))]
    return found[0] if len(found) == 1 else None


_VERDICT_RE = re.compile(
    r"\b(?:answer|question|problem)\s+(?:cannot|can ?not|can't|could not)\s+be\s+(determined|answered|found|known|decided)\b"
    r"|[\"“']cannot be (determined|answered)[\"”']",
    re.I,
)


def refusal_verdict(text: str) -> str | None:
    """The verdict a refusal states about the answer ("Thus, the answer cannot be determined." →
    ``"Cannot be determined"``), or ``None`` when it states none.

    That verdict is the reply's own answer to "what is the answer?", and it is what an extraction
    model copies out of such a reply (the official MathVista extractions write "Cannot be
    determined" / "Cannot be answered" for these); a reply that only declines ("As an AI, I
    cannot see images") states no verdict.

    >>> refusal_verdict("The text lacks the values. Thus, the answer cannot be determined.")
    'Cannot be determined'
    >>> refusal_verdict('So the best option is "cannot be determined".')
    'Cannot be determined'
    """
    m = None
    probe = text if len(text) <= _HEAD_CHARS + _TAIL_CHARS else text[-_TAIL_CHARS:]
    for m in _VERDICT_RE.finditer(probe):
        pass
    return f"Cannot be {(m.group(1) or m.group(2)).lower()}" if m else None
