"""The offline template teacher: R1-style chains of thought from programmatic solutions, no server.

Why: the embedded demo and the tests must build a cold-start set on a laptop with no model server.
Records from ``visionr1 synth`` carry a complete text description of the image
(``metadata["description"]``) and a step-by-step ``metadata["solution"]``; this teacher turns them
into what a DeepSeek-R1-class reasoner would write from the description: a restatement of the task, a
look at the image, the steps, one or more self-checks opened by "Wait," / "Hmm," / "Alternatively,",
and a conclusion, followed by ``Final answer: ...``. It replaces stages 1-3; its output goes
through the same stage-4 filters and stage-5 assembly as a real reasoner's.

It is **not** a model: the CoTs are templates, useful to exercise the pipeline and the SFT format,
not to teach reasoning. To show that the filters work, a share of the CoTs (``flaw_rate``, default
10%) is deliberately flawed: half end on a wrong final answer, half are cut off mid-thought as if the
token limit hit (``finish_reason="length"``). Some CoTs (about one in five) also refer to "the
description", as real reasoners do, so the rewrite into image references is exercised. All choices are
deterministic per (seed, record id). ``brief=True`` writes the short form a very small model can imitate
within a tight token budget (no restated question, no preamble, at most two short self-checks); set it
with ``template.brief: true`` in the bridge config (``visionr1 demo`` does).

Example:
    >>> from visionr1.data.record import Record
    >>> rec = Record(id="count-0", question="How many red circles are there?", answer="3", answer_type="integer",
    ...              metadata={"description": "The image shows 3 red circles and 2 blue squares.",
    ...                        "solution": ["Find the red circles: 3.", "So there are 3 red circles."]})
    >>> cand = template_cot(rec, seed=0, flaw_rate=0.0)
    >>> cand.content
    'Final answer: 3'
"""

from __future__ import annotations

import random
import re

from visionr1.bridge.filters import Candidate
from visionr1.data.record import Record
from visionr1.r1 import choice_letter, conclusion


_OPENINGS = [
    "Okay, let me look at this problem. The question is: {q}",
    "Alright, so I need to answer this: {q}",
    "Let me start by making sure I understand what is being asked. {q}",
    "Okay, so the task here is the following. {q}",
]
_LOOKS = [
    "First, what does the image show? {d}",
    "Let me look at the image carefully. {d}",
    "Looking at the image: {d}",
]
_LOOKS_DESC = [  # how real reasoners phrase it when they read a description; the filters rewrite these
    "According to the description, {d_lower}",
    "The description says that {d_lower}",
]
_CONNECTORS = ["First,", "Next,", "Then", "Now,", "After that,", "Also,"]
_CHECKS = [
    "Wait, let me double-check that. {step} Yes, that still holds.",
    "Hmm, did I miss anything? Going back over it: {step} That is consistent with what I found.",
    "Alternatively, I can verify this another way. {step} Same result, good.",
    "Wait, is that right? Let me re-read the question: {q} Yes, I answered what was asked.",
    "Hmm, let me make sure I read the image correctly. {d} So nothing changes.",
]


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s[:1].isupper() and not s[1:2].isupper() else s


def _wrong_answer(rec: Record, rng: random.Random) -> str:
    if rec.choices:
        return rng.choice([c for c in rec.choices if c != rec.answer])
    try:
        value = float(rec.answer)
    except ValueError:
        return rec.answer + "s" if not rec.answer.endswith("s") else rec.answer[:-1]
    delta = rng.choice([1, 2, 3, -1, -2])
    if rec.answer_type == "integer" or re.fullmatch(r"-?\d+", rec.answer):
        return str(int(value) + delta)
    decimals = len(rec.answer.split(".", 1)[1]) if "." in rec.answer else 1
    return f"{value + delta * 0.5:.{decimals}f}"


def _final(answer: str, rec: Record) -> tuple[str, str]:
    """(conclusion sentence, final-answer line) for ``answer`` (a choice text for multiple choice)."""
    if rec.choices and answer in rec.choices:
        letter = choice_letter(rec.choices.index(answer))
        return f"That matches option ({letter}) {answer}, so the answer is {letter}.", f"Final answer: {letter}"
    return conclusion(answer), f"Final answer: {answer}"


def template_cot(rec: Record, *, seed: int = 0, flaw_rate: float = 0.1, brief: bool = False) -> Candidate | None:
    """An R1-style candidate for a synth record, or None when it has no programmatic solution.

    ``brief`` drops the opening restatement and the "step by step" line and keeps 0-2 self-checks that
    repeat the last step, right after it (about a third of the default length): the embedded demo's ~4M-parameter model needs
    CoTs that fit a short completion budget.
    """
    solution = rec.metadata.get("solution")
    description = str(rec.metadata.get("description") or "").strip()
    if not isinstance(solution, list) or not solution:
        return None
    rng = random.Random(f"visionr1.bridge.template/{seed}/{rec.id}")
    flaw = None
    if rng.random() < flaw_rate:
        flaw = rng.choice(["wrong_answer", "truncated"])
    steps = [str(s).strip() for s in solution if str(s).strip()]
    body_steps, last = (steps[:-1], steps[-1]) if len(steps) > 1 else (steps, "")

    parts = [] if brief else [rng.choice(_OPENINGS).format(q=rec.question)]
    if rec.choices:
        opts = "; ".join(f"({choice_letter(i)}) {c}" for i, c in enumerate(rec.choices))
        parts.append(f"The options are {opts}.")
    if description:
        if brief:
            parts.append(description)
        elif rng.random() < 0.2:
            parts.append(rng.choice(_LOOKS_DESC).format(d_lower=_lower_first(description)))
        else:
            parts.append(rng.choice(_LOOKS).format(d=description))
    if not brief:
        parts.append("Let me work through this step by step.")
    for i, step in enumerate(body_steps):
        conn = _CONNECTORS[min(i, len(_CONNECTORS) - 1)] if i < 2 else rng.choice(_CONNECTORS[1:])
        parts.append(f"{conn} {_lower_first(step)}")
    n_checks = rng.choice([0, 1, 1, 2]) if brief else rng.choice([1, 1, 2, 2, 3])
    check_templates = rng.sample(_CHECKS[:3] if brief else _CHECKS, n_checks)
    if brief:
        # Brief: the checks come after the last step and restate it, so every step of the chain still follows
        # from the few sentences before it (a check that restates a random earlier step sits between two
        # steps that depend on each other, and a ~4M student garbles it: "the question adds 4" when it adds 3).
        parts += [last] if last else []
        parts += [tpl.format(step=last or steps[-1], q=rec.question, d=description) for tpl in check_templates]
    else:
        for tpl in check_templates:
            step = rng.choice(body_steps or steps)
            parts.append(tpl.format(step=step, q=rec.question, d=description or step))
        if last:
            parts.append(last)

    answer = rec.answer
    if flaw == "wrong_answer":
        answer = _wrong_answer(rec, rng)
        parts[-1] = f"Hmm, thinking about it again, I believe it is {answer} instead."
    conclusion, final_line = _final(answer, rec)
    parts.append(conclusion)
    reasoning = "\n\n".join(parts)
    if flaw == "truncated":
        words = reasoning.split(" ")
        cut = max(5, int(len(words) * rng.uniform(0.4, 0.8)))
        return Candidate(reasoning=" ".join(words[:cut]), content="", finish_reason="length", unclosed=True)
    return Candidate(reasoning=reasoning, content=final_line, finish_reason="stop")
