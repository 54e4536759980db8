"""Answer extraction, one table per rule; cases in the styles of real model outputs (MathVista responses)."""

import pytest

from visionr1.grading import extract_answer
from visionr1.grading.extract import DECIDED_RULES, RULES, clean_answer, last_boxed

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
        ("<think>t</think><answer> Final Answer: 7 </answer>", "7"),  # the paper's form
        ("<think>t</think><answer>Final Answer: \\boxed{C}</answer>", "C"),
    ],
)
def test_answer_tag(text, expected):
    assert extract_answer(text) == (expected, "answer_tag")


@pytest.mark.parametrize(
    "text",
    [
        "<think>B is 7 … yes, 7.</think><answer>\\boxed{}</answer>",  # the reward hole of issue 17
        "<think>it is 7</think><answer>   </answer>",
        "<think>it is 7</think><answer> Final Answer: </answer>",
        "<think>it is 7</think><answer>\\boxed{ }</answer>",
    ],
)
def test_a_closed_empty_answer_tag_is_no_answer(text):
    # the reasoning's numbers are not read instead: the reply's answer is the tag's content
    assert extract_answer(text) == (None, "none")


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
        ('The correct answer is "soup." Soup has few carbs.', "soup"),  # the quote, not the sentence
        ("The answer to the question is 2, as two shops sold less than 5.", "2"),  # the reason is not the answer
        ("The correct option is C, since the other values do not satisfy the equation.", "C"),
        ("The answer is 12 because the two sides are equal.", "12"),
        ("The answer is 1,000, which is the total.", "1,000"),
        ("Answer: (3, 4), which is where the lines meet.", "(3, 4)"),
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
        # an echoed list of the options is not an answer: its last letter is only the end of the list
        ("The radius is twice x, I pick (C).\nOptions:\n(A) 1\n(B) 2\n(C) 3\n(D) 4", ["1", "2", "3", "4"], "C"),
    ],
)
def test_choice_letter(text, choices, expected):
    assert extract_answer(text, choices=choices) == (expected, "choice_letter")


def test_choice_letter_outside_range_is_not_a_choice():
    assert extract_answer("E", choices=["1", "2"]).rule != "choice_letter"


@pytest.mark.parametrize(
    "text, choices",
    [
        ("A decrease in light would hurt the grasshopper most.", ["grass", "mouse", "grasshopper", "owl"]),  # article
        ("There are more pink balls in Solution A than in Solution B.", ["neither", "Solution B", "Solution A"]),  # a name
        ("I do not have enough information to select option A or B.", ["Yes", "No"]),  # two letters mentioned
    ],
)
def test_letters_that_are_not_answers(text, choices):
    assert extract_answer(text, choices=choices).rule != "choice_letter"


def test_a_refusal_that_names_one_option_picks_it():
    text = 'There is no way to determine it from the text, so I will select "B" for no.'
    assert extract_answer(text, choices=["yes", "no"]) == ("B", "choice_letter")


def test_an_echoed_option_list_alone_is_not_a_letter():
    text = "It needs the radius first.\nChoose the correct option letter:\n(A) 1\n(B) √{3}\n(C) 2\n(D) 3"
    assert extract_answer(text, choices=["1", "√{3}", "2", "3"]).rule != "choice_letter"


@pytest.mark.parametrize(
    "text, choices, question, expected",
    [
        ("Based on the graph, the wettest month on average in Ely is May.", ["August", "April", "May"],
         "Which month is the wettest on average in Ely?", "May"),
        ("The letter has been flipped.", ["slide", "flip", "turn"], "What has been done to this letter?", "flip"),
        ("If hawks increase, the mice will most likely decrease. Hawks eat mice, so fewer mice survive.",
         ["decrease", "remain the same", "increase"], "If hawks increase, the mice will most likely", "decrease"),
        ("The circus tent is larger than the car.", ["car", "circus tent"], "Which is larger, the car or the tent?",
         "circus tent"),
        ("The youngest age group shown is 11-15 years old.", ["11-15", "21-25", "0-5"], "Which age group is youngest?",
         "11-15"),
        ("The function peaks at (u1, u2) = (1, 1).", ["(u1, u2) = (0, 0)", "(u1, u2) = (1, 1)"], "Where is the peak?",
         "(u1, u2) = (1, 1)"),
        # "Finally, …" ends a list; it does not conclude: the answer-first sentence is read
        ("If whales vanish, the population of tuna will increase. The mice will decrease. Finally, the mice starve.",
         ["The population of tuna will increase", "Mouse will decrease in number"], "What happens if whales vanish?",
         "The population of tuna will increase"),
    ],
)
def test_option_text(text, choices, question, expected):
    assert extract_answer(text, choices=choices, question=question) == (expected, "option_text")


