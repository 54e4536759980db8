"""Running commands in tests without wall-clock limits: a command is stopped when it stops making progress.

Why: a fixed ``timeout=180`` fails a test only because the machine is slow or busy (a 2-core runner shared with
other jobs takes several times as long), which says nothing about the code. What does say something is a command
that hangs, so the limit here is on *silence*: no new output and no file changed under the folders it writes for
``stall_s`` seconds (default :data:`STALL_S`). A training step, a log line or a checkpoint all count as progress.

Example:
    >>> import sys
    >>> run_patiently([sys.executable, "-c", "print('hi')"]).stdout
    'hi\\n'
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

STALL_S = 600.0
"""Seconds without any sign of progress after which a command is taken to hang."""


class Stalled(AssertionError):
    """A command showed no progress for its ``stall_s`` seconds (a test failure, with the output's tail)."""


def _footprint(paths: Iterable[Path]) -> tuple:
    """A value that changes when a file in ``paths`` (files, or folders walked) is created, removed, grows or is
    rewritten."""
    seen = []
    for root in paths:
        root = Path(root)
        if root.is_file():
            st = root.stat()
            seen.append((str(root), "", st.st_size, st.st_mtime_ns))
            continue
        for dirpath, _, files in os.walk(root):
            for name in files:
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                seen.append((dirpath, name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(seen))


class Progress:
    """Tracks whether a process is still making progress: its output files grew or a watched folder changed."""

    def __init__(self, outputs: Iterable[Path] = (), watch: Iterable[Path] = (), stall_s: float = STALL_S):
        self.outputs, self.watch, self.stall_s = list(outputs), [Path(p) for p in watch], stall_s
        self._last = self._state()
        self._since = self._checked = time.monotonic()

    def _state(self) -> tuple:
        sizes = tuple(os.path.getsize(p) if os.path.exists(p) else -1 for p in self.outputs)
        return sizes, _footprint(self.watch)

    def stalled(self) -> bool:
        """Whether nothing has changed for ``stall_s`` seconds (the folders are looked at once a second at most)."""
        now = time.monotonic()
        if now - self._checked < min(1.0, self.stall_s / 4):
            return False
        self._checked = now
        state = self._state()
        if state != self._last:
            self._last, self._since = state, time.monotonic()
        return time.monotonic() - self._since > self.stall_s


def wait_until(condition: Callable[[], bool], procs: subprocess.Popen | Iterable[subprocess.Popen], *,
               outputs: Iterable[Path] = (), watch: Iterable[Path] = (), stall_s: float = STALL_S,
               poll_s: float = 0.1) -> bool:
    """Wait until ``condition()`` holds or every process in ``procs`` has exited, checking every ``poll_s``
    seconds; returns ``condition()``'s last value. :class:`Stalled` when, meanwhile, no file in ``outputs`` grew
    and nothing under ``watch`` changed for ``stall_s`` seconds (the processes are left running: the caller
    stops them)."""
    procs = [procs] if isinstance(procs, subprocess.Popen) else list(procs)
    progress = Progress(outputs, watch, stall_s)
    while True:
        if condition():
            return True
        if all(p.poll() is not None for p in procs):
            return bool(condition())
        if progress.stalled():
            raise Stalled(f"no progress for {stall_s:.0f} s: no output, nothing changed under "
                          f"{', '.join(map(str, progress.watch)) or '(nothing watched)'}")
        time.sleep(poll_s)


def stop(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and, when it leads one, its process group (e.g. ``accelerate launch`` and its ranks)."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_patiently(cmd: list, *, watch: Iterable[Path] = (), stall_s: float = STALL_S, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, capture_output=True, text=True, **kwargs)`` with no time limit but a stall limit.

    The command (in a session of its own, so with everything it starts) is killed and :class:`Stalled` raised only
    after ``stall_s`` seconds in which it wrote nothing to stdout or stderr and changed no file under ``watch``.
    """
    with tempfile.TemporaryDirectory(prefix="visionr1-run-") as tmp:
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True, **kwargs)
            try:
                wait_until(lambda: False, proc, outputs=[out_path, err_path], watch=watch, stall_s=stall_s)
            except Stalled as e:
                stop(proc)
                raise Stalled(f"{' '.join(map(str, cmd))}: {e}; stderr ends:\n"
                              f"{err_path.read_text(errors='replace')[-3000:]}") from None
            except BaseException:
                stop(proc)
                raise
        return subprocess.CompletedProcess(cmd, proc.returncode, out_path.read_text(errors="replace"),
                                           err_path.read_text(errors="replace"))
