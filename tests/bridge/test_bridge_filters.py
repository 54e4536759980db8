"""Stage-4 filters: every rejection reason, the answer text, and the description rewrite."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visionr1.bridge.config import FilterConfig
from visionr1.bridge.filters import REASONS, Candidate, answer_text, broken_text, check, rewrite_description_refs
from visionr1.data.record import Record

CFG = FilterConfig(min_reasoning_words=20, max_reasoning_words=400)
INT = Record(id="i", question="How many red circles are there?", answer="3", answer_type="integer")
MC = Record(id="m", question="Which colour is most common?", answer="blue", choices=["red", "blue", "green"])
GOOD = ("Okay, the image shows three red circles and two blue squares. Counting only the red circles gives one, "
        "two, three. Wait, let me make sure none is hidden behind a square. Hmm, no, all shapes are separate. ")


@pytest.mark.parametrize(
    "cand,rec,reason",
    [
        (Candidate(GOOD + "So 3.", "Final answer: 3"), INT, None),
        (Candidate(GOOD, "", finish_reason="length"), INT, "truncated"),
        (Candidate.from_response("<think>" + GOOD, None, "stop"), INT, "truncated"),
        (Candidate(None, "Final answer: 3"), INT, "missing_reasoning"),
        (Candidate("   ", "Final answer: 3"), INT, "missing_reasoning"),
        (Candidate(GOOD + "<answer>3</answer>", "Final answer: 3"), INT, "garbled_reasoning"),
        (Candidate("\x00\x01\x02\ufffd" * 10 + GOOD, "Final answer: 3"), INT, "garbled_reasoning"),
        (Candidate("= + - 1 2 3 4 5 6 7 8 9 ( ) [ ] { } / * " * 5, "Final answer: 3"), INT, "garbled_reasoning"),
        (Candidate(GOOD, "I am not sure."), INT, "no_final_answer"),
        (Candidate(GOOD + "So 4.", "Final answer: 4"), INT, "wrong_answer"),
        (Candidate(GOOD + "let me count the red ones again to be very sure now. " * 8, "Final answer: 3"), INT, "repetition"),
        (Candidate(GOOD + "所以答案是三个红色的圆圈。", "Final answer: 3"), INT, "language_mixing"),
        (Candidate("Three red circles.", "Final answer: 3"), INT, "too_short"),
        (Candidate(" ".join(f"word{i}" for i in range(500)), "Final answer: 3"), INT, "too_long"),
        (Candidate(GOOD + "As the descriptions go, it is 3.", "Final answer: 3"), INT, "mentions_description"),
        (Candidate(GOOD + "Blue appears most.", "Final answer: B"), MC, None),
        (Candidate(GOOD + "Blue appears most.", "Final answer: blue"), MC, None),
        (Candidate(GOOD + "Red appears most.", "Final answer: A"), MC, "wrong_answer"),
    ],
)
def test_each_filter_names_its_reason(cand, rec, reason):
    v = check(cand, rec, CFG)
    assert v.reason == reason, v
    assert v.ok == (reason is None)
    if reason:
        assert reason in REASONS


def test_an_answer_the_grader_cannot_decide_is_not_kept_nor_called_wrong(monkeypatch):
    import visionr1.grading.equivalence as eq
    from visionr1.grading.supervisor import GradingTimeout

    def undecided(*args, **kwargs):
        raise GradingTimeout("budgets spent")

    monkeypatch.setattr(eq, "math_compare", undecided)
    eq._math_verdict.cache_clear()
    rec = Record(id="s", question="Simplify the root.", answer="\\sqrt{12}")
    v = check(Candidate(GOOD + "So 2 root 3.", "Final answer: 2\\sqrt{3}"), rec, CFG)
    assert (v.ok, v.reason) == (False, "undecided_answer")


def test_separate_reasoning_field_and_inline_think_give_the_same_verdict():
    a = check(Candidate.from_response("<think>" + GOOD + "</think>Final answer: 3", None, "stop"), INT, CFG)
    b = check(Candidate.from_response("Final answer: 3", GOOD, "stop"), INT, CFG)
    assert a.ok and b.ok and a.reasoning == b.reasoning


def test_final_answer_from_reasoning_tail_when_no_text_follows():
    v = check(Candidate(GOOD + "So the answer is 3.", ""), INT, CFG)
    assert v.ok and v.answer == "3"


@pytest.mark.parametrize("extracted,expected", [("B", "B"), ("(B) blue", "B"), ("blue", "B"), ("b", "B")])
def test_multiple_choice_answer_is_the_letter(extracted, expected):
    assert answer_text(extracted, MC) == expected


@pytest.mark.parametrize(
    "before,after",
    [
        ("The description says that there are 3 circles.", "The image shows there are 3 circles."),
        ("The description states the image shows a right angle.", "The image shows a right angle."),
        ("the given description mentions two bars", "the image shows two bars"),
        ("According to the description, bar A is 2.5.", "Looking at the image, bar A is 2.5."),
        ("Based on the provided description, the angle is 40°.", "Looking at the image, the angle is 40°."),
        ("The description doesn't mention a legend.", "The image doesn't show a legend."),
        ("as described in the description above", "as shown in the image above"),
        ("The description also says the bars are red.", "The image also shows the bars are red."),
        ("In the description, the circles are red.", "In the image, the circles are red."),
        ("The image description lists 4 squares.", "The image shows 4 squares."),
        ("The description illustrates two circles.", "The image illustrates two circles."),
        ("The description of the image shows 3 dots.", "The image shows 3 dots."),
        ("the triangle described has angles 40° and 100°", "the triangle shown has angles 40° and 100°"),
        ("Nothing to change here.", "Nothing to change here."),
    ],
)
def test_rewrite_description_refs(before, after):
    out = rewrite_description_refs(before)
    assert out == after
    assert broken_text(out) is None


PHRASES = st.sampled_from([
    "The description says", "The description states that", "According to the description,", "the description",
    "The given description mentions", "as described", "the detailed description shows", "The description illustrates",
    "From the description,", "the description doesn't say", "The description says the image shows",
])
FILLER = st.sampled_from(["there are 3 circles.", "bar A is 2.5.", "the angle is 40°.", "it has two labels."])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(PHRASES, FILLER), min_size=1, max_size=4))
def test_rewrite_leaves_no_description_and_no_broken_text(parts):
    text = " ".join(f"{p} {f}" for p, f in parts)
    out = rewrite_description_refs(text)
    assert "descri" not in out.lower()
    assert broken_text(out) is None, out


def test_broken_text_is_detected():
    assert broken_text("The image shows illustrates two circles")
    assert broken_text("the image image has")
