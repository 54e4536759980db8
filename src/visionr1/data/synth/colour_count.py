"""``colour_count``: ``colour_value`` (the shape's colour's value plus a number), solved by counting up.

The same questions, values and held-out (colour, offset) pairs as :mod:`colour_value`; only the written solution
differs. Its sum is a count, one number at a time, with the count kept beside each number::

    What is the value of the shape's colour plus 3?      (a blue shape, blue=7)
    The shape is blue. blue=7. The question adds 3. Counting up 3 from 7: 8 (2 left), 9 (1 left), 10 (0 left). 7+3=10.

Why counting: every token of the count follows from the two just before it (the next number, one step fewer
left), and the count stops at ``0 left``, so a chain of thought works the same on a
(colour, offset) pair it was never shown as on one it was. A one-shot sum (``7+3=10``) is a fact per pair: a
small model that learns it inside chains of thought on the train split's pairs remembers those pairs and gets
held-out ones wrong. Answering directly still needs every step composed in one forward pass, for a pair it never
saw answered.

The number added is read just before the count that uses it (colour_value reads it first): the count copies it
from the sentence before, not from four sentences back, where the ~4M model copied the wrong number.
"""

from __future__ import annotations

import random

from visionr1.data.synth import colour_value
from visionr1.data.synth._spec import Item, TaskSpec
from visionr1.data.synth.colour_value import VALUE
from visionr1.r1 import conclusion


def count_up(start: int, n: int) -> str:
    """``Counting up 3 from 7: 8 (2 left), 9 (1 left), 10 (0 left).``

    The count keeps how many steps are *left*, not how many are done: each number and each remainder follows from
    the one two tokens back (one more, one less) and the count ends at ``0 left``, which the model sees right
    there. Counting the steps done ("8 (1), 9 (2), 10 (3)") ends when the step number equals the number added,
    a comparison with a token a dozen back, and the ~4M model overshot or stopped early (the count was right in
    0-37% of cold-start chains on five seeds)."""
    return f"Counting up {n} from {start}: " + ", ".join(f"{start + i} ({n - i} left)" for i in range(1, n + 1)) + "."


def build(rng: random.Random, difficulty: int, size: int) -> Item:
    item = colour_value.build(rng, difficulty, size)
    colour, offset = item.facts["colour"], item.facts["offset"]
    value = VALUE[colour]
    item.solution = [f"The shape is {colour}.", f"{colour}={value}.", f"The question adds {offset}.",
                     count_up(value, offset), f"{value}+{offset}={value + offset}."]
    item.extra = {"subskills": subskills(rng, colour, offset)}
    return item


def subskills(rng: random.Random, colour: str, offset: int) -> list[dict[str, str]]:
    """colour_value's four one-step questions (:func:`colour_value.subskills`), the sum written as a count ending
    on the sum and concluded the way the teacher's chains conclude ("So the final answer is 10."), over all pairs,
    held-out ones included (a base model knows how to count, and to say what it found).

    Why the conclusion: the chains of thought are written for train-split pairs only, so after "So the final
    answer is" a student can recall the trained pair's sum instead of copying the sum just written; on a held-out
    pair it then wrote "5+6=11. So the final answer is 10." (seed 3: the count right in 81% of cold-start chains,
    the answer in 0%). Concluding every sum, held-out pairs included, teaches the copy."""
    return colour_value.subskills(rng, colour, offset, write_sum=lambda a, b: (
        f"{count_up(a, b)} {a}+{b}={a + b}. {conclusion(str(a + b))}"))


SPEC = TaskSpec(
    name="colour_count",
    build=build,
    answer_type="integer",
    multiple_choice=False,
    summary="colour_value's questions, solved by counting up; test/val ask only pairs train never asks",
    held_out=colour_value.held_out,
)
