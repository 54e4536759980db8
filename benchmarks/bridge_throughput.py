"""Bridge throughput against the local OpenAI-compatible server (a subprocess, so it has its own core).

Two figures, both with the real ``openai`` client, the SQLite store (one commit per response), the
filters and the export:

1. instant server: items/s at concurrency 64 (target >= 200 items/s: the client is not the bottleneck);
2. server latency L = 200 ms: items/s as a share of the latency-bound rate. Each item makes two MLLM
   calls and one reasoner call, each endpoint with ``c`` in flight, so the MLLM bounds the run:
   ``N`` items take at least ``2·N·L/c + L`` seconds (the ``+ L`` is the last reasoner call).

3. the ceiling: the same endpoint clients the bridge uses (``ChatClient``: the ``openai`` client, the
   retry wrapper, the HTTP transport) making the same calls — per item two MLLM calls carrying an image,
   then a reasoner call, ``c`` in flight per endpoint, from as many processes as the bridge's workers —
   against the 200 ms server, with no bridge work (no input, store, filters, image checks or outputs):
   ``client_only_share`` = the bound over the span of its call loops. The bridge's share cannot be
   expected above it; the difference is what the bridge's own work costs on this machine.

``calls_span_s`` is the part of the run between the first request and the last stored response; the
rest (``outside_calls_s``) is reading and checking the input, starting workers and writing the outputs,
which the latency bound leaves out (``share_of_latency_bound_calls_span`` compares the bound with the
span alone; the target is ``share_of_latency_bound``, the whole run).

Both run ``run_bridge`` as ``visionr1 bridge`` does, with ``--workers`` client processes (default 0 =
auto, as the command). CPU seconds are reported for the client (the bridge process and its workers),
the server, and everything else on the machine during the run (``other_cpu_s``; on a shared machine a
large value means the figures are low because someone else was using the cores).

Usage::

    .venv/bin/python benchmarks/bridge_throughput.py [--n 1200] [--n-latency 1600] [--concurrency 64] [--workers 0]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def respond(req):  # the server-side fake model (loaded by path by the server subprocess)
    from visionr1.testing.openai_server import Reply

    stage = req.key.split("/")[1] if req.key.count("/") == 2 else ""
    text = req.text()
    if stage == "pseudo_cot":
        m = re.search(r"Correct answer: (.*)", text)
        return Reply(content=f"Caption: a figure.\nReasoning:\n1. KEY={m.group(1) if m else '?'}=KEY")
    if stage == "description":
        m = re.search(r"KEY=(.*?)=KEY", text)
        return Reply(content=f"The image shows a figure whose decisive value is <<{m.group(1) if m else '?'}>>.")
    m = re.search(r"<<(.*?)>>", text)
    ans = m.group(1) if m else "?"
    letter = re.match(r"\(([A-Z])\) ", ans)
    final = letter.group(1) if letter else ans
    body = (f"Okay, the image shows a figure with one decisive value, {ans}, and the question depends only on it. "
            "Wait, let me double-check that reading against the question before answering. Hmm, the question asks "
            "exactly for this quantity. Alternatively I could look at the rest of the figure, but it changes nothing. ")
    return Reply(content=f"<think>{body}So the answer is {final}.</think>Final answer: {final}")


def start_server(tmp: Path, latency: float) -> tuple[subprocess.Popen, str]:
    port_file = tmp / f"port-{latency}"
    p = subprocess.Popen([sys.executable, "-m", "visionr1.testing.openai_server", "--port-file", str(port_file),
                          "--latency", str(latency), "--responder", f"{Path(__file__).resolve()}:respond"],
                         stdout=subprocess.DEVNULL)
    for _ in range(400):
        if port_file.exists():
            return p, f"http://127.0.0.1:{port_file.read_text()}/v1"
        time.sleep(0.025)
    p.kill()
    raise RuntimeError("server did not start")


def run_once(data: Path, out: Path, url: str, concurrency: int, limit: int, workers: int = 0) -> tuple[float, dict]:
    from visionr1.bridge.config import BridgeConfig
    from visionr1.bridge.run import run_bridge
    from visionr1.config import EndpointConfig

    ep = {"base_url": url, "model": "bench", "timeout": 30.0, "concurrency": concurrency}
    cfg = BridgeConfig(input=data, out=out, mllm=EndpointConfig(**ep), reasoner=EndpointConfig(**ep),
                       limit=limit, progress=False, workers=workers)
    t0 = time.perf_counter()
    stats = run_bridge(cfg)
    return time.perf_counter() - t0, stats


def _client_loop(url: str, items: int, concurrency: int, image: str, go, out) -> None:
    """One client process of the ceiling run: ``items`` items of the bridge's three calls (two MLLM calls
    carrying one of the run's images, then a text-only reasoner call), each endpoint with ``concurrency`` in
    flight, and nothing else; puts (start, end)."""
    import asyncio

    from visionr1.config import EndpointConfig
    from visionr1.endpoints.client import ChatClient, image_data_url, user_message

    os.environ.setdefault("OPENAI_API_KEY", "bench")
    seen = [user_message("Correct answer: 4\n" + "Describe the figure. " * 20, [image_data_url(Path(image))])]
    text = [user_message("The image shows a figure whose decisive value is <<4>>. " + "Question? " * 20)]
    ep = {"base_url": url, "model": "bench", "timeout": 30.0, "concurrency": concurrency}

    async def run() -> tuple[float, float]:
        async with ChatClient(EndpointConfig(**ep)) as mllm, ChatClient(EndpointConfig(**ep)) as reasoner:
            pid = os.getpid()
            await mllm.chat(seen, key=f"warm-{pid}/pseudo_cot/1")  # connections and first-call costs
            await reasoner.chat(text, key=f"warm-{pid}/reasoning/1")

            async def item(i: int) -> None:
                await mllm.chat(seen, key=f"c{pid}-{i}/pseudo_cot/1")
                await mllm.chat(seen, key=f"c{pid}-{i}/description/1")
                await reasoner.chat(text, key=f"c{pid}-{i}/reasoning/1")

            go.wait()
            start = time.time()
            await asyncio.gather(*(item(i) for i in range(items)))
            return start, time.time()

    out.put(asyncio.run(run()))


def client_only(url: str, items: int, concurrency: int, procs: int, image: Path) -> float:
    """Seconds from the first client loop's start to the last one's end (:func:`_client_loop`, in ``procs`` processes)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    ps = [ctx.Process(target=_client_loop, args=(url, items // procs, -(-concurrency // procs), str(image), go, out)) for _ in range(procs)]
    for p in ps:
        p.start()
    time.sleep(3.0)  # imports and the warm-up call, outside the timed loop
    go.set()
    spans = [out.get(timeout=600) for _ in ps]
    for p in ps:
        p.join()
    return max(e for _, e in spans) - min(s for s, _ in spans)


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a live process, from /proc (0 where there is none)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _machine_busy() -> float:
    """CPU seconds all processes on the machine have used since boot (0 where /proc/stat is missing)."""
    try:
        f = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in f[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return 0.0


def _own_cpu() -> float:
    """CPU seconds of this process and its reaped children (the bridge workers)."""
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


def _calls_span(run_dir: Path) -> float:
    """Seconds from the first request to the last stored response of a run (from its store)."""
    from visionr1.endpoints.store import ResponseStore

    with ResponseStore(run_dir / "calls.sqlite") as store:
        calls = [c for c in store.all_calls() if c.ok and c.payload]
    return max(c.stored_at for c in calls) - min(c.stored_at - float(c.payload.get("seconds") or 0) for c in calls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1200, help="records for the instant-server run")
    ap.add_argument("--n-latency", type=int, default=1600, help="records for the 200 ms run")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--workers", type=int, default=0, help="client processes (0 = auto, as visionr1 bridge)")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the client-only run at 200 ms")
    args = ap.parse_args()
    from visionr1.data.synth import synthesize

    c = args.concurrency
    results = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        data = tmp / "data"
        synthesize(data, n=max(args.n, args.n_latency), seed=0, image_size=224)
        for latency, n in ((0.0, args.n), (args.latency, args.n_latency)):
            server, url = start_server(tmp, latency)
            try:
                run_once(data, tmp / f"warm-{latency}", url, c, 64, args.workers)  # imports, connections, grader worker
                machine0, own0, server0 = _machine_busy(), _own_cpu(), _proc_cpu(server.pid)
                secs, stats = run_once(data, tmp / f"run-{latency}", url, c, n, args.workers)
                machine1, own1, server1 = _machine_busy(), _own_cpu(), _proc_cpu(server.pid)
                workers = json.loads((tmp / f"run-{latency}" / "runs.jsonl").read_text().splitlines()[-1])["workers"]
                image = next((data / "images").iterdir())
                ceiling = client_only(url, n, c, workers, image) if latency > 0 and not args.no_ceiling else None
            finally:
                server.terminate()
                server.wait(10)
            rate = n / secs
            client_cpu, server_cpu = own1 - own0, server1 - server0
            entry = {"records": n, "seconds": round(secs, 2), "items_per_s": round(rate, 1),
                     "calls_per_s": round(3 * n / secs, 1), "kept": stats["kept"], "cpus": os.cpu_count(),
                     "workers": workers,
                     "client_cpu_s": round(client_cpu, 2), "client_cpu_ms_per_call": round(1000 * client_cpu / (3 * n), 2),
                     "server_cpu_s": round(server_cpu, 2),
                     "other_cpu_s": round(max(0.0, (machine1 - machine0) - client_cpu - server_cpu), 2)}
            span = _calls_span(tmp / f"run-{latency}")
            entry["calls_span_s"] = round(span, 2)  # first request sent -> last response stored
            entry["outside_calls_s"] = round(secs - span, 2)  # reading the input, starting workers, writing outputs
            if latency > 0:
                bound_secs = 2 * n * latency / c + latency
                entry["latency_bound_items_per_s"] = round(n / bound_secs, 1)
                entry["share_of_latency_bound"] = round(rate / (n / bound_secs), 3)
                entry["share_of_latency_bound_calls_span"] = round(bound_secs / span, 3)
                if ceiling is not None:
                    entry["client_only_s"] = round(ceiling, 2)
                    entry["client_only_share"] = round(bound_secs / ceiling, 3)
            results[f"latency_{int(latency * 1000)}ms"] = entry
            print(f"latency {latency * 1000:.0f} ms, concurrency {c}: {json.dumps(entry)}", flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
