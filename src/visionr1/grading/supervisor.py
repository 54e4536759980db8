"""A supervised Math-Verify worker process with a hard deadline that works in any thread.

Why a process: sympy can spin for minutes on ``10^{10^{10}}`` or deeply nested LaTeX, and the only
way to stop a busy C-level sympy call from another thread is to kill the process running it.
Why ``subprocess`` rather than ``multiprocessing``: it also works inside daemonic worker processes
(``multiprocessing.Pool``, DataLoader workers), where ``multiprocessing`` refuses to start children.

One worker per grading process, shared by its threads under a lock. When a request overruns, the
worker is killed and a fresh one starts at once (≈0.5 s of imports), so the next request is ready
in time. A process that forks (``fork`` start method) gets its own worker on first use.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

_WORKER_SCRIPT = Path(__file__).with_name("_mv_worker.py")


class GradingTimeout(BaseException):
    """A comparison ran past its deadline.

    A ``BaseException`` (as math-verify's own timeout is) so that a broad ``except Exception`` in
    user code does not mistake it for a wrong answer and carry on.
    """


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(_WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        self.buf = b""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=1.0)
        except Exception:  # noqa: BLE001 - best effort
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except Exception:  # noqa: BLE001
                pass

    def request(self, payload: dict, deadline: float) -> dict | None:
        """Send one request; the reply, or ``None`` when the deadline passes or the worker dies."""
        data = (json.dumps(payload) + "\n").encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None  # worker died
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            return None


class MathVerifySupervisor:
    """Owns the worker process; :meth:`compare` is safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._pid = os.getpid()
        self.timeouts = 0
        self.restarts = 0

    def _ensure(self) -> _Worker:
        if self._pid != os.getpid():  # forked: the inherited worker belongs to the parent
            self._worker, self._pid = None, os.getpid()
        if self._worker is None or not self._worker.alive():
            self._worker = _Worker()
        return self._worker

    def warmup(self) -> None:
        """Start the worker now, so that the first comparison does not pay its start-up."""
        with self._lock:
            self._ensure()

    def compare(self, pred: str, gold: str, *, timeout: float = 2.0, float_rounding: int = 6) -> str:
        """``"equal"``, ``"different"`` or ``"unparseable"``; raises :class:`GradingTimeout` on overrun."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            raise GradingTimeout(f"grader busy for {timeout:.1f} s")
        try:
            worker = self._ensure()
            reply = worker.request({"pred": pred, "gold": gold, "float_rounding": float_rounding}, deadline)
            if reply is None:
                worker.kill()
                self.restarts += 1
                self._worker = _Worker()  # start the replacement now; it imports while we return
                self.timeouts += 1
                raise GradingTimeout(f"math-verify took longer than {timeout:.1f} s")
            return str(reply.get("verdict", "unparseable"))
        finally:
            self._lock.release()

    def run(self, op: str, payload: dict, *, timeout: float) -> dict:
        """Run worker operation ``op`` (see ``_mv_worker.OPS``) on ``payload``; its reply, or
        :class:`GradingTimeout` past ``timeout`` seconds (the worker is then replaced)."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            raise GradingTimeout(f"grader busy for {timeout:.1f} s")
        try:
            worker = self._ensure()
            reply = worker.request({**payload, "op": op}, deadline)
            if reply is None:
                worker.kill()
                self.restarts += 1
                self._worker = _Worker()
                self.timeouts += 1
                raise GradingTimeout(f"{op} took longer than {timeout:.1f} s")
            return reply
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            if self._worker is not None and self._pid == os.getpid():
                self._worker.kill()
            self._worker = None


_SUPERVISOR = MathVerifySupervisor()
atexit.register(_SUPERVISOR.close)


def math_compare(pred: str, gold: str, *, timeout: float = 2.0, float_rounding: int = 6) -> str:
    """Compare two answers with Math-Verify in the supervised worker, under a hard ``timeout``.

    Returns ``"equal"``, ``"different"`` or ``"unparseable"``; raises :class:`GradingTimeout` when
    the deadline passes (the worker is then replaced). Works in any thread and any process.

    >>> math_compare(r"\\frac{1}{2}", "0.5")
    'equal'
    """
    return _SUPERVISOR.compare(pred, gold, timeout=timeout, float_rounding=float_rounding)


def run_in_worker(op: str, payload: dict, *, timeout: float = 10.0) -> dict:
    """Run a grading operation other than Math-Verify's comparison in the supervised worker (e.g. ``"mmmath"``,
    :func:`visionr1.grading.mmmath.official_equal`), under the same hard deadline."""
    return _SUPERVISOR.run(op, payload, timeout=timeout)


def warmup() -> None:
    """Start the Math-Verify worker ahead of the first comparison (about half a second)."""
    _SUPERVISOR.warmup()
