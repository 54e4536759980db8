"""Answer extraction, one table per rule; cases taken from real model outputs (MathVista responses)."""

import pytest

from visionr1.grading import extract_answer
from visionr1.grading.extract import RULES, clean_answer, last_boxed

OPTS4 = ["motor cortex", "occipital lobe", "temporal lobe", "frontal lobe"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<think>t</think><answer>4</answer>", "4"),
        ("<think>t</think><answer>Final Answer: 12 cm</answer>", "12 cm"),
        ("<think>t</think><answer>**Final answer:** B</answer>", "B"),
        ("<think>t</think><answer>$\\boxed{\\frac{1}{2}}$</answer>", "\\frac{1}{2}"),
        ("<answer>1</answer> then <answer>2</answer>", "2"),
        ("<think>long</think><answer>3.5", "3.5"),  # truncated: take what is there
    ],
)
def test_answer_tag(text, expected):
    assert extract_answer(text) == (expected, "answer_tag")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("So $x = \\boxed{5}$.", "5"),
        ("first \\boxed{1} then \\boxed{\\frac{2}{3}}", "\\frac{2}{3}"),
        ("Therefore, $RS = \\boxed{\\textbf{(B)}\\ 1}$.", "(B)\\ 1"),
        ("the answer is $\\boxed{\\text{(D) } n + p + t}$.", "(D)  n + p + t"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\fbox{7}", "7"),
        ("\\boxed 9", "9"),
    ],
)
def test_boxed(text, expected):
    assert extract_answer(text) == (expected, "boxed")


def test_last_boxed_unbalanced_falls_back_to_earlier():
    assert last_boxed("\\boxed{3} and \\boxed{4") == "3"
    assert last_boxed("no box") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Step 1...\n\nTherefore, the answer is B.", "B"),
        ("The answer is 1.5 m. Done.", "1.5 m"),
        ("The correct answer is (D) 4.", "(D) 4"),
        ("Answer: 42", "42"),
        ("**Final Answer:** 7", "7"),
        ("Okay, based on the photo, my answer is:\n\nB\n\nThe windows are irregular.", "B"),
        ("The closest option is B.", "B"),
        ("The option letter is D.", "D"),
        ("所以cosA的值为D\n\n答案:D", "D"),
        ('So the answer is "yes".', "yes"),
    ],
)
def test_phrase(text, expected):
    assert extract_answer(text) == (expected, "phrase")


@pytest.mark.parametrize(
    "text, choices, expected",
    [
        ("C", ["1", "2", "3"], "C"),
        ("(B)", ["1", "2"], "B"),
        ("B.", ["1", "2"], "B"),
        ("D. Frontal lobe\n\nThe frontal lobe is the largest part.", OPTS4, "D"),
        ("Okay, here is my response:\n\nC\n\nThe clams feed on plankton.", OPTS4, "C"),
        ("The angle is 105°.\n\nC", ["60°", "70°", "80°", "85°"], "C"),
        ("Hence it is frontal lobe\nfrontal lobe", OPTS4, "frontal lobe"),
        ("(A) Yes", ["Yes", "No"], "A"),
        ("* 三角形面积是56\n\n所以选项A是正确答案。", ["4", "6"], "A"),
        ("Therefore, the length of CD is D.", ["1", "2", "3", "4"], "D"),
        ('I will select "B" for no.', ["yes", "no"], "B"),
        ("I pick option C since it fits", ["1", "2", "3"], "C"),
        # a letter alone on a line inside a fenced diagram is a label, not the answer
        ("Draw it:\n```\n   B\n  / \\\nA---C\n   D\n```\nSo BE = 1, the option is (A).", ["2", "3", "4", "5"], "A"),
    ],
)
def test_choice_letter(text, choices, expected):
    assert extract_answer(text, choices=choices) == (expected, "choice_letter")


def test_choice_letter_outside_range_is_not_a_choice():
    assert extract_answer("E", choices=["1", "2"]).rule != "choice_letter"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("There are 3 cats and 4 dogs", "4"),
        ("from 1,200 to -3.5", "-3.5"),
        ("a_x = 9 cm/s^2", "9"),  # an exponent is not the answer
        ("the value of f(0) is unknown, maybe 7 or so", "7"),
        ("I get .5", ".5"),
    ],
)
def test_last_number(text, expected):
    assert extract_answer(text) == (expected, "last_number")


@pytest.mark.parametrize("text", ["", "   ", "I cannot tell from the image", None, 12])
def test_none(text):
    assert extract_answer(text) == (None, "none")


def test_rule_order_answer_tag_beats_boxed_beats_phrase():
    assert extract_answer("the answer is 1 \\boxed{2} <answer>3</answer>").rule == "answer_tag"
    assert extract_answer("the answer is 1 \\boxed{2}").rule == "boxed"
    assert extract_answer("The answer is 1. Then 2.").text == "1"


def test_rules_constant():
    assert RULES == ("answer_tag", "boxed", "phrase", "choice_letter", "last_number", "none")


@pytest.mark.parametrize(
    "raw, clean",
    [("**$\\boxed{\\text{(B)}}$.**", "(B)"), ("'yes'", "yes"), ("\\(x+1\\)", "x+1"), (" 12. ", "12")],
)
def test_clean_answer(raw, clean):
    assert clean_answer(raw) == clean
