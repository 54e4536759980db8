"""The R1 format grammar: well-formed iff exactly <think>…</think><answer>…</answer> with whitespace around."""

import pytest

from visionr1.grading import REFLECTIVE_WORDS, count_reflective_words, parse_r1


@pytest.mark.parametrize(
    "text, think, answer",
    [
        ("<think>2+2=4</think><answer>4</answer>", "2+2=4", "4"),
        ("  \n<think>\nWait, recount.\n</think>\n\n<answer> 12 </answer>\n", "Wait, recount.", "12"),
        ("<think>a</think> <answer>\\frac{1}{2}</answer>", "a", "\\frac{1}{2}"),
        ("<think>a</think><answer> Final Answer: 7 </answer>", "a", "7"),  # the paper's form
        ("<think>a</think><answer>**Final answer:** B</answer>", "a", "B"),
    ],
)
def test_well_formed(text, think, answer):
    p = parse_r1(text)
    assert (p.ok, p.think, p.answer, p.reason) == (True, think, answer, None)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "missing <think>"),
        ("4", "missing <think>"),
        ("<think>x</think>4", "missing <answer>"),
        ("<think>x<answer>4</answer>", "missing </think>"),
        ("<think>x</think><answer>4", "missing </answer>"),  # truncated mid-answer
        ("<think>x</think><think>y</think><answer>4</answer>", "duplicate <think>"),
        ("<think>x</think><answer>4</answer><answer>5</answer>", "duplicate <answer>"),
        ("<answer>4</answer><think>x</think>", "tags out of order"),
        ("<think>x<answer>4</answer></think>", "tags out of order"),
        ("</think>x<think><answer>4</answer>", "tags out of order"),
        ("Sure! <think>x</think><answer>4</answer>", "text before <think>"),
        ("<think>x</think> so <answer>4</answer>", "text between </think> and <answer>"),
        ("<think>x</think><answer>4</answer> Hope this helps.", "text after </answer>"),
        ("<think> \n </think><answer>4</answer>", "empty reasoning"),
        ("<think>x</think><answer>  </answer>", "empty answer"),
        ("<think>x</think><answer> Final Answer: </answer>", "empty answer"),  # the label alone
        ("<THINK>x</THINK><ANSWER>4</ANSWER>", "missing <think>"),
        ("< think>x</think><answer>4</answer>", "missing <think>"),
    ],
)
def test_malformed(text, reason):
    p = parse_r1(text)
    assert (p.ok, p.think, p.answer, p.reason) == (False, None, None, reason)


@pytest.mark.parametrize("value", [None, 4, b"<think>x</think><answer>4</answer>"])
def test_not_a_string_is_malformed(value):
    assert parse_r1(value).ok is False


def test_parse_is_frozen():
    p = parse_r1("<think>x</think><answer>4</answer>")
    with pytest.raises(AttributeError):
        p.ok = False  # type: ignore[misc]


def test_reflective_words_are_the_papers_five():
    assert REFLECTIVE_WORDS == ("Wait", "Hmm", "Mistake", "Alternatively", "Check")  # Table 2, in its order
    text = "Hmm, 3. Wait, no: 4. But wait! Alternatively... Waiting. Hmmm. CHECK: a mistake? Mistakes. Checked."
    assert count_reflective_words(text) == {"Wait": 2, "Hmm": 1, "Mistake": 1, "Alternatively": 1, "Check": 1}
    assert count_reflective_words("") == dict.fromkeys(REFLECTIVE_WORDS, 0)
    # the paper's own reflective example (Vision-R1-7B on MathVerse, Fig. 5) writes them in lower case
    figure = "D is 24. But wait, maybe I made a mistake. Let me double-check again. Wait, maybe I miscalculated BD?"
    assert count_reflective_words(figure) == {"Wait": 2, "Hmm": 0, "Mistake": 1, "Alternatively": 0, "Check": 1}
    assert count_reflective_words(None) == dict.fromkeys(REFLECTIVE_WORDS, 0)


# ----------------------------------------------------------------------------- the rest of the R1 contract

