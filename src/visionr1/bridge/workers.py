"""Several client processes for one bridge run (``workers: N``, ``--workers N``).

Why: at 64 requests in flight per endpoint, one Python process spends ~2 ms of CPU per call in the
``openai`` SDK, httpx, asyncio and the store, so on a small machine the client, not the server, caps
the rate (about 500 calls/s per core). Sharding the records over a few processes uses the other cores.

How:

* every worker holds all the records and runs the ordinary async :class:`Bridge` with its share of each
  endpoint's ``concurrency`` (the limit stays global); it takes the next record (the lowest index not
  yet taken, from a counter in shared memory) whenever it has room for one, so the workers finish
  together however their speeds differ (fixed shares left one worker running alone at the end);
* every worker opens the same ``calls.sqlite`` (WAL: concurrent writers serialise on the write lock;
  each response is still committed the moment it arrives), and since each record is taken by exactly
  one worker no two processes ever ask for the same (record, stage, attempt);
* each worker publishes its live counters to shared memory for the parent's progress display, and at
  the end sends back its outcomes and exact counters; the parent writes the outputs from them, in
  input order, exactly as a one-process run does (byte-identical files);
* workers die with the parent (``PR_SET_PDEATHSIG`` on Linux, and a parent-pid check everywhere), so a
  SIGKILLed run leaves no orphan still calling the endpoints while it is rerun.

Start method: ``fork`` on Linux when the parent has no other threads (instant; the children inherit
the loaded records), else ``spawn`` (the children import the bridge, about half a second).
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing as mp
import os
import pickle
import signal
import sys
import tempfile
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Iterator

from visionr1 import files
from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.pipeline import STORE_NAME, Bridge, Outcome, RunState, StageCounters
from visionr1.data.io import LoadResult
from visionr1.data.record import Record
from visionr1.endpoints.client import preload
from visionr1.endpoints.store import ResponseStore
from visionr1.errors import VisionR1Error, storage_error

_FIELDS = tuple(f.name for f in dataclasses.fields(StageCounters))
PUBLISH_EVERY = 0.1  # seconds between a worker's counter snapshots


class WorkerError(VisionR1Error):
    """A bridge worker process failed (its traceback is in the message) or died."""


def resolve_workers(cfg: BridgeConfig, n_records: int) -> int:
    """How many client processes to run: ``cfg.workers``, or for 0 (auto) ``min(2, CPUs)`` with the
    endpoints teacher and 1 with the template teacher; never more than the records or the smallest
    endpoint concurrency (each worker needs a slot per endpoint), and 1 inside a daemonic process
    (``multiprocessing`` refuses to start children there)."""
    n = cfg.workers
    if n == 0:
        n = min(2, os.cpu_count() or 1) if cfg.teacher == "endpoints" else 1
    if cfg.teacher == "endpoints":
        n = min(n, cfg.mllm.concurrency, cfg.reasoner.concurrency)
    if mp.current_process().daemon:
        n = 1
    return max(1, min(n, n_records))


def shard_config(cfg: BridgeConfig, worker: int, workers: int) -> BridgeConfig:
    """``cfg`` with worker ``worker``'s share of each endpoint's concurrency (the shares sum to the total)."""

    def share(c: int) -> int:
        return c // workers + (1 if worker < c % workers else 0)

    return dataclasses.replace(
        cfg,
        mllm=dataclasses.replace(cfg.mllm, concurrency=share(cfg.mllm.concurrency)),
        reasoner=dataclasses.replace(cfg.reasoner, concurrency=share(cfg.reasoner.concurrency)),
        workers=1,
        progress=False,
    )


def _start_method() -> str:
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)


def _publish(shared: Any, worker: int, state: RunState) -> None:
    base = worker * len(state.stages) * len(_FIELDS)
    for i, c in enumerate(state.stages.values()):
        for j, f in enumerate(_FIELDS):
            shared[base + i * len(_FIELDS) + j] = getattr(c, f)


def _dump(path: Path, obj: Any) -> None:
    """Pickle ``obj`` to ``path`` whole or not at all: the parent reads it once the file is there."""
    files.write_bytes(path, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), sync=False)


def _take(counter: Any, n: int) -> Iterator[int]:
    """The indices below ``n`` that this process takes from ``counter`` (shared by the workers), one at a time."""
    while True:
        with counter.get_lock():
            i = counter.value
            if i >= n:
                return
            counter.value = i + 1
        yield i


def _worker_main(worker: int, workers: int, cfg: BridgeConfig, data: LoadResult, counter: Any,
                 shared: Any, result: Path, parent: int, kept: Any = None) -> None:
    """One worker process: the bridge on the records of ``data`` it takes from ``counter``; outcomes and
    counters to ``result``."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us, and says so
    try:
        assert cfg.out is not None
        state = RunState(teacher=cfg.teacher)
        store = ResponseStore(Path(cfg.out) / STORE_NAME, sync=cfg.store_sync)
        try:
            n_kept = 0
            kept_at = worker * len(data.records)  # this worker's part of kept[0]

            def on_kept(i: int) -> None:  # tell the parent, which places the record's images meanwhile
                nonlocal n_kept
                kept[0][kept_at + n_kept] = i
                n_kept += 1
                kept[1][worker] = n_kept  # after the entry: the parent reads no further than this

            bridge = Bridge(shard_config(cfg, worker, workers), data, store, state, on_kept if kept else None)

            async def main() -> list[Outcome]:
                async def tick() -> None:
                    while True:
                        _publish(shared, worker, state)
                        if os.getppid() != parent:  # no PR_SET_PDEATHSIG here: stop calling on our own
                            os._exit(1)
                        await asyncio.sleep(PUBLISH_EVERY)

                ticker = asyncio.get_running_loop().create_task(tick())
                try:
                    return await bridge.run(data.records, _take(counter, len(data.records)))
                finally:
                    ticker.cancel()

            outcomes = asyncio.run(main())
        finally:
            store.close()
        _publish(shared, worker, state)
        rows = [(o.index, o.kept, o.reason, o.stage, o.detail, o.reasoning, o.answer) for o in outcomes]
        _dump(result, ("ok", rows, {s: dataclasses.asdict(c) for s, c in state.stages.items()}))
    except BaseException as e:  # noqa: BLE001 - report everything, KeyboardInterrupt included
        try:
            e = storage_error(e) or e  # a full disk, a read-only folder: the reason, not a traceback
            tb = "" if isinstance(e, VisionR1Error) else "\n" + traceback.format_exc()
            _dump(result, ("error", f"{e}" if isinstance(e, VisionR1Error) else f"{type(e).__name__}: {e}", tb))
        finally:
            raise


