"""``shape_count``: how many shapes are drawn (all one colour). Free-form integer.

Made for the embedded demo (see :mod:`visionr1.data.synth.shape_colour` for why). Difficulty:
1 = 1–3 large circles on a 2×2 grid; 2 = 1–4 large circles or squares on a 2×2 grid; 3 = 1–6
shapes of any kind on a 3×3 grid. ``facts`` include the layout (centres, design px), as in
:mod:`~visionr1.data.synth.shape_colour`.
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import COLOURS, PLURAL, SHAPES, Canvas, grid_slots
from visionr1.data.synth._spec import Item, TaskSpec

_LEVELS = {1: (1, 3, 1, 2), 2: (1, 4, 2, 2), 3: (1, 6, 3, 3)}  # (min n, max n, kinds, grid cells)
_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    lo, hi, n_kinds, cells = _LEVELS[difficulty]
    n = rng.randint(lo, hi)
    colour = rng.choice(list(COLOURS))
    kind = rng.choice(SHAPES[:n_kinds])
    canvas = Canvas(size)
    r = (224 - 16) / cells / 2 - 8
    slots = grid_slots(rng, n, cells, r)
    for cx, cy in slots:
        canvas.shape(kind, cx, cy, r * 0.9, colour)
    noun = kind if n == 1 else PLURAL[kind]
    return Item(
        image=canvas.finish(),
        question="How many shapes are there in the image?",
        answer=str(n),
        answer_type="integer",
        facts={"n": n, "colour": colour, "shape": kind, "layout": [[round(x), round(y)] for x, y in slots]},
        description=f"The image shows {_WORDS[n]} {colour} {noun} on a white background.",
        solution=[f"The shapes are {colour} {PLURAL[kind]}.", f"Counting them one by one gives {n}.",
                  f"So there are {n} shapes."],
    )


SPEC = TaskSpec(
    name="shape_count",
    build=build,
    answer_type="integer",
    multiple_choice=False,
    summary="count the shapes (one colour); more of them, more kinds and a finer grid with difficulty",
)