def test_answer_tags_finds_every_closed_tag_and_tagged_answer_reads_the_last():
    from visionr1.r1 import TaggedAnswer, answer_tags, tagged_answer

    text = "<think>a</think><answer> 3 </answer> and later <answer> Final Answer:4 </answer><answer>5"
    assert answer_tags(text) == [" 3 ", " Final Answer:4 "]
    assert answer_tags("no tags") == [] and answer_tags(None) == []
    assert answer_tags("<answer>a\nb</answer>") == ["a\nb"]  # across lines
    # the one reading of a reply's answer tag that grading, eval and the data readers share
    assert tagged_answer(text) == TaggedAnswer("4", closed=True)  # a closed tag is final: the open one after it is not
    assert tagged_answer("<think>a</think><answer>**Final answer:**</answer>") == TaggedAnswer("", closed=True)
    assert tagged_answer("<think>a</think><answer> Final Answer: 2.5 cm") == TaggedAnswer("2.5 cm", closed=False)
    assert tagged_answer("The answer is 3.") is None and tagged_answer("3</answer>") is None
    assert tagged_answer(None) is None


@pytest.mark.parametrize(
    "content,reasoning,expected,unclosed",
    [
        ("<think>a</think>b", None, ("a", "b"), False),
        ("a</think>b", None, ("a", "b"), False),  # the chat template opened the block in the prompt
        ("<think>a", None, ("a", ""), True),  # the reasoning ran out
        ("b", "a", ("a", "b"), False),
        ("<think></think>b", "a", ("a", "b"), False),
        ("<think>x", "a", ("a", "<think>x"), False),  # a reasoning field apart: nothing inline is open
        ("just text", None, (None, "just text"), False),
        (None, None, (None, ""), False),
    ],
)
def test_split_reasoning_reads_inline_think_or_the_field_apart(content, reasoning, expected, unclosed):
    from visionr1.r1 import reasoning_unclosed, split_reasoning

    assert split_reasoning(content, reasoning) == expected
    assert reasoning_unclosed(content, reasoning) is unclosed


def test_inline_reasoning_is_split_reasoning_read_back():
    from visionr1.r1 import inline_reasoning, split_reasoning

    assert inline_reasoning("4", " 2+2 ") == "<think>2+2</think>4"
    assert split_reasoning(inline_reasoning("4", "2+2")) == ("2+2", "4")
    assert inline_reasoning("<think>a</think>4", "a") == "<think>a</think>4"  # already inline: kept as written
    assert inline_reasoning(None, None) == "" and inline_reasoning("4", "  ") == "4"


def test_choice_letters_round_trip():
    from visionr1.r1 import LETTERS, choice_letter, letter_index

    assert [choice_letter(i) for i in range(4)] == ["A", "B", "C", "D"]
    assert all(letter_index(choice_letter(i)) == i for i in range(len(LETTERS)))
    assert letter_index(" c ") == 2
    assert letter_index("E", 4) is None and letter_index("D", 4) == 3
    assert letter_index("AB") is None and letter_index("") is None and letter_index("7") is None


def test_the_instruction_is_rendered_and_the_r1_prompt_ends_with_it():
    from visionr1.r1 import r1_instruction, render_user_prompt

    plain, mc = r1_instruction(False), r1_instruction(True)
    assert plain == ("Think step by step inside <think></think> tags, then give the final answer inside "
                     "<answer></answer> tags.")
    assert mc == plain.replace("the final answer", "the letter of the correct option")
    assert render_user_prompt("2+2?") == "2+2?\n" + plain
    assert render_user_prompt("Which?", ["a", "b"]) == "Which?\nChoices:\n(A) a\n(B) b\n" + mc


def test_reflective_tally_sums_counts_over_texts():
    from visionr1.r1 import REFLECTIVE_WORDS, count_reflective_words, reflective_tally

    texts = ["Wait, wait. Hmm.", "No reflection here.", "Alternatively, check it. Wait."]
    t = reflective_tally(iter(texts))  # any iterable, read once
    assert t.texts == 3 and t.texts_with_any == 2
    assert t.total == {w: sum(count_reflective_words(x)[w] for x in texts) for w in REFLECTIVE_WORDS}
    assert t.total["Wait"] == 3 and t.texts_with["Wait"] == 2 and t.texts_with["Hmm"] == 1
    empty = reflective_tally([])
    assert empty.texts == 0 and sum(empty.total.values()) == 0


def test_conclusion_round_trips_and_only_at_the_end():
    from visionr1.r1 import concluded_answer, conclusion

    assert conclusion("11") == "So the final answer is 11."
    assert concluded_answer("4+7=11. " + conclusion("11") + "\n") == "11"
    assert concluded_answer(conclusion("11") + " Then more text.") is None  # not the last sentence
    assert concluded_answer("4+7=11.") is None
    assert concluded_answer(conclusion("2.5")) == "2.5"
    assert concluded_answer(None) is None
