"""``majority_colour``: which colour is most frequent among the shapes. Multiple choice (4 colours).

Difficulty: 1 = about 6–9 circles in 3 colours, the winner ahead by 2–3; 2 = about 8–12
circles/squares in 4 colours, ahead by 1–2; 3 = about 12–16 shapes of 3 kinds and sizes in 4–5
colours, ahead by exactly 1. The runner-up is always among the choices.
"""

from __future__ import annotations

import random

from visionr1.data.synth._draw import COLOURS, SHAPES, Canvas, counted, grid_slots, join
from visionr1.data.synth._spec import Item, TaskSpec

_LEVELS = {  # difficulty -> (min n, max n, colours range, kinds, margin range, grid cells)
    1: (6, 9, (3, 3), 1, (2, 3), 4),
    2: (8, 12, (4, 4), 2, (1, 2), 4),
    3: (12, 16, (4, 5), 3, (1, 1), 5),
}


def _counts(rng: random.Random, n: int, k: int, margin: int) -> list[int]:
    """``k`` positive counts, about ``n`` in total, whose maximum beats the second largest by ``margin``."""
    cuts = sorted(rng.sample(range(1, n), k - 1))
    parts = sorted((b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)), reverse=True)
    parts[0] = parts[1] + margin
    return parts


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    lo, hi, (c_lo, c_hi), n_kinds, (m_lo, m_hi), cells = _LEVELS[difficulty]
    k = rng.randint(c_lo, c_hi)
    n = rng.randint(lo, hi)
    margin = rng.randint(m_lo, m_hi)
    colours = rng.sample(list(COLOURS), k)
    counts_list = _counts(rng, n, k, margin)
    kinds = list(SHAPES[:n_kinds])
    objects = [(c, rng.choice(kinds)) for c, m in zip(colours, counts_list, strict=True) for _ in range(m)]
    rng.shuffle(objects)
    n = len(objects)
    canvas = Canvas(size)
    base = (224 - 16) / cells / 2 - 6
    for (colour, kind), (cx, cy) in zip(objects, grid_slots(rng, len(objects), cells, base), strict=True):
        r = base * (rng.uniform(0.6, 1.0) if difficulty == 3 else 0.85)
        canvas.shape(kind, cx, cy, r, colour)

    counts = {c: sum(o[0] == c for o in objects) for c in sorted(colours)}
    winner = max(counts, key=counts.get)
    runner_up = sorted(counts, key=lambda c: (-counts[c], c))[1]
    others = [c for c in counts if c not in (winner, runner_up)]
    absent = [c for c in COLOURS if c not in counts]
    pool = rng.sample(others, min(2, len(others)))
    pool += rng.sample(absent, 2 - len(pool))
    choices = [winner, runner_up, *pool]
    rng.shuffle(choices)

    kinds_word = "circles" if n_kinds == 1 else "shapes"
    description = (
        f"The image shows {n} {kinds_word} on a white background: {counted(counts)}"
        f"{'' if n_kinds == 1 else ' (a mix of ' + join(kinds) + ')'}."
    )
    ordered = sorted(counts, key=lambda c: (-counts[c], c))
    steps = [
        f"Count the shapes of each colour: {counted(counts)}.",
        f"Order by count: {', '.join(f'{c} ({counts[c]})' for c in ordered)}.",
        f"{winner} has the most ({counts[winner]}, {counts[winner] - counts[runner_up]} more than {runner_up}).",
        f"So the most frequent colour is {winner}.",
    ]
    return Item(
        image=canvas.finish(),
        question=f"Which colour appears most often among the {kinds_word} in the image?",
        answer=winner,
        answer_type="text",
        choices=choices,
        facts={"counts": counts},
        description=description,
        solution=steps,
    )


SPEC = TaskSpec(
    name="majority_colour",
    build=build,
    answer_type="text",
    multiple_choice=True,
    summary="pick the most frequent colour; more colours and a thinner winning margin with difficulty",
)
