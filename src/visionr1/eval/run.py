"""``visionr1 eval``: load a benchmark, generate (resumably), score by the official protocol, report.

The run folder (``--out``) holds:

* ``run.json``            what was run (benchmark, data, backend, sampling, prompt mode) and how the
                           backend ran (device, batch size, ...: ``backend``); a rerun
                           with different settings is refused instead of mixing generations;
* ``generations.sqlite``  the durable store (``visionr1.endpoints.ResponseStore``): every finished
                           call, keyed by (item id, ``eval``, attempt), written the moment it arrives;
* ``generations.jsonl``   the raw generations, one line per call, exported from the store;
* ``results_<benchmark>.json``  the benchmark's own result format (MathVista: the pid → record file
                           ``visionr1 score mathvista`` reads and writes);
* ``verdicts.jsonl``      one line per item: id, extracted answer, verdict, breakdown fields;
* ``scores.json``         headline metrics, breakdowns, the official score structure, completion
                           length and reflective-word statistics, judge and generation counts;
* ``report.md``           the same, as tables (``visionr1.report``).

Resume: rerunning the same command asks only for the calls the store does not hold. With
``--regenerate-missing-answer N`` an item whose response has no ``</answer>`` is asked again, up to
N more times (attempts 1..N); the first response that closes ``</answer>`` is used, else the last.

Example:
    >>> cfg = EvalConfig(benchmark="mathvista", data=Path("tests/fixtures/mathvista_eval"),
    ...                  out=Path("/tmp/run"), canned=Path("tests/fixtures/mathvista_eval/responses.json"))
    >>> scores = run_eval(cfg)                                      # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from visionr1.config import EndpointConfig
from visionr1.errors import ConfigError, VisionR1Error
from visionr1.eval.judge import JudgeEndpointConfig
from visionr1.outdir import releases_held_dirs
from visionr1.r1 import ANSWER_CLOSE

STAGE = "eval"


@dataclass
class EvalConfig:
    """Everything ``visionr1 eval`` needs; one backend among ``model``, ``endpoint`` and ``canned``."""

    benchmark: str = field(metadata={"help": "mathvista, mathverse, mmmath, dynamath, mathvision, wemath, or records (synth)."})
    data: Path = field(metadata={"help": "Benchmark data: parquet folder, HF save_to_disk folder, .parquet, .tsv or .json."})
    out: Path = field(metadata={"help": "Run folder (created; rerun to resume)."})
    model: str | None = field(default=None, metadata={"help": "Local checkpoint for the transformers backend."})
    endpoint: EndpointConfig | None = field(default=None, metadata={"help": "OpenAI-compatible endpoint to generate with (e.g. vLLM serve): base_url, model, concurrency, timeout, max_retries, api_key_env."})
    canned: Path | None = field(default=None, metadata={"help": "JSON of item id -> response (no generation)."})
    split: str | None = field(default=None, metadata={"help": "Split to read (default: the benchmark's, e.g. testmini)."})
    limit: int | None = field(default=None, metadata={"help": "Evaluate only the first N items."})
    prompt: str = field(default="official", metadata={"help": "official (the benchmark's query), r1 (plus our think/answer instruction) or raw (the question and choices only: the paper's)."})
    protocol: str = field(default="default", metadata={"help": "Scoring protocol, for benchmarks that have several (mmmath: default, or official = the released sympy scorer the paper's numbers come from)."})
    temperature: float = field(default=0.6, metadata={"help": "Sampling temperature."})
    top_p: float = field(default=0.95, metadata={"help": "Nucleus sampling mass."})
    max_tokens: int = field(default=16000, metadata={"help": "Most new tokens per answer."})
    seed: int | None = field(default=0, metadata={"help": "Sampling seed."})
    regenerate_missing_answer: int = field(default=0, metadata={"help": "Re-ask up to N times when </answer> is missing."})
    batch_size: int = field(default=8, metadata={"help": "transformers: prompts per generate() call."})
    device: str | None = field(default=None, metadata={"help": "transformers: cpu, cuda, cuda:1 (default: cuda if available)."})
    dtype: str = field(default="auto", metadata={"help": "transformers: auto, bfloat16, float16, float32."})
    judge: JudgeEndpointConfig | None = field(default=None, metadata={"help": "OpenAI-compatible LLM for answer extraction: base_url, model and the endpoint's other keys (the judge's defaults: 16 in flight, 4 retries, 120 s)."})
    judge_undecided: bool = field(default=False, metadata={"help": "Judge only the items the rules leave undecided."})
    progress: bool = field(default=True, metadata={"help": "Show rich progress bars."})
    train_data: Path | None = field(default=None, metadata={"help": "Training data to check these items against (contamination/)."})
    force: bool = field(default=False, metadata={"help": "Use --out even if it holds files eval did not make."})
    skip_bad: bool = field(default=False, metadata={"help": "records benchmark: evaluate the good records, log the bad ones."})
    allow_failed: bool = field(default=False, metadata={"help": "Finish with success even when items got no generation (they are left out of the scores either way)."})

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        for name, ep in (("endpoint", self.endpoint), ("judge", self.judge)):
            if ep is not None and not isinstance(ep, EndpointConfig):
                raise ConfigError(f"{name} must be an EndpointConfig (base_url=..., model=...), not {ep!r}")
        chosen = [n for n, v in (("--model", self.model), ("--endpoint", self.uses_endpoint), ("--canned", self.canned))
                  if v]
        if len(chosen) != 1:
            raise ConfigError("give exactly one backend: --model PATH, --endpoint URL --model-name NAME, or --canned FILE"
                              + (f" (got {', '.join(chosen)})" if chosen else ""))
        if self.uses_endpoint and not self.endpoint.model:
            raise ConfigError("--endpoint needs --model-name (the name the server knows the model by)")
        if self.prompt not in ("official", "r1", "raw"):
            raise ConfigError(f"--prompt must be official, r1 or raw, not {self.prompt!r}")
        if not self.protocol:
            raise ConfigError("--protocol is empty; use default (or a benchmark's named protocol, e.g. mmmath's official)")
        if self.regenerate_missing_answer < 0:
            raise ConfigError("--regenerate-missing-answer must be >= 0")
        if self.limit is not None and self.limit < 1:
            raise ConfigError("--limit must be >= 1")
        if self.judge is not None and bool(self.judge.base_url) != bool(self.judge.model):
            raise ConfigError("give both --judge-endpoint and --judge-model to use a judge, or neither")
        if self.judge_undecided and not self.uses_judge:
            raise ConfigError("--judge-undecided needs a judge: add --judge-endpoint URL --judge-model NAME")

    @property
    def uses_endpoint(self) -> bool:
        """Generation goes to an endpoint (``endpoint.base_url`` set; other endpoint keys alone choose nothing)."""
        return self.endpoint is not None and bool(self.endpoint.base_url)

    @property
    def uses_judge(self) -> bool:
        """An LLM judge does the extraction step (``judge.base_url`` set)."""
        return self.judge is not None and bool(self.judge.base_url)

    def sampling(self):
        from visionr1.eval.backends import SamplingConfig

        return SamplingConfig(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens, seed=self.seed)

    def identity(self) -> dict[str, Any]:
        """The settings a resumed run must share with the first one (generations depend on them)."""
        return {"benchmark": self.benchmark, "split": self.split, "prompt": self.prompt,
                "backend": "transformers" if self.model else "endpoint" if self.uses_endpoint else "canned",
                "model": self.model or (self.endpoint.model if self.endpoint else None)
                         or (str(self.canned) if self.canned else None),
                "temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens, "seed": self.seed,
                "protocol": self.protocol}


FLAT_ENDPOINT_KEYS = frozenset({"model_name", "concurrency", "timeout", "max_retries", "api_key_env", "judge_endpoint",
                                "judge_model", "judge_api_key_env"})
"""The top-level keys an older eval.yaml used for what ``endpoint:`` and ``judge:`` now hold."""

NESTED_HINT = ("the endpoint settings are nested: endpoint: {base_url: URL, model: NAME, concurrency: N, timeout: S, "
               "max_retries: N, api_key_env: VAR} and judge: {base_url: URL, model: NAME, api_key_env: VAR}")


def load_eval_config(path: Path | str | None = None, overrides: list[str] | tuple[str, ...] = (),
                     flags: dict[str, Any] | None = None) -> EvalConfig:
    """``visionr1 eval``'s settings as every stage reads them (:func:`visionr1.config.load_config`): an eval.yaml
    (optional), then the flags typed (dotted keys: ``--endpoint`` is ``endpoint.base_url``), then ``key=value``
    overrides; a wrong key is refused naming it, with the nested form when it is an older file's flat key."""
    from visionr1.config import load_config

    try:
        return load_config(EvalConfig, path, overrides, flags=flags)
    except ConfigError as e:
        msg = str(e)
        if msg.startswith("missing config key"):
            raise ConfigError(f"{e} (eval's flags: --benchmark, --data, --out)") from None
        unknown = msg.split(";")[0].removeprefix("unknown config key(s) ").split(", ")
        if ((msg.startswith("unknown config key") and FLAT_ENDPOINT_KEYS & set(unknown))
                or msg.startswith(("endpoint must be a mapping", "judge must be a mapping"))):
            raise ConfigError(f"{e} ({NESTED_HINT})") from None
        raise


