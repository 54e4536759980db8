"""MATH-V (MathVision)'s released scorer: its answer extraction and its string/sympy match, rule for rule.

Why this exists beside :func:`visionr1.grading.is_equivalent`: the MATH-V leaderboard numbers come from
``evaluation/evaluate.py`` and ``evaluation/utils.py`` of mathllm/MATH-V, and its verdicts differ from a careful
grader's on purpose or by accident (an option's text must match the reply character for character after its
clean-up, ``0.5`` is rewritten to ``\\frac{1}{2}`` but ``0.50`` is not, numbers are compared at two decimals). To
put a number beside the published ones, score as they were scored: ``visionr1 score mathvision --protocol
official``. The default protocol (:mod:`visionr1.eval.benchmarks.mathvision`) is the one to trust.

The released pipeline, reproduced here without its ``eval``:

1. :func:`official_answer` (``evaluate.py``): a reply ending `` B.`` / `` (B).`` or starting ``B\\n`` is ``B``;
   ``… is 12.`` is ``12``; without ``\\boxed``, the text after the last "the (final|correct) answer is / should
   be", cut at the line or sentence end; with several boxes, the last one; then ``find_math_answer`` (lower
   case, the greedy ``oxed{(.*)}``, the value after ``=``/``\\approx``, units and LaTeX spacing dropped,
   ``_strip_string``), ``(a)`` → ``a``, trailing ``.`` and leading ``:`` dropped;
2. :func:`official_equal` (``utils.is_equal``): lower case; empty → wrong; equal strings → right; tuples
   ``(a,b)`` / lists ``[a,b]`` with their entries evaluated to two decimals; else both sides through
   ``latex2sympy`` and Python's ``eval`` of the printed expression, equal when equal after ``round(…, 2)``;
3. the verdict (``evaluate.py``): right when the gold letter or, for a multiple-choice item, the gold option's
   text is equal to the extracted answer.

Two substitutions, both where the released code cannot be run as is:

* ``latex2sympy2`` (which pins ``antlr4-python3-runtime`` 4.7) is replaced by ``latex2sympy2_extended`` (the
  parser Math-Verify ships);
* ``eval`` of the printed sympy expression is replaced by :func:`_evaluate`, an evaluator of the same Python
  arithmetic (numbers, ``+ - * / ** %``, the ``math`` module's functions and constants, which the released code
  had star-imported) that refuses anything else and very large powers, so model text never reaches ``eval``.

This module imports nothing from visionr1 at the top, so the supervised grading worker can load it by file:
sympy can spin, and only a process can be stopped. :func:`official_correct` runs the match there under a
deadline.

Example:
    >>> official_answer("So the answer is \\\\boxed{\\\\frac{1}{2}}.")
    '\\\\frac{1}{2}'
    >>> official_answer("The correct option is B.")
    'b'
    >>> match("\\\\frac{1}{2}", "0.5"), match("$2\\\\pi$", "2\\\\pi"), match("C", "c")
    (True, True, True)
"""

from __future__ import annotations

import ast
import math
import operator
import re

FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")
"""The answer phrases the released extraction cuts at, in its order (each also tried capitalised)."""

_BOXED_GREEDY_RE = re.compile(r"oxed{(.*)}", flags=re.S)
OPTION_LETTERS = "ABCDE"
"""The option letters the released extraction looks for. Its own, not :data:`visionr1.r1.LETTERS`: this module
imports nothing from visionr1 (module docstring), and it is the released rule, kept as released."""


# ----------------------------------------------------------------------------- extraction (evaluate.py)


def _is_number(s: str) -> bool:
    """``utils.is_number``: whatever Python's ``float()`` accepts (``" 12 "``, ``"1e3"``, ``"nan"``, ``"1_0"``)."""
    try:
        float(s)
        return True
    except ValueError:
        return False


