"""The bridge run: input records, rounds (one process or :mod:`visionr1.bridge.workers`), outputs, run log.

:mod:`visionr1.bridge.pipeline` is the per-record machine (stages 1-3, filters, the response store);
this module drives it over the input, so that ``pipeline`` and ``workers`` both sit below it and neither
imports the other's caller (no import circle).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.pipeline import STAGES, STORE_NAME, Bridge, Outcome, RunState
from visionr1.data.io import LoadResult, image_root_of, iter_jsonl, native_jsonl, read_records
from visionr1.data.record import Record
from visionr1.endpoints.store import ResponseStore
from visionr1.errors import ConfigError, DataError, VisionR1Error
from visionr1.files import append_jsonl
from visionr1.outdir import releases_held_dirs



def load_input(cfg: BridgeConfig) -> tuple[LoadResult, list[Record]]:
    """The first ``limit`` good records, every image opened (what ``--dry-run`` counts)."""
    data = read_records(cfg.input, limit=cfg.limit, image_root=cfg.image_root)
    return data, data.records


class _Input:
    """The input records in order, handed out on demand; the bad items met so far, each with its place.

    Native JSONL is read lazily and its images are left to :meth:`Bridge.run` (checked in the workers,
    while the calls run); other layouts are read whole, images checked, as before.
    """

    def __init__(self, cfg: BridgeConfig) -> None:
        assert cfg.input is not None
        jsonl = native_jsonl(cfg.input)
        if jsonl is None:
            data = read_records(cfg.input, limit=cfg.limit, image_root=cfg.image_root)
            self.root, self.images_checked = data.root, True
            self._items: Any = iter([*data.errors, *data.records])
        else:
            self.root, self.images_checked = image_root_of(jsonl, cfg.image_root), False
            self._items = iter_jsonl(jsonl)
        self.taken = 0  # records handed out so far
        self._errors: list[tuple[int, int, DataError]] = []  # (place among the records, 0 before / 1 of it, error)

    def take(self, n: int | None) -> list[Record]:
        """The next ``n`` records (all the rest for None); stops right after the last one it returns."""
        out: list[Record] = []
        while n is None or len(out) < n:
            item = next(self._items, None)
            if item is None:
                break
            if isinstance(item, DataError):
                self._errors.append((self.taken + len(out), 0, item))
            else:
                out.append(item)
        self.taken += len(out)
        return out

    def bad_record(self, place: int, error: DataError) -> None:
        self._errors.append((place, 1, error))

    def errors(self) -> list[DataError]:
        """Every bad item, in input order (as a reader that checks images reports them)."""
        return [e for _, _, e in sorted(self._errors, key=lambda t: (t[0], t[1]))]


MADE_BY = "visionr1 bridge"


def looks_like_bridge_run(path: Path) -> bool:
    """A run folder the bridge wrote before output folders were marked (it holds the response store)."""
    return (Path(path) / STORE_NAME).is_file()


@releases_held_dirs
def run_bridge(cfg: BridgeConfig, *, progress: Any = None, force: bool = False) -> dict[str, Any]:
    """Run the whole bridge for ``cfg`` (resuming from RUN_DIR's store) and write the outputs.

    Returns the stats written to ``stats.json``. ``progress`` is an optional callable
    ``(RunState) -> context manager`` for a live display (the CLI passes a rich one). RUN_DIR must be new,
    empty or a bridge run (:mod:`visionr1.outdir`); ``force`` takes any folder; another run into it while this one
    runs is refused at once (:func:`visionr1.outdir.hold_output_dir`). With the endpoints teacher
    each endpoint is asked once before any record (:func:`visionr1.endpoints.check_endpoints`), so a wrong
    URL or model name ends the run at once; a run in which most records failed their calls raises
    :class:`~visionr1.endpoints.EndpointsFailing` once the outputs are written.

    The records are the first ``limit`` good ones. Their images are checked as the records run (see
    :class:`_Input`); when a checked record turns out bad and a ``limit`` is set, the next records are
    run in another round, so the outputs are those of checking everything first.
    """
    from visionr1.bridge.export import note_destinations, write_outputs

    from visionr1.outdir import claim_output_dir

    cfg.check_runnable()
    assert cfg.out is not None
    out = claim_output_dir(cfg.out, MADE_BY, force=force, looks_ours=looks_like_bridge_run, what="--out folder",
                           hold=True)
    source = _Input(cfg)
    store = ResponseStore(out / STORE_NAME, sync=cfg.store_sync)
    state = RunState(teacher=cfg.teacher)
    t0 = time.perf_counter()
    good: list[Outcome] = []
    try:
        _check_same_teacher(store, cfg)
        check_same_input(cfg, force, store)
        from visionr1.bridge.workers import resolve_workers, run_workers

        Bridge(cfg, LoadResult(records=[], root=source.root), store, state)  # checks the prompt files first
        store.close()  # each round (or worker process) opens its own connection
        if cfg.teacher == "endpoints":  # then each endpoint, once, before any record is sent
            from visionr1.endpoints import check_endpoints

            check_endpoints({"mllm": cfg.mllm, "reasoner": cfg.reasoner})
        need = cfg.limit
        first: dict[str, str] = {}
        contested: set[str] = set()
        placed: set[str] = set()  # images the workers' parent placed while the calls ran
        while need is None or need > 0:
            base = source.taken
            batch = source.take(need)
            if not batch:
                break
            note_destinations(batch, first, contested)
            data = LoadResult(records=batch, root=source.root, images_checked=source.images_checked)
            outcomes = _run_round(cfg, data, state, progress, resolve_workers(cfg, len(batch)), run_workers,
                                  frozenset(contested), placed)
            bad = 0
            for o in outcomes:
                o.index += base
                if o.stage == "input":
                    source.bad_record(o.index, DataError(o.record.id, o.detail))
                    bad += 1
                else:
                    good.append(o)
            if need is None or not bad:
                break
            need = bad  # as many more records as turned out bad
        data = LoadResult(records=[o.record for o in good], errors=source.errors(), root=source.root)
        stats = write_outputs(cfg, data, good, state, placed)
    finally:
        store.close()
    elapsed = time.perf_counter() - t0
    _append_run_log(out, cfg, state, len(good), elapsed)
    _raise_if_most_calls_failed(good, out)
    _raise_if_none_kept(stats, cfg, out)
    return stats


class NothingKept(VisionR1Error):
    """A bridge run kept no record: its cold.jsonl is empty, and the SFT after it would fail on that."""


def _raise_if_none_kept(stats: dict[str, Any], cfg: BridgeConfig, out: Path) -> None:
    """A run that kept nothing is not a result to go on from: end it non-zero, saying why each record went."""
    if stats["kept"]:
        return
    reasons = stats["rejected_by_reason"]
    if not stats["records"]:
        why = "the input holds no records"
    else:
        why = f"rejected {stats['records']}: " + ", ".join(f"{n} {r}" for r, n in reasons.items())
        if set(reasons) == {"bad_input"}:
            why += " (every input item is bad; rejected.jsonl names each one and why)"
        elif reasons.get("no_solution") and cfg.teacher == "template":
            why += (" (the template teacher writes chains only for records that carry a programmatic solution, as "
                    "`visionr1 synth` writes them; other data needs --teacher endpoints)")
        else:
            why += " (rejected.jsonl gives each record's reason)"
    raise NothingKept(f"kept none of the records, so {out / 'cold.jsonl'} is empty and `visionr1 sft` would have "
                      f"nothing to learn from: {why}")


def _raise_if_most_calls_failed(outcomes: list[Outcome], out: Path) -> None:
    """A run in which most records lost a call for good is an endpoint problem, not a data result: say so."""
    from visionr1.endpoints import EndpointsFailing

    failed = [o for o in outcomes if o.reason == "failed_call"]
    if outcomes and len(failed) * 2 > len(outcomes):
        common = Counter(o.detail for o in failed).most_common(1)[0][0]
        raise EndpointsFailing(
            f"{len(failed)} of {len(outcomes)} records failed their endpoint calls (most often: {common}); the outputs "
            f"in {out} hold only what was kept. Fix the endpoint and rerun the same command: the failed calls are "
            f"asked again and the answered ones are not")


def _run_round(cfg: BridgeConfig, data: LoadResult, state: RunState, progress: Any, workers: int,
               run_workers: Callable[..., list[Outcome]], contested: frozenset[str], placed: set[str]) -> list[Outcome]:
    """Run ``data.records`` (one process, or ``workers``); the counters of earlier rounds are kept."""
    before = {s: dict(c.__dict__) for s, c in state.stages.items()}
    state.workers = max(state.workers, workers)
    if workers > 1:
        outcomes = run_workers(cfg, data, data.records, state, workers, progress, contested, placed)  # sets the counters
        for s, c in state.stages.items():
            for f, v in before[s].items():
                setattr(c, f, getattr(c, f) + v)
        return outcomes
    store = ResponseStore(Path(cfg.out or ".") / STORE_NAME, sync=cfg.store_sync)
    try:
        bridge = Bridge(cfg, data, store, state)

        async def main() -> list[Outcome]:
            if progress is None:
                return await bridge.run(data.records)
            with progress(state):
                return await bridge.run(data.records)

        outcomes = asyncio.run(main())
    finally:
        store.close()
    for s, c in state.stages.items():  # Bridge.run sets the totals to this round's
        c.total += before[s]["total"]
    return outcomes


def input_identity(path: Path | str) -> str:
    """The input a run folder belongs to: the file :func:`~visionr1.data.io.read_records` reads, as an absolute
    path (a synth folder and its train.jsonl, a relative and an absolute path are one input; a symlink is not
    resolved, since image paths are relative to the folder the file is read from)."""
    return os.path.normpath((native_jsonl(Path(path)) or Path(path)).absolute())


def check_same_input(cfg: BridgeConfig, force: bool = False, store: ResponseStore | None = None) -> None:
    """A run folder belongs to the input it was made from: a rerun with another ``--input`` would replace its
    outputs (a 24-line cold.jsonl once became 5 lines, silently) and replay stored responses by record id, which
    are only right for the same records. Refused unless ``force``, which makes the folder the new input's run.

    ``store``: the run's open store, where the input is recorded; without it (``--dry-run``) the folder's store
    is only read."""
    assert cfg.input is not None and cfg.out is not None
    now = input_identity(cfg.input)
    if store is not None:
        old = store.get_meta("input")
    elif (Path(cfg.out) / STORE_NAME).is_file():
        with ResponseStore(Path(cfg.out) / STORE_NAME) as opened:
            old = opened.get_meta("input")
    else:
        return
    if old is not None and old != now and not force:
        try:
            kept = f" ({json.loads((Path(cfg.out) / 'stats.json').read_text())['kept']} records kept)"
        except (OSError, ValueError, KeyError, TypeError):
            kept = ""
        raise ConfigError(f"{cfg.out} is the bridge run of {old}{kept}, not of {now}: a run folder belongs to one "
                          "input. Use a new --out for this input, or pass --force to make this folder its run (the "
                          "outputs are rewritten for it, and stored responses are replayed for records of the same id: "
                          "right only if they are the same records, e.g. the file moved)")
    if store is not None and old != now:
        store.set_meta("input", now)


def _check_same_teacher(store: ResponseStore, cfg: BridgeConfig) -> None:
    sig = {"teacher": cfg.teacher, "mllm": cfg.mllm.model, "reasoner": cfg.reasoner.model}
    if cfg.teacher == "template":
        sig = {"teacher": "template"}
    old = store.get_meta("signature")
    if old is None:
        store.set_meta("signature", sig)
    elif old != sig:
        raise ConfigError(
            f"{store.path} holds responses from {old}, not {sig}: use a new --out folder for another teacher or model"
        )


def _append_run_log(out: Path, cfg: BridgeConfig, state: RunState, n: int, elapsed: float) -> None:
    """One line per invocation in RUN_DIR/runs.jsonl: what this run called (vs replayed) and how fast."""
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "records": n,
        "seconds": round(elapsed, 3),
        "items_per_s": round(n / elapsed, 2) if elapsed > 0 else None,
        "teacher": cfg.teacher,
        "workers": state.workers,
        "new_calls": {s: state.stages[s].new_calls for s in STAGES},
        "replayed_calls": {s: state.stages[s].cached for s in STAGES},
    }
    append_jsonl(out / "runs.jsonl", [entry], ensure_ascii=True)
