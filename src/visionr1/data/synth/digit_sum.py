"""``digit_sum``: add up the digits drawn in the image. Free-form integer.

Difficulty: 1 = 2–3 black digits; 2 = 4–5 digits in mixed colours, all counted; 3 = 5–8 digits in
two colours of mixed sizes, only the digits of one colour counted.
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import COLOURS, Canvas, grid_slots, join
from visionr1.data.synth._spec import Item, TaskSpec

_LEVELS = {  # difficulty -> (min digits, max digits, grid cells)
    1: (2, 3, 3),
    2: (4, 5, 3),
    3: (5, 8, 4),
}


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    lo, hi, cells = _LEVELS[difficulty]
    n = rng.randint(lo, hi)
    if difficulty == 1:
        palette = ["black"]
    elif difficulty == 2:
        palette = rng.sample(list(COLOURS), 3)
    else:
        palette = rng.sample([c for c in COLOURS if c != "black"], 2)
    digits = [(rng.randint(0, 9), rng.choice(palette)) for _ in range(n)]
    target = None
    if difficulty == 3:
        target = rng.choice(palette)
        for colour in palette:  # both colours present: at least one digit counts, one is a distractor
            if all(c != colour for _, c in digits):
                i = rng.choice([j for j in range(n) if sum(c == digits[j][1] for _, c in digits) > 1])
                digits[i] = (digits[i][0], colour)

    canvas = Canvas(size)
    step = (224 - 16) / cells
    for (d, colour), (cx, cy) in zip(digits, grid_slots(rng, n, cells, step * 0.3), strict=True):
        px = step * (rng.uniform(0.45, 0.7) if difficulty == 3 else 0.6)
        canvas.text(cx, cy, str(d), px, colour)

    kept = [d for d, c in digits if target is None or c == target]
    answer = sum(kept)
    shown = join([f"{d} ({c})" for d, c in digits]) if difficulty > 1 else join([str(d) for d, _ in digits])
    description = (
        f"The image shows {n} digits scattered on a white background, in reading order: {shown}."
        if difficulty > 1
        else f"The image shows {n} black digits on a white background, in reading order: {shown}."
    )
    steps = [f"Read the digits in reading order: {shown}."]
    if target is not None:
        steps.append(f"Keep only the {target} digits: {join([str(d) for d in kept])}.")
    steps.append(f"Add them: {' + '.join(str(d) for d in kept)} = {answer}.")
    steps.append(f"So the sum is {answer}.")
    which = f"the {target} digits" if target else "all the digits"
    counts = {c: sorted(d for d, cc in digits if cc == c) for c in sorted(palette)}
    return Item(
        image=canvas.finish(),
        question=f"What is the sum of {which} shown in the image?",
        answer=str(answer),
        answer_type="integer",
        facts={"digits": {c: v for c, v in counts.items() if v}, "target_colour": target},
        description=description,
        solution=steps,
    )


SPEC = TaskSpec(
    name="digit_sum",
    build=build,
    answer_type="integer",
    multiple_choice=False,
    summary="sum the drawn digits (of one colour at level 3); more digits and colours with difficulty",
)
