"""The offline template teacher: deterministic, R1-like, and deliberately flawed at the set rate."""

from __future__ import annotations

from collections import Counter

from visionr1.bridge.config import FilterConfig
from visionr1.bridge.filters import check
from visionr1.bridge.teacher import template_cot
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
