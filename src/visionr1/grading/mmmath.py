"""MM-Math's released scorer: sympy equivalence at tolerance 1e-2 (what the Vision-R1 authors' eval ran).

Why this exists beside :func:`visionr1.grading.is_equivalent`: the Vision-R1 numbers on MM-Math (34.1 for
Qwen2.5-VL-7B, 40.2 for Vision-R1-7B) come from VLMEvalKit's MM-Math scorer (``AutoScoringJudge`` in
``vlmeval/dataset/mmmath.py``, the scorer of the MM-Math authors' release), run by the authors' evalscope
fork. Its verdicts differ from Math-Verify's on purpose: numbers match within an absolute 1e-2 (so 3.14 is π),
a percentage matches its value either way (50 and 0.5), several answers match as an unordered list, and an
answer is read from *all* ``\\boxed{}`` of a reply, else from the ``$…$`` of its last line, else the whole
reply. To compare with the paper, score as it was scored. No maintained library ships this scorer, so it is
re-implemented here from the released code's rules:

1. each side is reduced to its answer text (boxes joined by commas / last line's ``$…$`` / all of it), units and
   LaTeX spacing dropped (``cm``, ``\\text{cm}^2``, ``^\\circ``, ``\\left``, …), ``\\sin30`` read as degrees,
   ``\\infty`` as ``oo``; Chinese text is dropped unless it is all there is (是 / 否 answers);
2. ``a < x < b`` becomes the interval ``(a, b)``; both sides split at top-level commas, ``±`` expanded into two;
   the lists must have equal length and pair up one to one;
3. two items are equal when equal as text, as intervals (same brackets, endpoints equal), as numbers (the gold,
   the gold / 100 or the gold x 100 within 1e-2 x 1.01), as expressions (the right-hand side of an ``=`` each;
   numeric values within the tolerance, symbolic ones when their difference simplifies below 1e-3), or as
   equations (their ``lhs - rhs`` a nonzero integer multiple of each other).

One substitution: LaTeX is parsed with ``latex2sympy2_extended`` (the parser Math-Verify ships) rather than
sympy's ``parse_latex``, which needs ``antlr4-python3-runtime`` pinned at 4.11 (other packages pin other
4.x versions). Both give sympy expressions; exotic LaTeX may parse differently.

This module imports nothing from visionr1 at the top, so the supervised grading worker
(:mod:`visionr1.grading.supervisor`) can load it by file: sympy can spin for minutes, and only a process can be
stopped. :func:`official_equal` runs :func:`judge` there under a deadline.

Example:
    >>> judge("\\\\frac{1}{2}", "0.5"), judge("\\\\pi", "3.14"), judge("50", "0.5"), judge("2, 3", "3,2")
    (True, True, True, True)
    >>> judge("x=2", "2"), judge("70^\\\\circ", "70"), judge("4", "\\\\pi")
    (True, True, False)
"""

from __future__ import annotations

import math
import re

from visionr1.r1 import ANSWER_OPEN, FINAL_ANSWER_FORM_RE

PRECISION = 1e-2
"""MM-Math's default absolute tolerance."""

_CJK_RE = re.compile(r"[\u4e00-\u9fff]+")
_DOLLAR_RE = re.compile(r"\$(.*?)\$")
_TRIG_DEGREES_RE = re.compile(r"(\\sin|\\cos|\\tan)(\d+)")
_FONT_RE = re.compile(r"\\(?:mathrm|mathbf)\{~?([^}]*)\}")
_UNITS = ("\\text{cm}^2", "\\text{cm}", "\\,cm", "\\text{ cm}", "cm", "\\text{分米}^2", "cm^{2}", "\\ \\text{m}", "\\text{米}")
_REPLACE = (("\\left", ""), ("\\right", ""), ("厘米", ""), ("，", ","), ("$", ""), ("（", "("), ("）", ")"),
            ("\\infty", "oo"), ("\\colon ", ":"), ("＋", "+"), ("\\, ", ""), ("\\,", ""), ("^\\circ", ""), ("^{\\circ}", ""))
_STRIP = "\n,.:;^_=+`!@#%^&*~，。"
MAX_LENGTH = 300
MAX_EXPONENT = 1000


def official_prediction(response: str) -> str:
    """What the authors' eval hands the scorer: the content of ``<answer> Final Answer:… </answer>`` when the
    reply has it (the released Vision-R1 answer form), else the reply unchanged.

    >>> official_prediction("<think>…</think><answer> Final Answer:\\\\frac{3}{2} </answer>")
    '\\\\frac{3}{2}'
    >>> official_prediction("so the answer is \\\\boxed{2}")
    'so the answer is \\\\boxed{2}'
    """
    text = response if isinstance(response, str) else ""
    if ANSWER_OPEN in text:
        m = FINAL_ANSWER_FORM_RE.search(text)
        if m:
            return m.group(1).strip()
    return text


