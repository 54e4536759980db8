"""The grader's deadline machinery: a timeout is never a verdict, and load does not change verdicts.

The load test grades a few hundred pairs twice in one process: idle with the default deadline, then with a
deliberately tiny first deadline (1 ms of CPU) while every core is kept busy by spinning processes. Every
verdict must come out the same. It holds because the deadline counts the worker's CPU seconds (a busy machine
only delays it), a comparison past its first deadline runs on under a longer one, and an undecided one is never
cached.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from visionr1.grading import GradingTimeout, grade, hard_format_result_reward, is_equivalent, math_compare
from visionr1.grading.equivalence import _math_verdict
from visionr1.grading.mmmath import official_equal
from visionr1.grading.supervisor import retry_budget, supervisor

# Groups of answers; the first of each is the gold. Most pairs reach Math-Verify (LaTeX, expressions,
# sets, intervals): those are the ones a deadline could decide. Verdicts are compared with the idle ones,
# not with labels (what counts as equal is test_equivalence's business).
GROUPS = [
    ["\\sqrt{12}", "2\\sqrt{3}", "2 \\sqrt 3", "\\sqrt{3} \\cdot 2", "3.4641016"],
    ["5", "x = 5", "x=5", "5.0", "\\frac{10}{2}"],
    ["\\frac{1}{2}", "0.5", "1/2", "\\frac{2}{4}", "50\\%"],
    ["2\\pi", "2 \\pi", "\\pi \\cdot 2", "6.2831853", "\\frac{4\\pi}{2}"],
    ["\\{1, 2\\}", "\\{2, 1\\}", "\\{1,2,2\\}", "\\{1, 3\\}"],
    ["(1, 2]", "(1,2]", "\\left(1, 2\\right]", "[1, 2]"],
    ["x^2+2x+1", "(x+1)^2", "x^2+1+2x", "(x-1)^2"],
    ["\\frac{\\sqrt{3}}{2}", "\\sqrt{3}/2", "0.8660254", "\\frac{1}{2}\\sqrt{3}"],
    ["y = 2x + 1", "2x+1", "y=1+2x", "y = 2x - 1"],
    ["e^{2}", "e^2", "\\exp(2)", "2e"],
    ["\\frac{3}{4}", "0.75", "3/4", "75\\%"],
    ["12", "12 cm", "\\sqrt{144}", "2\\sqrt{36}"],
    ["\\frac{\\pi}{3}", "60^\\circ", "\\pi/3", "1.0471976"],
    ["-\\frac{1}{3}", "-1/3", "\\frac{-1}{3}", "-0.33333333"],
    ["3\\sqrt{2}", "\\sqrt{18}", "4.2426407", "\\frac{6}{\\sqrt{2}}"],
    ["x \\geq 2", "[2, \\infty)", "x>=2", "x > 2"],
]
MATH_PAIRS = [(p, grp[0]) for grp in GROUPS for p in grp[1:]]
MATH_PAIRS += [(GROUPS[i][1], GROUPS[(i + 1) % len(GROUPS)][0]) for i in range(len(GROUPS))]
MATH_PAIRS += [(GROUPS[i][-1], GROUPS[(i + 3) % len(GROUPS)][1]) for i in range(len(GROUPS))]
# the fast paths too (numbers, fractions, percentages, yes/no): load must not reach them either
FAST_PAIRS = [(f"{k}/8", f"{k / 8:g}") for k in range(1, 61)] + [(f"{k}%", f"{k / 100:g}") for k in range(1, 61)]
FAST_PAIRS += [(f"{k}", f"{k + (k % 3 == 0)}") for k in range(40)] + [("Yes", "yes"), ("no", "Yes")] * 10
PAIRS = MATH_PAIRS + FAST_PAIRS
ISSUE_PAIRS = [("2\\sqrt{3}", "\\sqrt{12}"), ("x = 5", "5")]  # issue 30: 0.0 under load, 1.0 idle


@contextmanager
def busy_cores(per_core: int = 1):
    """``per_core`` spinning processes per usable core for the duration of the block."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(per_core * cores)]
    try:
        time.sleep(0.2)  # let them start spinning
        yield len(procs)
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def test_verdicts_and_rewards_are_the_same_idle_and_with_the_cores_busy_under_a_tiny_deadline():
    sup = supervisor()
    sup.warmup()
    _math_verdict.cache_clear()
    idle = [is_equivalent(p, g) for p, g in PAIRS]
    reached = _math_verdict.cache_info().misses
    assert reached >= 60 and None not in idle  # most pairs went to Math-Verify, and it decided them all
    _math_verdict.cache_clear()  # nothing decided idle may be reused under load
    slow_before = sup.slow
    with busy_cores():
        busy = [is_equivalent(p, g, timeout=0.001) for p, g in PAIRS]
        _math_verdict.cache_clear()
        rewards = [hard_format_result_reward(f"<think>simplify</think><answer>{p}</answer>", g) for p, g in ISSUE_PAIRS]
    assert sup.slow > slow_before  # the tiny first deadline was overrun: the longer one decided
    assert [(p, g, v) for (p, g), v in zip(PAIRS, busy)] == [(p, g, v) for (p, g), v in zip(PAIRS, idle)]
    assert rewards == [1.0, 1.0]


