"""The asyncio network backend under the openai client: same HTTP, no yield per write, no poll per request."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import httpcore2
import httpx2
import pytest

from visionr1.config import EndpointConfig
from visionr1.endpoints.client import ChatClient, EndpointError, user_message
from visionr1.endpoints.transport import AsyncioBackend, AsyncioStream, asyncio_transport
from visionr1.testing import FaultPlan, OpenAIServer


async def _http_server(handler, ssl_context=None):
    """A raw HTTP/1.1 server: ``handler(head, body, writer)`` answers one request; returns (server, port)."""

    async def serve(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                if not await handler(head, body, writer):
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ssl_context)
    return server, server.sockets[0].getsockname()[1]


def _reply(writer, body: bytes, *, close: bool = False) -> None:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    writer.write((head + ("connection: close\r\n" if close else "") + "\r\n").encode() + body)


def test_the_client_pool_runs_on_the_asyncio_backend():
    transport = asyncio_transport()
    assert isinstance(transport._pool._network_backend, AsyncioBackend)


@pytest.mark.parametrize("proxy", [None, "http://127.0.0.1:9"])
def test_proxies_from_the_environment_keep_the_stock_transport(monkeypatch, proxy):
    """httpx2 honours HTTPS_PROXY only with its own transport: with a proxy set, the client must still use it."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
    client = ChatClient(EndpointConfig(base_url="https://api.example.com/v1", model="m"))
    client._open()
    http = client._clients[0]._client
    on_asyncio = isinstance(getattr(getattr(http._transport, "_pool", None), "_network_backend", None), AsyncioBackend)
    assert on_asyncio == (proxy is None)
    proxied = [m for m in http._mounts.values() if m is not None]
    assert bool(proxied) == (proxy is not None)


def test_a_write_completes_without_yielding_to_the_event_loop():
    """httpcore writes a request as head then body; the body must follow at once, not one loop pass later."""

    async def go():
        received = asyncio.get_running_loop().create_future()

        async def handler(head, body, writer):
            received.set_result((head, body))
            return False

        server, port = await _http_server(handler)
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        steps = []
        for part in (b"POST / HTTP/1.1\r\ncontent-length: 4\r\n\r\n", b"body"):
            coro = stream.write(part, timeout=5)
            try:
                coro.send(None)
                steps.append("yielded")
            except StopIteration:
                steps.append("done")
        head, body = await asyncio.wait_for(received, 5)
        await stream.aclose()
        server.close()
        return steps, body

    steps, body = asyncio.run(go())
    assert steps == ["done", "done"] and body == b"body"


def test_chat_through_the_backend_and_its_faults():
    """Timeouts, 5xx and garbled bodies reach the retry loop as before (the transport maps the errors)."""
    plan = FaultPlan(hang=0.5, server_error=0.5, hang_seconds=5.0, transient_per_key=1)

    async def go(url):
        cfg = EndpointConfig(base_url=url, model="m", timeout=2.0, max_retries=3, concurrency=4)  # ample when busy
        async with ChatClient(cfg, backoff_base=0.01) as client:
            results = await asyncio.gather(*(client.chat([user_message(f"q{i}")], key=f"r{i}/s/0") for i in range(12)))
            return results, client.counters

    with OpenAIServer(lambda r: "fine", faults=plan) as s:
        results, counters = asyncio.run(go(s.url))
    assert [r.content for r in results] == ["fine"] * 12
    assert set(counters.errors) == {"timeout", "server_error"} and sum(counters.errors.values()) == 12


def test_connection_refused_is_a_connection_error():
    async def go():
        server, port = await _http_server(lambda *a: None)
        server.close()
        await server.wait_closed()
        cfg = EndpointConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=1.0, max_retries=0, concurrency=1)
        async with ChatClient(cfg) as client:
            await client.chat([user_message("hi")])

    with pytest.raises(EndpointError) as e:
        asyncio.run(go())
    assert e.value.kind == "connection"


def test_read_timeout_and_eof_raise_httpcore_errors():
    async def go():
        async def silent(head, body, writer):
            return True  # never answers

        server, port = await _http_server(silent)
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises(httpcore2.ReadTimeout):
            await stream.read(1024, timeout=0.1)
        server.close()
        await stream.aclose()

        async def close_at_once(head, body, writer):
            return False

        server, port = await _http_server(close_at_once)
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"GET / HTTP/1.1\r\n\r\n")
        assert await stream.read(1024, timeout=5) == b""  # EOF, as httpcore expects
        server.close()

    asyncio.run(go())


def test_an_idle_connection_the_server_closed_is_replaced():
    """The pool asks 'is_readable' of idle connections; the protocol's EOF answers it (no poll())."""

    async def go():
        async def once(head, body, writer):
            _reply(writer, b'{"n": 1}')
            await writer.drain()
            return False  # keep-alive announced, then closed by the server

        server, port = await _http_server(once)
        async with httpx2.AsyncClient(transport=asyncio_transport()) as http:
            first = await http.get(f"http://127.0.0.1:{port}/")
            await asyncio.sleep(0.1)  # the FIN arrives while the connection idles in the pool
            second = await http.get(f"http://127.0.0.1:{port}/")
        server.close()
        return first.json(), second.json()

    assert asyncio.run(go()) == ({"n": 1}, {"n": 1})


def test_large_bodies_both_ways():
    """A body far over the transport's write high-water mark and a response over the read buffer limit."""
    big = b"x" * (8 << 20)

    async def go():
        async def echo_len(head, body, writer):
            _reply(writer, b'{"len": %d, "pad": "%s"}' % (len(body), b"y" * (3 << 20)))
            await writer.drain()
            return True

        server, port = await _http_server(echo_len)
        async with httpx2.AsyncClient(transport=asyncio_transport()) as http:
            r = await http.post(f"http://127.0.0.1:{port}/", content=big)
        server.close()
        return r.json()

    out = asyncio.run(go())
    assert out["len"] == len(big) and len(out["pad"]) == 3 << 20


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https_through_start_tls(tmp_path: Path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))

    async def go():
        async def answer(head, body, writer):
            _reply(writer, b'{"tls": true, "body": "%s"}' % body)
            await writer.drain()
            return True

        server, port = await _http_server(answer, server_ctx)
        async with httpx2.AsyncClient(transport=asyncio_transport(verify=client_ctx)) as http:
            ok = await http.post(f"https://localhost:{port}/", content=b"secret")
            again = await http.post(f"https://localhost:{port}/", content=b"again")  # the same TLS connection
        async with httpx2.AsyncClient(transport=asyncio_transport()) as http:  # the system CAs do not trust it
            with pytest.raises(httpx2.ConnectError):
                await http.get(f"https://localhost:{port}/")
        server.close()
        return ok.json(), again.json()

    assert asyncio.run(go()) == ({"tls": True, "body": "secret"}, {"tls": True, "body": "again"})


def test_stream_reports_addresses_and_socket():
    async def go():
        server, port = await _http_server(lambda *a: None)
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        info = (stream.get_extra_info("server_addr"), stream.get_extra_info("socket") is not None,
                stream.get_extra_info("ssl_object"), stream.get_extra_info("is_readable"))
        await stream.aclose()
        server.close()
        return info, isinstance(stream, AsyncioStream)

    (addr, has_sock, ssl_obj, readable), ok = asyncio.run(go())
    assert addr[1] > 0 and has_sock and ssl_obj is None and readable is False and ok
