"""A local OpenAI-compatible chat-completions server for tests and benchmarks.

Why: clients that call real endpoints (the bridge's MLLM and reasoner, the eval harness's endpoint
backend) must be tested with the real ``openai`` package against real HTTP, including the faults a
production endpoint produces: 429 with ``Retry-After``, 5xx, requests that hang past the client's
timeout, malformed JSON bodies and empty completions. This server does that on 127.0.0.1 with an
ephemeral port, from Python or as a subprocess (for SIGKILL tests), with no dependencies beyond the
standard library.

Pieces:

* a **responder** ``(ChatRequest) -> Reply | str | dict`` decides what the model says (default:
  :func:`echo_responder`); load one by dotted path or ``file.py:function`` with :func:`load_responder`;
* a :class:`FaultPlan` injects faults, deterministically from the request key (see below);
* ``latency`` delays every answer (seconds), as a busy endpoint would;
* the **request log**: one :class:`LogEntry` per request, kept in ``server.log`` and appended as a JSON
  line to ``log_path`` (flushed per line) so another process can read it while the server runs.

Request keys: a client may send an ``X-Request-Key`` header naming the logical call (the bridge sends
``record/stage/attempt``). The server counts requests per key (``ChatRequest.n``, 1 for the first),
logs the key, and the fault plan uses it, so a test can ask "was this call requested again after it
was answered?". Without the header the key is a hash of the body.

Example:
    >>> from openai import OpenAI
    >>> with OpenAIServer(lambda req: Reply(content="4")) as server:
    ...     client = OpenAI(base_url=server.url, api_key="x")
    ...     client.chat.completions.create(model="m", messages=[{"role": "user", "content": "2+2?"}]).choices[0].message.content
    '4'

Command line (prints ``PORT`` to ``--port-file`` once listening)::

    python -m visionr1.testing.openai_server --port-file port.txt --log requests.jsonl \\
        --latency 0.2 --faults '{"rate_limit": 0.1, "server_error": 0.05}' --responder tests/x.py:respond
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import importlib.util
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ChatRequest", "FaultPlan", "LogEntry", "OpenAIServer", "Reply", "echo_responder", "load_responder"]

KEY_HEADER = "x-request-key"


@dataclass
class ChatRequest:
    """One chat-completions request as the responder sees it.

    Attributes:
        body: the parsed JSON body (``model``, ``messages``, ``max_tokens``, ...).
        headers: request headers, lower-cased names.
        key: the ``X-Request-Key`` header, else a hash of the body.
        n: how many requests with this key the server has received, this one included (1 = first).
    """

    body: dict[str, Any]
    headers: dict[str, str]
    key: str
    n: int

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    def text(self) -> str:
        """All text parts of all messages, joined by newlines (images left out)."""
        out = []
        for m in self.messages:
            c = m.get("content")
            if isinstance(c, str):
                out.append(c)
            elif isinstance(c, list):
                out.extend(p.get("text", "") for p in c if isinstance(p, dict) and p.get("type") == "text")
        return "\n".join(out)

    def image_urls(self) -> list[str]:
        """The ``image_url`` parts' URLs (``data:image/png;base64,...`` for inline images)."""
        urls = []
        for m in self.messages:
            c = m.get("content")
            if isinstance(c, list):
                for p in c:
                    if isinstance(p, dict) and p.get("type") == "image_url":
                        iu = p.get("image_url")
                        urls.append(iu.get("url", "") if isinstance(iu, dict) else str(iu))
        return urls


@dataclass
class Reply:
    """What the server answers.

    ``status`` other than 200 sends an OpenAI-style error body; ``raw`` sends these bytes as the body
    verbatim (for malformed responses); ``delay`` adds seconds before answering (``float("inf")`` hangs
    until the client gives up). Token counts default to rough word counts.
    """

    content: str | None = ""
    reasoning_content: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    delay: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    fault: str | None = None  # a label for the log ("rate_limit", ...)


