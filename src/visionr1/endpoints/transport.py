"""The HTTP transport under the ``openai`` client: httpx2 + httpcore2, on plain asyncio sockets.

Why: httpcore2 talks to the network through a pluggable *network backend* (its public
``AsyncNetworkBackend`` / ``AsyncNetworkStream`` interface). The default one goes through anyio, which
costs a 64-way client two things per request:

* after every socket write anyio yields to the event loop (a "checkpoint"), and httpcore writes a
  request as two writes (head, then body). The body therefore waits a whole pass of the event loop
  behind the head: with 64 requests in flight that is milliseconds for which the server holds half a
  request and the concurrency slot does no work;
* a cancel scope per read and write, and, for every pooled connection at every request, a
  ``poll()`` system call to see whether the server closed it.

:class:`AsyncioBackend` is that interface on an ``asyncio.Protocol``: a write goes to the transport at
once and returns without yielding unless the transport asks to pause (flow control); a read returns
buffered bytes at once or waits for the next ``data_received``; "did the server close this idle
connection" is answered from what the protocol has seen (bytes or EOF already received), with no
system call. Timeouts raise httpcore2's ``ReadTimeout`` / ``WriteTimeout`` / ``ConnectTimeout`` and
socket errors its ``ReadError`` / ``WriteError`` / ``ConnectError``, as the anyio backend does, so
httpx2 and ``openai`` see the same exceptions (``APITimeoutError``, ``APIConnectionError``).
HTTP itself (h11, keep-alive, the pool, TLS via ``loop.start_tls``) stays with httpcore2 and asyncio.

Example:
    >>> import asyncio, httpx2
    >>> from visionr1.testing import OpenAIServer, Reply
    >>> async def get(url):
    ...     async with httpx2.AsyncClient(transport=asyncio_transport()) as http:
    ...         return (await http.post(url + "/chat/completions", json={"messages": []})).json()["choices"][0]["message"]["content"]
    >>> with OpenAIServer(lambda req: Reply(content="hi")) as server:
    ...     asyncio.run(get(server.url))
    'hi'
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2

__all__ = ["AsyncioBackend", "AsyncioStream", "asyncio_transport"]

READ_BUFFER_LIMIT = 1 << 20
"""Stop reading from the socket while this many received bytes wait to be read (flow control)."""


class _Protocol(asyncio.Protocol):
    """Buffers what arrives and wakes the one reader or writer waiting on this connection."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None  # a read waiting for data
        self.drain: asyncio.Future[None] | None = None  # a write waiting for the transport to resume
        self.paused_writing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > READ_BUFFER_LIMIT and self.transport is not None:
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # let the transport close itself

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.eof = True
        self.error = exc
        self._wake_reader()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)
        self.drain = None

    def _wake_reader(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        self.waiter = None


async def _wait(fut: asyncio.Future[None], timeout: float | None, error: type[Exception], what: str) -> None:
    """Await ``fut``, raising ``error`` if ``timeout`` seconds pass first."""
    if timeout is None:
        await fut
        return
    loop = asyncio.get_running_loop()
    timer = loop.call_later(timeout, lambda: fut.done() or fut.set_exception(error(f"{what} timed out after {timeout:g}s")))
    try:
        await fut
    finally:
        timer.cancel()


class AsyncioStream(httpcore2.AsyncNetworkStream):
    """One connection (TCP, or TLS on top of it) for httpcore2."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        if not p.chunks:
            if p.error is not None:
                raise httpcore2.ReadError(str(p.error) or type(p.error).__name__)
            if p.eof:
                return b""
            if p.waiter is not None:
                raise httpcore2.ReadError("another read is already waiting on this connection")
            p.waiter = asyncio.get_running_loop().create_future()
            try:
                await _wait(p.waiter, timeout, httpcore2.ReadTimeout, "read")
            finally:
                p.waiter = None
            if not p.chunks:
                if p.error is not None:
                    raise httpcore2.ReadError(str(p.error) or type(p.error).__name__)
                return b""  # EOF: the server closed the connection
        data = p.chunks.pop(0)
        if len(data) > max_bytes:
            data, rest = data[:max_bytes], data[max_bytes:]
            p.chunks.insert(0, rest)
        was_over = p.buffered > READ_BUFFER_LIMIT
        p.buffered -= len(data)
        if was_over and p.buffered <= READ_BUFFER_LIMIT and not p.closed:
            self._transport.resume_reading()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        p = self._protocol
        if p.closed or self._transport.is_closing():
            raise httpcore2.WriteError(str(p.error) if p.error else "the connection is closed")
        self._transport.write(buffer)
        if p.paused_writing:  # the transport's buffer is over its high-water mark: wait until it drains
            p.drain = asyncio.get_running_loop().create_future()
            await _wait(p.drain, timeout, httpcore2.WriteTimeout, "write")
            if p.error is not None:
                raise httpcore2.WriteError(str(p.error) or type(p.error).__name__)

    async def aclose(self) -> None:
        self._transport.abort()  # as the anyio backend does: a closed HTTP connection has nothing left to flush

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        try:
            transport = await asyncio.wait_for(
                loop.start_tls(self._transport, self._protocol, ssl_context, server_hostname=server_hostname), timeout
            )
        except asyncio.TimeoutError:
            self._transport.abort()
            raise httpcore2.ConnectTimeout(f"TLS handshake timed out after {timeout:g}s") from None
        except (OSError, ssl.SSLError) as e:
            self._transport.abort()
            raise httpcore2.ConnectError(str(e)) from e
        if transport is None:
            raise httpcore2.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = transport  # type: ignore[assignment]
        return AsyncioStream(transport, self._protocol)  # type: ignore[arg-type]

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # an idle keep-alive connection is "readable" only when the server closed it (or sent
            # something unexpected); the protocol has already seen either, so no system call is needed
            p = self._protocol
            return bool(p.chunks) or p.eof or p.closed
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore2.AsyncNetworkBackend):
    """httpcore2's network backend on asyncio (TCP and Unix sockets, TLS through ``loop.start_tls``)."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            transport, protocol = await asyncio.wait_for(
                loop.create_connection(_Protocol, host, port, local_addr=local), timeout
            )
        except asyncio.TimeoutError:
            raise httpcore2.ConnectTimeout(f"connecting to {host}:{port} timed out after {timeout:g}s") from None
        except OSError as e:
            raise httpcore2.ConnectError(str(e)) from e
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():  # asyncio already sets TCP_NODELAY
            sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await asyncio.wait_for(loop.create_unix_connection(_Protocol, path), timeout)
        except asyncio.TimeoutError:
            raise httpcore2.ConnectTimeout(f"connecting to {path} timed out after {timeout:g}s") from None
        except OSError as e:
            raise httpcore2.ConnectError(str(e)) from e
        sock: socket.socket = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def asyncio_transport(*, verify: ssl.SSLContext | bool = True, limits: httpx2.Limits | None = None) -> httpx2.AsyncHTTPTransport:
    """An ``httpx2.AsyncHTTPTransport`` whose connection pool runs on :class:`AsyncioBackend`.

    httpx2's transport takes no network backend argument, so its pool is replaced by one built with
    the same SSL context and limits; should a future httpx2 keep its pool elsewhere, the transport is
    returned unchanged (the anyio backend: slower, same behaviour).
    """
    limits = limits or httpx2.Limits()
    ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx2.create_ssl_context(verify=verify)
    transport = httpx2.AsyncHTTPTransport(verify=ssl_context, limits=limits)
    if type(getattr(transport, "_pool", None)) is httpcore2.AsyncConnectionPool:
        transport._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )
    return transport
