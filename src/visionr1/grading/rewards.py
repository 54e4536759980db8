"""Grading verbs and the rewards built on them.

``grade`` is the one-call answer to "is this completion right?" for evaluation; the rewards are
the same judgement in the form TRL's ``GRPOTrainer`` calls: ``f(completions=..., **columns)``
where each dataset column arrives as a list aligned with ``completions``, returning one float per
completion. Unknown keyword arguments (``prompts``, ``completion_ids``, ``trainer_state``,
``log_metric``…) are accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from visionr1.grading.equivalence import is_equivalent
from visionr1.grading.extract import DECIDED_RULES, answer_in_tag, extract_answer
from visionr1.r1 import parse_r1


@dataclass(frozen=True)
class Grade:
    """The verdict on one completion: ``correct``, what was ``extracted`` and by which ``rule``,
    whether it was ``well_formed`` R1 output and, if not, the ``reason``.

    ``correct`` is ``None`` when Math-Verify could not decide within its budgets
    (:func:`visionr1.grading.is_equivalent`): undecided, which scorers count apart from wrong.
    """

    correct: bool | None
    extracted: str | None
    rule: str
    well_formed: bool
    reason: str | None

    @property
    def decided(self) -> bool:
        """Whether the rules found an answer the completion states (not a fallback, not no answer)."""
        return self.rule in DECIDED_RULES


def grade(
    text: str,
    gold: str,
    *,
    choices: list[str] | None = None,
    answer_type: str | None = None,
    precision: int | None = None,
) -> Grade:
    """Parse then verify: extract the answer from ``text`` and compare it with ``gold``. Never raises.

    Correctness does not require R1 format (evaluation grades any model); ``well_formed`` reports it.

    >>> g = grade("<think>3 apples + 1</think><answer>4</answer>", "4")
    >>> g.correct, g.rule, g.well_formed
    (True, 'answer_tag', True)
    >>> grade("The answer is (B).", "8/11", choices=["3/11", "8/11"]).correct
    True
    """
    parsed = parse_r1(text)
    ex = extract_answer(text, choices=choices)
    correct = is_equivalent(ex.text, gold, choices=choices, answer_type=answer_type, precision=precision)
    return Grade(correct=correct, extracted=ex.text, rule=ex.rule, well_formed=parsed.ok, reason=parsed.reason)


def hard_format_result_reward(
    completion: str, answer: str, *, choices: list[str] | None = None, truncated: bool = False
) -> float:
    """1.0 iff the completion is well-formed R1 output AND its ``<answer>`` is equivalent to ``answer``.

    The single reward Vision-R1's GRPO optimises: a right answer in the wrong format earns
    nothing, which is what keeps the format from eroding. The answer is read from the
    ``<answer>`` content alone (``X`` or the paper's ``Final Answer: X``; a ``\\boxed{}`` inside
    is taken): an empty ``\\boxed{}`` or a blank answer is no answer and earns 0.0, whatever the
    reasoning says, so a policy cannot collect the reward by leaving the answer out. A truncated
    completion (it hit the length limit) always earns 0.0, even if the tags happen to close. A
    choice letter counts when ``choices`` maps it to the answer.

    A pair Math-Verify cannot decide within both of its budgets (``is_equivalent`` gives ``None``:
    8 CPU seconds of sympy by default, however busy the machine) earns 0.0, like a wrong one. Why not
    ``None`` (TRL's "not applicable"): TRL sums rewards with ``nansum``, so the completion would get 0
    in the advantage anyway while vanishing from the logged reward mean; and the reward is for answers
    *shown* right: crediting what the verifier cannot finish would pay a policy for writing answers
    that stall sympy. Because the budgets count CPU, not the clock, such a pair earns 0.0 idle and
    under load alike, and it is not cached.

    >>> hard_format_result_reward("<think>1+1</think><answer>2</answer>", "2")
    1.0
    >>> hard_format_result_reward("<think>1+1</think><answer> Final Answer: 2 </answer>", "2")
    1.0
    >>> hard_format_result_reward("<think>it is 2</think><answer>\\\\boxed{}</answer>", "2")
    0.0
    >>> hard_format_result_reward("<answer>2</answer>", "2")
    0.0
    """
    try:
        if truncated or not isinstance(completion, str):
            return 0.0
        parsed = parse_r1(completion)
        if not parsed.ok:
            return 0.0
        given = answer_in_tag(parsed.answer or "")
        if not given:
            return 0.0
        return 1.0 if is_equivalent(given, str(answer), choices=choices) is True else 0.0  # undecided: 0.0
    except Exception:  # noqa: BLE001 - a reward must never stop training
        return 0.0


def completion_text(completion: Any) -> str:
    """The text of a completion in TRL's plain (``str``) or conversational form.

    Conversational: ``[{"role": "assistant", "content": str | [{"type": "text", "text": ...}]}]``;
    the assistant messages' text is joined.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    parts: list[str] = []
    if isinstance(completion, (list, tuple)):
        for msg in completion:
            if not isinstance(msg, dict) or msg.get("role", "assistant") != "assistant":
                continue
            content = msg.get("content", "")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, (list, tuple)):
                parts.extend(
                    str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type", "text") == "text"
                )
    return "".join(parts)


