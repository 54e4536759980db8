"""SIGKILL the bridge at several points, rerun it, and compare with an uninterrupted run.

The bridge and the server run as subprocesses. Kill points are read from the server's request log
(after k answered requests). Afterwards: the outputs equal the uninterrupted one-process run's byte for
byte, and the request log shows no (record, stage, attempt) requested after its response was stored.
With ``--workers 2`` the kill hits either the parent alone (its workers must die with it, not keep
calling while the rerun starts) or the whole process group (Ctrl-C's reach, a job scheduler's kill).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from visionr1.endpoints.store import ResponseStore
from visionr1.testing.processes import STALL_S, run_patiently, stop, wait_until

FAKE_MODELS = Path(__file__).resolve().parent / "fake_models.py"

OUTPUTS = ("cold.sharegpt.json", "cold.jsonl", "rejected.jsonl", "stats.json", "stats.md")
FAULTS = {"rate_limit": 0.08, "server_error": 0.05, "malformed": 0.03, "hang": 0.02, "empty": 0.04,
          "retry_after": 0.02, "hang_seconds": 5.0, "always_fail": ["-00007/reasoning"]}


def _sigint_default() -> None:
    """Ctrl-C must reach the child as a terminal's would: a background job of a non-interactive shell (``cmd &``,
    how CI may start the suite) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_server(tmp: Path, name: str) -> tuple[subprocess.Popen, str, Path]:
    port_file, log = tmp / f"{name}.port", tmp / f"{name}.log.jsonl"
    p = subprocess.Popen([sys.executable, "-m", "visionr1.testing.openai_server", "--port-file", str(port_file),
                          "--log", str(log), "--latency", "0.01", "--faults", json.dumps(FAULTS),
                          "--responder", f"{FAKE_MODELS}:respond"], stdout=subprocess.DEVNULL)
    for _ in range(400):
        if port_file.exists():
            return p, f"http://127.0.0.1:{port_file.read_text()}/v1", log
        time.sleep(0.025)
    p.kill()
    raise RuntimeError("server did not start")


def _bridge_cmd(url: str, data: Path, out: Path, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "visionr1", "bridge", "--input", str(data), "--out", str(out),
            "--mllm-url", url, "--mllm-model", "fake", "--reasoner-url", url, "--reasoner-model", "fake",
            "--concurrency", "4", "--workers", str(workers), "--no-progress", "retry_backoff=0.01",
            "mllm.timeout=1.0", "reasoner.timeout=1.0"]


def _answered(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if line.endswith("}") and '"status": 200' in line)


def _group_alive(pgid: int) -> bool:
    """Whether any bridge process of that process group (the parent or a worker) still runs.

    The Math-Verify helper a worker may have started is not a client (it holds no connection and
    exits when its stdin closes), so only processes running ``visionr1`` count.
    """
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z" and b"visionr1" in cmd and b"_mv_worker" not in cmd:
            return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "target"), [(1, "process"), (2, "process"), (2, "group")])
def test_sigkill_at_several_points_then_resume_equals_uninterrupted(tmp_path, synth_dir, workers, target):
    server, url, log = _start_server(tmp_path, "s")
    try:
        ref = tmp_path / "ref"
        assert run_patiently(_bridge_cmd(url, synth_dir, ref, workers=1), watch=[ref, log]).returncode == 0
        ref_lines = _answered(log)

        run = tmp_path / "run"
        kills = 0
        for k in (15, 50, 95):  # answered requests of this run before the kill
            p = subprocess.Popen(_bridge_cmd(url, synth_dir, run, workers), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
            try:  # no clock limit: wait while the run makes progress
                wait_until(lambda: _answered(log) - ref_lines >= k, p, watch=[run, log], poll_s=0.005)
            except BaseException:
                stop(p)
                raise
            if p.poll() is None:
                if target == "group":
                    os.killpg(p.pid, signal.SIGKILL)
                else:
                    os.kill(p.pid, signal.SIGKILL)
                kills += 1
            p.wait()
            # nothing of the killed run may still be calling the server (SIGKILL reaches the workers at once)
            deadline = time.time() + 10  # they die at once; 10 s only so a busy machine has scheduled them
            while _group_alive(p.pid) and time.time() < deadline:
                time.sleep(0.01)
            assert not _group_alive(p.pid), "a bridge worker outlived its parent"
        assert kills >= 2
        done = run_patiently(_bridge_cmd(url, synth_dir, run, workers), watch=[run, log])
        assert done.returncode == 0, done.stderr
    finally:
        server.terminate()
        server.wait(10)

    for name in OUTPUTS:
        assert (run / name).read_bytes() == (ref / name).read_bytes(), name

    # No finished call was requested again: every request for a key came before that key was stored.
    entries = [json.loads(line) for line in log.read_text().splitlines()[ref_lines:] if line.strip()]
    with ResponseStore(run / "calls.sqlite") as store:
        stored = {f"{c.rid}/{c.stage}/{c.attempt}": c.stored_at for c in store.all_calls() if c.ok}
    run_entries = [e for e in entries if e["received"] > 0]
    assert run_entries
    late = [e for e in run_entries if e["key"] in stored and e["received"] > stored[e["key"]]]
    assert not late, late[:3]
    runs = [json.loads(x) for x in (run / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 1  # only the completed invocation logs a line


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_says_how_to_resume_and_the_rerun_finishes(tmp_path, synth_dir, workers):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) ends the run with exit code 130 and
    the line that says a rerun resumes; the rerun of the same command then completes."""
    server, url, log = _start_server(tmp_path, "s")
    try:
        run = tmp_path / "run"
        p = subprocess.Popen(_bridge_cmd(url, synth_dir, run, workers), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True, preexec_fn=_sigint_default)
        try:
            wait_until(lambda: _answered(log) >= 10, p, watch=[run, log], poll_s=0.005)  # no clock limit: a stall limit
        except BaseException:
            stop(p)
            raise
        assert p.poll() is None, "the run ended before the interrupt"
        os.killpg(p.pid, signal.SIGINT)
        _, err = p.communicate(timeout=STALL_S)  # generous: it only has to stop and say how to resume
        assert p.returncode == 130, err
        assert "interrupted — rerun the same command to resume" in err and "Traceback" not in err
        done = run_patiently(_bridge_cmd(url, synth_dir, run, workers), watch=[run, log])
        assert done.returncode == 0, done.stderr
    finally:
        server.terminate()
        server.wait(10)
