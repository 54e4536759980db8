"""Grading: the R1 format grammar, answer extraction, equivalence, the hard formatting result
reward, and official benchmark protocols (one module each).

A pure leaf: only the standard library and math-verify. Two verbs, parse then verify, which never
raise and time out in any thread (Math-Verify runs in a supervised worker process).

>>> from visionr1.grading import grade
>>> grade("<think>…</think><answer>\\\\frac{1}{2}</answer>", "0.5").correct
True
"""

from visionr1.grading.equivalence import is_equivalent
from visionr1.grading.extract import Extraction, extract_answer
from visionr1.r1 import ANSWER_FORMS, REFLECTIVE_WORDS, R1Parse, count_reflective_words, format_r1, parse_r1
from visionr1.grading.rewards import (
    Grade,
    accuracy_reward,
    completion_text,
    format_reward,
    get_hard_format_result_reward,
    grade,
    hard_format_result_reward,
)
from visionr1.grading.supervisor import GradingTimeout, math_compare, warmup

__all__ = [
    "ANSWER_FORMS",
    "REFLECTIVE_WORDS",
    "Extraction",
    "Grade",
    "GradingTimeout",
    "R1Parse",
    "accuracy_reward",
    "completion_text",
    "count_reflective_words",
    "extract_answer",
    "format_r1",
    "format_reward",
    "get_hard_format_result_reward",
    "grade",
    "hard_format_result_reward",
    "is_equivalent",
    "math_compare",
    "parse_r1",
    "warmup",
]