Responder = Callable[[ChatRequest], "Reply | str | dict[str, Any]"]


def echo_responder(req: ChatRequest) -> Reply:
    """Default responder: answers with the last user text, prefixed by ``echo:``."""
    return Reply(content="echo: " + req.text()[-200:])


@dataclass(frozen=True)
class FaultPlan:
    """Which requests fail, and how; deterministic in (seed, key, n), so reruns see the same faults.

    Transient faults (``rate_limit``, ``server_error``, ``hang``, ``malformed``) hit a key's first
    ``transient_per_key`` requests with the given probabilities, so a client that retries gets through.
    ``empty`` is a property of the key (every request with that key gets an empty completion), like a
    model that has nothing to say for that prompt. Keys containing any of ``always_fail`` get a 500
    every time (a permanently failing item).

    Example:
        >>> FaultPlan(rate_limit=1.0).pick("rec-1/caption/0", 1)
        'rate_limit'
        >>> FaultPlan(rate_limit=1.0).pick("rec-1/caption/0", 2) is None
        True
    """

    rate_limit: float = 0.0
    server_error: float = 0.0
    hang: float = 0.0
    malformed: float = 0.0
    empty: float = 0.0
    retry_after: float = 0.05
    hang_seconds: float = 3600.0
    transient_per_key: int = 1
    always_fail: tuple[str, ...] = ()
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> FaultPlan:
        d = dict(d or {})
        if "always_fail" in d:
            d["always_fail"] = tuple(d["always_fail"])
        return cls(**d)

    def _u(self, *parts: Any) -> float:
        h = hashlib.blake2b("/".join(map(str, (self.seed, *parts))).encode(), digest_size=8).digest()
        return int.from_bytes(h, "big") / 2**64

    def pick(self, key: str, n: int) -> str | None:
        """The fault for the ``n``-th request with ``key``, or None."""
        if any(s in key for s in self.always_fail):
            return "always_fail"
        if self.empty and self._u("empty", key) < self.empty:
            return "empty"
        if n <= self.transient_per_key:
            u = self._u("transient", key, n)
            for name in ("rate_limit", "server_error", "hang", "malformed"):
                p = getattr(self, name)
                if u < p:
                    return name
                u -= p
        return None

    def reply(self, fault: str) -> Reply:
        if fault == "rate_limit":
            return Reply(status=429, headers={"retry-after": f"{self.retry_after:g}"}, fault=fault)
        if fault in ("server_error", "always_fail"):
            return Reply(status=500, fault=fault)
        if fault == "hang":
            return Reply(delay=self.hang_seconds, content="too late", fault=fault)
        if fault == "malformed":
            return Reply(raw=b'{"id": "chatcmpl-x", "choices": [{"index": 0, "message": {"role": "assis', fault=fault)
        return Reply(content="", fault=fault)


@dataclass
class LogEntry:
    """One request in the log: when it arrived and was answered (``time.time()``), its key, the
    per-key count ``n``, the HTTP status sent (0 if the client hung up first) and the fault, if any."""

    key: str
    n: int
    model: str
    received: float
    answered: float = 0.0
    status: int = 0
    fault: str | None = None


def load_responder(spec: str) -> Responder:
    """A responder from ``package.module:function`` or ``path/to/file.py:function``."""
    if ":" not in spec:
        raise ValueError(f"responder {spec!r} must look like module:function or file.py:function")
    target, name = spec.rsplit(":", 1)
    if target.endswith(".py"):
        mod_name = "_responder_" + hashlib.sha1(target.encode()).hexdigest()[:8]
        s = importlib.util.spec_from_file_location(mod_name, target)
        if s is None or s.loader is None:
            raise ValueError(f"cannot load responder file {target}")
        module = importlib.util.module_from_spec(s)
        s.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    return getattr(module, name)


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}


