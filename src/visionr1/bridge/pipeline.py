"""Modality bridging, stages 1-5, resumable: records in, cold-start SFT data out.

Per record (see the Vision-R1 paper, section 3.1):

1. ``pseudo_cot`` (MLLM): image + question + ground-truth answer -> caption and step-by-step reasoning;
2. ``description`` (MLLM): image + question + pseudo-CoT -> a detailed description of the image;
3. ``reasoning`` (text reasoner, DeepSeek-R1 class): description + question -> long CoT + final answer;
4. filters (:mod:`visionr1.bridge.filters`): keep, or reject with a named reason;
5. assembly (:mod:`visionr1.bridge.export`): ``<think>…</think><answer>…</answer>`` with the original image(s).

With ``teacher: template`` stages 1-3 are replaced by :mod:`visionr1.bridge.teacher` (no server).

Every response goes into the :class:`~visionr1.endpoints.ResponseStore` (``RUN_DIR/calls.sqlite``) the
moment it arrives, keyed by (record id, stage, attempt). A rerun of the same command replays stored
calls instead of making them, so an interrupted run (even by SIGKILL) resumes where it was and pays for
nothing twice. The outputs are written at the end, atomically, from the stored responses in input
order, so a resumed run writes the same files as an uninterrupted one.

Processes: with ``workers`` > 1 (``--workers``; auto = 2 on 2+ CPUs) that many client processes each run
this same event loop with their share of each endpoint's concurrency, taking the next record whenever
they have room for one, all writing the one store (:mod:`visionr1.bridge.workers`); the outputs are the
same bytes as a one-process run's. The whole run (input, rounds, workers, outputs) is :func:`visionr1.bridge.run.run_bridge`;
this module is the per-record machine it drives, in one process or in each worker.

Input: native JSONL is read lazily (no further than ``limit`` needs) and each record's images are
opened just before its first call, in a thread of the process running it, so with several workers the
checks run in parallel and overlap the calls; a bad image still ends as a ``bad_input`` rejection
naming the item, in the place a check-everything-first reader would give it (see
:func:`visionr1.bridge.run.run_bridge`).

Attempts: a stage whose answer is empty is asked again with the next attempt number, up to
``generation.stage_attempts`` times; stage 3 may also draw up to ``generation.reasoner_samples``
samples until one passes the filters (default 1: no rejection sampling).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.filters import Candidate, Verdict, check, reject
from visionr1.bridge.prompts import load_prompt
from visionr1.bridge.teacher import template_cot
from visionr1.data.io import LoadResult
from visionr1.data.record import Record
from visionr1.endpoints.client import ChatClient, EndpointError, image_data_url, user_message
from visionr1.endpoints.store import ResponseStore, StoredCall
from visionr1.errors import DataError
from visionr1.r1 import choice_lines, split_reasoning

STAGES = ("pseudo_cot", "description", "reasoning")
"""Store stage names, in order; the first two use the ``mllm`` endpoint, the last the ``reasoner``."""

STORE_NAME = "calls.sqlite"

Messages = list[dict[str, Any]] | Callable[[], list[dict[str, Any]]]


@dataclass
class Outcome:
    """What became of one record: kept (with the reasoning and ``<answer>`` text) or rejected."""

    index: int
    record: Record
    kept: bool
    reason: str | None = None
    stage: str | None = None
    detail: str = ""
    reasoning: str = ""
    answer: str = ""


@dataclass
class StageCounters:
    """Live counters for one stage (the progress display reads them)."""

    total: int = 0
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    new_calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class RunState:
    stages: dict[str, StageCounters] = field(default_factory=lambda: {s: StageCounters() for s in (*STAGES, "filters")})
    started: float = field(default_factory=time.time)
    teacher: str = "endpoints"
    workers: int = 1


class Bridge:
    """Runs stages 1-4 for records, one event loop, bounded by each endpoint's concurrency."""

    def __init__(self, cfg: BridgeConfig, data: LoadResult, store: ResponseStore, state: RunState | None = None,
                 on_kept: Callable[[int], None] | None = None):
        self.cfg = cfg
        self.data = data
        self.on_kept = on_kept  # called with a record's index (in ``run``'s list) as soon as it is kept
        self.store = store
        self.state = state or RunState()
        self.clients: dict[str, ChatClient] = {}
        if cfg.teacher == "endpoints":
            gen = cfg.generation
            self.clients["mllm"] = ChatClient(
                cfg.mllm, backoff_base=cfg.retry_backoff, default_params={"max_tokens": gen.mllm_max_tokens, "temperature": gen.mllm_temperature}
            )
            self.clients["reasoner"] = ChatClient(
                cfg.reasoner, backoff_base=cfg.retry_backoff, default_params={"max_tokens": gen.reasoner_max_tokens, "temperature": gen.reasoner_temperature}
            )
        self.prompts = {name: load_prompt(name, getattr(cfg.prompts, name)) for name in ("pseudo_cot", "description", "reasoner")}

    async def aclose(self) -> None:
        for c in self.clients.values():
            await c.aclose()

    # ------------------------------------------------------------------ one call, store first

    async def call(self, rec: Record, stage: str, attempt: int, messages: Messages) -> StoredCall:
        """The stored result of (record, stage, attempt), calling the endpoint only if it is not stored.

        ``messages`` may be a function that builds them, so that a replayed call reads no image.
        """
        counters = self.state.stages[stage]
        hit = self.store.get(rec.id, stage, attempt)
        if hit is not None and (hit.ok or not self.cfg.retry_failed):
            counters.cached += 1
            self._count_tokens(counters, hit)
            return hit
        client = self.clients["reasoner" if stage == "reasoning" else "mllm"]
        counters.in_flight += 1
        try:
            result = await client.chat(messages() if callable(messages) else messages, key=f"{rec.id}/{stage}/{attempt}")
        except EndpointError as e:
            error = str(e)
            fresh = StoredCall(rec.id, stage, attempt, "failed", None, error, time.time())
            written = self.store.put_failed(rec.id, stage, attempt, error)
        else:
            payload = result.to_dict()
            fresh = StoredCall(rec.id, stage, attempt, "ok", payload, None, time.time())
            written = self.store.put_ok(rec.id, stage, attempt, payload)
        finally:
            counters.in_flight -= 1
        counters.new_calls += 1
        # what was just written is what the store holds (JSON round-trips these plain values); only when
        # the write was refused (a finished row was already there) is the stored row read back
        stored = fresh if written else self.store.get(rec.id, stage, attempt)
        assert stored is not None
        self._count_tokens(counters, stored)
        return stored

    @staticmethod
    def _count_tokens(counters: StageCounters, call: StoredCall) -> None:
        if call.ok and call.payload:
            counters.prompt_tokens += int(call.payload.get("prompt_tokens") or 0)
            counters.completion_tokens += int(call.payload.get("completion_tokens") or 0)

    async def text_stage(self, rec: Record, stage: str, messages: Messages) -> tuple[str | None, Verdict | None]:
        """Stages 1-2: the answer text (reasoning stripped), or a rejection."""
        counters = self.state.stages[stage]
        for attempt in range(self.cfg.generation.stage_attempts):
            call = await self.call(rec, stage, attempt, messages)
            if not call.ok:
                counters.failed += 1
                return None, reject("failed_call", call.error or "")
            assert call.payload is not None
            _, text = split_reasoning(call.payload.get("content"), None)
            if text.strip():
                counters.done += 1
                return text.strip(), None
        counters.failed += 1
        return None, reject("empty_response", f"{stage}: {self.cfg.generation.stage_attempts} empty answer(s)")

    # ------------------------------------------------------------------ one record

    async def run_record(self, index: int, rec: Record) -> Outcome:
        if self.cfg.teacher == "template":
            return self._judge(index, rec, template_cot(rec, seed=self.cfg.template.seed, flaw_rate=self.cfg.template.flaw_rate,
                                                        brief=self.cfg.template.brief))
        choices = choice_lines(rec.choices)
        answer = f"({rec.answer_letter}) {rec.answer}" if rec.choices else rec.answer
        cache: list[str] = []

        def images() -> list[str]:  # read and encoded once per record (stages 1 and 2), and only if called
            if not cache:
                cache.extend(image_data_url(p) for p in self.data.image_paths(rec))
            return cache

        prompt1 = self.prompts["pseudo_cot"].render(question=rec.question, choices=choices, answer=answer)
        pseudo, bad = await self.text_stage(rec, "pseudo_cot", lambda: [user_message(prompt1, images())])
        if bad:
            return self._rejected(index, rec, bad, "pseudo_cot")
        prompt2 = self.prompts["description"].render(question=rec.question, choices=choices, pseudo_cot=pseudo or "")
        description, bad = await self.text_stage(rec, "description", lambda: [user_message(prompt2, images())])
        if bad:
            return self._rejected(index, rec, bad, "description")
        cache.clear()
        hint = f"\nHint: the correct answer is {answer}." if self.cfg.generation.answer_hint else ""
        fmt = " (the letter of the correct option)" if rec.choices else ""
        prompt3 = self.prompts["reasoner"].render(
            question=rec.question, choices=choices, description=description or "", hint=hint, answer_format=fmt
        )
        return await self.reasoning_stage(index, rec, [user_message(prompt3)])

    async def reasoning_stage(self, index: int, rec: Record, messages: list[dict[str, Any]]) -> Outcome:
        gen = self.cfg.generation
        counters = self.state.stages["reasoning"]
        empties = samples = attempt = 0
        verdict: Verdict | None = None
        while True:
            call = await self.call(rec, "reasoning", attempt, messages)
            attempt += 1
            if not call.ok:
                counters.failed += 1
                return self._rejected(index, rec, reject("failed_call", call.error or ""), "reasoning")
            p = call.payload or {}
            if not (p.get("content") or "").strip() and not (p.get("reasoning") or "").strip():
                empties += 1
                if empties >= gen.stage_attempts:
                    counters.failed += 1
                    return self._rejected(index, rec, verdict or reject("empty_response", "reasoning: empty answer(s)"), "reasoning")
                continue
            counters.done += 1
            cand = Candidate.from_response(p.get("content"), p.get("reasoning"), p.get("finish_reason"))
            outcome = self._judge(index, rec, cand)
            samples += 1
            if outcome.kept or samples >= gen.reasoner_samples:
                return outcome

    def _judge(self, index: int, rec: Record, cand: Candidate | None) -> Outcome:
        counters = self.state.stages["filters"]
        verdict = reject("no_solution") if cand is None else check(cand, rec, self.cfg.filters)
        if verdict.ok:
            counters.done += 1
            return Outcome(index, rec, True, reasoning=verdict.reasoning, answer=verdict.answer)
        counters.failed += 1
        return self._rejected(index, rec, verdict, "filters")

    @staticmethod
    def _rejected(index: int, rec: Record, verdict: Verdict, stage: str) -> Outcome:
        return Outcome(index, rec, False, reason=verdict.reason, stage=stage, detail=verdict.detail)

    # ------------------------------------------------------------------ all records

    async def run(self, records: list[Record], order: Iterator[int] | None = None) -> list[Outcome]:
        """Process ``records`` (bounded in-flight), returning outcomes in input order.

        ``order``: the indices of the records to run, drawn one at a time when a slot frees (workers
        share one such source, so each takes the next record as soon as it has room; see
        :mod:`visionr1.bridge.workers`); default all of them, in order. The stage totals count the
        records drawn.
        """
        counted = order is None
        for s in self.state.stages.values():
            s.total = len(records) if counted else 0
        if order is None:
            order = iter(range(len(records)))
        width = 4 * sum(c.config.concurrency for c in self.clients.values()) or 64
        slots = asyncio.Semaphore(width)
        outcomes: list[Outcome | None] = [None] * len(records)
        # images not yet opened by the reader are checked here, record by record just before its first
        # call, in a thread (a large image takes milliseconds to decode) and, with several workers, in
        # parallel; a bad one becomes an ``input`` outcome that run_bridge turns into a bad_input error
        checker = None if self.data.images_checked else ThreadPoolExecutor(1, thread_name_prefix="visionr1-check")
        loop = asyncio.get_running_loop()

        async def one(i: int, rec: Record) -> None:
            try:
                if checker is not None:
                    try:
                        await loop.run_in_executor(checker, self.data.check_images, rec)
                    except DataError as e:
                        outcomes[i] = Outcome(i, rec, False, reason="bad_input", stage="input", detail=e.reason)
                        for s in self.state.stages.values():
                            s.total -= 1
                        return
                outcome = outcomes[i] = await self.run_record(i, rec)
                if outcome.kept and self.on_kept is not None:
                    self.on_kept(i)
            finally:
                slots.release()

        tasks = set()
        try:
            for started in itertools.count(1):
                await slots.acquire()  # a record is drawn only once there is room for it
                i = next(order, None)
                if i is None:
                    slots.release()
                    break
                if not counted:
                    for s in self.state.stages.values():
                        s.total += 1
                t = asyncio.create_task(one(i, records[i]))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                if self.cfg.teacher == "template" and started % 256 == 0:
                    await asyncio.sleep(0)  # let the progress display breathe
            while tasks:
                await asyncio.gather(*list(tasks))
        finally:
            for t in tasks:
                t.cancel()
            if tasks:  # let them finish cancelling (they hand their connection back) before the clients close
                await asyncio.gather(*tasks, return_exceptions=True)
            await self.aclose()
            if checker is not None:
                checker.shutdown(wait=True, cancel_futures=True)  # no thread left behind (workers fork)
        return [o for o in outcomes if o is not None]
