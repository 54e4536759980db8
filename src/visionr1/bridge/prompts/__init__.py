"""Default prompt templates (``string.Template`` files; ``$name`` placeholders, ``$$`` for a dollar sign).

Files: ``pseudo_cot.txt`` (stage 1), ``description.txt`` (stage 2), ``reasoner.txt`` (stage 3). The user
turn of the exported SFT data is the prompt GRPO and eval use, :mod:`visionr1.r1`. Copy one, edit it,
and point ``prompts.<name>`` in the YAML at the copy. Placeholders each template may use:

* all: ``$question``, ``$choices`` (``(A) ...`` lines, empty unless multiple choice);
* pseudo_cot: ``$answer`` (for multiple choice ``(B) text``);
* description: ``$pseudo_cot``;
* reasoner: ``$description``, ``$hint`` (empty unless ``generation.answer_hint``), ``$answer_format``.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from visionr1.errors import ConfigError

PROMPT_DIR = Path(__file__).resolve().parent

PLACEHOLDERS: dict[str, frozenset[str]] = {
    "pseudo_cot": frozenset({"question", "choices", "answer"}),
    "description": frozenset({"question", "choices", "pseudo_cot"}),
    "reasoner": frozenset({"question", "choices", "description", "hint", "answer_format"}),
}


class PromptTemplate:
    """A checked template: unknown placeholders are an error when loaded, not a KeyError mid-run."""

    def __init__(self, name: str, text: str, source: str):
        self.name = name
        self.source = source
        self.template = string.Template(text)
        if not self.template.is_valid():
            raise ConfigError(f"prompt {source} has a malformed placeholder (write $$ for a literal dollar sign)")
        unknown = set(self.template.get_identifiers()) - PLACEHOLDERS[name]
        if unknown:
            raise ConfigError(
                f"prompt {source} uses unknown placeholder(s) {sorted(unknown)}; valid here: {sorted(PLACEHOLDERS[name])}"
            )

    def render(self, **values: str) -> str:
        text = self.template.substitute({k: values.get(k, "") for k in PLACEHOLDERS[self.name]})
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def load_prompt(name: str, path: Path | str | None = None) -> PromptTemplate:
    """The template ``name`` from ``path``, or the shipped default."""
    if name not in PLACEHOLDERS:
        raise ConfigError(f"unknown prompt {name!r}; valid: {sorted(PLACEHOLDERS)}")
    file = Path(path) if path else PROMPT_DIR / f"{name}.txt"
    if not file.exists():
        raise ConfigError(f"prompt file {file} does not exist")
    return PromptTemplate(name, file.read_text(encoding="utf-8"), str(file))
