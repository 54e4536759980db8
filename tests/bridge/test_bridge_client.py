"""ChatClient against the local server: retries, Retry-After, timeouts, garbled bodies, the API key."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from visionr1.config import EndpointConfig
from visionr1.endpoints.client import (
    ChatClient,
    EndpointError,
    image_data_url,
    retry_after_seconds,
    user_message,
)
from visionr1.testing import FaultPlan, OpenAIServer, Reply


def _ask(url: str, *, key: str = "k", timeout: float = 2.0, retries: int = 3, env: str = "OPENAI_API_KEY", **kw):
    async def go():
        cfg = EndpointConfig(base_url=url, model="m", timeout=timeout, max_retries=retries, concurrency=4, api_key_env=env)
        async with ChatClient(cfg, backoff_base=0.01, **kw) as client:
            return await client.chat([user_message("2+2?")], key=key), client.counters

    return asyncio.run(go())


def test_plain_call_returns_content_usage_and_tries():
    with OpenAIServer(lambda r: Reply(content="4", prompt_tokens=7, completion_tokens=1)) as s:
        result, counters = _ask(s.url)
    assert (result.content, result.prompt_tokens, result.completion_tokens, result.tries) == ("4", 7, 1, 1)
    assert counters.succeeded == 1 and counters.in_flight == 0


def test_rate_limit_honours_retry_after():
    with OpenAIServer(lambda r: "ok", faults=FaultPlan(rate_limit=1.0, retry_after=0.4)) as s:
        t0 = time.perf_counter()
        result, counters = _ask(s.url)
        elapsed = time.perf_counter() - t0
        statuses = [e.status for e in s.log]
    assert result.content == "ok" and result.tries == 2
    assert statuses == [429, 200]
    assert elapsed >= 0.4  # backoff alone would have waited <= 0.01 s
    assert counters.errors == {"rate_limited": 1}


@pytest.mark.parametrize("fault,kind", [("server_error", "server_error"), ("malformed", "bad_response"), ("hang", "timeout")])
def test_transient_faults_are_retried(fault, kind):
    plan = FaultPlan(**{fault: 1.0}, hang_seconds=30.0, transient_per_key=1)
    with OpenAIServer(lambda r: "fine", faults=plan) as s:  # 2 s: ample for the retried answer on a busy machine
        result, counters = _ask(s.url, timeout=2.0)
    assert result.content == "fine" and result.tries == 2
    assert counters.errors == {kind: 1}


def test_retries_exhausted_raise_endpoint_error_with_kind():
    with OpenAIServer(lambda r: "x", faults=FaultPlan(always_fail=("bad",))) as s:
        with pytest.raises(EndpointError) as info:
            _ask(s.url, key="bad-1", retries=2)
        assert len(s.requests_for("bad-1")) == 3
    assert info.value.kind == "server_error" and info.value.status == 500 and info.value.tries == 3


def test_client_errors_are_not_retried():
    with OpenAIServer(lambda r: Reply(status=400, content="context too long")) as s:
        with pytest.raises(EndpointError) as info:
            _ask(s.url)
        assert len(s.log) == 1
    assert info.value.kind == "client_error" and "context too long" in str(info.value)


def test_empty_content_is_a_result_not_an_error():
    with OpenAIServer(lambda r: "x", faults=FaultPlan(empty=1.0)) as s:
        result, _ = _ask(s.url)
    assert result.content == ""


def test_reasoning_content_field_is_returned():
    with OpenAIServer(lambda r: Reply(content="42", reasoning_content="think think")) as s:
        result, _ = _ask(s.url)
    assert (result.reasoning, result.content) == ("think think", "42")


def test_concurrency_is_bounded():
    seen = []

    def responder(req):
        return Reply(content="ok", delay=0.05)

    async def go(url):
        cfg = EndpointConfig(base_url=url, model="m", concurrency=3)
        async with ChatClient(cfg) as client:
            async def watch():
                for _ in range(20):
                    seen.append(client.counters.in_flight)
                    await asyncio.sleep(0.01)
            await asyncio.gather(watch(), *[client.chat([user_message(str(i))]) for i in range(12)])

    with OpenAIServer(responder) as s:
        asyncio.run(go(s.url))
    assert max(seen) == 3


def test_api_key_sent_but_never_logged_or_shown(monkeypatch, caplog):
    secret = "sk-test-SECRET-123"
    monkeypatch.setenv("BRIDGE_TEST_KEY", secret)
    got = {}

    def responder(req):
        got["auth"] = req.headers.get("authorization")
        return Reply(status=400, content="nope")

    caplog.set_level(logging.DEBUG)
    with OpenAIServer(responder) as s:
        with pytest.raises(EndpointError) as info:
            _ask(s.url, env="BRIDGE_TEST_KEY")
        cfg = EndpointConfig(base_url=s.url, api_key_env="BRIDGE_TEST_KEY")
        text = repr(ChatClient(cfg)) + repr(cfg) + str(info.value)
    assert got["auth"] == f"Bearer {secret}"
    assert secret not in text
    assert secret not in caplog.text


def test_images_are_sent_as_base64_data_urls(tmp_path):
    from PIL import Image

    path = tmp_path / "a.png"
    Image.new("RGB", (4, 4), "red").save(path)
    urls = []

    def responder(req):
        urls.extend(req.image_urls())
        return "ok"

    async def go(url):
        async with ChatClient(EndpointConfig(base_url=url, model="m")) as client:
            await client.chat([user_message("what?", [image_data_url(path)])])

    with OpenAIServer(responder) as s:
        asyncio.run(go(s.url))
    assert len(urls) == 1 and urls[0].startswith("data:image/png;base64,iVBOR")


def test_retry_after_forms():
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize("body,ctype", [
    (b"\xff\xfe\x00\x81binary\x9c", "application/json"),  # issue 33 item 6: not even text (UnicodeDecodeError)
    (b"\x89PNG\r\n\x1a\n\x00\x00", "application/json"),
    (b'{"choices": [', "application/json"),  # cut short
    (b"", "application/json"),
    (b"<html>502 Bad Gateway</html>", "text/html"),
    (b"null", "application/json"),
    (b'{"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": "many"}}', "application/json"),
])
def test_a_reply_that_is_not_a_completion_is_a_bad_response_not_a_crash(body, ctype):
    """Whatever a 200 holds, the call fails as ``bad_response`` (retried, then an EndpointError the stage turns
    into a failed call), never an exception from the JSON or text decoding underneath."""
    with OpenAIServer(lambda r: Reply(raw=body, headers={"Content-Type": ctype})) as s:
        with pytest.raises(EndpointError) as e:
            _ask(s.url, retries=1)
    assert e.value.kind == "bad_response" and e.value.tries == 2
