"""The chain step checks, the report's example picker and the disagreement rate, on made-up completions in the
demo task's exact wording (colour_count: "Counting up 1 from 3: 4 (0 left).")."""

from __future__ import annotations

import json

import pytest

from visionr1.data.synth.colour_count import count_up
from visionr1.demo.chains import (chain_right, chain_stats, concluded_and_tagged, disagreement, long_chain_errors,
                                  pick_example, record_checks, step_checks)
from visionr1.r1 import conclusion, format_r1


def chain(colour: str, value: int, offset: int, concluded: int, tagged: int, counted: str | None = None) -> str:
    """A completion as the demo's models write it (brief CoT, short answer form)."""
    count = counted or count_up(value, offset)
    think = (f"The shape is {colour}. {colour}={value}. The question adds {offset}. {count} "
             f"{value}+{offset}={value + offset}. {conclusion(str(concluded))}")
    return format_r1(think, str(tagged), "short")


def record(rid: str, colour: str, offset: int, task: str = "colour_count") -> dict:
    return {"id": rid, "metadata": {"task": task, "facts": {"colour": colour, "offset": offset}}}


BLACK_PLUS_1 = {"colour": "black", "offset": 1}  # black=3: the issue's seed-0 item, gold 4


def test_a_right_chain_passes_every_step():
    text = chain("black", 3, 1, 4, 4)
    assert step_checks(text, BLACK_PLUS_1, counts=True) == dict.fromkeys(
        ("colour", "value", "count", "sum", "conclusion", "tag"), True)
    assert chain_right(text, BLACK_PLUS_1, counts=True)


def test_the_self_contradicting_chain_of_the_issue_is_not_right():
    """"...Counting up 1 from 3: 4 (0 left). 3+1=4. So the final answer is 5." then <answer>4</answer>: the answer
    is right, the chain's conclusion is not, and the tag does not copy it."""
    text = chain("black", 3, 1, 5, 4)
    checks = step_checks(text, BLACK_PLUS_1, counts=True)
    assert checks["count"] and checks["sum"] and not checks["conclusion"] and checks["tag"] is False
    assert not chain_right(text, BLACK_PLUS_1, counts=True)
    assert concluded_and_tagged(text) == ("5", "4")


@pytest.mark.parametrize("broken, step", [
    (chain("red", 3, 1, 4, 4), "colour"),
    (chain("black", 4, 1, 4, 4), "value"),  # black=4: the wrong value
    (chain("black", 3, 1, 4, 4, counted="Counting up 1 from 3: 5 (0 left)."), "count"),
    (chain("black", 3, 1, 4, 4).replace("3+1=4", "3+1=5"), "sum"),
])
def test_each_wrong_step_is_caught(broken, step):
    checks = step_checks(broken, BLACK_PLUS_1, counts=True)
    assert checks[step] is False
    assert not chain_right(broken, BLACK_PLUS_1, counts=True)


def test_the_count_applies_to_counting_tasks_only_and_the_tag_needs_both_ends():
    text = "<think>The shape is black. black=3. 3+1=4. So the final answer is 4.</think><answer>4</answer>"
    assert record_checks(record("a", "black", 1, "colour_value"), text)["count"] is None
    assert record_checks(record("a", "black", 1, "colour_value"), text)["tag"] is True
    assert record_checks(record("a", "black", 1), text)["count"] is False
    assert step_checks("The answer is 4.", BLACK_PLUS_1, counts=False)["tag"] is None
    assert record_checks({"id": "x", "metadata": {"task": "shape_count", "facts": {"n": 3}}}, text) is None


def test_disagreement_counts_only_completions_with_a_conclusion_and_a_closed_tag():
    texts = [chain("black", 3, 1, 5, 4), chain("black", 3, 1, 4, 4), "The answer is 4.",
             "<think>So the final answer is 4.</think><answer>4"]  # cut off in its answer: no closed tag
    assert disagreement(texts) == {"both": 2, "differ": 1, "percent": 50.0}
    assert disagreement(["The answer is 4."]) == {"both": 0, "differ": 0, "percent": None}


def _scored(rid: str, response: str, correct: bool) -> dict:
    return {"id": rid, "response": response, "correct": correct}


def test_the_example_is_a_chain_right_at_every_step_not_the_first_right_answer():
    records = {"a": record("a", "black", 1), "b": record("b", "blue", 2), "c": record("c", "red", 1)}
    base = [_scored("a", "The answer is 5.", False), _scored("b", "The answer is 8.", False),
            _scored("c", "The answer is 5.", True)]
    rl = [_scored("a", chain("black", 3, 1, 5, 4), True),  # right answer, contradicting chain: listed first
          _scored("b", chain("blue", 7, 2, 9, 9), True),
          _scored("c", chain("red", 4, 1, 5, 5), True)]   # the base got it right too
    b, s, checks = pick_example(base, rl, records)
    assert (b["id"], s["id"], checks) == ("b", "b", None)


def test_the_example_falls_back_to_a_right_answer_and_says_which_steps_are_wrong():
    records = {"a": record("a", "black", 1)}
    base, rl = [_scored("a", "The answer is 5.", False)], [_scored("a", chain("black", 3, 1, 5, 4), True)]
    b, s, checks = pick_example(base, rl, records)
    assert s["id"] == "a" and checks["conclusion"] is False and checks["tag"] is False and checks["sum"] is True
    assert pick_example(base, [_scored("a", "x", False)], records) is None  # no item the RL model gets right
    assert pick_example([_scored("a", "4", True)], rl, records) is None     # nor one the base misses


def test_long_chain_errors_are_counted_above_the_median():
    gens = [{"id": str(i), "completion_tokens": n} for i, n in enumerate([10, 20, 30, 40])]
    got = long_chain_errors(gens, {"0": True, "1": True, "2": False, "3": True})
    assert got == {"median_tokens": 25.0, "long": 2, "wrong_percent": 50.0}
    same = long_chain_errors([{"id": "0", "completion_tokens": 7}, {"id": "1", "completion_tokens": 7}], {})
    assert same == {"median_tokens": 7, "long": 0, "wrong_percent": None}


def test_chain_stats_of_a_run_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "eval" / "rl").mkdir(parents=True)
    recs = [record("a", "black", 1), record("b", "blue", 2)]
    (tmp_path / "data" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    gens = [{"id": "a", "response": chain("black", 3, 1, 5, 4)}, {"id": "b", "response": chain("blue", 7, 2, 9, 9)}]
    (tmp_path / "eval" / "rl" / "generations.jsonl").write_text("".join(json.dumps(g) + "\n" for g in gens))
    stats = chain_stats(tmp_path, "rl")
    assert stats["colour"] == stats["count"] == stats["sum"] == 100.0
    assert stats["conclusion"] == 50.0 and stats["copied"] == 50.0
