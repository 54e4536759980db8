"""MathVista's official protocol: normalisation, verdict, scoring, and agreement with official verdicts."""

import json
import os
from pathlib import Path

import pytest

from visionr1.grading.mathvista import (
    PROTOCOLS,
    compute_scores,
    default_verdict,
    edit_distance,
    no_answer_text,
    normalize_extracted_answer,
    option_index,
    question_text,
    quick_extract,
    read_answer,
    safe_equal,
    score_record,
    unscored,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "mathvista" / "results_small.json"
def shared_mathvista() -> Path | None:
    env = os.environ.get("VISIONR1_SHARED_DATA")
    path = (Path(env) if env else REPO / ".." / "shared" / "data") / "mathvista"
    return path if path.is_dir() else None


@pytest.mark.parametrize(
    "extraction, choices, qt, at, precision, expected",
    [
        ("B", ["3/11", "8/11"], "multi_choice", "text", None, "8/11"),
        ("(B) 8/11", ["3/11", "8/11"], "multi_choice", "text", None, "8/11"),
        ("(b)", ["3/11", "8/11"], "multi_choice", "text", None, "8/11"),
        ("8/11", ["3/11", "8/11"], "multi_choice", "text", None, "8/11"),
        ("8/12", ["3/11", "8/11"], "multi_choice", "text", None, "8/11"),  # nearest by edit distance
        ("N/A", ["Yes", "No"], "multi_choice", "text", None, "No"),
        ("E", ["a", "b"], "multi_choice", "text", None, "a"),  # first of equally near options
        ("12.7", None, "free_form", "integer", None, "12"),
        ("1,000", None, "free_form", "integer", None, None),
        ("N/A", None, "free_form", "integer", None, None),
        ("3.14159", None, "free_form", "float", 2, "3.14"),
        ("7.30", None, "free_form", "float", 2, "7.3"),
        ("[2007, 2008]", None, "free_form", "list", None, "[2007, 2008]"),
    ],
)
def test_official_normalisation(extraction, choices, qt, at, precision, expected):
    assert normalize_extracted_answer(extraction, choices, qt, at, precision) == expected


def test_safe_equal_and_edit_distance():
    assert safe_equal("8/11", "8/11") and not safe_equal(None, "5") and not safe_equal("5", 5)
    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3


@pytest.mark.parametrize(
    "response, record, expected",
    [
        ("", {"question_type": "free_form", "answer_type": "integer"}, ""),
        ("No", {"question_type": "multi_choice", "choices": ["Yes", "No"]}, "No"),
        ("12", {"question_type": "free_form", "answer_type": "integer"}, "12"),
        ("1.5", {"question_type": "free_form", "answer_type": "float"}, "1.5"),
        ("12 apples", {"question_type": "free_form", "answer_type": "integer"}, None),
    ],
)
def test_official_quick_rules(response, record, expected):
    assert quick_extract(response, record) == expected


@pytest.mark.parametrize(
    "response, record, expected",
    [
        ("So the answer is (C).", {"question_type": "multi_choice", "choices": ["1", "2", "3"]}, "C"),
        ("x = 2", {"question_type": "multi_choice", "choices": ["1", "2", "3"]}, "B"),
        ("I cannot see it. Sorry.", {"question_type": "multi_choice", "choices": ["1", "2"]}, "N/A"),
        ("The image is not provided. Sorry.", {"question_type": "multi_choice", "choices": ["1", "2"]},
         "The image is not provided."),
        ("The distance is 1,250.5 m.", {"question_type": "free_form", "answer_type": "float"}, "1250.5"),
        ("The area is 12 cm^2.", {"question_type": "free_form", "answer_type": "integer"}, "12"),
        ("So [1,2, 3].", {"question_type": "free_form", "answer_type": "list"}, "[1, 2, 3]"),
        ("No idea.", {"question_type": "free_form", "answer_type": "integer"}, ""),
        ("The answer is two.", {"question_type": "free_form", "answer_type": "integer"}, "2"),
        ("(b) 8/11", {"question_type": "multi_choice", "choices": ["3/11", "8/11"]}, "B"),
        ("b", {"question_type": "multi_choice", "choices": ["3/11", "8/11"]}, "B"),
        ("There are two cups with more than 3 beans.", {"question_type": "free_form", "answer_type": "integer",
                                                         "question": "How many cups hold more than 3 beans?"}, "2"),
        ("Based on the chart, Teal is not the lowest.", {"question_type": "multi_choice", "choices": ["yes", "no"],
                                                         "question": "Is Teal the lowest?"}, "B"),
        ("The wettest month is May.", {"question_type": "multi_choice", "choices": ["April", "May"],
                                       "query": "Hint: Answer.\nQuestion: Which month is wettest?\nChoices:\n(A) April\n(B) May"},
         "B"),
    ],
)
def test_read_answer(response, record, expected):
    """What the official extraction field holds (``""`` when nothing is found)."""
    assert (read_answer(response, record).text or "") == expected


@pytest.mark.parametrize(
    "response, record, rule, decided",
    [
        ("So the answer is (C).", {"question_type": "multi_choice", "choices": ["1", "2", "3"]}, "phrase", True),
        ("There are 3 cats and 4 dogs.", {"question_type": "free_form", "answer_type": "integer"}, "last_number", False),
        ("As an AI I cannot see images.", {"question_type": "multi_choice", "choices": ["1", "2"]}, "refusal", False),
        ("", {"question_type": "free_form", "answer_type": "integer"}, "none", False),
        ("Yes, it is.", {"question_type": "multi_choice", "choices": ["Yes", "No"]}, "yes_no", True),
    ],
)
def test_read_answer_says_how_it_decided(response, record, rule, decided):
    ex = read_answer(response, record)
    assert (ex.rule, ex.decided) == (rule, decided)


@pytest.mark.parametrize(
    "response, expected",
    [
        ("The sizes are not listed. Thus, the answer cannot be determined.", "Cannot be determined"),
        ("Therefore, the question cannot be answered.", "Cannot be answered"),
        ("As an AI, I cannot view the image.", "N/A"),
        ("x = 72°, which is not among the choices.", "N/A"),
        ("The question does not provide the figure. Please provide it.", "The question does not provide the figure."),
        ("I think so", "I think so"),
    ],
)
def test_no_answer_text_follows_the_reply(response, expected):
    assert no_answer_text(response) == expected


def test_question_text_drops_hint_and_options():
    assert question_text({"question": "How many?"}) == "How many?"
    query = "Hint: Please answer.\nQuestion: Is it red?\nChoices:\n(A) Yes\n(B) No"
    assert question_text({"query": query}) == "Question: Is it red?"


def test_fixture_scoring():
    data = json.loads(FIXTURE.read_text())
    scored = {pid: score_record(rec) for pid, rec in data.items()}
    assert list(scored) == list(data)
    verdicts = {pid: r["true_false"] for pid, r in scored.items()}
    assert verdicts == {
        "1": True, "2": True, "3": True, "4": True, "5": True,
        "6": True, "7": False, "8": True, "9": True, "10": True,
    }
    assert scored["7"]["prediction"] is None and scored["5"]["prediction"] == "1.2"
    assert all(isinstance(r["true_false"], bool) for r in scored.values())
    scores = compute_scores(scored)
    assert scores["average"] == {"accuracy": "90.00", "correct": 9, "total": 10}
    assert scores["language"]["chinese"] == {"accuracy": "100.00", "correct": 1, "total": 1}
    assert set(scores) == {"average", "question_type", "answer_type", "language", "source", "category", "task",
                           "context", "grade", "skills"}


def test_score_record_keeps_other_fields_and_custom_extractor():
    rec = json.loads(FIXTURE.read_text())["4"]
    out = score_record(rec, extractor=lambda response, record: "6")
    assert out["extraction"] == "6" and out["true_false"] is False and out["metadata"] == rec["metadata"]
    assert "extraction" not in rec  # input untouched


# ----------------------------------------------------------------------------- the default protocol

YN = {"question_type": "multi_choice", "answer_type": "text", "choices": ["yes", "no"], "precision": None,
      "question": "Is Periwinkle the maximum?"}
ANGLES = {"question_type": "multi_choice", "answer_type": "text", "choices": ["25°", "30°", "40°", "50°"],
          "precision": None, "question": "Find the angle C."}
INT = {"question_type": "free_form", "answer_type": "integer", "choices": None, "precision": None,
       "question": "How many bars are below 40?"}
FLOAT = {"question_type": "free_form", "answer_type": "float", "choices": None, "precision": 1,
         "question": "What is the ratio?"}


def both(response, record, answer):
    rec = {**record, "response": response, "answer": answer}
    return score_record(rec), score_record(rec, protocol="default")


@pytest.mark.parametrize(
    "response, record",
    [
        # undecided replies: the official nearest-option step makes them an option (credited when it is
        # the gold one), the default never credits them
        ("As an AI, I cannot see the image.", YN),
        ("The question does not provide enough information to tell.", YN),
        ("Choose the correct option letter:\n(A) 25°\n(B) 30°\n(C) 40°\n(D) 50°", ANGLES),
        ("The answer is not provided.", YN),
        ("Answer: inconclusive", YN),
        # a number that is not an option is not snapped to the nearest one
        ("So the answer is 20.", ANGLES),
        ("The angle C is 90°, a right angle.", ANGLES),
        # 12.7 is not 12 (the official int(float(x)) truncates)
        ("The answer is 12.7.", INT),
    ],
)
def test_default_protocol_does_not_credit_what_the_official_fallback_does(response, record):
    gold = score_record({**record, "response": response, "answer": None})["prediction"]
    assert gold is not None  # what the official fallback turns the reply into
    official, default = both(response, record, gold)
    assert official["true_false"] is True
    assert default["true_false"] is False and default["correct"] is False


@pytest.mark.parametrize(
    "response, record, answer, decided",
    [
        ("As an AI, I cannot see the image.", YN, "yes", False),
        ("There are 3 cats and 4 dogs.", INT, "4", False),  # only the last-number fallback found 4
        ("So the answer is 20.", ANGLES, "25°", True),  # stated, but not an option
        ("The answer is 40-60.", INT, "40", True),  # stated, but a range
    ],
)
def test_default_protocol_counts_undecided_separately(response, record, answer, decided):
    _, default = both(response, record, answer)
    assert default["correct"] is False and default["decided"] is decided
    assert (default["extracted"] is None) is (not decided)


@pytest.mark.parametrize(
    "response, record, answer",
    [
        ("(B) no, Periwinkle is not the maximum.", YN, "no"),
        ("No, Periwinkle is not the maximum.", YN, "no"),
        ("Periwinkle is the maximum, not Red.", YN, "yes"),
        ("Answer: no, it is not.", YN, "no"),
        ("A (Yes)", YN, "yes"),
        ("The answer is B, since C is larger.", ANGLES, "30°"),
        ("Based on the figure, ∠C = 40°.", ANGLES, "40°"),
        ("So the answer is 50.", ANGLES, "50°"),
        ("There are 3 bars below 40.", INT, "3"),
        ("The ratio is 1/2.", FLOAT, "0.5"),
        ("The ratio is 0.54.", FLOAT, "0.5"),
        ("So [1,2, 3].", {**INT, "answer_type": "list"}, "[1, 2, 3]"),
    ],
)
def test_default_protocol_credits_a_stated_right_answer(response, record, answer):
    _, default = both(response, record, answer)
    assert default["correct"] is True and default["decided"] is True and default["extracted"]


def test_default_protocol_reads_negation_and_options_right():
    _, default = both("Periwinkle is the maximum, not Red.", YN, "no")
    assert default["correct"] is False and default["prediction"] == "yes"
    assert option_index("2\\pi", ["$\\pi$", "$2 \\pi$"]) == 1
    assert option_index("0.5", ["1", "\\frac{1}{2}"]) == 1
    assert option_index("the wettest month is May", ["April", "May"]) == 1
    assert option_index("90", ANGLES["choices"]) is None
    assert default_verdict("N/A", {**ANGLES, "answer": "25°"}) == (None, False)


def test_a_formula_option_is_not_read_inside_a_longer_formula():
    """``\\pi`` was read in ``\\frac{8\\pi}{5}`` and ``8\\pi/5``, ``\\sqrt{3}`` in ``2\\sqrt{3}``, and ``2`` in ``2πr``,
    before the value was compared: a wrong option, even where the right one was there to be found by value."""
    assert option_index("8\\pi/5", ["$\\pi$", "$\\frac{8\\pi}{5}$"]) == 1
    assert option_index("\\frac{8\\pi}{5}", ["$\\pi$", "$2\\pi$", "$\\frac{6\\pi}{5}$"]) is None
    assert option_index("2\\sqrt{3}", ["$\\sqrt{3}$", "$3\\sqrt{2}$"]) is None
    assert option_index("2√3", ["4", "3", "2", "2√{3}"]) == 3
    assert option_index("\\frac{8}{5}", ["5", "1.6"]) == 1


def test_default_protocol_with_a_judge_for_the_undecided():
    rec = {**YN, "response": "As an AI, I cannot see the image.", "answer": "yes", "pid": "1"}
    asked = []

    def judge(response, record):
        asked.append(record["pid"])
        return "A"

    judge.rule = "judge"
    out = score_record(rec, judge, undecided_only=True, protocol="default")
    assert asked == ["1"] and out["correct"] is True and out["extraction_rule"] == "judge" and not out["decided"]
    decided = {**rec, "response": "The answer is (B)."}
    out = score_record(decided, judge, undecided_only=True, protocol="default")
    assert asked == ["1"] and out["correct"] is False and out["extraction_rule"] == "phrase"
    no_answer = score_record(rec, lambda response, record: "N/A", protocol="default")
    assert no_answer["correct"] is False


def test_protocols_and_fields():
    assert PROTOCOLS == ("official", "default")
    data = json.loads(FIXTURE.read_text())
    for protocol in PROTOCOLS:
        for rec in (score_record(r, protocol=protocol) for r in data.values()):
            assert rec["correct"] is rec["true_false"] and isinstance(rec["decided"], bool)
            assert rec["extracted"] is None or isinstance(rec["extracted"], str)
    with pytest.raises(ValueError, match="protocol"):
        score_record(data["1"], protocol="strict")


# Agreement reached on the development files (what the official verdict was, how often we give
# the same), rounded down a little; see docs/evaluation.md for the table and the kinds of
# disagreement that remain.
AGREEMENT_FLOOR = {
    "chatgpt": 0.990, "claude": 0.990, "gpt4": 0.965, "gpt4_2shot_solution": 0.955,
    "llama_adapter_v2": 0.985, "llava_llama_2_13b": 0.965,
}
OVERALL_FLOOR = 0.978


def agreement_table(root: Path) -> list[dict]:
    """Per development file: records, agreement, official and our accuracy, share decided by rules."""
    rows = []
    for path in sorted(root.glob("output_*.json")):
        data = json.loads(path.read_text())
        n = agree = official = ours = decided = 0
        for rec in data.values():
            stripped = unscored(rec)
            if stripped is None:
                continue  # an API error in the official run, or an extraction without a response
            scored = score_record(stripped)
            n += 1
            agree += scored["true_false"] == rec["true_false"]
            official += rec["true_false"]
            ours += scored["true_false"]
            decided += scored["decided"]
        rows.append({"file": path.stem.removeprefix("output_"), "n": n, "agree": agree, "official": official,
                     "ours": ours, "decided": decided})
    return rows


@pytest.mark.slow
def test_agreement_with_official_verdicts():
    root = shared_mathvista()
    if root is None:
        pytest.skip("shared MathVista outputs not available (../shared/data/mathvista or $VISIONR1_SHARED_DATA)")
    rows = agreement_table(root)
    print(f"\n{'file':22} {'n':>5} {'agreement':>10} {'official acc':>13} {'our acc':>8} {'decided':>8}")
    for r in rows:
        n = r["n"]
        print(f"{r['file']:22} {n:5d} {100 * r['agree'] / n:9.1f}% {100 * r['official'] / n:12.1f}% "
              f"{100 * r['ours'] / n:7.1f}% {100 * r['decided'] / n:7.1f}%")
    total, agree = sum(r["n"] for r in rows), sum(r["agree"] for r in rows)
    print(f"{'overall':22} {total:5d} {100 * agree / total:9.1f}%")
    for r in rows:
        floor = AGREEMENT_FLOOR.get(r["file"], 0.95)
        assert r["agree"] / r["n"] >= floor, f"{r['file']}: {r['agree']}/{r['n']} < {floor:.1%}"
    assert agree / total >= OVERALL_FLOOR, f"overall {agree}/{total}"
