"""Reading the answer a reply states: one table per rule, made-up sentences in the styles models write."""

import pytest

from visionr1.grading.statements import (
    answer_sentences,
    cut_at_new_question,
    first_clause,
    is_numeric_option,
    is_compound,
    is_yes_no_question,
    math_tokens,
    non_answer,
    declining_option,
    main_clause,
    named_option,
    refusal,
    refusal_verdict,
    split_sentences,
    stated_number,
    stem,
    yes_no,
    yes_no_choices,
)

# ----------------------------------------------------------------------------- cutting at a new question


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer is 12.\n\nQuestion: How many sides has a cube?\nSolution: 6", "The answer is 12."),
        ("So the kite costs $4.\nHint: Please answer with an integer.\nQuestion: …", "So the kite costs $4."),
        ("x = 3. Question: what is 2x? Answer: 6", "x = 3."),
        ("Thus (B).\n**Problem 2:** Find y.", "Thus (B)."),
        ("Q: Which is red?\nA: the ball", "Q: Which is red?\nA: the ball"),  # starts with the question: kept
        ("Question: Find x.\nx = 3, so the answer is 3.", "Question: Find x.\nx = 3, so the answer is 3."),
        ("The question asks for the sum, which is 9.", "The question asks for the sum, which is 9."),
    ],
)
def test_cut_at_new_question(text, expected):
    assert cut_at_new_question(text) == expected


# ----------------------------------------------------------------------------- sentences and clauses


@pytest.mark.parametrize(
    "text, expected",
    [
        ("It is 1.5 m long. That is all.", ["It is 1.5 m long.", "That is all."]),
        ("Use a ruler, e.g. a steel one. Done.", ["Use a ruler, e.g. a steel one.", "Done."]),
        ("**Step 1:** add\n- then divide\n\nSo 4.", ["Step 1: add", "then divide", "So 4."]),
        ('He said "yes." Then left.', ['He said "yes."', "Then left."]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("Based on the chart, the tallest bar is March.", "the tallest bar is March."),
        ("If the foxes disappear, the rabbits will increase.", "the rabbits will increase."),
        ("According to the map, in the north, it rains most.", "it rains most."),
        ("Therefore, x is 4.", "x is 4."),
        ("No, the lamp is off.", "the lamp is off."),
        ("In 2010, sales were 45 units.", "sales were 45 units."),
        ("Since it is even, 4.", "Since it is even, 4."),  # what would remain is one word: kept whole
        ("The kettle is blue.", "The kettle is blue."),
    ],
)
def test_main_clause(sentence, expected):
    assert main_clause(sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The owls would decline, as they eat the mice.", "The owls would decline"),
        ("Sales peaked in 2019, with 80% of stores open.", "Sales peaked in 2019"),
        ("The plant wilts because it lacks water.", "The plant wilts"),
        ("Based on the image, the cup is empty.", "the cup is empty."),
    ],
)
def test_first_clause(sentence, expected):
    assert first_clause(sentence) == expected


def test_answer_sentences_prefer_the_conclusion_then_first_then_last():
    text = "Let us look at the bars. The red bar is 4. So the blue bar is the tallest. It is striped."
    assert answer_sentences(text) == ["So the blue bar is the tallest.", "Let us look at the bars.", "It is striped."]
    assert answer_sentences(text, first=False) == ["So the blue bar is the tallest.", "It is striped."]
    assert answer_sentences("") == []


@pytest.mark.parametrize(
    "word, expected",
    [("flipped", "flip"), ("frogs", "frog"), ("decreased", "decreas"), ("decrease", "decreas"), ("bus", "bus")],
)
def test_stem(word, expected):
    assert stem(word) == expected


# ----------------------------------------------------------------------------- options named by their text

MONTHS = ["August", "April", "May"]
FOOD = ["decrease", "nothing", "increase", "none of the above"]
ANIMALS = ["garter snakes", "hognose snakes", "hawks", "grasshoppers"]


