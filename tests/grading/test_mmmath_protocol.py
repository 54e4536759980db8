"""MM-Math's released scorer (VLMEvalKit's AutoScoringJudge, what the Vision-R1 authors' eval ran), case by case."""

from __future__ import annotations

import pytest

from visionr1.grading.mmmath import answer_text, judge, official_equal, official_prediction


@pytest.mark.parametrize("gold,pred,expected", [
    # numbers: absolute tolerance 1e-2 (x 1.01), and a percentage either way
    ("3.14", "\\pi", True), ("\\pi", "3.14", True), ("\\pi", "3.1", False),
    ("\\frac{1}{2}", "0.5", True), ("0.5", "0.505", True), ("0.5", "0.52", False),
    ("50", "0.5", True), ("0.5", "50", True), ("7", "8", False),
    # the answer text of a reply: every \boxed{} (joined), else the last line's $...$, else all of it
    ("70^\\circ", "the angle is \\boxed{70^{\\circ}}", True),
    ("2, 3", "x_1 = \\boxed{2} and x_2 = \\boxed{3}", True),
    ("2\\sqrt{3}", "so\nthe side is $2\\sqrt{3}$", True),
    ("4", "\\boxed{4", False),  # a box never closed is unreadable
    # units, spacing, degrees, CJK
    ("12", "12 cm", True), ("12", "12\\text{cm}^2", True), ("8", "8m", True), ("30", "30^\\circ", True),
    ("是", "是", True), ("5", "5个", True),
    # lists: unordered, same length; ± expands to two answers
    ("1, 2", "2,1", True), ("1, 2", "1", False), ("\\pm 2", "-2, 2", True),
    # expressions and equations: the right-hand side; symbolic equality below 1e-3
    ("x=2", "2", True), ("y=2x+1", "1+2x", True), ("x^2-1", "(x-1)(x+1)", True), ("x^2", "x", False),
    ("2x+4y=6", "x+2y=3", True), ("2x+4y=6", "x+2y=4", False),
    # intervals (and a < x < b read as one)
    ("[1, 3)", "[1,3)", True), ("(1, 3)", "[1, 3)", False), ("(1, 3)", "1<x<3", True),
    ("(-oo, 2)", "(-\\infty, 2)", True),
    ("", "", True), ("4", "", False),
])
def test_verdicts(gold, pred, expected):
    assert judge(gold, pred) is expected


def test_answer_text_rules():
    assert answer_text("\\boxed{\\mathrm{A}}") == "A"
    assert answer_text("x \\in (0, 1)") == "(0, 1)"
    assert answer_text("\\sin30") == "\\sin((30/180)\\pi)"
    assert answer_text("\\left( 1, 2 \\right)") == "( 1, 2 )"


def test_the_authors_extraction_reads_the_released_answer_form():
    reply = "<think>the base angles are equal</think><answer> Final Answer:70^\\circ </answer>"
    assert official_prediction(reply) == "70^\\circ" and judge("70", official_prediction(reply))
    assert official_prediction("<answer>70</answer>") == "<answer>70</answer>"  # not the released form: kept whole
    assert official_prediction(None) == ""


def test_a_runaway_sympy_call_is_stopped():
    # sympy simplifies this for ~20 s in-process on 2 cores; stopped after 0.5 s of CPU, it is undecided, not False
    assert official_equal("x", "(x+1)^{120}(x-1)^{100}+\\tan(x)^{50}", timeout=0.2, retry_timeout=0.5) is None
    assert official_equal("\\frac{3}{2}", "1.5") is True  # the worker is back after a stop
