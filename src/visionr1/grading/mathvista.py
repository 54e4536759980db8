"""MathVista's scoring protocols: ``official`` (the released pipeline, judge-free) and ``default`` (ours).

``official`` reproduces the released verdicts as closely as a judge-free pipeline can; ``default``
gives the *right* verdict for each reply (see :func:`default_verdict`). Both write the official
result record (``extraction``, ``prediction``, ``true_false``) plus ``extraction_rule``,
``decided``, and the protocol-neutral ``correct`` (= ``true_false``) and ``extracted`` (the
answer the verdict was taken from; ``None`` when there is none).

The official protocol
---------------------

The official pipeline (lupantech/MathVista, ``evaluation/``) has three steps:

1. *extract*: a few quick rules (the response already is a choice / an integer / a float), else
   GPT-4 with few-shot examples pulls the answer out of the response;
2. *normalise* (``normalize_extracted_answer``): for multiple choice, ``(B)`` → ``B``, a letter →
   its option text, anything else → the option nearest by edit distance (so every multiple-choice
   prediction is an option); integers via ``str(int(float(x)))``; floats via
   ``str(round(float(x), precision))``; lists via ``str(x)``; a failed conversion → ``None``;
3. *verdict* (``safe_equal``): ``prediction == answer``, plain equality.

Steps 2 and 3 are mirrored exactly here. Step 1 keeps the official quick rules and replaces GPT-4
with :func:`visionr1.grading.extract_answer` (an LLM judge can be plugged in instead, see
``visionr1.eval.judge``). When no answer can be found the extraction is empty, which the official
normalisation turns into ``None`` (free form); for multiple choice the response's first sentence
stands in (see :func:`no_answer_text`), as GPT-4 mostly quoted it.

The default protocol
--------------------
The same extraction rules, but no step that turns a non-answer into an answer:

* an *undecided* reply (a refusal, an echo of the options, a reply with no answer, or one whose
  answer only the last-number fallback found) is never credited: it is wrong and counted as
  undecided, unless a judge is asked about it (``--judge-undecided``) and its answer is right;
* a multiple-choice answer counts only when it names an option (by letter, text, value, or the
  same expression typeset differently: :func:`option_index`); an answer that is not an option
  (``90`` among 25°/30°/40°) is wrong, not snapped to the nearest option by edit distance;
* a numeric answer must be one number and equal the gold one (integers exactly, floats at the
  stated precision; ``1/2`` is 0.5): a range ("40–60"), several numbers or ``12.7`` for 12 are
  wrong, where the official ``int(float(x))`` would credit ``12.7``;
* a list answer is compared item by item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from visionr1.grading import statements
from visionr1.grading.equivalence import choice_index, is_equivalent, parse_number
from visionr1.grading.extract import DECIDED_RULES, Extraction, clean_answer, extract_answer, last_number
from visionr1.r1 import LETTERS, choice_letter

Extractor = Callable[[str, Mapping[str, Any]], "str | None"]
PROTOCOLS: tuple[str, ...] = ("official", "default")
"""``official``: the released pipeline's verdicts; ``default``: the right verdict (module docstring)."""