def official_answer(response: str) -> str:
    """The released extraction of the final answer from a reply (step 1 of the module docstring)."""
    answer = (response if isinstance(response, str) else "").strip()
    for c in OPTION_LETTERS:
        if (answer.endswith(f" {c}.") or answer.endswith(f" ({c}).") or answer.startswith(f"{c}\n")
                or answer.startswith(f"({c})\n") or answer.startswith(f"({c}) {c}\n")):
            answer = c
    tail = answer.split("is ")[-1].rstrip(".")
    if _is_number(tail):
        answer = tail
    if "oxed{" not in answer:
        for flag in FLAGS:
            for phrase in (flag, flag.replace("the", "The")):
                found = phrase in answer
                answer = answer.split(phrase)[-1].strip()
                if found:
                    answer = answer.split("\n")[0].split(". ")[0]
    elif answer.count("oxed{") > 1:
        answer = "\\boxed{" + answer.split("oxed{")[-1]
    answer = find_math_answer(answer)
    for c in "abcde":
        answer = answer.replace(f"({c})", c).replace(f"{{{c}}}", c)
    return answer.rstrip(".").lstrip(":").strip()


def find_math_answer(s: str) -> str:
    """``utils.find_math_answer``: the content of the (greedy) last box, its value after ``=``, cleaned."""
    s = s.lower()
    if "{}" in s:
        s = s.replace("{}", "")
    found = _BOXED_GREEDY_RE.findall(s)
    ans = found[-1] if found else s
    if ans.find("}") != -1 and (ans.find("{") == -1 or ans.find("}") < ans.find("{")):
        ans = ans.split("}")[0]
    ans = ans.split("=")[-1]
    ans = ans.split("\\approx")[-1]
    for old, new in ((" ", ""), ("\\,", ""), ("∞", "\\infty"), ("+\\infty", "\\infty"), ("\\\\", "\\"), ("\n", ""),
                     ("\\text", ""), ("\\mbox", ""), ("bmatrix", "pmatrix"), ("\\left", ""), ("\\right", ""),
                     ("^{\\circ}", ""), ("^\\circ", ""), ("{m}^3", ""), ("m^3", ""), ("{units}", ""), ("units", ""),
                     ("{km}", ""), ("km", "")):
        ans = ans.replace(old, new)
    return strip_string(ans)


def _fix_fracs(string: str) -> str:
    parts = string.split("\\frac")
    out = parts[0]
    for part in parts[1:]:
        out += "\\frac"
        if part and part[0] == "{":
            out += part
            continue
        if len(part) < 2:
            return string
        a, b = part[0], part[1]
        if b != "{":
            out += "{" + a + "}{" + b + "}" + part[2:]
        else:
            out += "{" + a + "}" + b + part[2:]
    return out


def _fix_a_slash_b(string: str) -> str:
    if len(string.split("/")) != 2:
        return string
    a, b = string.split("/")
    try:
        a_int, b_int = int(a), int(b)
    except ValueError:
        return string
    if string != f"{a_int}/{b_int}":
        return string
    return "\\frac{" + str(a_int) + "}{" + str(b_int) + "}"


def _fix_sqrt(string: str) -> str:
    parts = string.split("\\sqrt")
    out = parts[0]
    for part in parts[1:]:
        out += ("\\sqrt{" + part[0] + "}" + part[1:]) if part and part[0] != "{" else "\\sqrt" + part
    return out


