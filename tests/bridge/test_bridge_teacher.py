"""The offline template teacher: deterministic, R1-like, and deliberately flawed at the set rate."""

from __future__ import annotations

from collections import Counter

from visionr1.bridge.config import FilterConfig
from visionr1.bridge.filters import check
from visionr1.bridge.teacher import _CONNECTORS, template_cot
from visionr1.data.io import read_records
from visionr1.data.record import Record
from visionr1.grading import count_reflective_words


def test_deterministic_per_seed_and_record(synth_dir):
    recs = read_records(synth_dir).records
    a = [template_cot(r, seed=0) for r in recs]
    assert a == [template_cot(r, seed=0) for r in recs]
    assert a != [template_cot(r, seed=1) for r in recs]


def test_cots_pass_filters_except_the_deliberate_flaws(synth_dir):
    recs = read_records(synth_dir).records
    reasons = Counter(check(template_cot(r, seed=0, flaw_rate=0.25), r, FilterConfig()).reason for r in recs)
    assert set(reasons) <= {None, "wrong_answer", "truncated"}
    assert reasons["wrong_answer"] + reasons["truncated"] >= 4
    assert all(check(template_cot(r, flaw_rate=0.0), r, FilterConfig()).ok for r in recs)


def test_cots_have_self_checks(synth_dir):
    recs = read_records(synth_dir).records
    totals = Counter()
    for r in recs:
        cand = template_cot(r, flaw_rate=0.0)
        counts = count_reflective_words(cand.reasoning)
        assert sum(counts.values()) >= 1
        totals.update(counts)
    assert all(totals[w] > 0 for w in ("Wait", "Hmm", "Alternatively"))


def test_record_without_solution_is_none():
    assert template_cot(Record(id="x", question="q?", answer="1")) is None


def test_brief_self_checks_follow_the_last_step_and_restate_it():
    """Brief CoTs (the demo's ~4M student): the steps run in order with nothing between them, and any self-check
    comes after the last step and restates it, so each step follows from the sentences just before it."""
    steps = ["The shape is blue.", "blue=7.", "The question adds 3.",
             "Counting up 3 from 7: 8 (2 left), 9 (1 left), 10 (0 left).", "7+3=10."]
    checks = 0
    for i in range(30):
        rec = Record(id=f"c-{i}", question="What is the value of the shape's colour plus 3?", answer="10",
                     answer_type="integer", metadata={"solution": steps, "description": "One blue square."})
        parts = template_cot(rec, seed=0, flaw_rate=0.0, brief=True).reasoning.split("\n\n")
        assert parts[0] == "One blue square."
        unlinked = [next(p.removeprefix(c + " ") for c in _CONNECTORS if p.startswith(c + " ")) for p in parts[1:5]]
        assert unlinked == [s[0].lower() + s[1:] for s in steps[:4]]
        assert parts[5] == "7+3=10." and parts[-1] == "So the final answer is 10."
        for check_ in parts[6:-1]:
            assert "7+3=10." in check_ and count_reflective_words(check_)
        checks += len(parts[6:-1])
    assert checks > 0
