"""``bigger_side``: which of two shapes is larger, the left or the right one. Free-form text.

Made for the embedded demo (see :mod:`visionr1.data.synth.shape_colour` for why). One shape in each
half of the image, same kind, different colours; the larger one's radius is a factor bigger.
Difficulty: 1 = factor 1.8–2.4; 2 = 1.4–1.8; 3 = 1.15–1.4. ``facts`` include the layout (heights and
radii, design px), as in :mod:`~visionr1.data.synth.shape_colour`.
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import COLOURS, SHAPES, Canvas
from visionr1.data.synth._spec import Item, TaskSpec

_FACTOR = {1: (1.8, 2.4), 2: (1.4, 1.8), 3: (1.15, 1.4)}


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    lo, hi = _FACTOR[difficulty]
    big = rng.uniform(38, 50)
    small = big / rng.uniform(lo, hi)
    side = rng.choice(["left", "right"])
    kind = rng.choice(SHAPES)
    c_left, c_right = rng.sample(list(COLOURS), 2)
    r_left, r_right = (big, small) if side == "left" else (small, big)
    canvas = Canvas(size)
    y_left, y_right = rng.uniform(60, 164), rng.uniform(60, 164)
    canvas.shape(kind, 56, y_left, r_left, c_left)
    canvas.shape(kind, 168, y_right, r_right, c_right)
    other = "right" if side == "left" else "left"
    return Item(
        image=canvas.finish(),
        question="Which shape is larger, the left one or the right one?",
        answer=side,
        answer_type="text",
        facts={"larger": side, "shape": kind, "colours": {"left": c_left, "right": c_right},
               "layout": [round(y_left), round(r_left), round(y_right), round(r_right)]},
        description=f"The image shows two {kind}s: a {c_left} one on the left and a {c_right} one on the right; "
                    f"the {side} one is bigger.",
        solution=[f"Compare the two {kind}s.", f"The {side} one is clearly bigger than the {other} one.",
                  f"So the larger shape is the {side} one: {side}."],
    )


SPEC = TaskSpec(
    name="bigger_side",
    build=build,
    answer_type="text",
    multiple_choice=False,
    summary="say whether the left or the right shape is larger; the size gap shrinks with difficulty",
)
