"""What a task family is (:class:`TaskSpec`) and what one of its generators returns (:class:`Item`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from PIL import Image

DIFFICULTIES = (1, 2, 3)


@dataclass
class Item:
    """One drawn problem before it is saved: the image plus everything a :class:`Record` needs.

    ``facts`` is the structured ground truth the answer follows from (counts, lengths, angles, ...),
    without pixel positions, so two items with equal facts are the same problem; ``description`` is a
    caption complete enough to answer from; ``solution`` derives the answer from what is drawn.
    """

    image: Image.Image
    question: str
    answer: str
    answer_type: str
    facts: dict[str, Any]
    description: str
    solution: list[str]
    choices: list[str] | None = None
    precision: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSpec:
    """A task family.

    Attributes:
        name: registry key, also the ``synth/{name}`` source and the id prefix.
        build: ``(rng, difficulty, image_size) -> Item``; must use only ``rng`` for randomness.
        answer_type: ``"integer"``, ``"float"``, ``"text"`` or ``"integer|float"`` when it depends on difficulty.
        multiple_choice: whether items come with four choices.
        summary: one line on what is asked and what difficulty changes.
        held_out: ``facts -> bool`` for a family that tests systematic generalisation: the items it says True
            for are asked only in the test and validation splits, the others only in train (None: any item
            goes in any split).
    """

    name: str
    build: Callable[[random.Random, int, int], Item]
    answer_type: str
    multiple_choice: bool
    summary: str
    held_out: Callable[[dict[str, Any]], bool] | None = None