# a product expanded against the same with one more factor: about 0.2 s of sympy CPU
SLOW = ("(x+1)^{50}(x-1)^{50}", "(x-1)^{50}(x+1)^{51}")


def test_an_undecided_comparison_is_none_not_false_and_is_not_cached(monkeypatch):
    import visionr1.grading.equivalence as eq

    real = eq.math_compare
    # budgets of 5 ms and 20 ms of CPU, a tenth of what the pair needs: the real worker runs out of both
    monkeypatch.setattr(eq, "math_compare", lambda p, g, timeout: real(p, g, timeout=0.005, retry_timeout=0.02))
    _math_verdict.cache_clear()
    timeouts = supervisor().timeouts
    completion = f"<think>expand both</think><answer>{SLOW[0]}</answer>"
    assert is_equivalent(*SLOW) is None
    g = grade(completion, SLOW[1])
    assert g.correct is None and g.extracted == SLOW[0]
    assert hard_format_result_reward(completion, SLOW[1]) == 0.0  # undecided earns nothing (see its docstring)
    assert supervisor().timeouts == timeouts + 3  # each call tried again: no timeout was remembered
    assert _math_verdict.cache_info().currsize == 0
    monkeypatch.setattr(eq, "math_compare", real)
    assert is_equivalent(*SLOW) is False  # the default budgets decide it; that verdict is cached
    assert _math_verdict.cache_info().currsize == 1


def test_a_runaway_comparison_is_stopped_and_the_worker_comes_back():
    # sympy sums 5000 terms of n^{-n} for well over 30 CPU seconds
    with pytest.raises(GradingTimeout):
        math_compare("\\sum_{n=1}^{5000} n^{-n}", "1", timeout=0.05, retry_timeout=0.2)
    assert math_compare("\\frac{1}{2}", "0.5") == "equal"
    assert official_equal("x", "(x+1)^{120}(x-1)^{100}+\\tan(x)^{50}", timeout=0.2, retry_timeout=0.5) is None
    assert official_equal("\\frac{3}{2}", "1.5") is True


def test_the_second_budget():
    assert retry_budget(2.0) == 8.0 and retry_budget(0.001) == 8.0 and retry_budget(10.0) == 40.0


def test_importing_grading_starts_no_process():
    code = "import visionr1.grading, visionr1.grading.supervisor as s; print(s._SUPERVISOR is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"  # no supervisor, so no worker: both come with the first comparison


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="CPU-time budgets need Linux /proc")
def test_the_budget_counts_cpu_not_the_clock():
    import visionr1.grading.supervisor as sup_mod

    assert sup_mod._cpu_seconds(os.getpid()) is not None
    sup = supervisor()
    sup.warmup()
    worker = sup._worker
    os.kill(worker.proc.pid, signal.SIGSTOP)  # the worker gets no CPU at all for a second: a machine far too busy
    timer = threading.Timer(1.0, os.kill, (worker.proc.pid, signal.SIGCONT))
    timer.start()
    try:
        # budgets of 0.1 s and 0.5 s on the clock would be gone before the worker runs; on its CPU they are not
        assert math_compare("\\frac{1}{2}", "0.5", timeout=0.1, retry_timeout=0.5) == "equal"
    finally:
        timer.join()