class OpenAIServer:
    """An OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1.

    Use as a context manager (it runs in a background thread with its own event loop) or call
    :meth:`serve` from an event loop you own. ``url`` is the base URL to give a client
    (``http://127.0.0.1:PORT/v1``).

    Args:
        responder: ``(ChatRequest) -> Reply | str | dict``; a ``str`` is the content, a ``dict`` is
            ``Reply(**d)``. Exceptions become a 500 with the message.
        latency: seconds to wait before each answer (on top of ``Reply.delay``).
        faults: a :class:`FaultPlan` (or its dict form) or a function ``(ChatRequest) -> Reply | None``.
        log_path: a JSONL file to append one :class:`LogEntry` per answered request.
        port: 0 (default) for an ephemeral port.
        models: the model names served, as vLLM does: ``GET /models`` lists them and a chat request for another
            name is a 404 ``model_not_found``. None (default): any name is served and ``GET /models`` is a 404,
            as some OpenAI-compatible proxies answer (a client cannot check the name beforehand).
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        latency: float = 0.0,
        faults: FaultPlan | dict[str, Any] | Callable[[ChatRequest], Reply | None] | None = None,
        log_path: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        models: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        self.responder = responder or echo_responder
        self.models = list(models) if models is not None else None
        self.latency = float(latency)
        self.faults = FaultPlan.from_dict(faults) if isinstance(faults, dict) else faults
        self.log_path = Path(log_path) if log_path else None
        self.host = host
        self.port = port
        self.log: list[LogEntry] = []
        self._counts: dict[str, int] = {}
        self._log_file: Any = None
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._conns: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def requests_for(self, key: str) -> list[LogEntry]:
        """Log entries for one request key."""
        return [e for e in self.log if e.key == key]

    # ------------------------------------------------------------------ lifecycle

    async def start_async(self) -> None:
        """Bind and start accepting (from inside a running event loop)."""
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        self._stop = asyncio.Event()

    async def stop_async(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    async def serve(self) -> None:
        """Serve until :meth:`shutdown` (or cancellation)."""
        if self._server is None:
            await self.start_async()
        assert self._stop is not None
        try:
            await self._stop.wait()
        finally:
            await self.stop_async()

    def shutdown(self) -> None:
        if self._stop is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        elif self._stop is not None:
            self._stop.set()

    def start(self) -> OpenAIServer:
        """Run in a background thread; returns once the port is bound."""

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self.start_async())
                self._ready.set()
                self._loop.run_until_complete(self.serve())
            finally:
                self._ready.set()
                self._loop.close()

        self._thread = threading.Thread(target=run, name="openai-test-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._server is None:
            raise RuntimeError("the test server did not start")
        return self

    def stop(self) -> None:
        self.shutdown()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                status, out_headers, payload = await self._route(method, path, headers, body)
                if status == 0:  # hung past the client's patience; it will have closed the connection
                    return
                head_out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", "content-type: application/json",
                            f"content-length: {len(payload)}", "connection: keep-alive"]
                head_out += [f"{k}: {v}" for k, v in out_headers.items()]
                writer.write(("\r\n".join(head_out) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            return
        finally:
            self._conns.discard(task)
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - closing a dead socket
                pass

    async def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        path = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and path.endswith("/models"):
            if self.models is None:
                return 404, {}, _error_body(f"no route for {method} {path}", "not_found")
            return 200, {}, json.dumps({"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}).encode()
        if method != "POST" or not path.endswith("/chat/completions"):
            return 404, {}, _error_body(f"no route for {method} {path}", "not_found")
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return 400, {}, _error_body("request body is not JSON", "invalid_request_error")
        if self.models is not None and str(data.get("model", "")) not in self.models:
            return 404, {}, _error_body(f"The model `{data.get('model', '')}` does not exist.", "model_not_found")
        key = headers.get(KEY_HEADER) or hashlib.sha1(body).hexdigest()[:16]
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        req = ChatRequest(body=data, headers=headers, key=key, n=n)
        entry = LogEntry(key=key, n=n, model=req.model, received=time.time())
        self.log.append(entry)
        reply = self._fault(req)
        if reply is None:
            try:
                reply = _as_reply(self.responder(req))
            except Exception as e:  # noqa: BLE001 - a responder bug is a 500, not a dead server
                reply = Reply(status=500, content=f"responder error: {e!r}", fault="responder_error")
        entry.fault = reply.fault
        delay = self.latency + reply.delay
        if delay > 0:
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                self._write_log(entry)
                raise
        status, out_headers, payload = _render(reply, req)
        entry.status, entry.answered = status, time.time()
        self._write_log(entry)
        return status, out_headers, payload

    def _fault(self, req: ChatRequest) -> Reply | None:
        if self.faults is None:
            return None
        if isinstance(self.faults, FaultPlan):
            name = self.faults.pick(req.key, req.n)
            return None if name is None else self.faults.reply(name)
        return self.faults(req)

    def _write_log(self, entry: LogEntry) -> None:
        if self._log_file is not None:
            self._log_file.write(json.dumps(asdict(entry)) + "\n")


def _error_body(message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": None}}).encode()


def _as_reply(value: Reply | str | dict[str, Any]) -> Reply:
    if isinstance(value, Reply):
        return value
    if type(value).__name__ == "Reply" and hasattr(value, "__dataclass_fields__"):  # Reply from a re-imported module
        return Reply(**{k: getattr(value, k) for k in Reply.__dataclass_fields__})
    if isinstance(value, str):
        return Reply(content=value)
    if isinstance(value, dict):
        return Reply(**value)
    raise TypeError(f"a responder must return Reply, str or dict, not {type(value).__name__}")


def _render(reply: Reply, req: ChatRequest) -> tuple[int, dict[str, str], bytes]:
    if reply.raw is not None:
        return reply.status, reply.headers, reply.raw
    if reply.status != 200:
        kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
        return reply.status, reply.headers, _error_body(reply.content or f"injected {reply.fault or 'error'}", kind)
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.reasoning_content is not None:
        message["reasoning_content"] = reply.reasoning_content
    completion = reply.completion_tokens
    if completion is None:
        completion = len(((reply.content or "") + " " + (reply.reasoning_content or "")).split())
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else len(req.text().split()) + 256 * len(req.image_urls())
    body = {
        "id": "chatcmpl-" + hashlib.sha1(f"{req.key}/{req.n}".encode()).hexdigest()[:12],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.model or "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }
    return 200, reply.headers, json.dumps(body, ensure_ascii=False).encode()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m visionr1.testing.openai_server", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="Port (0: ephemeral).")
    p.add_argument("--port-file", type=Path, help="Write the bound port here once listening.")
    p.add_argument("--log", type=Path, help="Append one JSON line per request here.")
    p.add_argument("--latency", type=float, default=0.0, help="Seconds before each answer.")
    p.add_argument("--faults", default=None, help="FaultPlan as JSON, e.g. '{\"rate_limit\": 0.1}'.")
    p.add_argument("--responder", default=None, help="module:function or file.py:function (default: echo).")
    p.add_argument("--models", default=None, help="Comma-separated model names served (default: any name; no model list).")
    args = p.parse_args(argv)
    # run as __main__: let responders that import this module get these very classes
    sys.modules.setdefault("visionr1.testing.openai_server", sys.modules[__name__])
    responder = load_responder(args.responder) if args.responder else None
    faults = FaultPlan.from_dict(json.loads(args.faults)) if args.faults else None
    models = [m for m in args.models.split(",") if m] if args.models else None
    server = OpenAIServer(responder, latency=args.latency, faults=faults, log_path=args.log, port=args.port, models=models)

    async def run() -> None:
        await server.start_async()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.shutdown)
        if args.port_file:  # whole or not at all: the test reads it as soon as it is there
            from visionr1.files import write_text

            write_text(args.port_file, str(server.port))
        print(f"listening on {server.url}", flush=True)
        await server.serve()

    asyncio.run(run())


if __name__ == "__main__":
    main()
