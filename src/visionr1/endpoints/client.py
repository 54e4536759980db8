"""An async OpenAI-compatible chat client built for long batch jobs.

Why not the ``openai`` client's own retries (read in its ``_base_client.py``, openai 1.60 to 3.63): it
retries the same statuses, timeouts and connection errors and reads ``Retry-After(-Ms)`` as we do, but

* it parses the body after its retry loop, so a 200 that is not a usable completion (a proxy's cut JSON or
  HTML page, no ``choices``) fails the item at once; here it is retried like any other transient fault;
* it keeps no account a caller can read: how many tries a call took and why each failed (the store's
  ``tries``, :class:`EndpointError`'s kind/status/tries, the live retry counts by kind of the progress
  display) exist only in its debug log, and its exceptions do not carry the count;
* its waits are fixed: 0.5 s doubling to at most 8 s, shortened by 0-25% (64 workers refused together
  retry within one quarter of the same wait, and at our 6 retries a saturated server is given up on after
  ~23 s of waits), and a ``Retry-After`` over 60 s is ignored for that short backoff (1.x) or ends the call
  (3.x, over 120 s); here the backoff's base and cap and the longest ``Retry-After`` honoured are the
  client's arguments, with full jitter.

So the ``openai`` client is used with ``max_retries=0`` as the transport and this module owns the retry loop:

* bounded concurrency: at most ``EndpointConfig.concurrency`` requests in flight (an asyncio semaphore;
  one event loop, no threads);
* per-request timeout (``EndpointConfig.timeout``);
* retries (``EndpointConfig.max_retries``) on 408/409/429/5xx, timeouts, connection errors and
  unparseable responses, with exponential backoff and full jitter; a ``Retry-After`` /
  ``Retry-After-Ms`` header sets the wait instead (capped at ``max_retry_after``);
* other 4xx are permanent: no retry;
* the API key is read from the environment variable the config names, only when the client is
  built, and never appears in a repr, log line, error message or output.

The ``openai`` client's HTTP goes through httpx2/httpcore2 on :mod:`visionr1.endpoints.transport`'s
asyncio network backend (no event-loop pass between a request's head and body).

Example:
    >>> import asyncio
    >>> from visionr1.config import EndpointConfig
    >>> from visionr1.testing import OpenAIServer, Reply
    >>> async def ask(url):
    ...     async with ChatClient(EndpointConfig(base_url=url, model="m")) as client:
    ...         return await client.chat([user_message("2+2?")])
    >>> with OpenAIServer(lambda req: Reply(content="4")) as server:
    ...     result = asyncio.run(ask(server.url))
    >>> result.content, result.finish_reason
    ('4', 'stop')
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import mimetypes
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.config import EndpointConfig
from visionr1.errors import VisionR1Error

__all__ = [
    "ChatClient",
    "ChatResult",
    "EndpointError",
    "image_data_url",
    "user_message",
]

LANE_SIZE = 8
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class EndpointError(VisionR1Error):
    """A call that failed for good: retries exhausted, or a permanent error (4xx other than 408/409/429).

    Attributes:
        kind: ``rate_limited``, ``server_error``, ``timeout``, ``connection``, ``bad_response`` or
            ``client_error``.
        status: the last HTTP status, when there was one.
        tries: how many HTTP requests were made.
    """

    def __init__(self, kind: str, message: str, *, status: int | None = None, tries: int = 0):
        self.kind = kind
        self.status = status
        self.tries = tries
        super().__init__(f"{kind}: {message} (after {tries} tr{'y' if tries == 1 else 'ies'})")


@dataclass
class ChatResult:
    """One successful completion.

    ``reasoning`` is the separate reasoning field when the server sends one (DeepSeek's
    ``reasoning_content``, vLLM's ``reasoning``), else None; inline ``<think>`` stays in ``content``
    (see :func:`visionr1.r1.split_reasoning`).
    """

    content: str
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    tries: int = 1
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChatResult:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class ClientCounters:
    """Live figures for a progress display."""

    in_flight: int = 0
    requests: int = 0
    retries: int = 0
    succeeded: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def image_data_url(path: Path | str) -> str:
    """A ``data:`` URL with the file's bytes in base64 (what OpenAI-compatible servers accept inline).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"; _ = p.write_bytes(b"\\x89PNG")
    >>> image_data_url(p)
    'data:image/png;base64,iVBORw=='
    """
    path = Path(path)
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def user_message(text: str, images: Sequence[str] = ()) -> dict[str, Any]:
    """A user turn: the images (URLs, e.g. from :func:`image_data_url`) first, then the text.

    >>> user_message("hi")
    {'role': 'user', 'content': 'hi'}
    """
    if not images:
        return {"role": "user", "content": text}
    parts: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": u}} for u in images]
    parts.append({"type": "text", "text": text})
    return {"role": "user", "content": parts}


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds a response asks us to wait: ``Retry-After-Ms``, ``Retry-After`` seconds or HTTP date."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        if name == "retry-after":
            try:
                parsed = email.utils.parsedate_to_datetime(value)
                return max(0.0, parsed.timestamp() - time.time())
            except (TypeError, ValueError, IndexError):
                return None
    return None


def _http_client(ssl_context: Any, limits: Any, timeout: float) -> Any:
    """The ``httpx2.AsyncClient`` under one ``openai`` client: on the asyncio backend, unless proxies are set.

    httpx2 honours ``HTTP(S)_PROXY``/``ALL_PROXY``/``NO_PROXY`` only with its own transport, so with any of
    them in the environment the stock transport is used (anyio backend: slower, same behaviour).
    """
    import urllib.request

    import httpx2

    if urllib.request.getproxies():
        return httpx2.AsyncClient(limits=limits, timeout=timeout, verify=ssl_context)
    from visionr1.endpoints.transport import asyncio_transport

    return httpx2.AsyncClient(transport=asyncio_transport(verify=ssl_context, limits=limits), timeout=timeout)


class ChatClient:
    """Bounded, retrying chat completions against one OpenAI-compatible endpoint.

    Args:
        config: base URL, model, API-key variable, timeout, retries and concurrency.
        backoff_base: first backoff in seconds; try ``k`` waits ``uniform(0, base * 2**k)`` (full jitter),
            capped at ``backoff_max``.
        max_retry_after: longest ``Retry-After`` honoured, in seconds.
        default_params: extra request fields for every call (``temperature``, ``max_tokens``, ...).
    """

    def __init__(
        self,
        config: EndpointConfig,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 300.0,
        default_params: dict[str, Any] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not config.base_url:
            raise VisionR1Error("endpoint base_url is empty; set it in the config or with the --*-url flag")
        self.config = config
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.default_params = dict(default_params or {})
        self.counters = ClientCounters()
        self._rng = rng or random.Random()
        # Connections are split over several small pools ("lanes"): httpx's pool scans every pooled
        # connection per request, which at 64+ connections costs more CPU than the request itself.
        self._lanes = max(1, -(-config.concurrency // LANE_SIZE))
        self._slots: asyncio.Queue[int] | None = None
        self._clients: list[Any] = []

    def __repr__(self) -> str:  # never shows the key
        return f"ChatClient({self.config.base_url!r}, model={self.config.model!r}, concurrency={self.config.concurrency})"

    def _open(self) -> None:
        import httpx2
        from openai import AsyncOpenAI

        per_lane = -(-self.config.concurrency // self._lanes)
        key = self.config.api_key()
        ssl_context = _shared_ssl_context()  # loading CA certificates costs ~20 ms a client: do it once
        for _ in range(self._lanes):
            limits = httpx2.Limits(max_connections=per_lane + 2, max_keepalive_connections=per_lane + 2)
            self._clients.append(AsyncOpenAI(
                base_url=self.config.base_url,
                api_key=key,
                max_retries=0,
                timeout=self.config.timeout,
                http_client=_http_client(ssl_context, limits, self.config.timeout),
            ))
        self._slots = asyncio.Queue()
        for i in range(self.config.concurrency):
            self._slots.put_nowait(i % self._lanes)

    async def aclose(self) -> None:
        for c in self._clients:
            await c.close()
        self._clients = []
        self._slots = None

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    async def chat(self, messages: list[dict[str, Any]], *, key: str | None = None, **params: Any) -> ChatResult:
        """One chat completion, retried as the module docstring says; raises :class:`EndpointError`.

        ``key`` is sent as the ``X-Request-Key`` header (servers ignore it; test servers log it).
        ``params`` are extra request fields on top of ``default_params``.
        """
        import openai

        if self._slots is None:
            self._open()
        assert self._slots is not None
        body = {"model": self.config.model, "messages": messages, **self.default_params, **params}
        options: dict[str, Any] = {"timeout": self.config.timeout}
        if key:
            options["headers"] = {"X-Request-Key": key}
        tries = 0
        t0 = time.perf_counter()
        lane = await self._slots.get()
        client = self._clients[lane]
        try:
            while True:
                tries += 1
                self.counters.requests += 1
                self.counters.in_flight += 1
                wait: float | None = None
                try:
                    # the low-level post skips the SDK's per-field request transform (~1 ms a call)
                    resp = await client.post("/chat/completions", cast_to=object, body=body, options=options)
                    result = self._result(resp, tries, time.perf_counter() - t0)
                    self.counters.succeeded += 1
                    self.counters.prompt_tokens += result.prompt_tokens
                    self.counters.completion_tokens += result.completion_tokens
                    return result
                except openai.APIStatusError as e:
                    status = e.status_code
                    kind = "rate_limited" if status == 429 else "server_error" if status >= 500 else "client_error"
                    if status not in RETRYABLE_STATUS:
                        raise self._fail(kind, _short(e), status, tries) from None
                    wait = retry_after_seconds(getattr(e.response, "headers", None))
                    if wait is not None and wait > self.max_retry_after:
                        raise self._fail(kind, f"server asks to wait {wait:.0f}s (> {self.max_retry_after:.0f}s)", status, tries) from None
                    error: tuple[str, str, int | None] = (kind, _short(e), status)
                except openai.APITimeoutError:
                    error = ("timeout", f"no answer within {self.config.timeout:g}s", None)
                except openai.APIConnectionError as e:
                    error = ("connection", _short(e), None)
                except (openai.APIResponseValidationError, ValueError, _BadResponse) as e:
                    # ValueError: a body that is not JSON (json's errors), or not even text (UnicodeDecodeError)
                    error = ("bad_response", _short(e), None)
                finally:
                    self.counters.in_flight -= 1
                if tries > self.config.max_retries:
                    raise self._fail(error[0], error[1], error[2], tries)
                self.counters.retries += 1
                self.counters.errors[error[0]] = self.counters.errors.get(error[0], 0) + 1
                await asyncio.sleep(wait if wait is not None else self._backoff(tries - 1))
        finally:
            self._slots.put_nowait(lane)

    def _fail(self, kind: str, message: str, status: int | None, tries: int) -> EndpointError:
        self.counters.failed += 1
        return EndpointError(kind, message, status=status, tries=tries)

    @staticmethod
    def _result(resp: Any, tries: int, seconds: float) -> ChatResult:
        if not isinstance(resp, dict):
            raise _BadResponse(f"response is not a JSON object: {str(resp)[:80]!r}")
        choices = resp.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _BadResponse("response has no choices")
        choice = choices[0]
        msg = choice.get("message")
        if not isinstance(msg, dict):
            raise _BadResponse("response choice has no message")
        reasoning = msg.get("reasoning_content") or msg.get("reasoning")
        usage = resp.get("usage") if isinstance(resp.get("usage"), dict) else {}
        content = msg.get("content")
        return ChatResult(
            content=content if isinstance(content, str) else "",
            reasoning=reasoning if isinstance(reasoning, str) else None,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=str(resp.get("model") or ""),
            tries=tries,
            seconds=round(seconds, 4),
        )


def preload() -> None:
    """Do now what a client's first call would do once per process: import ``openai`` (~0.35 s) and its
    transport, build the shared SSL context (~20 ms). Processes forked afterwards inherit all of it and
    make their first request at once."""
    import httpx2  # noqa: F401
    import openai  # noqa: F401
    from openai import AsyncOpenAI  # noqa: F401

    try:  # what httpx2 imports on a client's first connection (~35 ms)
        import anyio._backends._asyncio  # noqa: F401
        import h11  # noqa: F401
        import httpcore2  # noqa: F401
    except ImportError:
        pass
    _shared_ssl_context()


_SSL_CONTEXT: Any = None


def _shared_ssl_context() -> Any:
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        import ssl

        _SSL_CONTEXT = ssl.create_default_context()
    return _SSL_CONTEXT


class _BadResponse(Exception):
    """A 200 whose body is not a usable completion."""


def _short(e: BaseException, limit: int = 300) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
