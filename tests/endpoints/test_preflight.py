"""The preflight: one GET /models per endpoint before a batch job, so a dead URL or a wrong model ends it at once."""

from __future__ import annotations

import socket
import time

import pytest

from visionr1.config import EndpointConfig
from visionr1.testing import OpenAIServer, Reply


def closed_port_url() -> str:
    """A local URL nothing listens on (a port bound and released, so the connection is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_a_closed_port_fails_at_once_naming_the_role_and_url(monkeypatch):
    from visionr1.endpoints import EndpointUnavailable, check_endpoints

    url = closed_port_url()
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)  # a retry would wait (backoff) before trying again
    with pytest.raises(EndpointUnavailable, match=rf"cannot reach the reasoner endpoint {url}.*server up"):
        check_endpoints({"reasoner": EndpointConfig(base_url=url, model="r", max_retries=6)})
    assert waits == []  # at once: no retries with backoff (not timed: a busy machine is slow, not wrong)


def test_a_model_the_server_does_not_list_is_named_with_the_ones_it_does():
    from visionr1.endpoints import EndpointUnavailable, check_endpoints

    with OpenAIServer(models=["qwen-vl", "r1"]) as server:
        assert check_endpoints({"mllm": EndpointConfig(base_url=server.url, model="qwen-vl"),
                                "reasoner": EndpointConfig(base_url=server.url, model="r1")}) == {
            "mllm": "ok", "reasoner": "ok"}
        with pytest.raises(EndpointUnavailable, match=r"mllm endpoint .* does not serve model 'qwen'; it lists: qwen-vl, r1"):
            check_endpoints({"mllm": EndpointConfig(base_url=server.url, model="qwen")})
        assert server.log == []  # the preflight asks for no completion


def test_a_server_without_a_model_list_is_reachable_and_the_name_is_left_to_the_calls():
    from visionr1.endpoints import check_endpoints

    with OpenAIServer() as server:
        assert check_endpoints({"mllm": EndpointConfig(base_url=server.url, model="any")}) == {"mllm": "model not checked"}


def test_the_test_server_refuses_unlisted_models_like_vllm():
    from openai import NotFoundError, OpenAI

    with OpenAIServer(lambda req: Reply(content="4"), models=["m"]) as server:
        client = OpenAI(base_url=server.url, api_key="x", max_retries=0)
        assert client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}]).choices[0].message.content == "4"
        with pytest.raises(NotFoundError, match="does not exist"):
            client.chat.completions.create(model="other", messages=[{"role": "user", "content": "hi"}])