def _column(values: Any, n: int) -> list:
    if values is None:
        return [None] * n
    values = list(values)
    return values if len(values) == n else (values + [None] * n)[:n]


def _choices(value: Any) -> list[str] | None:
    if value is None or isinstance(value, str):
        return None
    try:
        out = [str(c) for c in value]
    except TypeError:
        return None
    return out or None


class _HardFormatResultReward:
    """Picklable batch form of :func:`hard_format_result_reward` (see :func:`get_hard_format_result_reward`)."""

    def __init__(self, answer_column: str = "answer", choices_column: str = "choices") -> None:
        self.__name__ = "hard_format_result_reward"
        self.answer_column = answer_column
        self.choices_column = choices_column

    def __call__(self, completions: list, **columns: Any) -> list[float | None]:
        n = len(completions)
        answers = _column(columns.get(self.answer_column), n)
        choices = _column(columns.get(self.choices_column), n)
        truncated = _column(columns.get("truncated"), n)
        out: list[float | None] = []
        for c, a, ch, t in zip(completions, answers, choices, truncated):
            if a is None:
                out.append(None)
                continue
            out.append(hard_format_result_reward(completion_text(c), str(a), choices=_choices(ch), truncated=bool(t)))
        return out

    def __repr__(self) -> str:
        return f"hard_format_result_reward(answer_column={self.answer_column!r}, choices_column={self.choices_column!r})"


def get_hard_format_result_reward(answer_column: str = "answer", choices_column: str = "choices"):
    """The hard formatting result reward as a TRL reward function.

    Returns a picklable callable named ``hard_format_result_reward`` (so the logged metric name is
    stable) with TRL's signature ``f(completions, **columns) -> list[float | None]``; ``None`` for
    a row without a gold answer. Columns: ``answer`` (gold strings), optional ``choices`` (option
    lists or ``None``), optional ``truncated`` (bools).

    >>> f = get_hard_format_result_reward()
    >>> f(completions=[[{"role": "assistant", "content": "<think>t</think><answer>B</answer>"}]],
    ...   answer=["8/11"], choices=[["3/11", "8/11"]], truncated=[False], prompts=[None])
    [1.0]
    """
    return _HardFormatResultReward(answer_column, choices_column)


def format_reward(completions: list, **columns: Any) -> list[float]:
    """1.0 per completion that is well-formed R1 output and not truncated; logged beside the hard reward.

    >>> format_reward(["<think>a</think><answer>b</answer>", "b"])
    [1.0, 0.0]
    """
    truncated = _column(columns.get("truncated"), len(completions))
    return [0.0 if t else (1.0 if parse_r1(completion_text(c)).ok else 0.0) for c, t in zip(completions, truncated)]


def accuracy_reward(completions: list, answer: list | None = None, **columns: Any) -> list[float | None]:
    """1.0 per completion whose extracted answer is right, format aside; ``None`` without a gold answer.

    >>> accuracy_reward(["So the answer is 4."], answer=["4"])
    [1.0]
    """
    n = len(completions)
    answers = _column(answer, n)
    choices = _column(columns.get("choices"), n)
    out: list[float | None] = []
    for c, a, ch in zip(completions, answers, choices):
        if a is None:
            out.append(None)
            continue
        out.append(1.0 if grade(completion_text(c), str(a), choices=_choices(ch)).correct is True else 0.0)
    return out
