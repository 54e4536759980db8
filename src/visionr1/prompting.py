"""The user prompt shared by the bridge's SFT data, GRPO and evaluation, in its named forms.

A model is trained (cold-start SFT), reinforced (GRPO) and evaluated on the *same* prompt, so it is defined
once, as template files (``visionr1/templates/``), and rendered here. It lives outside the stage packages
because three stages use it (data flows bridge → sft → grpo → eval; none imports another).

Two forms ship, chosen by name wherever a template is asked for (``data.user_template``, the bridge's
``prompts.user``), or give a template file's path:

* ``r1`` (``templates/user.txt``, the default): the question, its choices, then "Think step by step inside
  <think></think> tags, then give … inside <answer></answer> tags." It teaches the format by instruction,
  which a model that never saw it (the tiny model, a base model) needs.
* ``raw`` (``templates/raw.txt``): the question and its choices only. The paper's form: its RL prompt has no
  format instruction ("we do not impose constraints using a system prompt, as Vision-R1-CI has already
  acquired robust formatting capability during the cold-start", §3.4), Vision-R1-cold's user turns are the
  source questions, and the released eval sends the bare question.

Placeholders: ``{question}``; ``{choices}`` (for multiple choice, a ``Choices:`` line then one ``(A) text``
line per option, else empty); ``{answer_kind}`` (``the letter of the correct option`` for multiple choice,
so the model answers with the letter, else ``the final answer``).

:func:`detect_prompt_form` reads a user turn back into its form, so SFT can say which form it trained on and
``visionr1 grpo --dry-run`` can warn when RL asks in another.

Example:
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

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from visionr1.errors import ConfigError

TEMPLATES_DIR = Path(__file__).parent / "templates"
USER_TEMPLATES = {"r1": TEMPLATES_DIR / "user.txt", "raw": TEMPLATES_DIR / "raw.txt"}
"""Named user-prompt forms → template files."""
DEFAULT_FORM = "r1"
DEFAULT_USER_TEMPLATE = USER_TEMPLATES[DEFAULT_FORM]
PLACEHOLDERS = ("question", "choices", "answer_kind")
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
        text.format(question="", choices="", answer_kind="")
    except (KeyError, IndexError, ValueError) as e:
        raise ConfigError(f"user template {p} has a bad placeholder ({e}); allowed: {', '.join(PLACEHOLDERS)}") from None
    return text


def choice_lines(choices: list[str] | None) -> str:
    """``(A) x`` lines for multiple choice, ``""`` otherwise.

    >>> choice_lines(["3", "4"])
    '(A) 3\\n(B) 4'
    """
    return "\n".join(f"({chr(ord('A') + i)}) {c}" for i, c in enumerate(choices or []))


def format_choices(choices: list[str] | None) -> str:
    """``Choices:\\n(A) x\\n(B) y\\n`` for multiple choice, ``""`` otherwise."""
    return f"Choices:\n{choice_lines(choices)}\n" if choices else ""


def render_user_prompt(question: str, choices: list[str] | None = None, template: str | Path | None = None) -> str:
    """The user turn's text for one question (the image goes before it, as an image block).

    ``template``: a form's name (``r1``, ``raw``), a template file, or None for the default (``r1``).
    """
    answer_kind = "the letter of the correct option" if choices else "the final answer"
    text = load_template(template).format(question=question.strip(), choices=format_choices(choices), answer_kind=answer_kind)
    return text.rstrip()


def r1_instruction(multiple_choice: bool = False) -> str:
    """The format instruction of the ``r1`` form: its template after ``{choices}``.

    >>> "<answer></answer>" in r1_instruction()
    True
    """
    text = load_template("r1")
    tail = text.split("{choices}", 1)[1] if "{choices}" in text else text.replace("{question}", "")
    kind = "the letter of the correct option" if multiple_choice else "the final answer"
    return tail.replace("{answer_kind}", kind).strip()


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