def _boxed_contents(text: str) -> list[str] | None:
    """Every ``\\boxed{…}``'s content; None when a box is never closed."""
    out = []
    for m in re.finditer(r"\\boxed\{", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth:
            return None
        out.append(text[m.end():i - 1])
    return out


def answer_text(text: str) -> str | None:
    """One side reduced to the answer text the scorer compares (rule 1); None when it cannot be read."""
    boxes = _boxed_contents(text)
    if boxes is None:
        return None
    if boxes:
        answer = ",".join(boxes) + ","
    else:
        found = _DOLLAR_RE.findall(text.strip().split("\n")[-1])
        answer = ",".join(found) + "," if found else text
    for unit in _UNITS:
        answer = answer.replace(unit, "")
    answer = re.sub(r"(.+)m$", r"\1", answer.strip())
    if "\\in " in answer:
        answer = answer.split("\\in ")[1]
    for old, new in _REPLACE:
        answer = answer.replace(old, new)
    answer = _TRIG_DEGREES_RE.sub(r"\1((\2/180)\\pi)", answer)
    answer = answer.strip(_STRIP)
    return _FONT_RE.sub(r"\1", answer)


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if start < len(text):
        parts.append(text[start:].strip())
    return parts


def _expand_pm(items: list[str]) -> list[str]:
    out = []
    for item in items:
        out += [item.replace("\\pm", "+"), item.replace("\\pm", "-")] if "\\pm" in item else [item]
    return out


def _latex(text: str):
    from latex2sympy2_extended import latex2sympy
    from sympy import sympify

    return sympify(latex2sympy(text))


def _numbers_equal(gold: str, pred: str, precision: float) -> bool:
    reference, value = float(gold), float(pred)
    return any(abs(g - value) <= precision * 1.01 for g in (reference / 100, reference, reference * 100))


def _computable(expr) -> bool:
    from sympy import Pow

    if isinstance(expr, Pow):
        base, exp = expr.as_base_exp()
        return bool(base.is_number and exp.is_number and abs(exp.evalf()) <= MAX_EXPONENT)
    return True


def _expressions_equal(gold: str, pred: str, precision: float) -> bool:
    import sympy

    gold, pred = (s.split("=")[1].strip() if "=" in s else s.strip() for s in (gold, pred))
    too_long = len(gold) > MAX_LENGTH or len(pred) > MAX_LENGTH
    a, b = _latex(gold), _latex(pred)
    if a == b:
        return True
    a, b = a.subs(sympy.pi, math.pi), b.subs(sympy.pi, math.pi)
    a_sym, b_sym = a.has(sympy.Symbol), b.has(sympy.Symbol)
    if a_sym != b_sym or too_long:
        return False
    if not a_sym:
        if not (_computable(a) and _computable(b)):
            return False
        return bool(abs(a.evalf() - b.evalf()) <= precision * 1.01)
    return bool(abs(sympy.simplify(a - b).evalf()) < 1e-3)


def _equations_equal(gold: str, pred: str) -> bool:
    import sympy

    def side_difference(eq: str):
        lhs, rhs = eq.split("=")
        return sympy.simplify(_latex(lhs) - _latex(rhs))

    a, b = side_difference(gold), side_difference(pred)
    return any(r.is_Integer and r != 0 for r in (sympy.simplify(a / b), sympy.simplify(b / a)))


def _intervals_equal(gold: str, pred: str, precision: float) -> bool:
    if gold == pred:
        return True
    left, right = gold.split("\\cup"), pred.split("\\cup")
    if len(left) != len(right):
        return False
    for a, b in zip(left, right):
        if a[0] != b[0] or a[-1] != b[-1]:
            return False
        ends_a, ends_b = a.strip("[]()").split(","), b.strip("[]()").split(",")
        if not all(_expressions_equal(x, y, precision) for x, y in zip(ends_a, ends_b)):
            return False
    return True


def _is_interval(s: str) -> bool:
    return s.startswith(("(", "[")) and s.endswith((")", "]"))


def items_equal(gold: str, pred: str, precision: float = PRECISION) -> bool:
    """One gold item against one predicted item (rule 3); never raises."""
    if gold == pred and gold:
        return True
    if _is_interval(gold) and _is_interval(pred):
        try:
            if _intervals_equal(gold, pred, precision):
                return True
        except Exception:  # noqa: BLE001 - the released scorer stops at an interval it cannot read
            return False
    checks = (lambda: _numbers_equal(gold, pred, precision),
              lambda: _expressions_equal(gold, pred, precision) and not ("=" in gold and "=" in pred),
              lambda: _equations_equal(gold, pred))
    for check in checks:
        try:
            if check():
                return True
        except Exception:  # noqa: BLE001 - a side that does not parse is simply not equal this way
            continue
    return False


def judge(gold: str, prediction: str, precision: float = PRECISION) -> bool:
    """MM-Math's verdict on ``prediction`` against ``gold`` (the reference answer); never raises (may be slow:
    call :func:`official_equal` for a deadline)."""
    try:
        a, b = answer_text(str(gold)), answer_text(str(prediction))
    except Exception:  # noqa: BLE001
        return False
    if a is None or b is None:
        return False
    if a == b:
        return True
    a = a if _CJK_RE.fullmatch(a) else _CJK_RE.sub("", a)
    b = b if _CJK_RE.fullmatch(b) else _CJK_RE.sub("", b)
    a, b = (f"({s.split('<')[0]}, {s.split('<')[-1]})" if s.count("<") == 2 else s for s in (a, b))
    golds, preds = _expand_pm(_split_top_level(a)), _expand_pm(_split_top_level(b))
    if len(golds) != len(preds):
        return False
    for g in golds:
        match = next((p for p in preds if items_equal(g, p, precision)), None)
        if match is None:
            return False
        preds.remove(match)
    return True


def official_equal(gold: str, prediction: str, *, timeout: float = 10.0, retry_timeout: float | None = None) -> bool | None:
    """:func:`judge` in the supervised grading worker: ``timeout`` CPU seconds, then up to ``retry_timeout``
    (:func:`visionr1.grading.supervisor.retry_budget` by default); ``None`` (undecided, not "not equal")
    when sympy is still running past both.

    >>> official_equal("\\\\frac{3}{2}", "1.5")
    True
    """
    from visionr1.grading.supervisor import GradingTimeout, run_in_worker

    try:
        reply = run_in_worker("mmmath", {"gold": str(gold), "pred": str(prediction)}, timeout=timeout,
                              retry_timeout=retry_timeout)
    except GradingTimeout:
        return None
    return bool(reply.get("equal"))
