"""The R1 contract, in one place: what cold-start SFT teaches, GRPO rewards and eval grades.

* **Tags**: a Vision-R1 completion is reasoning in ``<think>`` followed by the final answer in ``<answer>``.
  :func:`format_r1` writes it; :func:`parse_r1` reads it strictly (the hard formatting result reward only pays
  for completions that follow the grammar exactly, and the parser says *why* one fails: that reason is what a
  training log needs to explain a format-reward collapse); :func:`answer_tags` finds the ``<answer>`` contents
  in any text and :func:`tagged_answer` the answer a reply gives there (the one reading every stage shares);
  :func:`split_reasoning` splits a teacher's reply into its reasoning and the rest (leniently: an opening tag the
  chat template wrote, or a reasoning field apart), :func:`inline_reasoning` puts such a field back inline. Two
  answer forms are accepted: ``<answer>X</answer>`` and the paper's ``<answer> Final Answer: X
  </answer>`` (the form of the released Vision-R1 data and model, and the pattern the authors' eval reads). The
  ``Final Answer:`` label is part of the form, not of the answer: :func:`final_answer` drops it, so both forms
  give the same answer, and a tag holding only the label is an empty answer.
* **Choice letters**: option *i* is :func:`choice_letter` (A, B, ...); :func:`letter_index` reads one back. No other
  module does letter arithmetic (``tests/test_architecture.py`` checks it).
* **The user prompt**: :func:`render_user_prompt` renders the prompt SFT data, GRPO and eval share, in its named
  forms (templates in ``visionr1/templates/``); :func:`r1_instruction` renders the format instruction alone
  (eval appends it to a benchmark's own query); :func:`detect_prompt_form` reads a user turn back into its form,
  and :func:`read_user_prompt` into its question and choices (a question that already carries the instruction
  is rendered with it once).
  Two forms ship: ``r1`` (``user.txt``, the default: the question, its choices, then the instruction; it teaches
  the format by instruction, which a model that never saw it needs) and ``raw`` (``raw.txt``: the question and
  its choices only; the paper's RL prompt has no format instruction, §3.4, and the released eval sends the bare
  question).
* **Reflective words**: the paper's five indicators (:data:`REFLECTIVE_WORDS`), counted in one text
  (:func:`count_reflective_words`) and over many (:func:`reflective_tally`).

Bridge export, SFT data, the reward, eval and the reports all call this module. It imports only the standard
library and :mod:`visionr1.errors`, so every stage can (data flows bridge -> sft -> grpo -> eval; none imports
another).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from visionr1.errors import ConfigError

# ----------------------------------------------------------------------------- tags


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
R1_TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)
"""The four tags, in the order a completion holds them (the tiny model's tokenizer adds them as tokens)."""
_ANSWER_TAG_RE = re.compile(re.escape(ANSWER_OPEN) + "(.*?)" + re.escape(ANSWER_CLOSE), re.DOTALL)

FINAL_ANSWER_LABEL_RE = re.compile(
    r"^\s*(?:\*\*)?\s*final\s+answer\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?", re.IGNORECASE
)
"""The paper's label at the start of the answer tag: ``Final Answer:`` (any case, markdown bold allowed)."""

ANSWER_FORMS: tuple[str, ...] = ("final_answer", "short")
"""How :func:`format_r1` writes the answer: ``final_answer`` is the paper's ``<answer> Final Answer:X </answer>``
(its released Vision-R1-cold data and Vision-R1-7B write exactly this, and the authors' eval reads the answer
with the pattern ``<answer> Final Answer:(.*?) </answer>``); ``short`` is ``<answer>X</answer>``."""


FINAL_ANSWER_FORM_RE = re.compile(re.escape(ANSWER_OPEN) + " Final Answer:(.*?) " + re.escape(ANSWER_CLOSE), re.DOTALL)
"""The ``final_answer`` form exactly as the authors' eval reads it (MM-Math's official protocol uses it)."""


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


CONCLUSION_PREFIX = "So the final answer is "
"""How the template teacher's chains (and the synthetic tasks' one-step sums) end their reasoning:
:func:`conclusion` writes the sentence, :func:`concluded_answer` reads it back. One place, because the teacher
writes it, the embedded tasks write it and the demo reads it, and all three must agree."""
_CONCLUSION_RE = re.compile(re.escape(CONCLUSION_PREFIX) + r"((?:[^.\n]|\.(?=\S))+)\.\s*$")  # "2.5" yes, ". More" no


def conclusion(answer: str) -> str:
    """The sentence a chain of thought ends on.

    >>> conclusion("11")
    'So the final answer is 11.'
    """
    return f"{CONCLUSION_PREFIX}{answer}."


def concluded_answer(text: str) -> str | None:
    """The answer of the :func:`conclusion` ``text`` ends on, or None when it ends on none.

    >>> concluded_answer("5+6=11. So the final answer is 11."), concluded_answer("5+6=11.")
    ('11', None)
    """
    m = _CONCLUSION_RE.search(text) if isinstance(text, str) else None
    return m.group(1) if m else None


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


def answer_tags(text: str) -> list[str]:
    """The contents of every closed ``<answer>...</answer>`` in ``text``, in order, as written (not stripped).

    >>> answer_tags("<answer>3</answer> then <answer> Final Answer:4 </answer>")
    ['3', ' Final Answer:4 ']
    >>> answer_tags("<answer>unclosed")
    []
    """
    return _ANSWER_TAG_RE.findall(text) if isinstance(text, str) else []


class TaggedAnswer(NamedTuple):
    """What :func:`tagged_answer` read: the answer ``text`` and whether its tag was ``closed``."""

    text: str
    closed: bool


def tagged_answer(text: str) -> TaggedAnswer | None:
    """The answer a reply gives in its ``<answer>`` tag: the one reading of it that grading, eval and the data
    readers share. The last closed ``<answer>…</answer>`` (a closed tag is final), its :func:`final_answer`
    (``""`` when it holds none); else the text after an ``<answer>`` never closed (``closed`` False: a completion cut
    off in its answer); ``None`` when the reply has no answer tag.

    >>> tagged_answer("<think>…</think><answer> Final Answer: 7 </answer>")
    TaggedAnswer(text='7', closed=True)
    >>> tagged_answer("<answer>1</answer> then <answer>2</answer>").text, tagged_answer("<answer>3 cm")
    ('2', TaggedAnswer(text='3 cm', closed=False))
    >>> tagged_answer("The answer is 3.") is None
    True
    """
    if not isinstance(text, str) or ANSWER_OPEN not in text:
        return None
    tags = answer_tags(text)
    if tags:
        return TaggedAnswer(final_answer(tags[-1]), True)
    return TaggedAnswer(final_answer(text[text.rfind(ANSWER_OPEN) + len(ANSWER_OPEN):]), False)


def answer_closed(text: str) -> bool:
    """Whether ``text`` closes an answer tag (the authors' eval asks again for a reply that does not).

    >>> answer_closed("<think>x</think><answer>4</answer>"), answer_closed("<think>x</think>4")
    (True, False)
    """
    return isinstance(text, str) and ANSWER_CLOSE in text


def split_reasoning(content: str | None, reasoning: str | None = None) -> tuple[str | None, str]:
    """(reasoning, answer text) from either a separate reasoning field or inline ``<think>…</think>``.

    Reasoning models served with a reasoning parser (DeepSeek API, vLLM ``--reasoning-parser``) send
    the chain of thought separately; served raw, they put it inline, sometimes without the opening
    tag (the R1 chat template opens it in the prompt). Returns ``(None, content)`` when there is none.
    Lenient where :func:`parse_r1` is strict: it reads what a teacher model sent, it grades nothing.

    >>> split_reasoning("<think>a</think>b")
    ('a', 'b')
    >>> split_reasoning("a</think>b")
    ('a', 'b')
    >>> split_reasoning("b", "a")
    ('a', 'b')
    """
    content = content or ""
    if reasoning is not None and reasoning.strip():
        # some servers also leave an empty or duplicate think block inline
        if THINK_CLOSE in content:
            content = content.split(THINK_CLOSE, 1)[1]
        return reasoning.strip(), content.strip()
    if THINK_CLOSE in content:
        head, tail = content.split(THINK_CLOSE, 1)
        if THINK_OPEN in head:
            head = head.split(THINK_OPEN, 1)[1]
        return head.strip(), tail.strip()
    if THINK_OPEN in content:  # opened, never closed: the reasoning ran out
        return content.split(THINK_OPEN, 1)[1].strip(), ""
    return None, content.strip()


def reasoning_unclosed(content: str | None, reasoning: str | None = None) -> bool:
    """Whether the reasoning was opened inline and never closed (the completion ran out while thinking); a separate
    reasoning field closes nothing, so then it is not.

    >>> reasoning_unclosed("<think>so far"), reasoning_unclosed("<think>a</think>b"), reasoning_unclosed("<think>x", "a")
    (True, False, False)
    """
    text = content or ""
    return (reasoning is None or not reasoning.strip()) and THINK_OPEN in text and THINK_CLOSE not in text


def inline_reasoning(content: str | None, reasoning: str | None) -> str:
    """``content`` with a reasoning the server sent apart put back inline as ``<think>…</think>``, so the response
    reads as the model wrote it (:func:`split_reasoning` read back); unchanged when it already closes a think block.

    >>> inline_reasoning("4", " 2+2 "), inline_reasoning("<think>a</think>4", "a"), inline_reasoning("4", None)
    ('<think>2+2</think>4', '<think>a</think>4', '4')
    """
    content = content or ""
    if reasoning and reasoning.strip() and THINK_CLOSE not in content:
        return f"{THINK_OPEN}{reasoning.strip()}{THINK_CLOSE}{content}"
    return content


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
    for tag in R1_TAGS:
        n = text.count(tag)
        if n == 0:
            return _fail(f"missing {tag}")
        if n > 1:
            return _fail(f"duplicate {tag}")
    i0, i1, i2, i3 = (text.index(tag) for tag in R1_TAGS)
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


# ----------------------------------------------------------------------------- choice letters

LETTERS = string.ascii_uppercase
"""Option letters: option *i* of a multiple-choice question is ``LETTERS[i]`` (at most 26 options)."""


def choice_letter(index: int) -> str:
    """The letter of option ``index`` (0 -> ``A``).

    >>> choice_letter(0), choice_letter(3)
    ('A', 'D')
    """
    return LETTERS[index]


def letter_index(letter: str, n_choices: int | None = None) -> int | None:
    """The option index a letter names (``B`` -> 1; either case), or None when it names none (of ``n_choices``).

    >>> letter_index("b"), letter_index("E", 4), letter_index("AB")
    (1, None, None)
    """
    if not isinstance(letter, str) or len(letter.strip()) != 1:
        return None
    i = LETTERS.find(letter.strip().upper())
    return i if i >= 0 and (n_choices is None or i < n_choices) else None


# ----------------------------------------------------------------------------- the user prompt

TEMPLATES_DIR = Path(__file__).parent / "templates"
USER_TEMPLATES = {"r1": TEMPLATES_DIR / "user.txt", "raw": TEMPLATES_DIR / "raw.txt"}
"""Named user-prompt forms -> template files."""
INSTRUCTION_TEMPLATE = TEMPLATES_DIR / "instruction.txt"
"""The ``r1`` form's format instruction (``{instruction}`` in a user template)."""
DEFAULT_FORM = "r1"
DEFAULT_USER_TEMPLATE = USER_TEMPLATES[DEFAULT_FORM]
PLACEHOLDERS = ("question", "choices", "answer_kind", "instruction")
PROMPT_FORMS = ("r1", "raw", "other")
"""What :func:`detect_prompt_form` tells apart: our R1 instruction, no format instruction, another one."""

_TAG_MENTION_RE = re.compile(r"<\s*/?\s*(think|answer)\s*>", re.IGNORECASE)


def template_path(template: str | Path | None = None) -> Path:
    """The file of a named form (``r1``, ``raw``), or ``template`` as a path; ``None`` is the default (``r1``)."""
    if template is None or str(template) == "":
        return DEFAULT_USER_TEMPLATE
    if str(template) in USER_TEMPLATES and not Path(template).is_file():  # a config may hand the name over as a Path
        return USER_TEMPLATES[str(template)]
    return Path(template)


@lru_cache(maxsize=16)
def load_template(template: str | Path | None = None) -> str:
    """Read a user-prompt template (a form's name, a file, or the default when None) and check its placeholders."""
    p = template_path(template)
    if not p.is_file():
        raise ConfigError(f"user template {template!s} is neither a file nor one of the named forms "
                          f"({', '.join(USER_TEMPLATES)}); set data.user_template to one of those, a template file, or null")
    text = p.read_text(encoding="utf-8").rstrip("\n")
    if "{question}" not in text:
        raise ConfigError(f"user template {p} has no {{question}} placeholder")
    try:
        text.format(**dict.fromkeys(PLACEHOLDERS, ""))
    except (KeyError, IndexError, ValueError) as e:
        raise ConfigError(f"user template {p} has a bad placeholder ({e}); allowed: {', '.join(PLACEHOLDERS)}") from None
    return text


def choice_lines(choices: list[str] | None) -> str:
    """``(A) x`` lines for multiple choice, ``""`` otherwise.

    >>> choice_lines(["3", "4"])
    '(A) 3\\n(B) 4'
    """
    return "\n".join(f"({choice_letter(i)}) {c}" for i, c in enumerate(choices or []))


def format_choices(choices: list[str] | None) -> str:
    """``Choices:\\n(A) x\\n(B) y\\n`` for multiple choice, ``""`` otherwise."""
    return f"Choices:\n{choice_lines(choices)}\n" if choices else ""


def _answer_kind(multiple_choice: bool) -> str:
    return "the letter of the correct option" if multiple_choice else "the final answer"


@lru_cache(maxsize=1)
def _instruction_template() -> str:
    return INSTRUCTION_TEMPLATE.read_text(encoding="utf-8").strip()


def r1_instruction(multiple_choice: bool = False) -> str:
    """The ``r1`` form's format instruction, rendered (``templates/instruction.txt``).

    >>> r1_instruction()
    'Think step by step inside <think></think> tags, then give the final answer inside <answer></answer> tags.'
    """
    return _instruction_template().format(answer_kind=_answer_kind(multiple_choice))


def render_user_prompt(question: str, choices: list[str] | None = None, template: str | Path | None = None) -> str:
    """The user turn's text for one question (the image goes before it, as an image block).

    ``template``: a form's name (``r1``, ``raw``), a template file, or None for the default (``r1``). Placeholders:
    ``{question}``; ``{choices}`` (for multiple choice, a ``Choices:`` line then one ``(A) text`` line per
    option, else empty); ``{answer_kind}`` (``the letter of the correct option`` for multiple choice, else ``the
    final answer``); ``{instruction}`` (:func:`r1_instruction`).

    >>> print(render_user_prompt("Which bar is taller?", ["left", "right"]))
    Which bar is taller?
    Choices:
    (A) left
    (B) right
    Think step by step inside <think></think> tags, then give the letter of the correct option inside <answer></answer> tags.
    >>> print(render_user_prompt("Which bar is taller?", ["left", "right"], "raw"))
    Which bar is taller?
    Choices:
    (A) left
    (B) right
    """
    mc = bool(choices)
    question = strip_r1_instruction(question)
    # a question that already asks for the tags in its own words keeps them, and gets no second instruction
    instruction = "" if detect_prompt_form(question) == "other" else r1_instruction(mc)
    text = load_template(template).format(question=question.strip(), choices=format_choices(choices),
                                          answer_kind=_answer_kind(mc), instruction=instruction)
    return text.rstrip()


def strip_r1_instruction(text: str) -> str:
    """``text`` without the r1 form's instruction (either wording), stripped: what a user turn we wrote asks.

    Data read back from our own exports (``cold.sharegpt.json``, ``cold.jsonl``) carries the instruction in its
    user turn; a stage that renders the prompt again must not add it a second time.

    >>> strip_r1_instruction(render_user_prompt("2+2?"))
    '2+2?'
    """
    if not isinstance(text, str):
        return ""
    for mc in (True, False):
        text = text.replace(r1_instruction(mc), "")
    return text.strip()


_CHOICES_BLOCK_RE = re.compile(r"(?:^|\n)Choices:\n((?:\([A-Z]\) [^\n]*(?:\n|$))+)\s*$")
_CHOICE_LINE_RE = re.compile(r"\(([A-Z])\) (.*)")


@dataclass(frozen=True)
class UserPrompt:
    """What a user turn asks (:func:`read_user_prompt`): the ``question``, its ``choices`` (None unless it lists
    them as :func:`render_user_prompt` writes them) and the ``form`` it was written in."""

    question: str
    choices: list[str] | None
    form: str


def read_user_prompt(user_text: str) -> UserPrompt:
    """The question and choices of a user turn in the ``r1`` or ``raw`` form: :func:`render_user_prompt` read
    back. The r1 instruction is taken out and a trailing ``Choices:`` block of ``(A) …`` lines (in letter order,
    two or more) becomes the choices; any other text is the question as it is.

    >>> read_user_prompt(render_user_prompt("Which is larger?", ["3/11", "8/11"]))
    UserPrompt(question='Which is larger?', choices=['3/11', '8/11'], form='r1')
    >>> read_user_prompt("How many?")
    UserPrompt(question='How many?', choices=None, form='raw')
    """
    form = detect_prompt_form(user_text)
    text = strip_r1_instruction(user_text)
    m = _CHOICES_BLOCK_RE.search(text)
    if m:
        lines = [_CHOICE_LINE_RE.fullmatch(line) for line in m.group(1).strip("\n").split("\n")]
        if len(lines) >= 2 and all(x and x.group(1) == choice_letter(i) for i, x in enumerate(lines)):
            question = text[: m.start()].strip()
            if question:
                return UserPrompt(question=question, choices=[x.group(2).strip() for x in lines], form=form)
    return UserPrompt(question=text, choices=None, form=form)


def detect_prompt_form(user_text: str) -> str:
    """Which form a user turn was written in: ``r1`` (it carries the r1 form's instruction), ``other`` (it asks
    for ``<think>``/``<answer>`` tags in other words) or ``raw`` (no format instruction: the question alone).

    >>> detect_prompt_form(render_user_prompt("2+2?")), detect_prompt_form("2+2?")
    ('r1', 'raw')
    >>> detect_prompt_form("2+2? Put your reasoning in <think> </think> and the answer in <answer> </answer>.")
    'other'
    """
    text = user_text if isinstance(user_text, str) else ""
    if r1_instruction(False) in text or r1_instruction(True) in text:
        return "r1"
    return "other" if _TAG_MENTION_RE.search(text) else "raw"


def template_form(template: str | Path | None = None) -> str:
    """The form a template writes (see :func:`detect_prompt_form`): ``r1`` for the default, ``raw`` for ``raw``.

    >>> template_form(None), template_form("raw")
    ('r1', 'raw')
    """
    return detect_prompt_form(render_user_prompt("What is shown?", None, template))


def count_prompt_forms(user_texts: Iterable[str]) -> dict[str, int]:
    """How many user turns are in each form (forms that occur only, most frequent first).

    >>> count_prompt_forms(["a?", "b?", render_user_prompt("c?")])
    {'raw': 2, 'r1': 1}
    """
    return dict(Counter(detect_prompt_form(t) for t in user_texts).most_common())


# ----------------------------------------------------------------------------- reflective words

REFLECTIVE_WORDS: tuple[str, ...] = ("Wait", "Hmm", "Mistake", "Alternatively", "Check")
"""The five self-reflective indicators the paper counts (arXiv 2503.06749, Table 2), in its order."""
_REFLECTIVE_RE = re.compile(r"\b(" + "|".join(REFLECTIVE_WORDS) + r")\b", re.IGNORECASE)
_CANONICAL = {w.lower(): w for w in REFLECTIVE_WORDS}


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


@dataclass(frozen=True)
class ReflectiveTally:
    """Reflective words over many texts: ``total`` per word, ``texts_with`` (texts holding the word at least
    once) per word, ``texts_with_any`` and ``texts``."""

    total: dict[str, int]
    texts_with: dict[str, int]
    texts_with_any: int
    texts: int


def reflective_tally(texts: Iterable[str]) -> ReflectiveTally:
    """:func:`count_reflective_words` summed over ``texts``.

    >>> t = reflective_tally(["Wait. Wait.", "Hmm.", "no"])
    >>> t.total["Wait"], t.texts_with["Wait"], t.texts_with_any, t.texts
    (2, 1, 2, 3)
    """
    total = dict.fromkeys(REFLECTIVE_WORDS, 0)
    texts_with = dict.fromkeys(REFLECTIVE_WORDS, 0)
    with_any = n = 0
    for text in texts:
        counts = count_reflective_words(text)
        for w, k in counts.items():
            total[w] += k
            texts_with[w] += k > 0
        with_any += any(counts.values())
        n += 1
    return ReflectiveTally(total=total, texts_with=texts_with, texts_with_any=with_any, texts=n)
