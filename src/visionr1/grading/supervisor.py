"""A supervised Math-Verify worker process with a hard deadline that works in any thread.

Why a process: sympy can spin for minutes on ``10^{10^{10}}`` or deeply nested LaTeX, and the only
way to stop a busy C-level sympy call from another thread is to kill the process running it.
Why ``subprocess`` rather than ``multiprocessing``: it also works inside daemonic worker processes
(``multiprocessing.Pool``, DataLoader workers), where ``multiprocessing`` refuses to start children.

Why the deadline counts the worker's CPU seconds, not the clock: a deadline must stop sympy when the
*comparison* is explosive, never because the *machine* is busy. On a loaded machine (GRPO keeps every core
busy) a comparison that needs 0.03 s of CPU can wait seconds for a core; a wall-clock deadline then turns
load into verdicts that change from run to run. So the budget is what the worker has computed on this
request (Linux ``/proc``; other systems fall back to the clock), and neither the wait for the lock (other
threads' comparisons) nor the worker's start-up (imports, ≈0.3 s of CPU) is charged to it. A wall-clock
ceiling far above the budget (:data:`WALL_FACTOR`) still ends a wait on a worker that gets no CPU at all.

Why a longer second budget: a comparison that runs past ``timeout`` is not yet a verdict. It gets a
second, longer budget (``retry_timeout``, by default ``max(4 × timeout, 8 s)``) to finish; the worker is
deterministic, so letting it run on gives what starting over with the longer budget would, without paying
for a second parse. Only past that is the worker killed and :class:`GradingTimeout` raised: the caller reports
the pair undecided (never wrong, never cached). A worker that dies mid-request is replaced and the request
sent once more.

One worker per grading process, shared by its threads under a lock, started on first use (importing this
module starts nothing). A process that forks (``fork`` start method) gets its own worker on first use.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

_WORKER_SCRIPT = Path(__file__).with_name("_mv_worker.py")
_LOG = logging.getLogger(__name__)

RETRY_FACTOR = 4.0
"""The second budget is this many times the first …"""
RETRY_MIN_S = 8.0
"""… and never less than this many CPU seconds: a tiny first deadline still leaves time to finish."""
WALL_FACTOR = 30.0
"""A request is abandoned after ``WALL_FACTOR × budget`` seconds of the clock (at least :data:`WALL_MIN_S`)
even if the worker has not used its CPU budget: only a worker that gets almost no CPU reaches it."""
WALL_MIN_S = 60.0
STARTUP_LIMIT_S = 300.0
"""Clock seconds a new worker may take to import math-verify and say it is ready (minutes only on a
machine so loaded that nothing else would work either)."""


def retry_budget(timeout: float) -> float:
    """The second, longer CPU budget a comparison that ran past ``timeout`` gets before it is given up.

    >>> retry_budget(2.0), retry_budget(0.01), retry_budget(10.0)
    (8.0, 8.0, 40.0)
    """
    return max(RETRY_FACTOR * float(timeout), RETRY_MIN_S)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds process ``pid`` has used (Linux ``/proc``); ``None`` where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


try:
    _CLK_TCK = float(os.sysconf("SC_CLK_TCK"))
except (AttributeError, ValueError, OSError):  # not a POSIX system: budgets fall back to the clock
    _CLK_TCK = 100.0


class GradingTimeout(BaseException):
    """A comparison ran past its deadline.

    A ``BaseException`` (as math-verify's own timeout is) so that a broad ``except Exception`` in
    user code does not mistake it for a wrong answer and carry on.
    """


class _Worker:
    """One worker process and its reply buffer; :meth:`start` waits until it has imported math-verify."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(_WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        self.buf = b""
        self.ready = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5.0)
        except Exception:  # noqa: BLE001 - best effort
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except Exception:  # noqa: BLE001
                pass

    def _read_line(self, done) -> bytes | None:
        """The next reply line; ``None`` once ``done()`` says to stop waiting or the worker dies."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            wait = done()
            if wait is None:
                return None
            ready, _, _ = select.select([fd], [], [], wait)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None  # worker died
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def start(self) -> bool:
        """Wait (clock, :data:`STARTUP_LIMIT_S`) for the worker's ready line; whether it came."""
        if not self.ready:
            limit = time.monotonic() + STARTUP_LIMIT_S
            line = self._read_line(lambda: (r if (r := limit - time.monotonic()) > 0 else None))
            self.ready = line is not None and b"ready" in line
        return self.ready

    def request(self, payload: dict, budgets: tuple[float, ...]) -> tuple[dict | None, int]:
        """Send one request and wait for its reply while the worker stays within ``budgets`` (CPU seconds,
        each the next to allow once the one before is spent). Returns the reply (``None`` when the last budget
        is spent, the clock ceiling passes or the worker dies) and how many budgets it ran past."""
        data = (json.dumps(payload) + "\n").encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return None, 0
        pid = self.proc.pid
        cpu0, t0 = _cpu_seconds(pid), time.monotonic()
        wall_limit = t0 + max(WALL_FACTOR * budgets[-1], WALL_MIN_S)
        level = 0

        def done() -> float | None:
            nonlocal level
            now = time.monotonic()
            cpu = _cpu_seconds(pid) if cpu0 is not None else None
            used = (cpu - cpu0) if cpu is not None else now - t0  # no /proc: the clock
            while level < len(budgets) and used >= budgets[level]:
                level += 1
            if level >= len(budgets) or now >= wall_limit:
                return None
            # poll often enough to stop soon after the budget runs out, rarely enough to cost nothing
            return min(max(budgets[level] - used, 0.005), 0.05, wall_limit - now)

        line = self._read_line(done)
        if line is None:
            return None, level
        try:
            return json.loads(line), level
        except ValueError:
            return None, level


