"""MATH-V's released scorer (grading/mathvision.py): cases read from the released outputs' verdicts, made up anew."""

import pytest

from visionr1.grading.mathvision import match, official_answer, official_correct, verdict


@pytest.mark.parametrize("response, expected", [
    ("Looking at the figure, the answer is B.", "b"),               # " B." ends the reply: the letter
    ("The total is 12.", "12"),                                      # "… is 12." : the number
    ("We get \\boxed{\\frac{1}{2}} and so \\boxed{3}", "3"),         # several boxes: the last one
    ("So the answer is 1/2", "\\frac{1}{2}"),                         # a/b rewritten as \frac
    ("the answer is 40^\\circ. Done", "40"),                          # degrees dropped, cut at the sentence
])
def test_official_answer(response, expected):
    assert official_answer(response) == expected


@pytest.mark.parametrize("gold, prediction, expected", [
    ("$2 \\pi$", "2\\pi", True),              # both read as 2π
    ("$120^{\\circ}$", "120", False),         # the released parser does not know \circ: no number, no match
    ("\\frac{4}{5}", "0.8", True),            # values equal at two decimals
    ("$\\frac{1}{\\sqrt{2}}$", "0.71", True),
    ("$42 \\%$", "42%", False),               # % is unknown to the released parser
    ("$11\\frac{1}{2}$", "11.5", False),      # a number before \frac multiplies there: 5.5
    ("5", "5.so,thearea", True),              # the parser stops at the '.' that starts no number
    ("8+2\\sqrt{2}", "8+2\\sqrt{2}}.theansweris:8", True),  # ... and at an unmatched brace
    ("3", "x", False),                        # a symbol is no number
    ("2", "10**10**10", False),               # refused, not computed
])
def test_match(gold, prediction, expected):
    assert match(gold, prediction) is expected


def test_verdict_tries_the_letter_and_the_option_text():
    assert verdict("B", ["1", "$2 \\pi$"], "b") and verdict("B", ["1", "$2 \\pi$"], "2\\pi")
    assert not verdict("A", ["1", "$2 \\pi$"], "2\\pi")
    assert official_correct("B", ["1", "$2 \\pi$"], "2\\pi") is True
