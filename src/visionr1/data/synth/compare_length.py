"""``compare_length``: which of four labelled segments is the longest (or shortest). Multiple choice.

Difficulty: 1 = four horizontal segments stacked one above the other, the longest at least 30%
longer than the rest; 2 = one segment per quadrant at random angles, 15% apart; 3 = random angles,
only 7% apart, and the question asks for the longest or the shortest.
"""

from __future__ import annotations

import math
import random

from visionr1.data.synth._draw import Canvas
from visionr1.data.synth._spec import Item, TaskSpec

_LEVELS = {1: 0.30, 2: 0.15, 3: 0.07}  # difficulty -> relative gap between the extreme and the others
_NAMES = ("a", "b", "c", "d")
_LO, _HI = 40.0, 96.0  # segment lengths in design pixels


def _lengths(rng: random.Random, gap: float, longest: bool) -> list[float]:
    """Four lengths (0.5 px resolution) where one is more than ``gap`` beyond all the others."""
    if longest:
        extreme = rng.uniform(_LO * (1 + gap) + 4, _HI)
        others = [rng.uniform(_LO, extreme / (1 + gap)) for _ in range(3)]
    else:
        extreme = rng.uniform(_LO, _HI / (1 + gap) - 4)
        others = [rng.uniform(extreme * (1 + gap), _HI) for _ in range(3)]
    lengths = [extreme, *others]
    rng.shuffle(lengths)
    return [round(v * 2) / 2 for v in lengths]


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    gap = _LEVELS[difficulty]
    longest = difficulty < 3 or rng.random() < 0.5
    lengths = _lengths(rng, gap, longest)

    canvas = Canvas(size)
    for i, (name, length) in enumerate(zip(_NAMES, lengths, strict=True)):
        if difficulty == 1:
            cx, cy, theta = rng.uniform(30 + length / 2, 210 - length / 2), 36 + 50 * i, 0.0
        else:
            cx, cy = 62 + 100 * (i % 2), 62 + 100 * (i // 2)
            theta = rng.uniform(0, math.pi)
        dx, dy = math.cos(theta) * length / 2, math.sin(theta) * length / 2
        p, q = (cx - dx, cy - dy), (cx + dx, cy + dy)
        canvas.line(p, q, 3)
        nx, ny = -math.sin(theta), math.cos(theta)  # unit normal: end ticks and the label offset
        for ex, ey in (p, q):
            canvas.line((ex - nx * 5, ey - ny * 5), (ex + nx * 5, ey + ny * 5), 2)
        if difficulty == 1:
            canvas.text(p[0] - 14, cy, name, 16)
        else:
            side = -1 if ny > 0 else 1  # put the label above the segment when it can
            canvas.text(cx + side * nx * 15, cy + side * ny * 15, name, 16)

    table = dict(zip(_NAMES, lengths, strict=True))
    word = "longest" if longest else "shortest"
    answer = (max if longest else min)(table, key=table.get)
    ordered = sorted(table, key=table.get, reverse=longest)
    layout = "horizontal segments stacked from top to bottom" if difficulty == 1 else (
        "segments at different angles, one in each quadrant (a top left, b top right, c bottom left, d bottom right)"
    )
    description = (
        f"The image shows four black {layout}, each labelled with a letter and ending in short ticks. "
        "Their lengths, in 1/224ths of the image width: "
        + ", ".join(f"{k} = {v:g}" for k, v in table.items())
        + "."
    )
    steps = [
        "Measure each segment between its end ticks: " + ", ".join(f"{k} ≈ {v:g}" for k, v in table.items()) + ".",
        f"Order from {word}: {' > '.join(ordered) if longest else ' < '.join(ordered)}.",
        f"Segment {answer} is the {word} ({table[answer]:g} vs next {table[ordered[1]]:g}).",
        f"So the answer is {answer}.",
    ]
    return Item(
        image=canvas.finish(),
        question=f"Which of the labelled line segments in the image is the {word}?",
        answer=answer,
        answer_type="text",
        choices=list(_NAMES),
        facts={"lengths": table, "ask": word},
        description=description,
        solution=steps,
    )


SPEC = TaskSpec(
    name="compare_length",
    build=build,
    answer_type="text",
    multiple_choice=True,
    summary="pick the longest/shortest of four segments; angled and closer in length with difficulty",
)
