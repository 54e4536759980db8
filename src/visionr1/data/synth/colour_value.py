"""``colour_value``: look up the one shape's colour in a value table printed in the question, then add.

Made for the embedded demo, where reasoning must be *needed*: perception stays as easy as in
``shape_colour`` (one large shape, six well-separated colours, learned to 100% by the ~4M model in
CPU-minutes), and the steps are in the composition. Each item carries its own random table, so nothing
about the answer can be memorised from the picture alone::

    Values: green=4, black=9, red=2, blue=7, orange=1, purple=5. What is the value of the shape's colour plus 3?

The chain of thought is three short single-hop steps, each easy for a small transformer: *the shape is
blue* (perception) → *blue=7* (copy from the prompt) → *7+3=10* (a one-digit sum). Answering directly
needs all three in the one forward pass at the answer position: see the colour, find that colour in a
table whose order changes per item, read the digit after it, and add the offset. That is what a 4-layer
model does badly, and what ``visionr1 demo`` measures: the base model is warmed up to answer directly
until its validation accuracy stops rising, and R1-style reasoning must beat it.

Difficulty changes the shape's size as in ``shape_colour`` (1 large, 2 medium, 3 small). ``facts``
include the table, the offset and the layout, so two items are the same problem only when they ask the
same thing about the same picture.
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import COLOURS, SHAPES, Canvas
from visionr1.data.synth._spec import Item, TaskSpec

_RADIUS = {1: (50, 70), 2: (35, 50), 3: (22, 35)}
VALUES = range(1, 10)
"""Table values: one digit each, so every value is one token and every sum at most 18."""
OFFSETS = range(1, 10)


def table_text(table: dict[str, int]) -> str:
    """``green=4, black=9, …`` in the table's own (per-item random) order."""
    return ", ".join(f"{c}={v}" for c, v in table.items())


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    lo, hi = _RADIUS[difficulty]
    r = rng.uniform(lo, hi)
    colour = rng.choice(list(COLOURS))
    kind = rng.choice(SHAPES)
    cx, cy = rng.uniform(r + 8, 224 - r - 8), rng.uniform(r + 8, 224 - r - 8)
    order = list(COLOURS)
    rng.shuffle(order)
    table = {c: rng.choice(VALUES) for c in order}
    offset = rng.choice(OFFSETS)
    value = table[colour]
    canvas = Canvas(size)
    canvas.shape(kind, cx, cy, r, colour)
    return Item(
        image=canvas.finish(),
        question=f"Values: {table_text(table)}. What is the value of the shape's colour plus {offset}?",
        answer=str(value + offset),
        answer_type="integer",
        facts={"colour": colour, "shape": kind, "table": table, "offset": offset,
               "layout": [round(cx), round(cy), round(r)]},
        description=f"The image shows one {colour} {kind} on a white background.",
        solution=[f"The shape is {colour}.", f"{colour}={value}.", f"{value}+{offset}={value + offset}."],
        extra={"subskills": subskills(rng, colour, table, offset)},
    )


def subskills(rng: random.Random, colour: str, table: dict[str, int], offset: int) -> list[dict[str, str]]:
    """One question per step, each answered the way the chain of thought states that step.

    A real base model brings these skills from pre-training (it can name a colour, read a table, add);
    the demo's warm-up teaches them to the random-weight tiny model next to the direct answers, so the base
    it compares against has every skill the reasoning uses and lacks only the chaining.
    """
    other = rng.choice(list(table))
    value = table[colour]
    return [
        {"skill": "perception", "question": "What colour is the shape in the image?", "answer": f"The shape is {colour}."},
        {"skill": "lookup", "question": f"Values: {table_text(table)}. What is the value of {other}?",
         "answer": f"{other}={table[other]}."},
        {"skill": "add", "question": f"What is {value} plus {offset}?", "answer": f"{value}+{offset}={value + offset}."},
    ]


SPEC = TaskSpec(
    name="colour_value",
    build=build,
    answer_type="integer",
    multiple_choice=False,
    summary="read the shape's colour, look its value up in the question's table, add the offset (needs three steps)",
)
