"""The response store (final rows, WAL, reopen) and the test server (faults, log file, subprocess)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

from visionr1.endpoints.store import ResponseStore
from visionr1.testing import FaultPlan, OpenAIServer, Reply


def test_finished_calls_are_final_and_failures_replaceable(tmp_path):
    with ResponseStore(tmp_path / "s.sqlite") as store:
        assert store.put_failed("r", "description", 0, "server_error: boom")
        assert store.put_ok("r", "description", 0, {"content": "first"})
        assert not store.put_ok("r", "description", 0, {"content": "second"})
        assert not store.put_failed("r", "description", 0, "late failure")
        assert store.put_ok("r", "description", 1, {"content": "retry"})
    with ResponseStore(tmp_path / "s.sqlite") as store:  # survives reopening
        first, retry = store.get("r", "description", 0), store.get("r", "description", 1)
        assert first.payload == {"content": "first"} and first.ok
        assert retry.payload == {"content": "retry"}
        assert store.count("ok") == 2


def test_store_uses_wal(tmp_path):
    ResponseStore(tmp_path / "s.sqlite").close()
    assert sqlite3.connect(tmp_path / "s.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_survives_sigkill_mid_writes(tmp_path):
    db = tmp_path / "s.sqlite"
    code = (
        "import sys; from visionr1.endpoints.store import ResponseStore\n"
        f"s = ResponseStore({str(db)!r})\n"
        "i = 0\n"
        "while True:\n"
        "    s.put_ok(f'r{i}', 'reasoning', 0, {'content': 'x' * 5000, 'i': i}); i += 1\n"
        "    if i == 50: print('go', flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "go"
    time.sleep(0.2)
    p.kill()
    p.wait()
    with ResponseStore(db) as store:
        calls = store.all_calls()
        assert len(calls) >= 50
        assert all(c.payload["content"] == "x" * 5000 for c in calls)
        assert sorted(c.payload["i"] for c in calls) == list(range(len(calls)))  # no holes, no torn rows


def test_fault_plan_is_deterministic_and_transient():
    plan = FaultPlan(rate_limit=0.2, server_error=0.2, malformed=0.1, seed=1)
    first = [plan.pick(f"k{i}", 1) for i in range(200)]
    assert first == [plan.pick(f"k{i}", 1) for i in range(200)]
    assert {"rate_limit", "server_error", "malformed", None} == set(first)
    assert all(plan.pick(f"k{i}", 2) is None for i in range(200))
    assert FaultPlan(always_fail=("bad",)).pick("x/bad/0", 9) == "always_fail"


def test_server_log_file_and_counts(tmp_path):
    import openai

    log = tmp_path / "log.jsonl"
    with OpenAIServer(lambda r: Reply(content=r.key), log_path=log) as s:
        client = openai.OpenAI(base_url=s.url, api_key="x", max_retries=0)
        for _ in range(2):
            out = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                                 extra_headers={"X-Request-Key": "a/b/0"})
        assert out.choices[0].message.content == "a/b/0"
        assert [e.n for e in s.requests_for("a/b/0")] == [1, 2]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["key"], e["n"], e["status"]) for e in entries] == [("a/b/0", 1, 200), ("a/b/0", 2, 200)]
    assert entries[0]["received"] <= entries[0]["answered"]


def test_server_runs_as_a_subprocess(tmp_path):
    import openai

    port_file = tmp_path / "port"
    p = subprocess.Popen([sys.executable, "-m", "visionr1.testing.openai_server", "--port-file", str(port_file),
                          "--faults", json.dumps({"rate_limit": 1.0, "retry_after": 0.01})],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if port_file.exists():
                break
            time.sleep(0.05)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port_file.read_text()}/v1", api_key="x", max_retries=2)
        out = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert out.choices[0].message.content == "echo: hi"
    finally:
        p.terminate()
        p.wait(10)
    assert b"RuntimeWarning" not in p.stderr.read()