def build_backend(cfg: EvalConfig):
    from visionr1.eval import backends

    if cfg.canned:
        return backends.CannedBackend(cfg.canned)
    if cfg.model:
        return backends.TransformersBackend(cfg.model, cfg.sampling(), batch_size=cfg.batch_size, device=cfg.device,
                                            dtype=cfg.dtype)
    return backends.EndpointBackend(cfg.endpoint, cfg.sampling())


def _check_identity(out: Path, identity: dict[str, Any]) -> None:
    path = out / "run.json"
    if not path.exists():
        return
    old = json.loads(path.read_text(encoding="utf-8")).get("identity", {})
    diff = {k: (old.get(k), v) for k, v in identity.items() if k in old and old.get(k) != v}
    if diff:
        what = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in diff.items())
        raise ConfigError(f"{out} holds a run with other settings ({what}); use a new --out folder")


def _has_answer(payload: dict[str, Any] | None) -> bool:
    return bool(payload) and ANSWER_CLOSE in (payload.get("content") or "")


def generate_all(items, backend, store, cfg: EvalConfig, progress) -> dict[str, dict[str, Any]]:
    """Ask for every call the store lacks, attempt by attempt; return the chosen call per item.

    Returns ``{item id: {"response", "attempt", "attempts", "payload" | "error"}}``.
    """
    from visionr1.eval.backends import GenRequest
    from visionr1.eval.benchmarks._common import apply_prompt_mode

    by_id = {it.id: it for it in items}
    for attempt in range(cfg.regenerate_missing_answer + 1):
        todo = []
        for it in items:
            if store.get(it.id, STAGE, attempt) is not None and store.get(it.id, STAGE, attempt).ok:
                continue
            if attempt > 0:
                prev = store.get(it.id, STAGE, attempt - 1)
                if prev is None or not prev.ok or _has_answer(prev.payload):
                    continue
            todo.append(it)
        if not todo:
            continue
        label = "generating" if attempt == 0 else f"re-asking (no </answer>), attempt {attempt}"
        task = progress.add_task(label, total=len(todo))

        def on_result(rid: str, payload, error, _attempt=attempt, _task=task) -> None:
            item_id = rid.rsplit("#", 1)[0]
            if payload is not None:
                store.put_ok(item_id, STAGE, _attempt, payload)
            else:
                store.put_failed(item_id, STAGE, _attempt, error or "unknown error")
            progress.advance(_task)

        requests = [GenRequest(rid=f"{it.id}#{attempt}", text=apply_prompt_mode(it, cfg.prompt), images=it.images,
                               item_id=it.id, attempt=attempt) for it in todo]
        backend.generate(requests, on_result)
    chosen: dict[str, dict[str, Any]] = {}
    for iid in by_id:
        calls = [store.get(iid, STAGE, a) for a in range(cfg.regenerate_missing_answer + 1)]
        calls = [c for c in calls if c is not None]
        ok = [c for c in calls if c.ok]
        pick = next((c for c in ok if _has_answer(c.payload)), ok[-1] if ok else None)
        if pick is None:
            errors = [c.error for c in calls if c.error]
            chosen[iid] = {"response": "", "attempt": None, "attempts": len(calls),
                           "error": errors[-1] if errors else "not generated"}
        else:
            chosen[iid] = {"response": pick.payload.get("content") or "", "attempt": pick.attempt, "attempts": len(calls),
                           "payload": pick.payload}
    return chosen


