"""The one user prompt shared by the bridge's SFT data, GRPO and evaluation.

A model is trained (cold-start SFT), reinforced (GRPO) and evaluated on the *same* prompt, so it is defined
once, as a template file (``visionr1/templates/user.txt``), and rendered here. It lives outside the stage
packages because three stages use it (data flows bridge → sft → grpo → eval; none imports another). Placeholders: ``{question}``; ``{choices}`` (for multiple choice, a
``Choices:`` line then one ``(A) text`` line per option, else empty); ``{answer_kind}`` (``the letter of
the correct option`` for multiple choice, so the model answers with the letter, else ``the final answer``).

Example:
    >>> print(render_user_prompt("Which bar is taller?", ["left", "right"]))
    Which bar is taller?
    Choices:
    (A) left
    (B) right
    Think step by step inside <think></think> tags, then give the letter of the correct option inside <answer></answer> tags.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from visionr1.errors import ConfigError

DEFAULT_USER_TEMPLATE = Path(__file__).parent / "templates" / "user.txt"
PLACEHOLDERS = ("question", "choices", "answer_kind")


@lru_cache(maxsize=16)
def load_template(path: str | Path | None = None) -> str:
    """Read a user-prompt template (the shared default when ``path`` is None) and check its placeholders."""
    p = Path(path) if path else DEFAULT_USER_TEMPLATE
    if not p.is_file():
        raise ConfigError(f"user template {p} does not exist; set data.user_template to a template file or null")
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
    """The user turn's text for one question (the image goes before it, as an image block)."""
    answer_kind = "the letter of the correct option" if choices else "the final answer"
    return load_template(template).format(question=question.strip(), choices=format_choices(choices), answer_kind=answer_kind)