def strip_string(string: str) -> str:
    """``utils._strip_string`` (units after ``\\text{ ``, ``%``, a lone ``0.5`` → ``\\frac{1}{2}``, ``a/b`` →
    ``\\frac{a}{b}``, ``\\sqrt2`` → ``\\sqrt{2}``; spaces dropped)."""
    for old, new in (("\n", ""), ("\\!", ""), ("\\\\", "\\"), ("tfrac", "frac"), ("dfrac", "frac"), ("\\left", ""),
                     ("\\right", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("\\$", ""), ("$", "")):
        string = string.replace(old, new)
    string = string.split("\\text{ ")[0]
    string = string.replace("\\%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    if not string:
        return string
    if string[0] == ".":
        string = "0" + string
    if len(string.split("=")) == 2:
        string = string.split("=")[-1]
    if len(string.split("\\approx")) == 2:
        string = string.split("\\approx")[-1]
    if "sqrt" in string:
        string = _fix_sqrt(string)
    string = string.replace(" ", "")
    if "sqrt" in string:
        string = _fix_fracs(string)
    if string == "0.5":
        string = "\\frac{1}{2}"
    return _fix_a_slash_b(string)


# ----------------------------------------------------------------------------- the match (utils.is_equal)


class _Refused(Exception):
    """The printed expression holds something the released ``eval`` would not have computed to a number."""


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_MATH_NAMES = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
MAX_POWER = 10_000
"""The largest exponent the evaluator computes; beyond it the side is unreadable (the released code would spin)."""


def _evaluate(text: str):
    """Python's value of ``text`` (sympy's printout of a parsed answer) as the released ``eval`` with ``from math
    import *`` gives it, for arithmetic only; :class:`_Refused` for anything else."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        raise _Refused(text) from None

    def value(node):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name) and node.id in _MATH_NAMES and not callable(_MATH_NAMES[node.id]):
            return _MATH_NAMES[node.id]
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](value(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
                raise _Refused(text)
            return _BINARY[type(node.op)](left, right)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and callable(_MATH_NAMES.get(node.func.id))
                and not node.keywords):
            return _MATH_NAMES[node.func.id](*[value(a) for a in node.args])
        raise _Refused(text)

    try:
        return value(tree)
    except _Refused:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError):
        raise _Refused(text) from None


_KNOWN_COMMANDS = frozenset("""
acute arccos arccosh arccot arccsc arcosh arcsec arcsin arcsinh arctan arctanh arsinh artanh bar bm boldsymbol breve
cdot ceil check choose cos cosh cot csc ddot det div dot exp floor frac gcd grave hat in int lbrace lbrack lceil lcm
left lfloor lgroup lim llcorner ln log lrcorner lvert mathbb mathbf mathbin mathcal mathclap mathclose mathellipsis
mathfrak mathinner mathit mathnormal mathop mathopen mathord mathpunct mathrel mathring mathrlap mathrm mathscr mathsf
mathsterling mathtt max min mleft mod mright operatorname overline overrightarrow prod rbrace rbrack rceil rfloor rgroup
right rvert sec sin sinh sqrt sum tan tanh text textit tilde times ulcorner urcorner vec vert widecheck widetilde
binom dbinom tbinom pi infty partial emptyset varnothing prime angle triangle leq le geq ge neq ne lt gt
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi omicron rho varrho sigma
tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
""".split())
"""The backslash commands the released parser's lexer knows (``latex2sympy2``'s ``PS.g4``); any other (``\\circ``,
``\\boxed``, ``\\pm``, ``\\cdots``) makes it stop with an error when it reaches one."""
_KNOWN_ESCAPES = frozenset("{}|$\\")
_PUNCT = frozenset("+-*/(){}[]|^_:;,.=<>!&'")
_OPENERS, _CLOSERS = "([{", ")]}"
_NUMBER_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+")
_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\\%")


def _released_reading(text: str) -> str:
    """What the released parser (``latex2sympy2``, an ANTLR grammar with no end-of-input anchor) reads of
    ``text``: the longest prefix that parses, as a string the current parser reads the same way.

    Its differences from ``latex2sympy2_extended``, each reproduced: it reads up to the first token that cannot
    continue the expression (an unmatched ``}``/``)``/``]``, a ``.`` that starts no number) and ignores the rest;
    an unknown character or command before that point is an error (``%``, ``π``, ``\\circ``, ``\\!``,
    ``\\boxed``); a top-level ``,`` or ``;`` makes a list (no number); ``\\sqrt`` and ``\\frac`` need braces;
    a bare letter is a symbol (no number); a number before ``\\frac`` or a space between digits multiplies
    (``2\\frac{1}{2}`` is 1, not 2.5); ``{4}`` is 4; ``1,000`` is one number, ``24\\%`` is 0.24 (but ``24 \\%``
    and ``24%`` are errors); brackets group. :class:`_Refused` where it has no number.
    """
    for old, new in (("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\displaystyle", " "), ("\\qquad", " "),
                     ("\\quad", " "), ("~", " "), ("\\,", " "), ("$", " "), ("\\bigl(", "("), ("\\bigr)", ")"),
                     ("\\left(", "("), ("\\right)", ")")):
        text = text.replace(old, new)
    depth, i, n, cut = 0, 0, len(text), len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "\\":
            m = re.match(r"\\([a-zA-Z]+)", text[i:])
            if m:
                if m.group(1) not in _KNOWN_COMMANDS:
                    raise _Refused(text)
                if m.group(1) in ("sqrt", "frac") and not text[i + m.end():].lstrip().startswith(("{", "[")):
                    raise _Refused(text)
                i += m.end()
                continue
            if i + 1 < n and text[i + 1] in _KNOWN_ESCAPES:
                i += 2
                continue
            raise _Refused(text)
        m = _NUMBER_RE.match(text, i)
        if m:
            i = m.end() + (2 if text.startswith("\\%", m.end()) else 0)  # 24\% (no space) is a percentage
            continue
        if ch.isascii() and ch.isalpha():
            raise _Refused(text)  # a symbol: the printed expression names it, and eval stops there
        if ch not in _PUNCT:
            raise _Refused(text)
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            if depth == 0:
                cut = i
                break
            depth -= 1
        elif ch == ".":
            cut = i
            break
        elif ch in ",;" and depth == 0:
            raise _Refused(text)
        i += 1
    reading = text[:cut].strip()
    reading = _NUMBER_RE.sub(lambda m: m.group(0).replace(",", ""), reading)  # 1,000 is one number
    reading = _PERCENT_RE.sub(r"(\1/100)", reading)
    if reading.startswith("[") and reading.endswith("]"):
        reading = f"({reading[1:-1]})"
    reading = re.sub(r"(\d)\s*(?=\\frac)", r"\1 \\cdot ", reading)
    reading = re.sub(r"(\d)\s+(?=\d)", r"\1 \\cdot ", reading)
    while reading.startswith("{") and reading.endswith("}") and _matched(reading):
        reading = reading[1:-1].strip()
    return reading


def _matched(group: str) -> bool:
    """Whether the ``{`` opening ``group`` is closed by its last character."""
    depth = 0
    for i, ch in enumerate(group):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            return i == len(group) - 1
    return False


def _latex_value(text: str) -> float:
    """``round(eval(str(latex2sympy(text))), 2)`` of the released code; raises when that would raise."""
    from latex2sympy2_extended import latex2sympy

    reading = _released_reading(text)
    if not reading:
        raise _Refused(text)
    return round(_evaluate(str(latex2sympy(reading))), 2)


def eval_tuple(s: str) -> str:
    """``utils.eval_tuple``: ``(a,b)`` / ``[a,b]`` with each entry's value at two decimals; anything else unchanged."""
    parts = s[1:-1].split(",")
    try:
        if len(parts) > 1 and ((s[0] == "(" and s[-1] == ")") or (s[0] == "[" and s[-1] == "]")):
            inner = ",".join(str(_latex_value(p)) if "infty" not in p and p not in ("a", "-a") else p for p in parts)
            return f"{s[0]}{inner}{s[-1]}"
    except Exception:  # noqa: BLE001 - the released code keeps the text when an entry does not evaluate
        return s
    return s


def match(gold: str, prediction: str) -> bool:
    """``utils.is_equal(gold, prediction)``, never raising (may be slow: :func:`official_correct` has a deadline)."""
    a, b = str(gold).lower(), str(prediction).lower()
    if not a.replace(" ", "") or not b.replace(" ", ""):
        return False
    if a.strip() == b.strip():
        return True
    a, b = eval_tuple(a), eval_tuple(b)
    if a == b:
        return True
    try:
        return _latex_value(a) == _latex_value(b)
    except Exception:  # noqa: BLE001 - the released code calls any failure "not equal"
        return False


def gold_values(answer: str, options: list[str] | None) -> tuple[str, str]:
    """The two golds the released verdict tries: the answer (a letter for multiple choice) and the gold option's
    text (``""`` for free form, or when the letter names no option)."""
    answer = str(answer)
    if options:
        idx = ord(answer) - ord("A") if len(answer) == 1 else -1
        return answer, str(options[idx]) if 0 <= idx < len(options) else ""
    return answer, ""


def verdict(answer: str, options: list[str] | None, extracted: str) -> bool:
    """Step 3: the gold letter, or the gold option's text, equals the extracted answer."""
    letter, text = gold_values(answer, options)
    return match(letter, extracted) or match(text, extracted)


def official_correct(answer: str, options: list[str] | None, extracted: str, *, timeout: float = 10.0) -> bool:
    """:func:`verdict` in the supervised grading worker, stopped after ``timeout`` seconds (then: wrong).

    >>> official_correct("B", ["1", "$2 \\\\pi$"], "2\\\\pi")
    True
    """
    from visionr1.grading.supervisor import GradingTimeout, run_in_worker

    try:
        reply = run_in_worker("mathvision", {"answer": str(answer), "options": list(options or []),
                                             "extracted": str(extracted)}, timeout=timeout)
        return bool(reply.get("equal"))
    except GradingTimeout:
        return False
