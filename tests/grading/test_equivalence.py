"""Equivalence: a table per path, (gold, prediction, expected), plus timeouts in threads and processes."""

import multiprocessing
import threading
import time

import pytest

from visionr1.grading import GradingTimeout, is_equivalent, math_compare
from visionr1.grading.equivalence import _math_verdict, looks_explosive, normalize_text, parse_number


@pytest.fixture
def no_math_verify(monkeypatch):
    """The Math-Verify calls made while the test runs (none is sent to the worker)."""
    import visionr1.grading.equivalence as eq

    calls = []
    monkeypatch.setattr(eq, "math_compare", lambda *a, **k: calls.append(a) or "different")
    _math_verdict.cache_clear()
    return calls


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ("Yes", "yes", True),
        ("Yes", " Yes. ", True),
        ("frontal lobe", "Frontal  Lobe", True),
        ("145°", "145", True),
        ("145°", "145^\\circ", True),
        ("\\text{blue}", "blue", True),
        ("blue", "red", False),
        ("white one", "white two", False),
        ("$20 \\mathrm{~cm}^{2}$", "20 \\ \\mathrm{cm}^2", True),  # a one-character exponent with or without braces
        ("$20 \\mathrm{~cm}^{2}$", "21 \\ \\mathrm{cm}^2", False),
    ],
)
def test_normalised_strings(gold, pred, expected):
    assert is_equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    "gold, pred, precision, expected",
    [
        ("1000", "1,000", None, True),
        ("1000", "1000.0", None, True),
        ("-2.5", "−2.5", None, True),
        ("0.75", "3/4", None, True),
        ("0.75", "\\frac{3}{4}", None, True),
        ("50", "50%", None, True),
        ("12", "12 cm", None, True),
        ("12", "$12", None, True),
        ("1.2", "1.24", 1, True),
        ("1.2", "1.26", 1, False),
        ("6.36", "6.364", 2, True),
        ("5", "6", None, False),
        ("0.1", "0.1000001", None, True),
        ("3", "3.5", None, False),
    ],
)
def test_numbers(gold, pred, precision, expected):
    assert is_equivalent(pred, gold, precision=precision) is expected


def test_integer_answer_type_is_exact():
    assert is_equivalent("2.7", "2", answer_type="integer") is False
    assert is_equivalent("2.0", "2", answer_type="integer") is True


CH = ["3/11", "8/11", "6/11", "3/5"]


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ("8/11", "B", True),
        ("8/11", "(B)", True),
        ("8/11", "B.", True),
        ("8/11", "(B) 8/11", True),
        ("8/11", "option B", True),
        ("8/11", "8/11", True),
        ("8/11", "A", False),
        ("8/11", "(A) 3/11", False),
        ("B", "8/11", True),  # gold given as a letter
        ("B", "b", True),
        ("8/11", "E", False),  # letter outside the options
    ],
)
def test_choices(gold, pred, expected):
    assert is_equivalent(pred, gold, choices=CH) is expected


PI_OPTS = ["$\\pi$", "$2 \\pi$", "$4 \\pi$", "$\\dfrac{1}{2}$"]


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        # an option typeset with spaces or another LaTeX spelling is the same option (issue 29)
        ("B", "2\\pi", True),
        ("B", "2π", True),
        ("A", "2\\pi", False),
        ("C", "$4\\pi$", True),
        ("D", "\\frac12", True),
        # a prediction that names no option is compared with the gold option's value
        ("D", "0.5", True),
        ("B", "0.5", False),
    ],
)
def test_choices_typeset_differently(gold, pred, expected):
    assert is_equivalent(pred, gold, choices=PI_OPTS) is expected


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        # an ordering is a sequence, not arithmetic (5-2-3-4-1 would be -5 for both)
        ("5-2-3-4-1", "5-2-3-4-1", True),
        ("5-2-3-4-1", "5-2-3-1-4", False),
        ("5-2-3-4-1", "5, 2, 3, 4, 1", True),
        ("5-2-3-4-1", "5 → 2 → 3 → 4 → 1", True),
        ("5-2-3-4-1", "-5", False),
        ("-5", "5-2-3-4-1", False),
        ("6", "10 - 4", True),  # spaced: arithmetic
    ],
)
def test_orderings(gold, pred, expected):
    assert is_equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ("Yes", "yes, it is", True),
        ("No", "No.", True),
        ("No", "yes", False),
        ("yes", "True", True),
        ("no", "maybe", False),
    ],
)
def test_yes_no(gold, pred, expected):
    assert is_equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ("[2007, 2008]", "[2007,2008]", True),
        ("[2007, 2008]", "[2008, 2007]", False),
        ("[1, 2, 3]", "[1.0, 2, 3]", True),
    ],
)
def test_lists(gold, pred, expected):
    assert is_equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ("\\frac{\\sqrt{3}}{2}", "\\sqrt{3}/2", True),
        ("2\\sqrt{2}", "\\sqrt{8}", True),
        ("x^2+2x+1", "(x+1)^2", True),
        ("\\{1, 2\\}", "\\{2, 1\\}", True),
        ("(1, 2]", "(1,2]", True),
        ("[0, 1)", "[0, 1]", False),
        ("\\pi/2", "1.5707963", True),
        ("3\\sqrt{2}", "2\\sqrt{3}", False),
    ],
)
def test_math_verify(gold, pred, expected):
    assert is_equivalent(pred, gold) is expected


