"""Default prompt templates (``string.Template`` files; ``$name`` placeholders, ``$$`` for a dollar sign).

Files: ``pseudo_cot.txt`` (stage 1), ``description.txt`` (stage 2), ``reasoner.txt`` (stage 3, ours: it asks
for a ``Final answer:`` line) and ``reasoner_paper.txt`` (stage 3 in the paper's words, Figure 2: "Following the
above image description, think step by step and answer the following question directly."; the layout around
them is ours). ``prompts.reasoner: paper`` picks the latter by name (the 7B bridge recipe does), ``ours`` the
former (the default). The user turn of the exported SFT data is the prompt GRPO and eval use,
:mod:`visionr1.r1`. Copy one, edit it, and point ``prompts.<name>`` in the YAML at the copy. Placeholders
each template may use:

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


SHIPPED: dict[str, dict[str, str]] = {"reasoner": {"ours": "reasoner.txt", "paper": "reasoner_paper.txt"}}
"""Shipped variants a YAML may name instead of a path: ``prompts.reasoner: paper``."""


def load_prompt(name: str, path: Path | str | None = None) -> PromptTemplate:
    """The template ``name`` from ``path`` (a file, or a shipped variant's name: :data:`SHIPPED`), or the default."""
    if name not in PLACEHOLDERS:
        raise ConfigError(f"unknown prompt {name!r}; valid: {sorted(PLACEHOLDERS)}")
    variant = SHIPPED.get(name, {}).get(str(path)) if path else None
    file = PROMPT_DIR / variant if variant else Path(path) if path else PROMPT_DIR / f"{name}.txt"
    if not file.exists():
        raise ConfigError(f"prompt file {file} does not exist")
    return PromptTemplate(name, file.read_text(encoding="utf-8"), str(file))
