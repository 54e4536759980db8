"""The hard formatting result reward and the TRL-shaped batch rewards."""

import pickle

import pytest

from visionr1.grading import (
    ANSWER_FORMS,
    accuracy_reward,
    format_r1,
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
        ("<think>x</think><answer>\\boxed{4}</answer>", "4", None, False, 1.0),
        # the tag holds the answer itself: a sentence about it is not read further (as the paper's reward)
        ("<think>x</think><answer>So it is (B).</answer>", "8/11", ["3/11", "8/11"], False, 0.0),
    ],
)
def test_hard_format_result_reward(completion, answer, choices, truncated, expected):
    assert hard_format_result_reward(completion, answer, choices=choices, truncated=truncated) == expected


def test_reward_hole_empty_boxed_answer_earns_nothing():
    # issue 17, exactly: the answer tag holds an empty \boxed{}; the 7s are in the reasoning only
    assert hard_format_result_reward("<think>… B is 7 … yes, 7.</think><answer>\\boxed{}</answer>", "7") == 0.0


@pytest.mark.parametrize(
    "answer_tag",
    ["<answer> </answer>", "<answer>\\boxed{ }</answer>", "<answer>Final Answer:</answer>",
     "<answer> Final Answer: \\boxed{} </answer>", "<answer>\\boxed{</answer>", "<answer>$$</answer>"],
)
def test_no_answer_in_the_tag_is_no_reward_whatever_the_reasoning_says(answer_tag):
    assert hard_format_result_reward(f"<think>The answer is 7. \\boxed{{7}}</think>{answer_tag}", "7") == 0.0


def test_the_papers_final_answer_form_earns_the_reward():
    # issue 19: the released Vision-R1 completions end "<answer> Final Answer: X </answer>"
    assert hard_format_result_reward("<think>…</think><answer> Final Answer: 7 </answer>", answer="7") == 1.0
    f = get_hard_format_result_reward()
    assert f(completions=["<think>…</think><answer> Final Answer: 7 </answer>"], answer=["7"]) == [1.0]
    assert hard_format_result_reward("<think>…</think><answer>Final Answer: 8</answer>", answer="7") == 0.0


@pytest.mark.parametrize(
    "given, gold, expected",
    [
        ("50\\%", "0.5", 1.0),  # a percentage is its value …
        ("50\\%", "50", 1.0),  # … and, as benchmarks write percentages, its number
        ("0.5", "50\\%", 1.0),
        ("50", "50%", 1.0),
        ("50\\%", "0.49", 0.0),
        ("0.5\\%", "50", 0.0),  # 0.5% is neither 50 nor 0.5 × 100
    ],
)
def test_percent_equals_its_number_and_its_value(given, gold, expected):
    assert hard_format_result_reward(f"<think>t</think><answer>{given}</answer>", gold) == expected


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


@pytest.mark.parametrize("answer_form", ANSWER_FORMS)
def test_hard_reward_pays_both_answer_forms(answer_form):
    """The bridge writes the paper's ``Final Answer:`` form by default; the reward reads either form alike."""
    text = format_r1("3 + 4 = 7", "7", answer_form)
    assert hard_format_result_reward(text, "7") == 1.0 and hard_format_result_reward(text, "8") == 0.0
    assert hard_format_result_reward("<think>3 + 4 = 7</think><answer> Final Answer: 7 </answer>", "7") == 1.0
    assert hard_format_result_reward("<think>3 + 4 = 7</think><answer> Final Answer: </answer>", "7") == 0.0
