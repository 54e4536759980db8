"""``count``: how many shapes of a colour (and kind) are drawn. Free-form integer.

Difficulty: 1 = 3–6 circles in 2 colours; 2 = 6–10 circles/squares in 3 colours, asking for a
colour (any kind) or a colour+kind; 3 = 10–16 shapes of 3 kinds in 4 colours and varied sizes,
asking for a colour+kind.
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import COLOURS, PLURAL, SHAPES, Canvas, counted, grid_slots, join
from visionr1.data.synth._spec import Item, TaskSpec

_LEVELS = {  # difficulty -> (min objects, max objects, kinds, colours, grid cells)
    1: (3, 6, 1, 2, 3),
    2: (6, 10, 2, 3, 4),
    3: (10, 16, 3, 4, 5),
}


def scene(rng: random.Random, difficulty: int) -> tuple[list[tuple[str, str]], int, list[str], list[str]]:
    """Random (colour, kind) objects for a level; also the cell count and the palette used."""
    lo, hi, n_kinds, n_colours, cells = _LEVELS[difficulty]
    kinds = list(SHAPES[:n_kinds])
    colours = rng.sample(list(COLOURS), n_colours)
    n = rng.randint(lo, hi)
    objects = [(rng.choice(colours), rng.choice(kinds)) for _ in range(n)]
    return objects, cells, colours, kinds


def draw_scene(rng: random.Random, objects: list[tuple[str, str]], cells: int, size: int, vary: bool) -> Canvas:
    canvas = Canvas(size)
    base = (224 - 16) / cells / 2 - 6
    for (colour, kind), (cx, cy) in zip(objects, grid_slots(rng, len(objects), cells, base), strict=True):
        r = base * rng.uniform(0.6, 1.0) if vary else base * 0.85
        canvas.shape(kind, cx, cy, r, colour)
    return canvas


def tally(objects: list[tuple[str, str]], colours: list[str], kinds: list[str]) -> dict[str, dict[str, int]]:
    """Counts per colour then kind, in a fixed (sorted) order so equal scenes give equal facts."""
    return {c: {k: sum(o == (c, k) for o in objects) for k in sorted(kinds)} for c in sorted(colours)}


def describe(objects: list[tuple[str, str]], counts: dict[str, dict[str, int]]) -> str:
    parts = [f"{v} {c} {PLURAL[k] if v != 1 else k}" for c, ks in counts.items() for k, v in ks.items() if v]
    return (
        f"The image shows {len(objects)} filled shapes on a white background, not overlapping: {join(parts)}."
    )


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    objects, cells, colours, kinds = scene(rng, difficulty)
    canvas = draw_scene(rng, objects, cells, size, vary=difficulty == 3)
    counts = tally(objects, colours, kinds)
    colour, kind = rng.choice(objects)  # ask about something present, so the answer is at least 1
    if difficulty == 2 and rng.random() < 0.5:
        kind = None
    if kind is None:
        answer = sum(counts[colour].values())
        what = f"{colour} shapes"
    else:
        answer = counts[colour][kind]
        what = f"{colour} {PLURAL[kind]}"
    question = f"How many {what} are there in the image?"
    per_colour = {c: sum(ks.values()) for c, ks in counts.items()}
    steps = [
        f"Go through the shapes: {describe(objects, counts).split(': ', 1)[1].rstrip('.')}.",
        f"Shapes per colour: {counted(per_colour)}.",
    ]
    if kind is None:
        steps.append(f"The {colour} shapes, of any kind: {counted(counts[colour])} -> {answer}.")
    else:
        steps.append(f"Keep only shapes that are both {colour} and {PLURAL[kind]}: {answer}.")
    steps.append(f"So there are {answer} {what}.")
    return Item(
        image=canvas.finish(),
        question=question,
        answer=str(answer),
        answer_type="integer",
        facts={"counts": counts, "target": {"colour": colour, "shape": kind}},
        description=describe(objects, counts),
        solution=steps,
    )


SPEC = TaskSpec(
    name="count",
    build=build,
    answer_type="integer",
    multiple_choice=False,
    summary="count shapes of a colour (and kind); more objects, colours and kinds with difficulty",
)