@pytest.mark.parametrize(
    "sentence, choices, question, expected",
    [
        ("the wettest month on average is May.", MONTHS, "", 2),
        ("It rains most in april", MONTHS, "", 1),  # case does not matter
        ("The mirror image shows the letter was flipped.", ["slide", "flip", "turn"], "", 1),  # inflection
        ("the frog population shrinks", ["Frogs", "Hawks"], "", 0),  # a distinctive word, singular
        ("the hottest month is July", ["December, January, and February", "July and August", "March and April"], "", 1),
        ("the seagulls would become extinct", ["Crabs will decrease", "Seagulls will become extinct"], "", 1),
        # several named: the one echoed from the question is the premise, not the answer
        ("if the owls increase, the voles will decrease", FOOD, "What happens to voles if owls increase?", 0),
        # a comparison names both: the side that answers "Which is larger?"
        ("The whale is larger than the shark.", ["whale", "shark", "equal"], "Which is larger, the whale or the shark?", 0),
        ("The shark is smaller than the whale.", ["whale", "shark", "equal"], "Which is larger, the whale or the shark?", 0),
        # the longer option that contains a shorter one is the one named
        ("the herd will decrease in size", ["decrease", "herd will decrease"], "", 1),
        # a number option only as a whole number, not inside another number or a decimal
        ("the chord is 3 cm", ["1 cm", "3 cm", "13 cm"], "", 1),
        ("the angle is 55°", ["65°", "55°", "50°"], "", 1),
        ("the clock shows 11:30", ["1:30", "11:30"], "", 1),
        # a formula option as a whole expression, between words or an equals sign
        ("The radius is $\\pi$.", ["$\\pi$", "$2\\pi$"], "", 0),
        ("so x = \\sqrt{3}, which is B", ["$\\sqrt{2}$", "$\\sqrt{3}$"], "", 1),
        ("the length of BD is 2√3", ["4", "3", "2", "2√{3}"], "", None),  # √3 is not √{3}: left to the value step
        ("the length of BD is 2√{3}", ["4", "3", "2", "2√{3}"], "", 3),  # not "3" or "2" inside it
    ],
)
def test_named_option(sentence, choices, question, expected):
    assert named_option(sentence, choices, question) == expected


@pytest.mark.parametrize(
    "sentence, choices",
    [
        ("It is either May or April.", MONTHS),  # two named, no way to choose
        ("The weather is pleasant.", MONTHS),  # none named
        ("the snakes eat them", ANIMALS),  # "snakes" is in two options: not distinctive
        ("it is 27.0 square units", ["12", "27", "54"]),  # 27.0 is not the whole number 27
        ("so x = 7 + 1 = 8", ["3", "4", "6", "7"]),  # an operand of a calculation is not named
        # a part of a longer formula names no option (the released outputs: "\\pi" read in "\\frac{8\\pi}{5}")
        ("the answer is \\frac{8\\pi}{5}", ["$\\pi$", "$2\\pi$", "$\\frac{6\\pi}{5}$"]),
        ("the answer is 8\\pi/5", ["$\\pi$", "$2\\pi$"]),
        ("the answer is -\\pi", ["$\\pi$", "$2\\pi$"]),
        ("it is 2\\sqrt{3}", ["$\\sqrt{3}$", "$3\\sqrt{2}$"]),
        ("it is \\sqrt{3}+1", ["$\\sqrt{3}$", "$1$"]),
        ("it is \\sqrt{3} - 1", ["$\\sqrt{3}$", "$1$"]),
        ("the circumference is 2πr", ["1", "√{3}", "2", "3"]),  # 2 is a coefficient
        ("so it is \\frac{8}{5}", ["5", "8"]),
        ("the side is √2", ["1", "2"]),
        ("", MONTHS),
    ],
)
def test_named_option_undecided(sentence, choices):
    assert named_option(sentence, choices) is None


@pytest.mark.parametrize(
    "option, expected",
    [("12", True), ("60°", True), ("3.5 cm", True), ("\\frac{9}{5}", True), ("5√{3}m", True), ("May", False),
     ("0-5 years", False), ("(u1, u2) = (0, 0)", True), ("white one", False)],
)
def test_is_numeric_option(option, expected):
    assert is_numeric_option(option) is expected


# ----------------------------------------------------------------------------- yes / no


