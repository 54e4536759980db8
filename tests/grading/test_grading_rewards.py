"""The hard formatting result reward and the TRL-shaped batch rewards."""

import pickle

import pytest

from visionr1.grading import (
    accuracy_reward,
    format_reward,
    get_hard_format_result_reward,
    grade,
    hard_format_result_reward,
)
from visionr1.rewards import hard_format_result_reward as reexported

GOOD = "<think>3 apples plus 1 apple</think>\n<answer>4</answer>"


@pytest.mark.parametrize(
    "completion, answer, choices, truncated, expected",
    [
        (GOOD, "4", None, False, 1.0),
        (GOOD, "4", None, True, 0.0),  # truncated never pays
        (GOOD, "5", None, False, 0.0),
        ("<answer>4</answer>", "4", None, False, 0.0),  # right answer, wrong format
        ("The answer is 4.", "4", None, False, 0.0),
        ("<think>x</think><answer>B</answer>", "8/11", ["3/11", "8/11"], False, 1.0),
        ("<think>x</think><answer>(B) 8/11</answer>", "8/11", ["3/11", "8/11"], False, 1.0),
        ("<think>x</think><answer>A</answer>", "8/11", ["3/11", "8/11"], False, 0.0),
        ("<think>x</think><answer>B</answer>", "8/11", None, False, 0.0),  # a letter needs choices
        ("<think>x</think><answer>Final Answer: \\frac{1}{2}</answer>", "0.5", None, False, 1.0),
        ("<think>x</think><answer>4</answer> extra", "4", None, False, 0.0),
    ],
)
def test_hard_format_result_reward(completion, answer, choices, truncated, expected):
    assert hard_format_result_reward(completion, answer, choices=choices, truncated=truncated) == expected


def test_visionr1_rewards_reexports():
    assert reexported is hard_format_result_reward


def test_batch_reward_trl_signature_plain_and_conversational():
    f = get_hard_format_result_reward()
    assert f.__name__ == "hard_format_result_reward"
    completions = [
        GOOD,
        [{"role": "assistant", "content": GOOD}],
        [{"role": "assistant", "content": [{"type": "text", "text": GOOD}]}],
        [{"role": "assistant", "content": "<think>x</think><answer>A</answer>"}],
        GOOD,
    ]
    out = f(
        prompts=[None] * 5,
        completions=completions,
        completion_ids=[[1]] * 5,
        answer=["4", "4", "4", "8/11", "4"],
        choices=[None, None, None, ["8/11", "3/11"], None],
        truncated=[False, False, False, False, True],
        trainer_state=None,
        log_metric=lambda *a: None,
        unknown_column=[1, 2, 3, 4, 5],
    )
    assert out == [1.0, 1.0, 1.0, 1.0, 0.0]


def test_batch_reward_without_optional_columns_and_missing_answer():
    f = get_hard_format_result_reward()
    assert f(completions=[GOOD, GOOD], answer=["4", None]) == [1.0, None]


def test_factory_result_is_picklable_with_stable_name():
    f = pickle.loads(pickle.dumps(get_hard_format_result_reward()))
    assert f.__name__ == "hard_format_result_reward"
    assert f(completions=[GOOD], answer=["4"]) == [1.0]


def test_component_rewards():
    comps = [GOOD, "The answer is 4.", "<think>x</think><answer>5</answer>"]
    assert format_reward(comps) == [1.0, 0.0, 1.0]
    assert format_reward(comps, truncated=[True, False, False]) == [0.0, 0.0, 1.0]
    assert accuracy_reward(comps, answer=["4", "4", "4"]) == [1.0, 1.0, 0.0]


def test_grade():
    g = grade(GOOD, "4")
    assert (g.correct, g.extracted, g.rule, g.well_formed, g.reason) == (True, "4", "answer_tag", True, None)
    g = grade("Hmm, so the answer is (C).", "3", choices=["1", "2", "3"])
    assert (g.correct, g.rule, g.well_formed, g.reason) == (True, "phrase", False, "missing <think>")