@pytest.mark.parametrize(
    "text, choices, question, expected",
    [
        ("Based on the image, Teal is not the maximum. The maximum is red.", ["yes", "no"], "Is Teal the maximum?", "no"),
        ("No, Teal is not the minimum. The minimum color is A.", ["yes", "no"], "Is Teal the minimum?", "no"),
        ("The curve is differentiable at every point.", ["Yes", "No"], "Is the curve differentiable at every point?",
         "Yes"),
        ("Yes, kx^2/2 is larger than E at x=0.", ["Yes", "No"], "Is kx^2/2 larger than E at x=0?", "Yes"),
        ("There are more red cubes than blue balls.", ["Yes", "No"], "Are there fewer blue balls than red cubes?", "Yes"),
        # without options, a yes/no question is read the same way
        ("The lamp is not switched on.", None, "Is the lamp switched on?", "No"),
    ],
)
def test_yes_no(text, choices, question, expected):
    assert extract_answer(text, choices=choices, question=question) == (expected, "yes_no")


@pytest.mark.parametrize(
    "text, choices, question, expected",
    [
        ("There are 2 items sold less than 5 units in at least one store.", None,
         "How many items sold less than 5 units in at least one store?", "2"),
        ("There are three bars with values below 40.", None, "How many bars have value below 40?", "3"),
        ("The highest share was recorded in 2016, with 94% of schools connected.", None,
         "Which year recorded the highest share?", "2016"),
        ("The first jersey says 2 and the other 1. If we add them together, the total sum is 3.", None,
         "What is the sum of the two numbers?", "3"),
        # a number option is matched by value; an answer that is not an option is kept as written
        ("Given that ∠P = 50.0, we find ∠ACB = 55.", ["65°", "60°", "55°", "50°"], "", "55°"),
        ("So x is equal to 7 + 1 = 8.", ["3", "4", "6", "7"], "Find x.", "8"),
    ],
)
def test_stated_number(text, choices, question, expected):
    assert extract_answer(text, choices=choices, question=question) == (expected, "stated_number")


@pytest.mark.parametrize(
    "text, expected",
    [
        # issue 29: "1/2" for gold \\frac{1}{2} was read as 2, "(3,-4)" as -4, "$5\\sqrt3$" as 5
        ("1/2", "1/2"),
        ("4/5", "4/5"),
        ("(3,-4)", "(3,-4)"),
        ("$5\\sqrt3$", "5\\sqrt3"),
        ("So x = 1/2", "1/2"),
        ("5-2-3-4-1", "5-2-3-4-1"),
        ("The order from left to right is 5-2-3-4-1.", "5-2-3-4-1"),
    ],
)
def test_a_value_written_with_several_numbers_is_read_whole(text, expected):
    assert extract_answer(text) == (expected, "stated_number")


def test_a_fraction_is_graded_as_a_fraction():
    from visionr1.grading import is_equivalent

    assert is_equivalent(extract_answer("1/2").text, "\\frac{1}{2}")
    assert not is_equivalent(extract_answer("4/5").text, "4")
    assert is_equivalent(extract_answer("the point is (3,-4)").text, "(3,-4)")
    assert is_equivalent(extract_answer("$5\\sqrt3$").text, "5\\sqrt{3}")


def test_last_number_takes_a_fraction_whole():
    assert extract_answer("We have 3 cats and 4 dogs and a share of 3/7") == ("3/7", "last_number")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("There are 3 cats and 4 dogs", "4"),  # two counts, no way to tell: the fallback
        ("from 1,200 to -3.5", "-3.5"),
        ("Step 1. Add 2 and 3.\nStep 2. Double 4 and 6.\nStep 3. Subtract 1 from 9.\nStep 4. Halve 8 and 2.", "2"),
    ],
)
def test_last_number(text, expected):
    ex = extract_answer(text)
    assert ex == (expected, "last_number") and not ex.decided


@pytest.mark.parametrize(
    "text",
    [
        "The question does not provide enough information to determine the angle.",
        "Without the figure, it is impossible to say which bar is taller; bars are often 3 cm.",
        "As an AI, I cannot view images. Please describe it.",
        "The answer is not among the options, since x = 72.",
        "Thus, the answer cannot be determined from the given information.",
        # an answer slot filled with "there is none" is no answer (issue 29: it was snapped to an option)
        "The answer is not provided.",
        "Answer: inconclusive",
        "The result is inconclusive.",
        "There is not enough data to tell.",
    ],
)
def test_refusal_is_no_answer(text):
    ex = extract_answer(text, choices=["Yes", "No"], question="Is the bar taller than 3 cm?")
    assert ex == (None, "refusal") and not ex.decided


