"""``shape_colour``: the colour of the one large shape in the image. Free-form text (a colour name).

Made for the embedded demo: a strongly visual task a ~4M-parameter model can learn from a few hundred
examples in CPU-minutes (the six original families need far more perception than that). Difficulty:
1 = one large shape (radius 50–70 design px); 2 = a medium one (35–50); 3 = a small one (22–35).
With so few colours and kinds, ``facts`` include the layout (centre and radius, design px): two items
are the same problem only when they draw the same picture, which keeps train and test disjoint.
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import COLOURS, SHAPES, Canvas
from visionr1.data.synth._spec import Item, TaskSpec

_RADIUS = {1: (50, 70), 2: (35, 50), 3: (22, 35)}


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    lo, hi = _RADIUS[difficulty]
    r = rng.uniform(lo, hi)
    colour = rng.choice(list(COLOURS))
    kind = rng.choice(SHAPES)
    cx, cy = rng.uniform(r + 8, 224 - r - 8), rng.uniform(r + 8, 224 - r - 8)
    canvas = Canvas(size)
    canvas.shape(kind, cx, cy, r, colour)
    return Item(
        image=canvas.finish(),
        question="What colour is the shape in the image?",
        answer=colour,
        answer_type="text",
        facts={"colour": colour, "shape": kind, "layout": [round(cx), round(cy), round(r)]},
        description=f"The image shows one {colour} {kind} on a white background.",
        solution=[f"There is a single shape, a {kind}.", f"It is filled with {colour}.", f"So the shape is {colour}."],
    )


SPEC = TaskSpec(
    name="shape_colour",
    build=build,
    answer_type="text",
    multiple_choice=False,
    summary="name the colour of the one shape drawn; the shape gets smaller with difficulty",
)
