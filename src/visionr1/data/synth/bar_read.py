"""``bar_read``: read the value of one bar of a bar chart against its y axis. Integer or float.

Bars carry no value labels, so the answer has to be read off the gridlines. Difficulty: 1 = 3 bars,
values on the gridlines (multiples of 10, integer); 2 = 4–5 bars, values on or halfway between
gridlines (multiples of 5, integer); 3 = 5–6 bars on a 0–10 axis with gridlines every 2, values in
steps of 0.5 (float, 1 decimal place).
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import GRID, INK, Canvas
from visionr1.data.synth._spec import Item, TaskSpec
from visionr1.r1 import LETTERS

_LEVELS = {  # difficulty -> (bars range, axis max choices, tick step, value step)
    1: ((3, 3), (50,), 10, 10),
    2: ((4, 5), (40, 50, 60), 10, 5),
    3: ((5, 6), (10,), 2, 0.5),
}
_X0, _X1, _Y0, _Y1 = 40.0, 214.0, 190.0, 14.0  # plot area: left, right, bottom (y of 0), top


def _fmt(v: float, step: float) -> str:
    return f"{v:.1f}" if step < 1 else str(int(v))


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    (b_lo, b_hi), tops, tick, step = _LEVELS[difficulty]
    n = rng.randint(b_lo, b_hi)
    top = rng.choice(tops)
    units = round(top / step)
    values = [rng.randint(1, units) * step for _ in range(n)]
    labels = list(LETTERS[:n])  # bars are named as options are
    colour = rng.choice(["blue", "green", "orange", "purple", "red"])

    canvas = Canvas(size)
    scale = (_Y0 - _Y1) / top
    for j in range(top // tick + 1):
        y = _Y0 - j * tick * scale
        canvas.line((_X0, y), (_X1, y), 1, GRID)
        canvas.line((_X0 - 4, y), (_X0, y), 1.5, INK)
        canvas.text(_X0 - 16, y, str(j * tick), 12)
    slot = (_X1 - _X0) / n
    width = slot * 0.6
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        cx = _X0 + (i + 0.5) * slot
        canvas.rect(cx - width / 2, _Y0 - v * scale, cx + width / 2, _Y0, colour)
        canvas.text(cx, _Y0 + 14, label, 14)
    canvas.line((_X0, _Y0), (_X1, _Y0), 2, INK)
    canvas.line((_X0, _Y0), (_X0, _Y1 - 4), 2, INK)

    k = rng.randrange(n)
    answer = _fmt(values[k], step)
    is_float = step < 1
    rows = ", ".join(f"{a} = {_fmt(v, step)}" for a, v in zip(labels, values, strict=True))
    description = (
        f"A vertical bar chart with {n} {colour} bars labelled {', '.join(labels)} from left to right. "
        f"The y axis runs from 0 to {top} with gridlines every {tick}; the bars have no value labels. "
        f"Bar heights: {rows}."
    )
    lower = int(values[k] // tick * tick)
    steps = [
        f"Find bar {labels[k]}: it is bar number {k + 1} from the left.",
        f"The y axis has gridlines every {tick}, from 0 to {top}.",
        f"The top of bar {labels[k]} lies "
        + (f"{_fmt(values[k] - lower, step)} above the gridline at {lower}." if values[k] != lower
           else f"exactly on the gridline at {lower}."),
        f"So bar {labels[k]} has the value {answer}.",
    ]
    return Item(
        image=canvas.finish(),
        question=f"In the bar chart, what is the value of bar {labels[k]}?"
        + (" Give the answer to one decimal place." if is_float else ""),
        answer=answer,
        answer_type="float" if is_float else "integer",
        precision=1 if is_float else None,
        facts={"values": dict(zip(labels, values, strict=True)), "axis_max": top, "tick": tick, "asked": labels[k]},
        description=description,
        solution=steps,
    )


SPEC = TaskSpec(
    name="bar_read",
    build=build,
    answer_type="integer|float",
    multiple_choice=False,
    summary="read one bar against the y-axis gridlines; more bars and finer values with difficulty",
)
