"""A durable store of endpoint responses, keyed by (record id, stage, attempt).

Why: a paid call must be paid for once. Every response is written the moment it arrives, in its own
SQLite transaction, so a job killed at any instant (SIGKILL included) and started again finds every
finished call and repeats none of them; it re-asks only the calls that were in flight.

Durability: SQLite in WAL mode. A commit appends to the write-ahead log and is atomic: a process
killed mid-write leaves a torn frame that recovery discards, never a half-written row. With
``sync="normal"`` (the default) a commit is not fsync'd; the WAL is synced at checkpoints. That is
fully safe against the process dying (SIGKILL, OOM-kill, Ctrl-C: the bytes are in the OS page cache
and reach the file), and loses at most the last few commits, never consistency, if the *machine*
loses power. ``sync="full"`` fsyncs each commit (power-loss safe) at ~1-10 ms per response on
ordinary disks, which would cap a 64-way client at a few hundred responses per second; the calls
themselves take seconds, so pick it when the machine is the risk, not the process.

A finished (``ok``) row is never overwritten; a ``failed`` row (retries exhausted, permanent error)
records the reason and may be replaced by a later success when the job is rerun.

Example:
    >>> import tempfile, pathlib
    >>> store = ResponseStore(pathlib.Path(tempfile.mkdtemp()) / "calls.sqlite")
    >>> store.put_ok("rec-1", "caption", 0, {"content": "a cat"})
    True
    >>> store.put_ok("rec-1", "caption", 0, {"content": "a dog"})  # finished calls are final
    False
    >>> store.get("rec-1", "caption", 0).payload["content"]
    'a cat'
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ResponseStore", "StoredCall"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    rid TEXT NOT NULL,
    stage TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    payload TEXT,
    error TEXT,
    stored_at REAL NOT NULL,
    PRIMARY KEY (rid, stage, attempt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredCall:
    """One stored call: ``status`` is ``ok`` (``payload`` holds the response) or ``failed`` (``error``)."""

    rid: str
    stage: str
    attempt: int
    status: str
    payload: dict[str, Any] | None
    error: str | None
    stored_at: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class ResponseStore:
    """SQLite (WAL) store of call results; see the module docstring for the durability argument.

    Args:
        path: the database file (created with its folder).
        sync: ``"normal"`` (safe against process death) or ``"full"`` (also against power loss).
    """

    def __init__(self, path: Path | str, *, sync: str = "normal") -> None:
        if sync not in ("normal", "full"):
            raise ValueError(f"sync must be 'normal' or 'full', not {sync!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={sync.upper()}")
            self._db.executescript(_SCHEMA)
        except BaseException:  # a full disk fails here: no open file may outlive the error (the caller has no store)
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResponseStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ writes (one transaction each)

    def put_ok(self, rid: str, stage: str, attempt: int, payload: dict[str, Any]) -> bool:
        """Store a finished call; False (and nothing written) if that call was already finished."""
        cur = self._db.execute(
            "INSERT INTO calls VALUES (?, ?, ?, 'ok', ?, NULL, ?) "
            "ON CONFLICT (rid, stage, attempt) DO UPDATE SET status='ok', payload=excluded.payload, "
            "error=NULL, stored_at=excluded.stored_at WHERE calls.status != 'ok'",
            (rid, stage, attempt, json.dumps(payload, ensure_ascii=False), time.time()),
        )
        return cur.rowcount > 0

    def put_failed(self, rid: str, stage: str, attempt: int, error: str) -> bool:
        """Record a call that failed for good; never replaces a finished one."""
        cur = self._db.execute(
            "INSERT INTO calls VALUES (?, ?, ?, 'failed', NULL, ?, ?) "
            "ON CONFLICT (rid, stage, attempt) DO UPDATE SET error=excluded.error, stored_at=excluded.stored_at "
            "WHERE calls.status != 'ok'",
            (rid, stage, attempt, error, time.time()),
        )
        return cur.rowcount > 0

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # ------------------------------------------------------------------ reads

    def get(self, rid: str, stage: str, attempt: int) -> StoredCall | None:
        row = self._db.execute(
            "SELECT rid, stage, attempt, status, payload, error, stored_at FROM calls WHERE rid=? AND stage=? AND attempt=?",
            (rid, stage, attempt),
        ).fetchone()
        return None if row is None else _call(row)

    def all_calls(self) -> list[StoredCall]:
        rows = self._db.execute(
            "SELECT rid, stage, attempt, status, payload, error, stored_at FROM calls ORDER BY rid, stage, attempt"
        ).fetchall()
        return [_call(r) for r in rows]

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM calls WHERE status=?", (status,)).fetchone()[0]


def _call(row: tuple) -> StoredCall:
    return StoredCall(
        rid=row[0], stage=row[1], attempt=row[2], status=row[3],
        payload=json.loads(row[4]) if row[4] is not None else None, error=row[5], stored_at=row[6],
    )