def test_a_declining_reply_picks_the_option_that_declines():
    choices = ["3 cm", "5 cm", "It cannot be determined from the information given"]
    ex = extract_answer("Without the figure, the length cannot be determined.", choices=choices)
    assert ex == (choices[2], "option_text") and ex.decided
    assert extract_answer("The answer is: it cannot be determined from the information given.",
                          choices=choices).text is not None


def test_a_refusal_that_still_picks_an_option_is_an_answer():
    text = "The figure is missing. Therefore, the answer is: (E) It cannot be determined."
    assert extract_answer(text, choices=["1", "2", "3", "4", "It cannot be determined"]) == ("(E) It cannot be determined", "phrase")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer is 12.\n\nQuestion: What is 3 + 4?\nSolution: 3 + 4 = 7. The answer is 7.", ("12", "phrase")),
        ("There are 5 red beads.\nQuestion: How many beads are blue?\nThere are 9 blue beads.", ("5", "stated_number")),
    ],
)
def test_text_after_a_new_question_is_not_read(text, expected):
    assert extract_answer(text) == expected


def test_a_reply_that_only_restates_the_question_is_read_whole():
    text = "Let me restate it.\nQuestion: What is 2 + 3?\nSolution: 2 + 3 = 5, so the answer is 5."
    assert extract_answer(text) == ("5", "phrase")


def test_decided_rules():
    assert extract_answer("<think>x</think><answer>4</answer>").decided
    assert extract_answer("So the answer is (B).", choices=["1", "2"]).decided
    assert not extract_answer("I cannot tell.").decided and not extract_answer("").decided


@pytest.mark.parametrize("text", ["", "   ", "The sky is blue today", None, 12])
def test_none(text):
    assert extract_answer(text) == (None, "none")


def test_rule_order_answer_tag_beats_boxed_beats_phrase():
    assert extract_answer("the answer is 1 \\boxed{2} <answer>3</answer>").rule == "answer_tag"
    assert extract_answer("the answer is 1 \\boxed{2}").rule == "boxed"
    assert extract_answer("The answer is 1. Then 2.").text == "1"


def test_rules_constant():
    assert RULES == ("answer_tag", "boxed", "phrase", "choice_letter", "refusal", "option_text", "yes_no",
                     "stated_number", "last_number", "none")
    assert DECIDED_RULES == {"answer_tag", "boxed", "phrase", "choice_letter", "option_text", "yes_no", "stated_number"}


@pytest.mark.parametrize(
    "raw, clean",
    [("**$\\boxed{\\text{(B)}}$.**", "(B)"), ("'yes'", "yes"), ("\\(x+1\\)", "x+1"), (" 12. ", "12"),
     # MATH-V replies: a $ left mid-answer or unpaired, a display math closed after the answer, a box never closed
     ("2$\\sqrt{10}$", "2\\sqrt{10}"), ("\\frac{2}{\\sqrt{\\pi}}$", "\\frac{2}{\\sqrt{\\pi}}"), ("\\text{A}.\\]", "A"),
     ("\\boxed{D.", "D"), ("\\$5", "\\$5")],
)
def test_clean_answer(raw, clean):
    assert clean_answer(raw) == clean


def test_an_echoed_option_list_after_an_answer_phrase_is_no_answer():
    choices = ["1", "√{3}", "2", "3"]
    echo = "Choose the correct option letter:\n\n(A) 1\n(B) √{3}\n(C) 2\n(D) 3"
    assert extract_answer(echo, choices=choices) == (None, "none")
    assert extract_answer("The radius is 2.\n\n" + echo, choices=choices) == ("2", "option_text")


@pytest.mark.parametrize(
    "text",
    [
        "Thus, the answer is $\\boxed{\\text{(None)}}$.",  # no option fits
        "Therefore, the correct answer is:\n\n(E) Insufficient information to determine it.",  # a letter it does not have
        "So the correct answer is (None of the above).",
    ],
)
def test_an_invented_or_empty_option_is_no_answer(text):
    assert extract_answer(text, choices=["3", "4", "6", "7"]) == (None, "refusal")


def test_none_is_an_answer_where_an_option_says_none():
    ex = extract_answer("The answer is none.", choices=["A cat", "None of the above"])
    assert ex.decided and ex.text == "none"