@pytest.mark.parametrize("pred", [None, "", "   "])
def test_empty_prediction_is_wrong(pred):
    assert is_equivalent(pred, "1") is False


def test_normalize_and_parse_number():
    assert normalize_text("$\\text{ Yes }$.") == "yes"
    assert parse_number("1,234.5 m") == 1234.5
    assert parse_number("1e999999") is None  # inf is not a number we grade with
    assert parse_number("9" * 5000) is None  # too long to be an answer


@pytest.mark.parametrize(
    "pred",
    [
        "10^{10^{10^{10}}}",
        "9^{9^{9^{9^{9}}}}",
        "(10^{100000})!",
        "x^{9999999999}",
        "{" * 500 + "1" + "}" * 500,
        "\\frac{" * 200 + "1" + "}{2}" * 200,
        "1" + "+1" * 5000,
    ],
)
def test_pathological_inputs_are_refused_before_math_verify(pred, no_math_verify):
    assert is_equivalent(pred, "2") is False
    assert no_math_verify == []  # the guards refused it: no sympy, no budget spent


def test_megabyte_string_is_fast(no_math_verify):
    text = "\\frac{1}{2} " * 100_000
    cpu = time.process_time()  # CPU, not the clock: the same on a busy machine
    assert is_equivalent(text, "0.5") is False
    assert time.process_time() - cpu < 2.0 and no_math_verify == []


def test_explosive_guard():
    assert looks_explosive("2^{2^{100}}") and looks_explosive("x^{12345}") and looks_explosive("1000!")
    assert not looks_explosive("x^2 + 1") and not looks_explosive("\\frac{1}{2}")


def test_worker_timeout_kills_and_recovers():
    # a comparison that sympy cannot finish in 0.05 s of CPU, nor in 0.2 s; the worker is replaced and keeps serving
    with pytest.raises(GradingTimeout):
        math_compare("\\sum_{n=1}^{5000} n^{-n}", "1", timeout=0.05, retry_timeout=0.2)
    assert math_compare("\\frac{1}{2}", "0.5", timeout=2.0) == "equal"


def test_timeout_is_not_an_exception():
    assert issubclass(GradingTimeout, BaseException) and not issubclass(GradingTimeout, Exception)


def test_works_in_threads():
    out = []

    def work():
        out.append(is_equivalent("\\sqrt{8}", "2\\sqrt{2}", timeout=5.0))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [True] * 4


def _in_pool(pair):
    from visionr1.grading import is_equivalent as eq

    return eq(pair[0], pair[1], timeout=10.0)


def test_works_in_daemonic_worker_processes():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:  # Pool workers are daemonic: multiprocessing.Process would be refused there
        assert pool.map(_in_pool, [("\\sqrt{8}", "2\\sqrt{2}"), ("x+1", "1+x"), ("3", "4")]) == [True, True, False]


@pytest.mark.parametrize("pred", ["A (Yes)", "A, yes", "(A) Yes", "A. Yes"])
def test_a_letter_with_its_own_option_text(pred):
    assert is_equivalent(pred, "Yes", choices=["Yes", "No"])
    assert not is_equivalent(pred.replace("A", "B"), "Yes", choices=["Yes", "No"])