def completion_stats(chosen: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Completion length (tokens where the backend reports them, else characters), R1 format,
    truncation and reflective-word statistics over the chosen responses."""
    from visionr1.r1 import parse_r1, reflective_tally

    texts = [c["response"] for c in chosen.values() if c.get("payload")]
    tokens = [c["payload"].get("completion_tokens") for c in chosen.values() if c.get("payload")]
    unit = "tokens" if tokens and all(isinstance(t, int) for t in tokens) else "characters"
    lengths = tokens if unit == "tokens" else [len(t) for t in texts]
    tally = reflective_tally(texts)
    words, with_any, n = tally.total, tally.texts_with_any, len(texts)
    finish = [c["payload"].get("finish_reason") for c in chosen.values() if c.get("payload")]
    return {
        "completions": n,
        "failed": sum(1 for c in chosen.values() if not c.get("payload")),
        "length": {"unit": unit, "mean": round(statistics.fmean(lengths), 1) if lengths else 0.0,
                   "median": statistics.median(lengths) if lengths else 0, "max": max(lengths) if lengths else 0},
        "truncated": sum(1 for f in finish if f == "length"),
        "missing_answer_tag": sum(1 for t in texts if ANSWER_CLOSE not in t),
        "well_formed_r1": sum(1 for t in texts if parse_r1(t).ok),
        "reflective_words": {"total": words, "per_completion": round(sum(words.values()) / n, 3) if n else 0.0,
                             "share_with_any": round(with_any / n, 4) if n else 0.0},
        "re_asked": sum(1 for c in chosen.values() if c.get("attempts", 0) > 1),
        "regenerated": sum(1 for c in chosen.values() if (c.get("attempt") or 0) > 0 and ANSWER_CLOSE in c["response"]),
    }


def score_with_judge(bench, items, responses: dict[str, str], cfg: EvalConfig):
    """``bench.score``, with the judge when one is configured: a first pass queues the calls the
    protocol needs (all of them, or with ``--judge-undecided`` those for undecided items), they go
    out together, and a second pass scores with every answer read back from ``RUN_DIR/judge.sqlite``
    (which also makes a rerun call nothing twice)."""
    if not cfg.uses_judge:
        return bench.score(items, responses, None)
    judge = {"config": cfg.judge, "undecided_only": cfg.judge_undecided, "store": cfg.out / "judge.sqlite"}
    try:
        scored = bench.score(items, responses, judge)
        client = judge.get("client")  # opened by the benchmark's extractor, if it asked anything
        if client is not None:
            if client.pending:
                client.flush()
                scored = bench.score(items, responses, judge)
            scored.judge = {**client.summary(), "judged": sum(1 for r in scored.per_item if r.get("extracted_by") == "judge")}
            scored.judge_calls = client.calls
    finally:
        if judge.get("client") is not None:
            judge["client"].close()
    return scored


def extraction_share(per_item: list[dict[str, Any]]) -> dict[str, Any]:
    """How many items the rules decided (an answer the response states; no fallback, no judge)."""
    n = len(per_item)
    decided = sum(1 for r in per_item if r.get("decided"))
    return {"items": n, "decided_by_rules": decided, "undecided": n - decided,
            "decided_share": round(decided / n, 4) if n else 0.0}


def _write_json(path: Path, obj: Any) -> None:
    from visionr1.data.io import atomic_write_text

    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n")


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    from visionr1.data.io import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled, transient=False)


def _contamination(cfg: EvalConfig, name: str, items) -> dict[str, Any]:
    """``--train-data``: which of the items the training data holds (``contamination/overlap.jsonl`` and
    ``summary.md``, by :mod:`visionr1.data.decontaminate`); checked before generating, so a bad path fails fast."""
    import logging

    from visionr1.data.decontaminate import check_benchmark_items

    s = check_benchmark_items(cfg.train_data, name, items, cfg.out / "contamination")
    hit = s["benchmarks"][name]["benchmark_items_hit"]
    if hit:
        logging.getLogger(__name__).warning("%d of %d %s items are in the training data %s: see %s", hit, len(items), name,
                                            cfg.train_data, cfg.out / "contamination" / "summary.md")
    return {"train_data": str(cfg.train_data), "items_in_training": hit, "training_items_flagged": s["training_items_flagged"],
            "report": "contamination/summary.md"}


MADE_BY = "visionr1 eval"


def looks_like_eval_run(path: Path) -> bool:
    """A run folder eval wrote before output folders were marked (it holds run.json)."""
    return (Path(path) / "run.json").is_file()


def load_items(cfg: EvalConfig, bench) -> list:
    """The benchmark's items from ``cfg.data``; a records file given to another benchmark is named as such."""
    from visionr1.eval.benchmarks.records import looks_like_records

    if bench.NAME != "records" and looks_like_records(cfg.data, cfg.split):
        raise ConfigError(f"{cfg.data} holds visionr1 records (id, images, question, answer per line), not "
                          f"{bench.NAME} data; evaluate it with --benchmark records (alias synth)")
    protocols = getattr(bench, "PROTOCOLS", ("default",))
    if cfg.protocol not in protocols:
        raise ConfigError(f"{bench.NAME} has no protocol {cfg.protocol!r}; it has: {', '.join(protocols)}")
    if cfg.uses_judge and cfg.protocol in getattr(bench, "NO_JUDGE_PROTOCOLS", ()):
        raise ConfigError(f"{bench.NAME}'s {cfg.protocol} protocol has no LLM step: drop --judge-endpoint, or use "
                          "--protocol default")
    kwargs = {"split": cfg.split, "limit": cfg.limit}
    if cfg.protocol != "default":
        kwargs["protocol"] = cfg.protocol
    if cfg.skip_bad:
        if "skip_bad" not in inspect.signature(bench.load).parameters:
            raise ConfigError(f"--skip-bad works with --benchmark records; the {bench.NAME} loader stops at a bad "
                              "item, naming it")
        kwargs["skip_bad"] = True
    items = bench.load(cfg.data, **kwargs)
    if not items:
        raise ConfigError(f"{cfg.data} holds no {bench.NAME} items (split {cfg.split or bench.DEFAULT_SPLIT!r})")
    return items


@releases_held_dirs
def run_eval(cfg: EvalConfig, backend=None) -> dict[str, Any]:
    """Run one evaluation end to end (resuming whatever the run folder already holds); returns ``scores.json``.

    ``backend``: an already built one (validation during training passes the policy it is training, see
    :mod:`visionr1.train.validation`); by default it is built from ``cfg``.

    ``--out`` must be new, empty or an eval run (``cfg.force``: any folder; :mod:`visionr1.outdir`), and not in use
    by another run (refused at once). An endpoint
    (and a judge endpoint) is asked once before any item is sent (:func:`visionr1.endpoints.check_endpoints`);
    when most items' calls fail for good, :class:`~visionr1.endpoints.EndpointsFailing` is raised once the
    outputs are written.
    """
    from visionr1.endpoints import ResponseStore
    from visionr1.eval.benchmarks import get_benchmark
    from visionr1.outdir import claim_output_dir

    bench = get_benchmark(cfg.benchmark)
    items = load_items(cfg, bench)
    claim_output_dir(cfg.out, MADE_BY, force=cfg.force, looks_ours=looks_like_eval_run, what="--out folder", hold=True)
    identity = cfg.identity()
    _check_identity(cfg.out, identity)
    contamination = _contamination(cfg, bench.NAME, items) if cfg.train_data is not None else None
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    backend = backend or build_backend(cfg)
    _preflight(cfg, backend)
    _write_json(cfg.out / "run.json", {"identity": identity, "settings": settings, "items": len(items),
                                       "backend": backend.describe})  # device, batch size, vision windows
    with ResponseStore(cfg.out / "generations.sqlite") as store, _progress(cfg.progress) as progress:
        chosen = generate_all(items, backend, store, cfg, progress)
        calls = store.all_calls()
    order = {it.id: i for i, it in enumerate(items)}
    _write_jsonl(cfg.out / "generations.jsonl", [
        {"id": c.rid, "attempt": c.attempt, "status": c.status, "response": (c.payload or {}).get("content"),
         "finish_reason": (c.payload or {}).get("finish_reason"),
         "completion_tokens": (c.payload or {}).get("completion_tokens"), "error": c.error}
        for c in sorted(calls, key=lambda c: (order.get(c.rid, len(order)), c.attempt)) if c.stage == STAGE and c.rid in order
    ])

    # an item that got no generation was not answered: it is left out of the scores, not scored as wrong
    failed = {iid: c.get("error") or "not generated" for iid, c in chosen.items() if not c.get("payload")}
    answered = [it for it in items if it.id not in failed]
    scored = score_with_judge(bench, answered, {it.id: chosen[it.id]["response"] for it in answered}, cfg)
    _write_json(cfg.out / bench.RESULT_FILENAME, scored.official)
    verdicts = {r["id"]: {**r, "attempt": chosen[r["id"]].get("attempt"), "error": None} for r in scored.per_item}
    _write_jsonl(cfg.out / "verdicts.jsonl", [
        verdicts.get(it.id) or {"id": it.id, "correct": None, "gold": it.gold, "attempt": None, "error": failed[it.id]}
        for it in items])
    scores = {
        "benchmark": bench.NAME,
        "split": cfg.split or bench.DEFAULT_SPLIT,
        "model": identity["model"],
        "backend": identity["backend"],
        "prompt": cfg.prompt,
        "protocol": cfg.protocol,
        "items": len(items),
        "answered": len(answered),
        "failed": _failed_summary(failed),
        "headline": scored.headline,
        "breakdowns": scored.breakdowns,
        "official": scored.official_scores,
        "completion": completion_stats(chosen),
        "extraction": extraction_share(scored.per_item),
        "judge": {"used": cfg.uses_judge, "model": cfg.judge.model if cfg.uses_judge else None,
                  "calls": scored.judge_calls, "undecided_only": cfg.judge_undecided, **(scored.judge or {})},
        "result_file": bench.RESULT_FILENAME,
    }
    if contamination is not None:
        scores["contamination"] = contamination
    _write_json(cfg.out / "scores.json", scores)
    from visionr1.report.markdown import write_run_report

    write_run_report(cfg.out)
    if identity["backend"] == "endpoint":
        _raise_if_most_failed(chosen, cfg)
    if failed and not cfg.allow_failed:
        raise ItemsFailed(f"{len(failed)} of {len(items)} items got no generation ({_reasons(failed)}); the scores in "
                          f"{cfg.out} cover the {len(answered)} answered items only. Rerun the same command to ask the "
                          "failed items again (the answered ones are kept), or pass --allow-failed "
                          "(allow_failed=true) to accept the run without them")
    return scores


class ItemsFailed(VisionR1Error):
    """Some items got no generation: the run's scores cover the answered ones only (an error unless allowed)."""


def _reasons(failed: dict[str, str], top: int = 2) -> str:
    from collections import Counter

    common = Counter(failed.values()).most_common(top)
    return "; ".join(f"{n}x {reason[:160]}" for reason, n in common)


def _failed_summary(failed: dict[str, str]) -> dict[str, Any]:
    """The items left out of the scores: how many, the first ids and the commonest reasons."""
    from collections import Counter

    return {"count": len(failed), "ids": list(failed)[:20],
            "reasons": dict(Counter(failed.values()).most_common(3))}


def _preflight(cfg: EvalConfig, backend) -> None:
    """Ask the generation endpoint and the judge endpoint once each before any item is sent."""
    from visionr1.endpoints import check_endpoints

    endpoints = {}
    if cfg.uses_endpoint:
        endpoints["--endpoint"] = backend.config
    if cfg.uses_judge:
        endpoints["--judge-endpoint"] = cfg.judge
    if endpoints:
        check_endpoints(endpoints)


def _raise_if_most_failed(chosen: dict[str, dict[str, Any]], cfg: EvalConfig) -> None:
    from collections import Counter

    from visionr1.endpoints import EndpointsFailing

    failed = [c["error"] for c in chosen.values() if not c.get("payload")]
    if chosen and len(failed) * 2 > len(chosen):
        common = Counter(failed).most_common(1)[0][0]
        raise EndpointsFailing(f"{len(failed)} of {len(chosen)} items got no answer from the endpoint (most often: "
                               f"{common}); the scores in {cfg.out} leave them out. Fix the endpoint and rerun "
                               "the same command: only the failed items are asked again")
