"""Optional LLM judge for the extraction step, over any OpenAI-compatible chat endpoint.

MathVista's official pipeline asks GPT-4 to pull the answer out of each response with a few-shot
prompt. :class:`Judge` does the same against an endpoint you choose (vLLM, a hosted model…), so
the official protocol can be followed where a judge is available; the rules stay the default.
Two ways to use it, as evaluation kits do:

* every record the official protocol sends to GPT (``--judge-endpoint/--judge-model``);
* only the records the rules leave *undecided* (``--judge-undecided``): a refusal, a reply whose
  answer only a fallback found. Rules first, a judge for the rest: a few percent of the calls.

Calls go through :mod:`visionr1.endpoints` (bounded concurrency, retries with backoff and
``Retry-After``, timeouts) and every answer is written at once to a durable
:class:`~visionr1.endpoints.ResponseStore`, keyed by the record and a hash of the judge model and
the prompt: a rerun, or a second pass over the same records, reads the answers back and calls the
endpoint for nothing it already asked. A record whose call fails for good falls back to the rules,
so one bad call never loses a record.

Usage is ask-then-flush: :meth:`Judge.answer` returns a stored answer or queues the request and
returns ``None``; :meth:`Judge.flush` sends everything queued, concurrently. A scorer runs once
to queue what it needs, flushes, and runs again with every answer in hand.

Example:
    >>> from visionr1.testing import OpenAIServer
    >>> with OpenAIServer(lambda req: "C") as server:                       # doctest: +SKIP
    ...     judge = Judge(JudgeEndpointConfig(base_url=server.url, model="judge-model"), store_path="judge.sqlite")
    ...     judge.answer("1", "…Extracted answer: ") is None                # queued
    ...     judge.flush(); judge.answer("1", "…Extracted answer: ")
    True
    'C'
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.config import EndpointConfig
from visionr1.errors import ConfigError

STAGE_PREFIX = "judge"

EXTRACTION_PROMPT = """\
You read a model's answer to a visual math question and copy out its final answer only.
Reply with the answer alone: a number, a list, an option letter, or a short text. If the model
gave no answer, reply N/A.

Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.
Question: How many birds are on the wire?

Model response: I count three birds on the left and two on the right, so 5 birds in all.

Extracted answer: 5

Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.
Question: What is the price of two pens? (Unit: $)

Model response: One pen costs $0.85, so two pens cost $1.70.

Extracted answer: 1.70

Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.
Question: In which two years was the value the same?

Model response: The bars for 2011 and 2014 have the same height.

Extracted answer: [2011, 2014]

Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.
Question: Which angle is largest?
Choices:
(A) 30°
(B) 60°
(C) 90°

Model response: The right angle is the largest, so the answer is (C) 90°.

Extracted answer: C
"""
NO_ANSWER = frozenset({"N/A", "NA", "NONE", "NULL", ""})


def build_prompt(response: str, record: Mapping[str, Any]) -> str:
    """The few-shot prompt for one record: examples, then its query and response."""
    query = record.get("query") or record.get("question") or ""
    return f"{EXTRACTION_PROMPT}\n{query}\n\nModel response: {response}\n\nExtracted answer: "


def clean_reply(text: str) -> str:
    """The judge's reply without an echoed ``Extracted answer:`` label."""
    text = (text or "").strip()
    if text.lower().startswith("extracted answer:"):
        text = text.split(":", 1)[1].strip()
    return text


@dataclass
class JudgeEndpointConfig(EndpointConfig):
    """The judge's endpoint: an :class:`~visionr1.config.EndpointConfig` with the judge's own defaults (short
    extraction calls, often to a shared server: 16 in flight, 4 retries, 120 s), the one place they are set,
    whether the judge comes from ``--judge-*`` flags, an eval.yaml ``judge:`` block or ``visionr1 score``."""

    timeout: float = field(default=120.0, metadata={"help": "Per-request timeout in seconds."})
    max_retries: int = field(default=4, metadata={"help": "Retries on 429/5xx/timeouts/connection errors."})
    concurrency: int = field(default=16, metadata={"help": "Requests in flight at once."})


def judge_config(base_url: str | None, model: str | None,
                 api_key_env: str = "OPENAI_API_KEY") -> JudgeEndpointConfig | None:
    """The judge ``--judge-endpoint/--judge-model/--judge-api-key-env`` name, with the judge's defaults; None
    when neither URL nor model is given (judge-free). One of the two alone is refused, naming the flags."""
    if bool(base_url) != bool(model):
        raise ConfigError("give both --judge-endpoint and --judge-model to use a judge, or neither")
    if not base_url:
        return None
    return JudgeEndpointConfig(base_url=base_url, model=model or "", api_key_env=api_key_env)


