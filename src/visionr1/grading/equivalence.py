"""Answer equivalence: fast exact paths first, Math-Verify (in a supervised worker) last.

Order, cheapest first; the first path that can decide, decides:

1. normalised strings equal (case, spaces, ``$``, ``\\text{}``, trailing period, degree signs);
2. choices: a letter or an option's text on either side is resolved to an option index (the
   text also when it differs only in spacing or LaTeX spelling: ``2\\pi`` is the option
   ``$2 \\pi$``); a prediction that names no option is compared with the gold option's *value*
   (``0.5`` is the option ``\\frac{1}{2}``);
3. orderings: a gold ``5-2-3-4-1`` (numbers joined by hyphens, three or more) is a sequence, not
   arithmetic; it equals only the same sequence (``5, 2, 3, 4, 1`` too);
4. yes/no (and true/false);
5. numbers (with ``precision`` decimals when given; ``1,000``, ``50%``, ``3/4``, ``12 cm`` parse).
   A percentage on one side only equals both its number and its value: ``50\\%`` equals ``50``
   (benchmarks write percentage answers as bare numbers: "What percentage …?" → ``50``) and
   ``0.5`` (it *is* 0.5; a probability or share asked as a fraction and answered in percent is
   right). Math-Verify treats percentages the same way, so the fast path and the slow one agree;
   ``0.5%`` does not equal ``50``;
6. lists of numbers (``[2007, 2008]``);
7. Math-Verify for LaTeX, expressions, sets and intervals, under a hard deadline in a worker
   process (counted in the worker's CPU seconds, so load does not change verdicts; a comparison
   past its deadline is undecided, ``None``, never ``False``); inputs that are too long or look explosive (huge exponents, deep nesting, factorials
   of large numbers) are called unparseable without being parsed.

Nothing here calls ``eval``; model text only ever reaches regexes, ``float()`` and Math-Verify's
parser, and the latter only inside the worker process.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from visionr1.grading.extract import clean_answer
from visionr1.grading.supervisor import GradingTimeout, math_compare
from visionr1.r1 import letter_index

# Math-Verify is only asked about short answers: a final answer longer than this is a sentence.
MAX_MATH_CHARS = 300
MAX_NESTING = 12

_YES = {"yes", "true", "correct", "y"}
_NO = {"no", "false", "incorrect", "n"}

_WS_RE = re.compile(r"\s+")
_DEGREE_RE = re.compile(r"\^\s*\{?\\circ\}?|°|\\degree|\\circ")
_LATEX_SPACE_RE = re.compile(r"\\[,;:!! ]|\\quad|\\qquad|~")
_LEFT_RIGHT_RE = re.compile(r"\\left|\\right")
_ONE_CHAR_GROUP_RE = re.compile(r"([\^_])\{\s*(\w)\s*\}")
_NUM_CORE = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER_FULL_RE = re.compile(rf"^({_NUM_CORE})$")
_FRACTION_RE = re.compile(rf"^([-+]?)\s*(?:\\d?frac\{{\s*({_NUM_CORE})\s*\}}\{{\s*({_NUM_CORE})\s*\}}|({_NUM_CORE})\s*/\s*({_NUM_CORE}))$")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_UNIT_SUFFIX_RE = re.compile(r"^(.*?\d\.?)\s*(?:[a-zA-Z]{1,8}(?:\^?[23])?(?:\s*/\s*[a-zA-Z]{1,5}(?:\^?[23])?)?|degrees?)$")
_LETTER_ANSWER_RE = re.compile(r"^\(?([A-Za-z])\)?[.:),]?(?:\s+.*)?$", re.DOTALL)
_OPTION_PREFIX_RE = re.compile(r"^(?:option|choice)\s+", re.IGNORECASE)
_EXPLOSIVE_RE = re.compile(r"\^\s*\{?\s*\(?\s*[-+]?\d{3,}|\^\s*\{[^{}]*\^|\d{4,}\s*!|\\uparrow|\*\*\s*\d{3,}|[eE][-+]?\d{4,}")


def normalize_text(s: str) -> str:
    """Canonical string form for exact comparison (lower case, no spacing, no wrappers).

    A one-character exponent or subscript loses its braces (``cm^{2}`` is ``cm^2``).

    >>> normalize_text(r"$\\text{ Yes }$."), normalize_text(r"20 \\mathrm{~cm}^{2}")
    ('yes', '20 cm^2')
    """
    s = clean_answer(s)
    s = _LEFT_RIGHT_RE.sub("", s)
    s = _ONE_CHAR_GROUP_RE.sub(r"\1\2", s)
    s = _LATEX_SPACE_RE.sub(" ", s)
    s = _DEGREE_RE.sub("", s)
    s = s.replace("\\%", "%").replace("\\$", "$").replace("−", "-")
    s = _WS_RE.sub(" ", s).strip().rstrip(".").strip().lower()
    return s


def parse_number(s: str) -> float | None:
    """A plain number from an answer string (``"1,000"``, ``"-2.5"``, ``"3/4"``, ``"50%"``, ``"12 cm"``).

    Percent is dropped (``"50%"`` → 50): benchmarks state percentages as bare numbers. Returns
    ``None`` for anything else, including ``inf`` and ``nan``.

    >>> parse_number("\\\\frac{3}{4}"), parse_number("1,234.5 m"), parse_number("x+1")
    (0.75, 1234.5, None)
    """
    t = normalize_text(s) if not isinstance(s, float) else str(s)
    if not t or len(t) > 64:
        return None
    t = t.lstrip("$").replace(" ", "") if re.match(r"^\$?\s*[-+\d.]", t) else t
    t = _THOUSANDS_RE.sub("", t)
    t = t.rstrip("%").strip()
    m = _NUMBER_FULL_RE.match(t)
    if not m:
        f = _FRACTION_RE.match(t)
        if f:
            sign, a, b = f.group(1), f.group(2) or f.group(4), f.group(3) or f.group(5)
            try:
                den = float(b)
                if den == 0:
                    return None
                val = float(a) / den
                return -val if sign == "-" else val
            except (ValueError, OverflowError):
                return None
        u = _UNIT_SUFFIX_RE.match(t)
        if not u:
            return None
        m = _NUMBER_FULL_RE.match(u.group(1).strip())
        if not m:
            return None
    try:
        val = float(m.group(1))
    except (ValueError, OverflowError):
        return None
    return val if math.isfinite(val) else None


def numbers_equal(a: float, b: float, precision: int | None = None) -> bool:
    """Equal at ``precision`` decimals when given, else to a relative 1e-6 (Math-Verify's default rounding)."""
    if precision is not None:
        try:
            return round(a, int(precision)) == round(b, int(precision))
        except (TypeError, ValueError, OverflowError):
            return False
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


_LATEX_SPELLING = (
    (re.compile(r"\\[dt]frac"), r"\\frac"),
    (re.compile(r"√"), r"\\sqrt"),
    (re.compile(r"π"), r"\\pi"),
    (re.compile(r"\\(frac|sqrt)\s*(\d)"), r"\\\1{\2}"),  # \sqrt3 -> \sqrt{3}, \frac12 -> \frac{1}2
    (re.compile(r"(\\frac\{[^{}]*\})\s*(\d)"), r"\1{\2}"),  # \frac{1}2 -> \frac{1}{2}
    (re.compile(r"\s+"), ""),
)


def compact_text(s: str) -> str:
    """:func:`normalize_text` without any spacing and with one spelling of the common LaTeX forms.

    Options are often typeset (``$2 \\pi$``, ``\\dfrac{1}{2}``, ``5\\sqrt{3}``) while a reply
    writes ``2\\pi``, ``\\frac12``, ``5√3``: the same text, spelled differently. Spaces carry no
    meaning in math, and two options never differ by spacing alone.

    >>> compact_text("$2 \\\\pi$") == compact_text("2π"), compact_text("\\\\dfrac12") == compact_text("\\\\frac{1}{2}")
    (True, True)
    """
    t = normalize_text(s)
    for pattern, repl in _LATEX_SPELLING:
        t = pattern.sub(repl, t)
    return t


def choice_index(s: str, choices: list[str] | None) -> int | None:
    """The option ``s`` names, by letter (``B``, ``(B)``, ``B.``, ``(B) text``, ``option B``) or by its
    text: exact, or the same after :func:`compact_text` (one option only)."""
    if not choices or not isinstance(s, str):
        return None
    t = clean_answer(s)
    t = _OPTION_PREFIX_RE.sub("", t)
    norm_choices = [normalize_text(str(c)) for c in choices]
    nt = normalize_text(t)
    if nt in norm_choices:
        return norm_choices.index(nt)
    if nt and len(nt) > 1:  # a single character is a letter, read below
        ct = compact_text(t)
        same = [i for i, c in enumerate(choices) if compact_text(str(c)) == ct]
        if len(same) == 1:
            return same[0]
    m = _LETTER_ANSWER_RE.match(t)
    if m:
        rest = t[m.end(1) :].lstrip(").:,").strip()
        idx = letter_index(m.group(1), len(choices))
        bare = not rest and (m.group(1).isupper() or len(t) <= 3)
        # "B 8/11", "A (Yes)", "B, no": the letter with its own option's text
        restated = bool(rest) and idx is not None and normalize_text(rest.strip("()[] ")) == norm_choices[idx]
        if idx is not None and (bare or t.startswith("(") or not rest or restated):
            return idx
    return None


def _percent_readings(pnum: float, pred: str, gnum: float, gold: str) -> list[tuple[float, float]]:
    """(prediction, gold) values to compare: as written, plus the percentage's value (÷100) when
    exactly one side is a percentage (see the module docstring: ``50%`` equals ``50`` and ``0.5``)."""
    readings = [(pnum, gnum)]
    p_pct, g_pct = pred.endswith("%"), gold.endswith("%")
    if p_pct and not g_pct:
        readings.append((pnum / 100, gnum))
    elif g_pct and not p_pct:
        readings.append((pnum, gnum / 100))
    return readings


_ORDERING_RE = re.compile(r"^\d+(?:-\d+){2,}$")
_SEQUENCE_RE = re.compile(r"^[(\[]?\s*\d+(?:\s*(?:-|–|,|→|->|>|\s)\s*\d+)+\s*[)\]]?$")


def _ordering(t: str) -> list[str] | None:
    """The items of an ordering written as numbers joined by hyphens (``5-2-3-4-1``, three or more,
    no spaces), else ``None``. Spaced or two-item forms (``10 - 4``, ``3-4``) stay arithmetic."""
    return t.split("-") if _ORDERING_RE.match(t) else None


def _sequence(t: str) -> list[str] | None:
    """The items of a sequence of whole numbers however it is joined (``5-2-3``, ``5, 2, 3``, ``5→2→3``)."""
    return re.findall(r"\d+", t) if _SEQUENCE_RE.match(t) else None


def _yes_no(s: str) -> bool | None:
    t = normalize_text(s)
    first = re.split(r"[\s,.;:!]", t, maxsplit=1)[0] if t else ""
    if first in _YES:
        return True
    if first in _NO:
        return False
    return None


def _number_list(s: str) -> list[float] | None:
    t = clean_answer(s).strip()
    if not (t.startswith("[") and t.endswith("]")) and not (t.startswith("(") and t.endswith(")")):
        return None
    items = [x for x in t[1:-1].split(",")]
    nums = [parse_number(x) for x in items]
    if not items or any(n is None for n in nums):
        return None
    return nums  # type: ignore[return-value]


def looks_explosive(s: str) -> bool:
    """True for answers Math-Verify should not be handed: too long, too nested, huge powers/factorials."""
    if len(s) > MAX_MATH_CHARS:
        return True
    depth = best = 0
    for ch in s:
        if ch in "{([":
            depth += 1
            best = max(best, depth)
        elif ch in "})]":
            depth -= 1
    return best > MAX_NESTING or bool(_EXPLOSIVE_RE.search(s))


def _worth_math_verify(s: str) -> bool:
    return bool(re.search(r"[\d\\^_=+*/{}()\[\]<>-]", s)) or len(s) <= 3


@lru_cache(maxsize=65536)
def _math_verdict(pred: str, gold: str, timeout: float) -> str:
    """Math-Verify's verdict, cached. An undecided comparison raises :class:`GradingTimeout`, which
    ``lru_cache`` does not store: a timeout is never remembered as a verdict (the next call tries again)."""
    if looks_explosive(pred) or looks_explosive(gold):
        return "unparseable"
    return math_compare(pred, gold, timeout=timeout)


def is_equivalent(
    pred: str | None,
    gold: str,
    *,
    choices: list[str] | None = None,
    answer_type: str | None = None,
    precision: int | None = None,
    timeout: float = 2.0,
) -> bool | None:
    """Whether the predicted answer means the same as the gold one: ``True``, ``False``, or ``None``
    when it could not be decided. Never raises.

    ``choices`` lets a letter stand for its option (and the reverse); ``answer_type`` ("integer",
    "float", "list", "text", as in MathVista) and ``precision`` (decimals) tighten numeric checks.
    Math-Verify is reached only when no fast path decides, with a budget of ``timeout`` CPU seconds
    of its worker (a busy machine does not eat into it), then a longer one
    (:func:`visionr1.grading.supervisor.retry_budget`). An unparseable comparison is ``False``; one
    still running past both budgets is ``None``, undecided: not wrong, and not cached (``None`` is
    falsy, so ``if is_equivalent(...)`` credits only what was shown equal).

    >>> is_equivalent("B", "8/11", choices=["3/11", "8/11"])
    True
    >>> is_equivalent("0.50", "\\\\frac{1}{2}"), is_equivalent("1.26", "1.3", precision=1)
    (True, True)
    >>> is_equivalent("\\\\{2, 1\\\\}", "\\\\{1, 2\\\\}")
    True
    """
    try:
        return _is_equivalent(pred, gold, choices, answer_type, precision, timeout)
    except GradingTimeout:
        return None
    except Exception:  # noqa: BLE001 - a grader that raises would stop a training run
        return False


def _is_equivalent(pred, gold, choices, answer_type, precision, timeout) -> bool:
    if pred is None or gold is None:
        return False
    pred, gold = str(pred), str(gold)
    if len(pred) > 100_000:
        pred = pred[-100_000:]
    np_, ng = normalize_text(pred), normalize_text(gold)
    if not np_:
        return False
    if np_ == ng:
        return True
    if choices:
        choices = [str(c) for c in choices]
        pi, gi = choice_index(pred, choices), choice_index(gold, choices)
        if pi is not None and gi is not None:
            return pi == gi
        if pi is not None:
            pred = choices[pi]
            np_ = normalize_text(pred)
            if np_ == ng:
                return True
        elif gi is not None:  # the prediction names no option: compare it with the gold option's value
            gold = choices[gi]
            ng = normalize_text(gold)
            if np_ == ng:
                return True
    gseq = _ordering(ng)
    if gseq is not None or _ordering(np_) is not None:  # a sequence is not arithmetic: 5-2-3 is not 0
        return gseq is not None and _sequence(np_) == gseq
    yn_gold = _yes_no(gold) if ng in _YES | _NO else None
    if yn_gold is not None:
        return _yes_no(pred) == yn_gold
    gnum = parse_number(gold)
    if gnum is not None:
        pnum = parse_number(pred)
        if pnum is not None:
            readings = _percent_readings(pnum, np_, gnum, ng)
            if answer_type == "integer" and precision is None:
                return any(p == g for p, g in readings)
            return any(numbers_equal(p, g, precision) for p, g in readings)
    glist = _number_list(gold)
    if glist is not None:
        plist = _number_list(pred)
        if plist is not None:
            return len(plist) == len(glist) and all(numbers_equal(a, b, precision) for a, b in zip(plist, glist))
    if answer_type in ("integer", "float") and gnum is not None:
        # a numeric answer that did not parse as a number: allow expressions such as 2\sqrt{2}
        if not _worth_math_verify(pred):
            return False
    if not (_worth_math_verify(pred) and _worth_math_verify(gold)):
        return False
    verdict = _math_verdict(pred.strip(), gold.strip(), float(timeout))
    return verdict == "equal"