@pytest.mark.parametrize(
    "sentence, question, expected",
    [
        ("Yes, the bridge is longer.", "", True),
        ("No.", "", False),
        ("**No**, it is not.", "", False),
        ("False. The mapping is not onto.", "", False),
        ("The kettle is not the hottest.", "Is the kettle the hottest?", False),
        ("Based on the chart, Teal does not have the lowest value.", "Does Teal have the lowest value?", False),
        ("The curve isn't continuous at every point.", "Is the curve continuous at every point?", False),
        ("The curve is continuous at every point.", "Is the curve continuous at every point?", True),
        ("Based on the chart, the line is rising between 1 and 2.", "Is the line rising between 1 and 2?", True),
        # a comparison stated with the other word and the operands swapped means the same
        ("There are more cubes than spheres.", "Are there fewer spheres than cubes?", True),
        ("There are more spheres than cubes.", "Are there fewer spheres than cubes?", False),
        ("There are fewer spheres than cubes.", "Are there fewer spheres than cubes?", True),
        ("There are as many spheres as cubes, the same number.", "Are there fewer spheres than cubes?", False),
        # only the main clause counts: a negation in an explanation does not flip it
        ("The tank is half full, but it is not clean.", "Is the tank half full?", True),
        # ...nor does a negation that sets an alternative aside (issue 29: read backwards before)
        ("Periwinkle is the maximum, not Red.", "Is Periwinkle the maximum?", True),
        ("Periwinkle is the maximum rather than Red, which is not.", "Is Periwinkle the maximum?", True),
        ("Periwinkle is not only the maximum but also the mode.", "Is Periwinkle the maximum?", True),
        ("Periwinkle is not the maximum, not even close.", "Is Periwinkle the maximum?", False),
    ],
)
def test_yes_no(sentence, question, expected):
    assert yes_no(sentence, question) is expected


@pytest.mark.parametrize(
    "sentence, question",
    [
        ("The sky is blue.", "Is the kettle the hottest?"),  # does not restate the question
        ("The kettle is not the hottest.", ""),  # without the question, only a leading yes/no counts
        ("Yesterday it rained.", ""),
    ],
)
def test_yes_no_undecided(sentence, question):
    assert yes_no(sentence, question) is None


def test_yes_no_choices_and_questions():
    assert yes_no_choices(["Yes", "No"]) == (0, 1) and yes_no_choices(["no", "yes"]) == (1, 0)
    assert yes_no_choices(["True", "False"]) == (0, 1)
    assert yes_no_choices(["Yes", "No", "Maybe"]) is None and yes_no_choices(None) is None
    assert is_yes_no_question("Hint: answer.\nQuestion: Is the cup full?")
    assert is_yes_no_question("Does the line cross zero?") and not is_yes_no_question("How many cups are full?")


# ----------------------------------------------------------------------------- the number a sentence is about


@pytest.mark.parametrize(
    "sentence, question, expected",
    [
        ("There are 2 items sold less than 5 units in at least one store.", "", "2"),
        ("There are three bars with values below 40.", "", "3"),
        ("There were two crates holding more than 60 apples but fewer than 81.", "", "2"),
        ("After removing the cubes, there are no objects left.", "", "0"),
        ("The model guesses 1 out of 10 times correctly.", "", "1"),
        ("The line first reaches 2 at the point (1, 2).", "", "2"),  # coordinates are not the answer
        ("Given AB = 50, the angle C is a right angle (90°).", "Find C if AB = 50.", "90"),  # a restatement is
        ("The total is 4 + 5 = 9.", "", "9"),
        ("x = 7 + 1 = 8", "", "8"),
        ("The area is about 12.5 cm^2.", "", "12.5"),
        ("The price is $1,250.", "", "1250"),
        ("The temperature falls to -3 degrees.", "", "-3"),
        ("The angle at x = 2 is 30 degrees.", "", "30"),  # "at x = 2" states where, not what
        # numbers the reply repeats from the question are the question's, not the answer
        ("In 2004 the ratio was 3.", "What was the ratio in 2004?", "3"),
        ("The two numbers are 2 and 1.", "Add the two numbers.", None),  # "two" echoes; 2 and 1 remain
        ("The one with the most votes got 7.", "", "7"),  # "the one" is a pronoun
        ("Only one store sold out.", "", "1"),
    ],
)
def test_stated_number(sentence, question, expected):
    assert stated_number(sentence, question) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # a value written with several numbers is one answer, not its last digit (issue 29)
        ("The probability is 1/2.", "1/2"),
        ("So the ratio is 4/5.", "4/5"),
        ("The vertex is at the point (3,-4).", "(3,-4)"),
        ("The side is $5\\sqrt3$ cm.", "5\\sqrt3"),
        ("The side is 5√3 cm.", "5√3"),
        ("The circumference is 2\\pi.", "2\\pi"),
        ("Hence the value is \\frac{\\sqrt{3}}{2}.", "\\frac{\\sqrt{3}}{2}"),
        ("The correct order is 5-2-3-4-1.", "5-2-3-4-1"),
        ("The range is 13–18.", "13–18"),
        ("The values lie in 40-60.", "40-60"),
        # ...but arithmetic stays arithmetic, and the left side of an equation is worked out
        ("It fell by 60-40 = 20 units.", "20"),
        ("There are 4/2 = 2 dots in each group.", "2"),
        ("The slope at (1, 2) is 3.", "3"),
    ],
)
def test_stated_number_reads_a_value_written_with_several_numbers(sentence, expected):
    assert stated_number(sentence) == expected


