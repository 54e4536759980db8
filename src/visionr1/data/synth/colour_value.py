"""``colour_value``: what is the shape's colour worth, plus a number? Three easy steps, asked in one question.

Made for the embedded demo, where reasoning must be *needed*. Each colour has a fixed value (:data:`VALUE`:
red 4, blue 7, green 2, orange 5, purple 9, black 3), known the way a base model knows facts from
pre-training (the demo's warm-up teaches them), and the question adds an offset::

    What is the value of the shape's colour plus 3?        (a blue shape: 7 + 3 = 10)

The chain of thought is four single-hop steps, each learned by the ~4M model in CPU-minutes: *the question adds
3* (read the question) → *the shape is blue* (perception, as in ``shape_colour``) → *blue=7* (a fact) → *7+3=10*
(a one-digit sum).

**Held-out pairs.** A third of the (colour, offset) pairs are never asked in the train split; the test and
validation splits ask only those (:func:`held_out`, used by :func:`visionr1.data.synth.synthesize`). A model
that answers directly must then compose the steps inside one forward pass for a pair it was never shown, which
a small transformer trained in minutes does not do (it learns the pairs it saw); a model that writes the steps
down uses each one on its own, and every step is as familiar on a held-out pair as on a trained one. The demo's
warm-up teaches the base model every step on its own (:func:`subskills`: perception, the values, the sums of
every pair), so the base has every skill the reasoning uses and lacks only the chaining.

Difficulty changes the shape's size as in ``shape_colour`` (1 large, 2 medium, 3 small). ``facts`` include the
layout, so two items are the same problem only when they ask the same thing about the same picture.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from visionr1.data.synth._draw import COLOURS, SHAPES, Canvas
from visionr1.data.synth._spec import Item, TaskSpec

_RADIUS = {1: (50, 70), 2: (35, 50), 3: (22, 35)}
VALUE = {"red": 4, "blue": 7, "green": 2, "orange": 5, "purple": 9, "black": 3}
"""Each colour's fixed value (one digit, all different)."""
OFFSETS = range(1, 10)
"""The number added: one digit, so every sum is at most 18."""
QUESTION = "What is the value of the shape's colour plus {offset}?"


def held_out(facts: dict) -> bool:
    """Is this (colour, offset) pair one the train split never asks? A third of the pairs: three offsets per
    colour and two colours per offset, so every colour and every offset is still asked in training."""
    return (list(VALUE).index(facts["colour"]) + facts["offset"]) % 3 == 0


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    lo, hi = _RADIUS[difficulty]
    r = rng.uniform(lo, hi)
    colour = rng.choice(list(VALUE))
    kind = rng.choice(SHAPES)
    cx, cy = rng.uniform(r + 8, 224 - r - 8), rng.uniform(r + 8, 224 - r - 8)
    offset = rng.choice(OFFSETS)
    value = VALUE[colour]
    canvas = Canvas(size)
    canvas.shape(kind, cx, cy, r, colour)
    return Item(
        image=canvas.finish(),
        question=QUESTION.format(offset=offset),
        answer=str(value + offset),
        answer_type="integer",
        facts={"colour": colour, "shape": kind, "offset": offset, "layout": [round(cx), round(cy), round(r)]},
        description=f"The image shows one {colour} {kind} on a white background.",
        solution=[f"The question adds {offset}.", f"The shape is {colour}.", f"{colour}={value}.",
                  f"{value}+{offset}={value + offset}."],
        extra={"subskills": subskills(rng, colour, offset)},
    )


def subskills(rng: random.Random, colour: str, offset: int,
              write_sum: Callable[[int, int], str] = lambda a, b: f"{a}+{b}={a + b}.") -> list[dict[str, str]]:
    """Four one-step questions beside the item, each answered the way the chain of thought states that step:
    the number the question adds (read from the item's own question), the colour of the item's shape, the value of
    a random colour, and a random one-digit sum of a colour's value and an offset (over all pairs, held-out ones
    included), written by ``write_sum`` (:mod:`colour_count` writes it as a count).

    A real base model brings these skills from pre-training (it can name a colour, knows facts, adds); the
    demo's warm-up teaches them to the random-weight tiny model next to the direct answers.
    """
    other = rng.choice(list(VALUE))
    a, b = VALUE[rng.choice(list(VALUE))], rng.choice(OFFSETS)
    return [
        {"skill": "read", "question": f"{QUESTION.format(offset=offset)} What number does the question add?",
         "answer": f"The question adds {offset}."},
        {"skill": "perception", "question": "What colour is the shape in the image?", "answer": f"The shape is {colour}."},
        {"skill": "fact", "question": f"What is the value of {other}?", "answer": f"{other}={VALUE[other]}."},
        {"skill": "add", "question": f"What is {a} plus {b}?", "answer": write_sum(a, b)},
    ]


SPEC = TaskSpec(
    name="colour_value",
    build=build,
    answer_type="integer",
    multiple_choice=False,
    summary="the value of the shape's colour plus a number (three steps); test/val ask only pairs train never asks",
    held_out=held_out,
)