# The breakdown keys of the official scores files, in their order.
BREAKDOWN_KEYS: tuple[str, ...] = (
    "question_type",
    "answer_type",
    "language",
    "source",
    "category",
    "task",
    "context",
    "grade",
    "skills",
)
_PAREN_LETTER_RE = re.compile(r"\(([a-zA-Z])\)")
_LIST_RE = re.compile(r"\[([^\[\]]{1,500})\]")
_POWER_RE = re.compile(r"\^\s*\{?[-\d.]+\}?")
_NUM_IN_TEXT_RE = re.compile(r"[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-−]?\.\d+")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1).

    >>> edit_distance("kitten", "sitting")
    3
    """
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest_choice(text: str, choices: list[str]) -> str:
    """The option with the smallest edit distance to ``text`` (the first one on ties), as the official code does."""
    text = text[:2000]  # the distance to a longer string only grows with it; bounds the cost
    distances = [edit_distance(text, str(c)) for c in choices]
    return choices[distances.index(min(distances))]


def normalize_extracted_answer(
    extraction: Any, choices: list[str] | None, question_type: str, answer_type: str, precision: int | float | None
) -> str | None:
    """MathVista's official normalisation of an extracted answer (see the module docstring).

    >>> normalize_extracted_answer("(B) 8/11", ["3/11", "8/11"], "multi_choice", "text", None)
    '8/11'
    >>> normalize_extracted_answer("12.0", None, "free_form", "integer", None)
    '12'
    >>> normalize_extracted_answer("3.14159", None, "free_form", "float", 2)
    '3.14'
    """
    if question_type == "multi_choice":
        text = extraction.strip() if isinstance(extraction, str) else str(extraction)
        letters = _PAREN_LETTER_RE.findall(text)
        if letters:
            text = letters[0].upper()
        options = list(LETTERS[: len(choices or [])])
        if text in options:
            return choices[options.index(text)]
        return closest_choice(text, list(choices or [""]))
    try:
        if answer_type == "integer":
            return str(int(float(extraction)))
        if answer_type == "float":
            return str(round(float(extraction), precision))
        if answer_type == "list":
            return str(extraction)
    except (TypeError, ValueError, OverflowError):
        return None
    return extraction


def safe_equal(prediction: Any, answer: Any) -> bool:
    """The official verdict: plain equality, never raising."""
    try:
        return bool(prediction == answer)
    except Exception:  # noqa: BLE001
        return False


def quick_extract(response: str, record: Mapping[str, Any]) -> str | None:
    """The official quick rules, tried before any extractor: ``None`` when none applies."""
    if response == "":
        return ""
    choices = record.get("choices") or []
    if record.get("question_type") == "multi_choice" and response in choices:
        return response
    if record.get("answer_type") == "integer":
        try:
            return str(int(response))
        except ValueError:
            pass
    if record.get("answer_type") == "float":
        try:
            return str(float(response))
        except (ValueError, OverflowError):
            pass
    return None


def _number_text(text: str, first: bool) -> str | None:
    """A number out of an extracted answer: the whole text if it is one, else the first (or last) in it.

    A value written with several numbers (``4/3``, ``13-18``, ``(3, 4)``) is kept as written, as the
    official extraction copies it: the official normalisation (``int(float(x))``) then rejects it,
    where reading one of its digits would credit ``4/3`` for 1 or the range ``13-18`` for 13."""
    if statements.is_compound(text.strip()):
        return text.strip()
    value = parse_number(text)
    if value is not None:
        return repr(value) if value != int(value) or "." in text else str(int(value))
    stripped = _POWER_RE.sub(" ", text)  # "12 cm^2": the 2 is not the answer
    found = _NUM_IN_TEXT_RE.findall(stripped)
    if not found:
        return statements.stated_number(text)  # "the answer is two"
    return (found[0] if first else found[-1]).replace(",", "").replace("−", "-")


def _format_list(text: str) -> str | None:
    m = None
    for m in _LIST_RE.finditer(text):
        pass
    if m is None:
        return None
    items = [x.strip() for x in m.group(1).split(",")]
    nums = [_number_text(x, first=True) if parse_number(x) is not None else x for x in items]
    return "[" + ", ".join(n or "" for n in nums) + "]"


_FIRST_SENTENCE_RE = re.compile(r"[.!?。](?=\s|$)")


def no_answer_text(response: str) -> str:
    """What stands in for the extraction of a multiple-choice reply that gives no answer.

    The official GPT-4 step writes *something* for such a reply, and the official normalisation
    then takes the option nearest to it by edit distance. What it writes follows the reply's own
    words, and so does this stand-in:

    * a reply that states a verdict on the answer ("Thus, the answer cannot be determined.") →
      that verdict, as the extractor copies it: "Cannot be determined";
    * a reply that declines ("As an AI, I can't see the image", "the solution cannot be
      provided", "none of the options match") → "N/A";
    * anything else (a reply that says what the question lacks, "The question does not provide
      the figure.", or one with no answer at all) → its first sentence, which the extractor
      mostly quotes.

    These replies carry no answer, so whichever text stands in, the verdict is a guess; the
    extraction stays *undecided* (``--judge-undecided`` sends exactly these to a judge).

    >>> no_answer_text("The text lacks the sizes. Thus, the answer cannot be determined.")
    'Cannot be determined'
    >>> no_answer_text("As an AI, I cannot view images.")
    'N/A'
    >>> no_answer_text("The question does not provide the figure. Please provide it.")
    'The question does not provide the figure.'
    """
    verdict = statements.refusal_verdict(response)
    if verdict:
        return verdict
    if statements.refusal(response) in ("decline", "no_option"):
        return "N/A"
    text = response.strip()
    m = _FIRST_SENTENCE_RE.search(text)
    return text[: m.end()] if m else text


def question_text(record: Mapping[str, Any]) -> str:
    """The question asked, without the hint and the options (which would read as echoes of the answer)."""
    question = record.get("question")
    if isinstance(question, str) and question.strip():
        return question
    query = str(record.get("query") or "")
    query = re.split(r"\n\s*Choices\s*:", query, maxsplit=1)[0]
    return re.sub(r"^\s*Hint:[^\n]*\n", "", query)


def read_answer(response: str, record: Mapping[str, Any]) -> Extraction:
    """Judge-free stand-in for the official GPT-4 extraction step, with the rule that decided it.

    ``text`` is what the official extraction field would hold: for multiple choice a letter
    whenever an option is identified (the official normaliser maps it to the option), else the
    answer as written; for free form a bare number for integer/float answers, ``[a, b]`` for lists.
    ``rule`` is :func:`visionr1.grading.extract_answer`'s rule (``Extraction.decided`` tells an
    answer the reply states from a fallback). When a multiple-choice reply gives no answer the
    text is :func:`no_answer_text`; a free-form one gets ``""`` (the official normalisation makes
    both a non-answer).

    >>> read_answer("The wettest month is May.", {"question_type": "multi_choice", "choices": ["April", "May"],
    ...                                           "question": "Which month is the wettest?"})
    Extraction(text='B', rule='option_text')
    """
    if not isinstance(response, str) or not response.strip():
        return Extraction("", "none")
    question_type = record.get("question_type")
    answer_type = record.get("answer_type")
    question = question_text(record)
    if question_type == "multi_choice":
        choices = [str(c) for c in (record.get("choices") or [])]
        ex = extract_answer(response, choices=choices, question=question)
        if ex.text is None:
            return Extraction(no_answer_text(response), ex.rule)
        idx = choice_index(ex.text, choices)
        if idx is not None:
            return Extraction(choice_letter(idx), ex.rule)
        return Extraction(clean_answer(ex.text), ex.rule)
    if answer_type == "list":
        found = _format_list(response)
        if found is not None:
            return Extraction(found, "list")
        ex = extract_answer(response, question=question)
        return Extraction(ex.text or "", ex.rule)
    ex = extract_answer(response, question=question)
    if ex.text is None:
        return Extraction("", ex.rule)
    if answer_type in ("integer", "float"):
        number = _number_text(ex.text, first=ex.rule != "last_number")
        if number is None and ex.rule != "last_number":
            number = last_number(response)
            return Extraction(number or "", "last_number")
        return Extraction(number or "", ex.rule)
    return ex


def read_mathvista(response: str, record: Mapping[str, Any]) -> Extraction:
    """Official quick rules (rule ``quick``, decided), then :func:`read_answer`."""
    quick = quick_extract(response, record)
    if quick is not None:
        return Extraction(quick, "quick" if quick else "none")
    return read_answer(response, record)


def read_default(response: str, record: Mapping[str, Any]) -> Extraction:
    """The answer a reply gives, for the default protocol: the official quick rules, then the rules
    of :func:`visionr1.grading.extract_answer`, with the answer *as written* (:func:`read_answer`
    turns a free-form answer into one number the official way, taking the first of "40–60").

    >>> read_default("The answer is 40-60.", {"question_type": "free_form", "answer_type": "integer"})
    Extraction(text='40-60', rule='phrase')
    """
    quick = quick_extract(response, record)
    if quick is not None:
        return Extraction(quick, "quick" if quick else "none")
    if record.get("question_type") == "multi_choice":
        return read_answer(response, record)
    if record.get("answer_type") == "list":
        found = _format_list(response)
        if found is not None:
            return Extraction(found, "list")
    return extract_answer(response, question=question_text(record))


def option_index(answer: str, choices: list[str], question: str = "") -> int | None:
    """The option an extracted answer names, or ``None`` when it names none (then it is not an option).

    By letter or text (:func:`visionr1.grading.equivalence.choice_index`, spacing and LaTeX
    spelling aside), a leading "yes"/"no" for yes/no options ("no, it is not"), an option the
    answer names in a sentence, the value of a number (``55`` is ``55°``, ``0.5`` is
    ``\\frac{1}{2}``), or the one option Math-Verify finds equal. Never by edit distance: the
    official nearest-option step turns any text, a refusal included, into an option.

    >>> option_index("55", ["65°", "55°"]), option_index("no, it is not", ["yes", "no"]), option_index("90", ["25°", "30°"])
    (1, 1, None)
    """
    if not answer or not choices:
        return None
    idx = choice_index(answer, choices)
    if idx is not None:
        return idx
    yes_no_idx = statements.yes_no_choices(choices)
    if yes_no_idx is not None:
        said = statements.leading_yes_no(answer)
        return None if said is None else yes_no_idx[0 if said else 1]
    idx = statements.named_option(answer, choices, question)
    if idx is not None:
        return idx
    if not re.search(r"[\d\\√π]", answer):
        return None
    value = parse_number(answer)
    if value is not None:
        same = [i for i, c in enumerate(choices) if parse_number(str(c)) == value]
        if len(same) == 1:
            return same[0]
    if statements.is_numeric_option(answer):
        same = [i for i, c in enumerate(choices) if statements.is_numeric_option(str(c)) and is_equivalent(answer, str(c))]
        if len(same) == 1:
            return same[0]
    return None


def _one_number(answer: str) -> str | None:
    """The one number a free-form answer states (``12 cm`` → 12, ``x = 12`` → 12, ``two`` → 2,
    ``1/2`` kept), or ``None`` when it states several or a range ("40–60", "(3, 4)", "12 and 15")."""
    if parse_number(answer) is not None:
        return answer
    number = statements.stated_number(answer)
    if number is None or statements.several_values(number):
        return None
    return number


def default_verdict(extraction: str | None, record: Mapping[str, Any]) -> tuple[str | None, bool]:
    """``(prediction, correct)`` of an extracted answer under the default protocol (module docstring).

    ``prediction`` is the option text, the number, or the list compared with the gold answer;
    ``None`` when the extraction gives none of those (no answer, an answer that is not an option,
    a range where a number is asked), which is wrong.

    >>> rec = {"question_type": "multi_choice", "choices": ["25°", "30°"], "answer": "30°"}
    >>> default_verdict("B", rec), default_verdict("90", rec), default_verdict(None, rec)
    (('30°', True), (None, False), (None, False))
    >>> default_verdict("12.7", {"question_type": "free_form", "answer_type": "integer", "answer": "12"})
    ('12.7', False)
    """
    if not isinstance(extraction, str) or not extraction.strip() or statements.non_answer(extraction):
        return None, False
    answer = record.get("answer")
    if record.get("question_type") == "multi_choice":
        choices = [str(c) for c in (record.get("choices") or [])]
        idx = option_index(extraction, choices, question_text(record))
        if idx is None:
            return None, False
        return choices[idx], safe_equal(choices[idx], answer)
    answer_type = record.get("answer_type")
    if answer_type == "list":
        return extraction, is_equivalent(extraction, str(answer))
    if answer_type in ("integer", "float"):
        number = _one_number(extraction)
        if number is None:
            return None, False
        precision = record.get("precision")
        precision = int(precision) if answer_type == "float" and isinstance(precision, (int, float)) else None
        return number, is_equivalent(number, str(answer), answer_type=answer_type, precision=precision)
    return extraction, is_equivalent(extraction, str(answer))


def score_record(
    record: Mapping[str, Any],
    extractor: Extractor | None = None,
    *,
    undecided_only: bool = False,
    protocol: str = "official",
) -> dict[str, Any]:
    """A copy of a MathVista result record with ``extraction``, ``prediction`` and ``true_false`` filled in.

    Also ``extraction_rule`` (the rule that found the extraction; when ``extractor`` supplied it,
    its ``rule`` attribute, e.g. ``"judge"``, else ``"extractor"``), ``decided`` (whether the
    rules found an answer the response states; see :data:`visionr1.grading.extract.DECIDED_RULES`),
    ``correct`` (the verdict, = ``true_false``) and ``extracted`` (the answer the verdict was taken
    from, ``None`` when there is none). ``protocol`` is one of :data:`PROTOCOLS` (module docstring):
    ``official`` follows the released pipeline, ``default`` never credits an undecided reply nor
    snaps an answer to the nearest option. ``extractor`` replaces the rules for every record the
    official quick rules do not settle, or, with ``undecided_only``, only for those the rules leave
    undecided; when it returns ``None`` the rules' extraction stands.

    >>> r = score_record({"response": "So the answer is 7.", "question_type": "free_form",
    ...                   "answer_type": "integer", "precision": None, "choices": None, "answer": "7"})
    >>> r["extraction"], r["prediction"], r["true_false"], r["decided"]
    ('7', '7', True, True)
    >>> refusal = {"response": "I cannot see the image.", "question_type": "multi_choice",
    ...            "choices": ["yes", "no"], "answer": "yes"}
    >>> [(r["correct"], r["decided"], r["extracted"]) for r in
    ...  (score_record(refusal), score_record(refusal, protocol="default"))]
    [(True, False, 'N/A'), (False, False, None)]
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown MathVista protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
    out = dict(record)
    response = record.get("response")
    response = response if isinstance(response, str) else ""
    read = read_mathvista(response, record) if protocol == "official" else read_default(response, record)
    decided = read.rule in DECIDED_RULES or read.rule in ("quick", "list")
    extraction, rule = read.text or "", read.rule
    if protocol == "default" and not decided:
        extraction = ""  # an undecided reply gives no answer: no stand-in, no fallback number
    if extractor is not None and read.rule != "quick" and not (undecided_only and decided) and response:
        found = extractor(response, record)
        if found is not None:
            extraction, rule = found, getattr(extractor, "rule", "extractor")
    if protocol == "official":
        prediction = normalize_extracted_answer(
            extraction, record.get("choices"), record.get("question_type", ""), record.get("answer_type", ""),
            record.get("precision"),
        )
        correct = safe_equal(prediction, record.get("answer"))
    else:
        prediction, correct = default_verdict(extraction, record)
    out["extraction"] = extraction
    out["prediction"] = prediction
    out["true_false"] = correct
    out["extraction_rule"] = rule
    out["decided"] = decided
    out["correct"] = correct
    out["extracted"] = extraction if isinstance(extraction, str) and extraction.strip() else None
    return out


RELEASED_FIELDS: tuple[str, ...] = ("extraction", "prediction", "true_false")
"""The fields the official pipeline writes into a result record (:func:`score_record` fills them in again)."""


def unscored(released: Mapping[str, Any]) -> dict[str, Any] | None:
    """A released scored record as the result record it was scored from (:data:`RELEASED_FIELDS` dropped), or
    ``None`` when its released verdict cannot be reproduced from the response: the official run had an API error
    there (no boolean ``true_false``), or it kept an extraction for an empty response.

    >>> unscored({"pid": "1", "response": "7", "extraction": "7", "prediction": "7", "true_false": True})
    {'pid': '1', 'response': '7'}
    >>> unscored({"pid": "2", "response": "", "extraction": "B", "true_false": True}) is None
    True
    """
    if not isinstance(released.get("true_false"), bool):
        return None
    if not (released.get("response") or "").strip() and (released.get("extraction") or "").strip():
        return None
    return {k: v for k, v in released.items() if k not in RELEASED_FIELDS}


def _acc(correct: int, total: int) -> dict[str, Any]:
    return {"accuracy": f"{100 * correct / total:.2f}" if total else "0.00", "correct": correct, "total": total}


def compute_scores(scored: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Accuracy overall and broken down as in the official ``scores_*.json`` files.

    Accuracy is a percentage string with two decimals; each breakdown is sorted by accuracy, best
    first, as the official files are. Fields are read from the record or its ``metadata``.
    """
    records = list(scored.values())
    correct = sum(1 for r in records if r.get("true_false") is True)
    scores: dict[str, Any] = {"average": _acc(correct, len(records))}
    for key in BREAKDOWN_KEYS:
        counts: dict[str, list[int]] = {}
        for r in records:
            value = r.get(key, (r.get("metadata") or {}).get(key))
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v is None:
                    continue
                c = counts.setdefault(str(v), [0, 0])
                c[0] += r.get("true_false") is True
                c[1] += 1
        table = {k: _acc(c, t) for k, (c, t) in counts.items()}
        scores[key] = dict(sorted(table.items(), key=lambda kv: float(kv[1]["accuracy"]), reverse=True))
    return scores