def _aggregate(state: RunState, shared: Any, workers: int, n_records: int, taken: int) -> None:
    """The workers' live counters (``shared``), summed into ``state`` for the progress display."""
    width = len(state.stages) * len(_FIELDS)
    for i, c in enumerate(state.stages.values()):
        for j, f in enumerate(_FIELDS):
            setattr(c, f, sum(shared[w * width + i * len(_FIELDS) + j] for w in range(workers)))
        # the workers count the records they took: the total is all of them less the bad inputs
        c.total = n_records - (min(taken, n_records) - c.total)


def _collect(result: Path, worker: int, exitcode: int | None) -> tuple[list[Any], dict[str, Any]]:
    """What worker ``worker`` sent back in ``result`` (its outcomes and exact counters); its error, or that it
    died, as a :class:`WorkerError`."""
    msg = None
    if result.exists():
        with open(result, "rb") as f:
            msg = pickle.load(f)
    if msg is None:
        raise WorkerError(f"bridge worker {worker} died (exit code {exitcode})")
    if msg[0] != "ok":
        raise WorkerError(f"bridge worker {worker}: {msg[1]}{msg[2]}")
    return msg[1], msg[2]


class _EarlyPlacer:
    """Copies the images of records kept since the last look into RUN_DIR (the export then finds them there): the
    parent is idle while the workers run, and the copies are mostly file-system waits that would otherwise come
    after the last call. ``kept[0][w * n:]`` lists the indices worker ``w`` kept, ``kept[1][w]`` how many."""

    def __init__(self, cfg: BridgeConfig, data: LoadResult, records: list[Record], kept: Any, workers: int,
                 contested: frozenset[str] | None, placed_early: set[str] | None) -> None:
        self.cfg, self.data, self.records, self.kept = cfg, data, records, kept
        self.contested, self.placed_early = contested, placed_early
        self.placed = [0] * workers
        self.pool: ThreadPoolExecutor | None = None

    def __call__(self) -> None:
        if self.kept is None:
            return
        from visionr1.bridge.export import place_early

        n_records = len(self.records)
        for w, done in enumerate(self.placed):
            n = self.kept[1][w]
            for j in range(done, n):
                rec = self.records[self.kept[0][w * n_records + j]]
                if self.pool is None:  # threads only after every worker has forked
                    self.pool = ThreadPoolExecutor(4, thread_name_prefix="visionr1-place")
                self.pool.submit(place_early, rec, self.data, Path(self.cfg.out or "."), self.cfg.images,
                                 self.contested, self.placed_early)
            self.placed[w] = n

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def run_workers(cfg: BridgeConfig, data: LoadResult, records: list[Record], state: RunState, workers: int,
                progress: Any = None, contested: frozenset[str] | None = None,
                placed_early: set[str] | None = None) -> list[Outcome]:
    """Run ``records`` over ``workers`` processes: the outcomes in input order; counters summed into ``state``.

    ``placed_early`` receives the image destinations placed while the workers ran (see :class:`_EarlyPlacer`)."""
    method = _start_method()
    if method == "fork" and cfg.teacher == "endpoints":
        preload()  # else every worker imports openai itself, each run
    ctx = mp.get_context(method)
    shared = ctx.RawArray("q", workers * len(state.stages) * len(_FIELDS))
    results: dict[int, tuple[list[Any], dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="visionr1-bridge-") as tmp:
        sent = [Path(tmp) / f"worker-{w}.pickle" for w in range(workers)]
        kept = (ctx.RawArray("q", workers * len(records)), ctx.RawArray("q", workers)) if contested is not None else None
        counter = ctx.Value("q", 0)  # the next record to take
        data = LoadResult(records=records, root=data.root, images_checked=data.images_checked)
        procs = [ctx.Process(target=_worker_main, name=f"visionr1-bridge-{w}", daemon=True,
                             args=(w, workers, cfg, data, counter, shared, sent[w], os.getpid(), kept))
                 for w in range(workers)]
        place_kept = _EarlyPlacer(cfg, data, records, kept, workers, contested, placed_early)

        async def supervise() -> None:
            pending = {p.sentinel: w for w, p in enumerate(procs)}
            while pending:
                for s in wait(list(pending), timeout=PUBLISH_EVERY):
                    w = pending.pop(s)
                    results[w] = _collect(sent[w], w, procs[w].exitcode)
                _aggregate(state, shared, workers, len(records), counter.value)
                place_kept()
                await asyncio.sleep(0)  # let the progress display tick

        async def main() -> None:
            if progress is None:
                await supervise()
            else:
                with progress(state):
                    await supervise()

        try:
            for p in procs:
                p.start()
            asyncio.run(main())
        finally:
            for p in procs:
                if p.is_alive():
                    p.kill()
            for p in procs:
                p.join()
            place_kept.close()
    for s, c in state.stages.items():  # the exact final counters, not the last snapshot
        for f in _FIELDS:
            setattr(c, f, sum(results[w][1][s][f] for w in range(workers)))
    outcomes = [Outcome(i, records[i], kept, reason=reason, stage=stage, detail=detail, reasoning=reasoning, answer=answer)
                for w in range(workers) for (i, kept, reason, stage, detail, reasoning, answer) in results[w][0]]
    outcomes.sort(key=lambda o: o.index)
    return outcomes
