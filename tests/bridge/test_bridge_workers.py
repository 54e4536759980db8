"""Several client processes (``workers``): same outputs as one process, a global concurrency limit,
live progress from the parent, and failures that surface instead of hanging."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from visionr1.bridge import workers as W
from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.pipeline import STAGES
from visionr1.bridge.run import run_bridge
from visionr1.config import EndpointConfig
from visionr1.endpoints.store import ResponseStore
from visionr1.errors import ConfigError
from visionr1.testing import FaultPlan, OpenAIServer

OUTPUTS = ("cold.sharegpt.json", "cold.jsonl", "rejected.jsonl", "stats.json", "stats.md")
FAULTS = FaultPlan(rate_limit=0.08, server_error=0.05, hang=0.02, malformed=0.03, empty=0.04, retry_after=0.02,
                   hang_seconds=5.0, always_fail=("-00005/description",))


def make_cfg(url: str, data: Path, out: Path, workers: int, concurrency: int = 8, **kw) -> BridgeConfig:
    ep = {"base_url": url, "model": "fake", "timeout": 1.0, "max_retries": 3, "concurrency": concurrency}  # ~100x an answer
    return BridgeConfig(input=data, out=out, mllm=EndpointConfig(**ep), reasoner=EndpointConfig(**ep),
                        retry_backoff=0.01, progress=False, workers=workers, **kw)


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_resolve_workers_auto_caps_and_template():
    ep = EndpointConfig(base_url="http://x/v1", model="m", concurrency=3)
    cfg = BridgeConfig(mllm=ep, reasoner=dataclasses.replace(ep, concurrency=64))
    assert W.resolve_workers(dataclasses.replace(cfg, workers=1), 100) == 1
    assert W.resolve_workers(dataclasses.replace(cfg, workers=8), 100) == 3  # every worker needs a slot per endpoint
    assert W.resolve_workers(dataclasses.replace(cfg, workers=8), 2) == 2  # no idle workers
    assert 1 <= W.resolve_workers(cfg, 100) <= 2  # auto
    assert W.resolve_workers(dataclasses.replace(cfg, teacher="template"), 100) == 1
    with pytest.raises(ConfigError):
        BridgeConfig(workers=-1)


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_shards_split_each_endpoints_concurrency_exactly(workers):
    ep = EndpointConfig(base_url="http://x/v1", model="m", concurrency=64)
    cfg = BridgeConfig(mllm=ep, reasoner=dataclasses.replace(ep, concurrency=7), workers=workers)
    shards = [W.shard_config(cfg, w, workers) for w in range(workers)]
    assert sum(s.mllm.concurrency for s in shards) == 64
    assert sum(s.reasoner.concurrency for s in shards) == 7
    assert all(s.workers == 1 and s.reasoner.concurrency >= 1 for s in shards)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, synth_dir, fake_models):
    """The same faulty job with 1, 2 and 3 worker processes (a fresh server each, so each sees the faults)."""
    result = {}
    for workers in (1, 2, 3):
        out = tmp_path_factory.mktemp(f"w{workers}")
        with OpenAIServer(fake_models.respond, faults=FAULTS) as server:
            stats = run_bridge(make_cfg(server.url, synth_dir, out, workers))
            peak = _peak_in_flight(server)
            log = list(server.log)
        result[workers] = {"out": out, "stats": stats, "peak": peak, "log": log}
    return result


def _peak_in_flight(server: OpenAIServer) -> int:
    events = sorted([(e.received, 1) for e in server.log] + [(e.answered or e.received, -1) for e in server.log])
    peak = cur = 0
    for _, d in events:
        cur += d
        peak = max(peak, cur)
    return peak


def test_outputs_are_byte_identical_whatever_the_worker_count(runs):
    ref = outputs(runs[1]["out"])
    for workers in (2, 3):
        got = outputs(runs[workers]["out"])
        for name in OUTPUTS:
            assert got[name] == ref[name], f"{name} differs with {workers} workers"


def test_bad_record_still_ends_rejected_with_a_reason(runs):
    rejected = [json.loads(line) for line in (runs[2]["out"] / "rejected.jsonl").read_text().splitlines()]
    bad = [r for r in rejected if r["id"].endswith("-00005")]
    assert len(bad) == 1 and bad[0]["reason"] == "failed_call" and bad[0]["stage"] == "description"
    assert runs[2]["stats"]["rejected_by_reason"] == runs[1]["stats"]["rejected_by_reason"]


def test_workers_share_one_store_and_never_ask_twice(runs):
    out, log = runs[2]["out"], runs[2]["log"]
    with ResponseStore(out / "calls.sqlite") as store:
        stored = {f"{c.rid}/{c.stage}/{c.attempt}": c.stored_at for c in store.all_calls() if c.ok}
    assert stored
    late = [e for e in log if e.key in stored and e.received > stored[e.key]]
    assert not late, late[:3]
    run_log = [json.loads(x) for x in (out / "runs.jsonl").read_text().splitlines()]
    assert len(run_log) == 1  # the parent logs the run once, with every worker's calls counted
    with ResponseStore(out / "calls.sqlite") as store:
        assert sum(run_log[0]["new_calls"].values()) == store.count()
    ref_log = json.loads((runs[1]["out"] / "runs.jsonl").read_text().splitlines()[0])
    assert run_log[0]["new_calls"] == ref_log["new_calls"]


def test_concurrency_limit_stays_global(runs):
    # 8 per endpoint, two endpoints: never more than 16 requests in flight, however many workers
    for workers in (1, 2, 3):
        assert runs[workers]["peak"] <= 16


def test_rerun_with_other_worker_count_replays_everything(runs, synth_dir, fake_models):
    out = runs[3]["out"]
    before = outputs(out)
    with OpenAIServer(fake_models.respond) as server:
        run_bridge(make_cfg(server.url, synth_dir, out, 2, retry_failed=False))
        assert not server.log  # all stored: nothing asked again
    assert outputs(out) == before


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_template_teacher_with_workers_matches_one_process(tmp_path, synth_dir, monkeypatch, method):
    monkeypatch.setattr(W, "_start_method", lambda: method)
    got = {}
    for workers in (1, 2):
        out = tmp_path / f"t{workers}"
        run_bridge(BridgeConfig(input=synth_dir, out=out, teacher="template", progress=False, workers=workers))
        got[workers] = outputs(out)
    assert got[1] == got[2]


def test_progress_display_aggregates_the_workers(tmp_path, synth_dir, fake_models):
    from visionr1.bridge.progress import rich_progress

    buf = io.StringIO()
    console = Console(file=buf, width=140, force_terminal=False)
    with OpenAIServer(fake_models.respond) as server:
        stats = run_bridge(make_cfg(server.url, synth_dir, tmp_path / "p", 2), progress=rich_progress(console, refresh=0.05))
    text = buf.getvalue()
    n = stats["records"]
    for stage in (*STAGES, "filters"):
        assert stage in text
    assert f"{n}/{n}" in text  # the final line: every record through stage 1


def test_a_slow_worker_takes_fewer_records_and_each_record_runs_once(tmp_path, synth_dir, fake_models, monkeypatch):
    """Records are handed out as workers have room, not in fixed shares: a worker that is slow takes
    fewer, the others take the rest, and the outputs are still those of one process."""
    import asyncio
    import multiprocessing

    monkeypatch.setattr(W, "_start_method", lambda: "fork")  # the patch below reaches forked children only
    taken = tmp_path / "taken.txt"
    run_record = W.Bridge.run_record

    async def slow_first_worker(self, index, rec):
        name = multiprocessing.current_process().name
        with open(taken, "a") as f:
            f.write(f"{name} {rec.id}\n")
        if name == "visionr1-bridge-0":
            await asyncio.sleep(1.0)
        return await run_record(self, index, rec)

    monkeypatch.setattr(W.Bridge, "run_record", slow_first_worker)
    with OpenAIServer(fake_models.respond) as server:
        run_bridge(make_cfg(server.url, synth_dir, tmp_path / "w2", 2, concurrency=2))
        lines = taken.read_text().split()
        taken.unlink()
        run_bridge(make_cfg(server.url, synth_dir, tmp_path / "w1", 1, concurrency=2))
    by_worker = {}
    for name, rid in zip(lines[::2], lines[1::2]):
        by_worker.setdefault(name, []).append(rid)
    ids = [i for v in by_worker.values() for i in v]
    assert len(ids) == len(set(ids)) == 48  # every record run once, by one worker
    # 2 workers with 1 slot per endpoint each: a worker holds at most 8 records; fixed shares were 24 each
    assert len(by_worker["visionr1-bridge-0"]) <= 16 < len(by_worker["visionr1-bridge-1"])
    assert outputs(tmp_path / "w2") == outputs(tmp_path / "w1")


def test_a_failing_worker_fails_the_run(tmp_path, synth_dir, monkeypatch):
    monkeypatch.setattr(W, "_start_method", lambda: "fork")  # the patch below reaches forked children only

    async def boom(self, records, order=None):
        raise RuntimeError("worker exploded")

    monkeypatch.setattr(W.Bridge, "run", boom)
    cfg = BridgeConfig(input=synth_dir, out=tmp_path / "x", teacher="template", progress=False, workers=2)
    with pytest.raises(W.WorkerError, match="worker exploded"):
        run_bridge(cfg)
    assert not (tmp_path / "x" / "stats.json").exists()


@pytest.mark.parametrize("mode", ["copy", "link"])
def test_images_are_placed_in_parallel_each_once(tmp_path, mode):
    from visionr1.bridge.export import _place_images

    src = tmp_path / "in"
    src.mkdir()
    placements = {}
    for i in range(40):
        (src / f"{i}.png").write_bytes(bytes([i]) * (100 + i))
        placements[f"images/sub{i % 3}/{i}.png"] = src / f"{i}.png"
    _place_images(placements, tmp_path / "out", mode)
    for dst, s in placements.items():
        assert (tmp_path / "out" / dst).read_bytes() == s.read_bytes()
    assert not list((tmp_path / "out").rglob(".*.tmp"))