def test_math_tokens_and_is_compound():
    assert [t for _, t in math_tokens("x = 1/2 and (3, -4), then 12 and two")] == ["1/2", "(3, -4)", "12"]
    assert [t for _, t in math_tokens("two and 3", words=True)] == ["two", "3"]
    assert [t for _, t in math_tokens("5 - 2 - 3 and 10-4")] == ["5", "2", "3", "10", "4"]  # spaced or falling: arithmetic
    assert is_compound("1/2") and is_compound("(3, -4)") and is_compound("5-2-3-4-1")
    assert not is_compound("12") and not is_compound("1/2 and 3") and not is_compound("60-40")


@pytest.mark.parametrize(
    "sentence",
    ["There are 3 cats and 4 dogs.", "No numbers here.", "Between 2000 and 2005.", "Find it and pick the smallest one."],
)
def test_stated_number_undecided(sentence):
    assert stated_number(sentence) is None


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Without the chart, it is impossible to determine the tallest bar.", "decline"),
        ("As an AI, I can't see images.", "decline"),
        ("The value cannot be determined from the given information.", "decline"),
        ("I'm sorry, but I am unable to view the figure.", "decline"),
        ("The question does not provide enough information to find x.", "claim"),
        ("The figure is not provided. Please provide it.", "claim"),
        ("There is not enough information to answer.", "claim"),
        ("I do not have enough context to say.", "claim"),
        ("It is not clear which line is meant.", "claim"),
        ("The angle is 72°, which is not among the options.", "no_option"),
        ("None of the choices match this result.", "no_option"),
        ("The information provided does not allow for a definitive answer.", "decline"),
        ("由于缺少图形，无法确定角的大小。", "decline"),  # replies to the Chinese questions refuse in Chinese
        ("所以EB=1.6，但是这个答案不在选择中。", "no_option"),
        # statements with a negation are answers, not refusals
        ("Periwinkle is not the maximum.", None),
        ("The graph does not have a maximum in this range.", None),
        ("There is no red cube left.", None),
        ("The number that is missing is 14.", None),
        ("The function cannot be negative, so it is positive.", None),
        ("", None),
    ],
)
def test_refusal(text, expected):
    assert refusal(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The data are not listed. Thus, the answer cannot be determined from the text.", "Cannot be determined"),
        ("Therefore, the question cannot be answered.", "Cannot be answered"),
        ('Without the function, the best option is "cannot be determined".', "Cannot be determined"),
        ("As an AI, I cannot see the image.", None),
        ("The solution cannot be provided.", None),
    ],
)
def test_refusal_verdict(text, expected):
    assert refusal_verdict(text) == expected


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("not provided", True),
        ("Not given.", True),
        ("inconclusive", True),
        ("The result is inconclusive", True),
        ("unknown", True),
        ("N/A", True),
        ("cannot be determined from the image", True),
        ("not enough information", True),
        # answers, not statements that there is none
        ("not parallel", False),
        ("none", False),  # "how many?": 0; and an option in its own right
        ("nothing happens", False),
        ("12", False),
        ("the unknown side is 5", False),
    ],
)
def test_non_answer(answer, expected):
    assert non_answer(answer) is expected


def test_refusal_claims_inconclusive_and_not_enough():
    assert refusal("The result is inconclusive.") == "claim"
    assert refusal("There is not enough evidence to say whether it is larger.") == "claim"
    assert refusal("The evidence remains inconclusive.") == "claim"


def test_declining_option():
    assert declining_option(["3", "5", "cannot be determined"]) == 2
    assert declining_option(["Top", "Left", "Unable to determine."]) == 2
    assert declining_option(["Top", "Not possible"]) is None  # "not possible" answers the question itself
    assert declining_option(["1", "2"]) is None and declining_option(None) is None
