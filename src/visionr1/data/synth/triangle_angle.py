"""``triangle_angle``: the unlabelled angle of a drawn triangle with two angles labelled. Integer.

The triangle is drawn to scale with a small arc at each corner; two corners carry their measure
("55°"), the third a "?". Difficulty: 1 = angles in multiples of 10 (at least 30°), flat base, the
"?" at the top; 2 = multiples of 5 (at least 25°), any rotation, "?" at any corner; 3 = any whole
degrees (at least 20°), any rotation.
"""

from __future__ import annotations

import math
import random

from visionr1.data.synth._draw import Canvas
from visionr1.data.synth._spec import Item, TaskSpec

_LEVELS = {1: (10, 30), 2: (5, 25), 3: (1, 20)}  # difficulty -> (angle step, smallest angle)


def _angles(rng: random.Random, step: int, smallest: int) -> tuple[int, int, int]:
    while True:
        a = rng.randrange(smallest, 180 - 2 * smallest + 1, step)
        b = rng.randrange(smallest, 180 - smallest - a + 1, step)
        c = 180 - a - b
        if c >= smallest:
            return a, b, c


def _vertices(a: int, b: int, rotation: float) -> list[tuple[float, float]]:
    """Corners A, B, C (angles a, b, 180-a-b) in screen coordinates, fitted to the middle of the grid."""
    c = 180 - a - b
    side = math.sin(math.radians(b)) / math.sin(math.radians(c))  # |AC| when |AB| = 1 (law of sines)
    pts = [(0.0, 0.0), (1.0, 0.0), (side * math.cos(math.radians(a)), side * math.sin(math.radians(a)))]
    cr, sr = math.cos(rotation), math.sin(rotation)
    pts = [(x * cr - y * sr, -(x * sr + y * cr)) for x, y in pts]  # rotate, then flip y (screen y is down)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    scale = 136 / max(max(xs) - min(xs), max(ys) - min(ys))
    mx, my = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return [(112 + (x - mx) * scale, 112 + (y - my) * scale) for x, y in pts]


def _unit(dx: float, dy: float) -> tuple[float, float]:
    n = math.hypot(dx, dy)
    return dx / n, dy / n


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    step, smallest = _LEVELS[difficulty]
    angles = list(_angles(rng, step, smallest))
    rotation = 0.0 if difficulty == 1 else rng.uniform(0, 2 * math.pi)
    unknown = 2 if difficulty == 1 else rng.randrange(3)
    pts = _vertices(angles[0], angles[1], rotation)

    canvas = Canvas(size)
    for i in range(3):
        canvas.line(pts[i], pts[(i + 1) % 3], 2.5)
    for i, (vx, vy) in enumerate(pts):
        p, q = pts[(i + 1) % 3], pts[(i + 2) % 3]
        u1, u2 = _unit(p[0] - vx, p[1] - vy), _unit(q[0] - vx, q[1] - vy)
        a1, a2 = (math.degrees(math.atan2(u[1], u[0])) % 360 for u in (u1, u2))
        if (a2 - a1) % 360 > 180:
            a1, a2 = a2, a1
        canvas.arc(vx, vy, 13, a1, a2 if a2 >= a1 else a2 + 360, 1.5)
        bx, by = _unit(u1[0] + u2[0], u1[1] + u2[1])  # inner bisector; the label goes the other way
        label = "?" if i == unknown else f"{angles[i]}°"
        canvas.text(vx - bx * 22, vy - by * 22, label, 15)

    known = [angles[i] for i in range(3) if i != unknown]
    answer = angles[unknown]
    description = (
        f"A triangle drawn to scale, with a small arc marking each of its three angles. Two angles are "
        f"labelled {known[0]}° and {known[1]}°; the third angle is labelled with a question mark."
    )
    steps = [
        f"The labelled angles are {known[0]}° and {known[1]}°; the angle marked ? is unknown.",
        "The angles of a triangle add up to 180°.",
        f"? = 180° - {known[0]}° - {known[1]}° = {answer}°.",
        f"So the unknown angle is {answer} degrees.",
    ]
    return Item(
        image=canvas.finish(),
        question="Two angles of the triangle in the image are labelled with their measures. "
        "What is the measure, in degrees, of the angle marked with a question mark?",
        answer=str(answer),
        answer_type="integer",
        facts={"labelled": sorted(known), "unknown": answer},
        description=description,
        solution=steps,
        extra={"unit": "degrees"},
    )


SPEC = TaskSpec(
    name="triangle_angle",
    build=build,
    answer_type="integer",
    multiple_choice=False,
    summary="third angle of a triangle with two angles labelled; finer angles and rotation with difficulty",
)