class MathVerifySupervisor:
    """Owns the worker process; :meth:`compare` and :meth:`run` are safe to call from any thread.

    Counters (since this supervisor started): ``slow`` requests that ran past their first budget,
    ``timeouts`` requests given up (past the second), ``restarts`` workers replaced.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._pid = os.getpid()
        self.slow = 0
        self.timeouts = 0
        self.restarts = 0

    def _ensure(self) -> _Worker | None:
        """A started worker (a new one when there is none, it died, or this process forked); ``None`` when a
        new one did not come up."""
        if self._pid != os.getpid():  # forked: the inherited worker belongs to the parent
            self._worker, self._pid = None, os.getpid()
        if self._worker is None or not self._worker.alive():
            if self._worker is not None:
                self._worker.kill()
                self.restarts += 1
            self._worker = _Worker()
        if not self._worker.start():
            code = self._worker.proc.poll()
            _LOG.warning("the Math-Verify worker did not start (%s); is math-verify installed?",
                         f"exit code {code}" if code is not None else f"not ready after {STARTUP_LIMIT_S:.0f} s")
            self._worker.kill()
            self._worker = None
            return None
        return self._worker

    def warmup(self) -> None:
        """Start the worker now, so that the first comparison does not wait for its start-up."""
        with self._lock:
            self._ensure()

    def _request(self, payload: dict, what: str, timeout: float, retry_timeout: float | None) -> dict:
        budgets = (float(timeout), float(retry_timeout if retry_timeout is not None else retry_budget(timeout)))
        with self._lock:  # waiting for other threads' comparisons is not charged to this one
            for attempt in range(2):  # a second time only when the worker died under the first
                worker = self._ensure()
                if worker is None:
                    break
                reply, level = worker.request(payload, budgets)
                self.slow += level > 0
                if reply is not None:
                    return reply
                if worker.alive():  # out of time (not dead): give up, leave a fresh worker for next time
                    worker.kill()
                    self._worker = None
                    self.restarts += 1
                    break
            self.timeouts += 1
            raise GradingTimeout(f"{what} not decided within {budgets[-1]:.1f} CPU seconds")

    def compare(self, pred: str, gold: str, *, timeout: float = 2.0, retry_timeout: float | None = None,
                float_rounding: int = 6) -> str:
        """``"equal"``, ``"different"`` or ``"unparseable"``; :class:`GradingTimeout` when undecided."""
        reply = self._request({"pred": pred, "gold": gold, "float_rounding": float_rounding}, "math-verify",
                              timeout, retry_timeout)
        return str(reply.get("verdict", "unparseable"))

    def run(self, op: str, payload: dict, *, timeout: float, retry_timeout: float | None = None) -> dict:
        """Run worker operation ``op`` (see :mod:`visionr1.grading._mv_worker`) on ``payload``; its reply, or
        :class:`GradingTimeout` when both budgets are spent."""
        return self._request({**payload, "op": op}, op, timeout, retry_timeout)

    def close(self) -> None:
        with self._lock:
            if self._worker is not None and self._pid == os.getpid():
                self._worker.kill()
            self._worker = None


_SUPERVISOR: MathVerifySupervisor | None = None
_SUPERVISOR_LOCK = threading.Lock()


def supervisor() -> MathVerifySupervisor:
    """This process's supervisor, made (and its worker's clean-up registered) on first use."""
    global _SUPERVISOR
    if _SUPERVISOR is None:
        with _SUPERVISOR_LOCK:
            if _SUPERVISOR is None:
                sup = MathVerifySupervisor()
                atexit.register(sup.close)
                _SUPERVISOR = sup
    return _SUPERVISOR


def math_compare(pred: str, gold: str, *, timeout: float = 2.0, retry_timeout: float | None = None,
                 float_rounding: int = 6) -> str:
    """Compare two answers with Math-Verify in the supervised worker.

    Returns ``"equal"``, ``"different"`` or ``"unparseable"``. ``timeout`` is a budget in the worker's CPU
    seconds; past it the comparison runs on up to ``retry_timeout`` (default :func:`retry_budget`), and past
    that it is undecided: :class:`GradingTimeout` (the worker is replaced). Works in any thread and any process.

    >>> math_compare(r"\\frac{1}{2}", "0.5")
    'equal'
    """
    return supervisor().compare(pred, gold, timeout=timeout, retry_timeout=retry_timeout,
                                float_rounding=float_rounding)


def run_in_worker(op: str, payload: dict, *, timeout: float = 10.0, retry_timeout: float | None = None) -> dict:
    """Run a grading operation other than Math-Verify's comparison in the supervised worker (e.g. ``"mmmath"``,
    :func:`visionr1.grading.mmmath.official_equal`), under the same budgets."""
    return supervisor().run(op, payload, timeout=timeout, retry_timeout=retry_timeout)


def warmup() -> None:
    """Start the Math-Verify worker ahead of the first comparison (about a third of a second)."""
    supervisor().warmup()