class Judge:
    """Answer extraction by an OpenAI-compatible LLM, through the endpoints client and a durable store.

    Args:
        config: the judge's endpoint (base URL, model, key env, concurrency, retries, timeout); build it with
            :class:`JudgeEndpointConfig` or :func:`judge_config` to get the judge's defaults.
        store_path: the SQLite file that keeps every answer (reruns read it back).
        max_tokens: the longest reply (an extracted answer is short).

    Counters, for the report: ``calls`` (calls made by this object, each answered), ``reused``
    (answers read back from the store instead of asked), ``failures`` (calls that failed for good;
    those records fall back to the rules), ``requests`` and ``retries`` (HTTP requests sent,
    retries among them).
    """

    def __init__(self, config: EndpointConfig, *, store_path: Path | str, max_tokens: int = 64) -> None:
        if not config.base_url or not config.model:
            raise ConfigError("a judge needs both --judge-endpoint URL and --judge-model NAME")
        from visionr1.endpoints import ResponseStore

        self.config = config
        self.max_tokens = max_tokens
        try:
            self.store = ResponseStore(store_path)
        except (OSError, sqlite3.Error) as e:
            raise ConfigError(f"cannot open the judge store {store_path}: {e}; choose another with --judge-store") from e
        self.store_path = Path(store_path)
        self.pending: dict[tuple[str, str], str] = {}
        self.calls = self.reused = self.failures = self.requests = self.retries = 0
        self._made: set[tuple[str, str]] = set()
        self._counted: set[tuple[str, str]] = set()
        self._failed: set[tuple[str, str]] = set()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def stage(self, prompt: str) -> str:
        """The store's stage for a prompt: the same prompt to the same judge model is the same call."""
        digest = hashlib.sha256(f"{self.config.model}\0{prompt}".encode()).hexdigest()[:20]
        return f"{STAGE_PREFIX}:{digest}"

    def answer(self, record_id: str, prompt: str) -> str | None:
        """The judge's answer for this record and prompt, or ``None`` when it is not known yet
        (the request is then queued for :meth:`flush`) or its call failed for good."""
        key = (str(record_id), self.stage(prompt))
        stored = self.store.get(key[0], key[1], 0)
        if stored is not None and stored.ok:
            if key not in self._counted:
                self._counted.add(key)
                self.reused += key not in self._made
            return clean_reply((stored.payload or {}).get("content", ""))
        if key not in self._failed:
            self.pending[key] = prompt
        return None

    def flush(self) -> int:
        """Send every queued request (concurrently, with retries), store each answer as it
        arrives; return how many calls were made."""
        jobs = list(self.pending.items())
        self.pending.clear()
        if not jobs:
            return 0
        before = self.calls + self.failures
        asyncio.run(self._send(jobs))
        return self.calls + self.failures - before

    async def _send(self, jobs: list[tuple[tuple[str, str], str]]) -> None:
        from visionr1.endpoints import ChatClient, EndpointError, user_message

        params = {"temperature": 0.0, "max_tokens": self.max_tokens}
        async with ChatClient(self.config, default_params=params) as client:

            async def one(key: tuple[str, str], prompt: str) -> None:
                rid, stage = key
                try:
                    result = await client.chat([user_message(prompt)], key=f"{rid}/{stage}")
                except EndpointError as e:
                    self.store.put_failed(rid, stage, 0, str(e))
                    self._failed.add(key)
                    self.failures += 1
                    return
                self.store.put_ok(rid, stage, 0, {"content": result.content, "model": result.model,
                                                  "tries": result.tries})
                self._made.add(key)
                self.calls += 1

            await asyncio.gather(*(one(key, prompt) for key, prompt in jobs))
            self.requests += client.counters.requests
            self.retries += client.counters.retries

    def summary(self) -> dict[str, Any]:
        """The counters and the store, as ``scores.json`` records them."""
        return {"model": self.config.model, "calls": self.calls, "reused": self.reused, "failures": self.failures,
                "requests": self.requests, "retries": self.retries, "store": str(self.store_path)}


@dataclass(frozen=True)
class JudgeSpec:
    """A judge for one scoring run (:func:`visionr1.eval.benchmarks.scoring.score_protocols`): its endpoint, the
    file that keeps its answers (a rerun reads them back), and whether it reads only the replies the rules leave
    undecided (``--judge-undecided``) or every reply the protocol sends to GPT."""

    config: EndpointConfig
    store: Path
    undecided_only: bool = False


class ItemJudge:
    """The judge as a benchmark's reader asks it: ``(response, item) -> str | None``, the answer the judge reads in
    ``response`` (few-shot extraction, :func:`build_prompt`), or ``None`` when it has none yet (the request is
    queued on :attr:`judge` for the scoring loop to send), says there is none, or, with ``undecided_only``, when
    the rules decide the reply themselves: the benchmark's rules then decide."""

    rule = "judge"

    def __init__(self, judge: Judge, *, undecided_only: bool = False) -> None:
        self.judge = judge
        self.undecided_only = undecided_only

    def __call__(self, response: str, item: Any) -> str | None:
        from visionr1.grading import extract_answer

        if not response or not response.strip():
            return None
        if self.undecided_only and extract_answer(response, choices=item.choices).decided:
            return None
        record = {"response": response, "query": item.query, "question": item.query, "choices": item.choices,
                  "answer_type": item.answer_type or "text", "precision": item.precision,
                  "question_type": "multi_choice" if item.choices else "free_form"}
        out = self.judge.answer(item.id, build_prompt(response, record))
        if not isinstance(out, str) or out.strip().upper() in NO_ANSWER:
            return None
        return out.strip()


class MathVistaJudge:
    """The extractor (``(response, record) -> str | None``) that MathVista scoring calls: the judge's
    extraction for the record, or ``None`` (queued, or failed: the rules then decide)."""

    rule = "judge"

    def __init__(self, judge: Judge) -> None:
        self.judge = judge

    def __call__(self, response: str, record: Mapping[str, Any]) -> str | None:
        rid = str(record.get("pid") or hashlib.sha256(response.encode()).hexdigest()[:16])
        return self.judge.answer(rid, build_prompt(response, record))
