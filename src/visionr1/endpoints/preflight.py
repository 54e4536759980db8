"""Ask each endpoint once before a batch job sends it anything.

Why: :class:`~visionr1.endpoints.ChatClient` retries every call that meets a connection error, a timeout or a
5xx, which is right for a server that hiccups and wrong for one that is not there: a bridge run against a
wrong port retried each of 300 records 7 times, took 138 s and exited 0 with ``kept 0 of 300``. One
``GET /models`` per endpoint (the OpenAI API's model list, which vLLM, SGLang, OpenAI and DeepSeek serve) tells
at once whether the URL answers, whether the key is accepted, and whether the model name is one the server
serves, and ends the command with the endpoint named when it is not.

A server that does not list its models (a 404 there, as some proxies answer) still proved it is reachable;
the model name is then left to the first real call.

Example:
    >>> from visionr1.config import EndpointConfig
    >>> from visionr1.testing import OpenAIServer
    >>> with OpenAIServer(models=["qwen"]) as server:
    ...     check_endpoints({"mllm": EndpointConfig(base_url=server.url, model="qwen")})
    {'mllm': 'ok'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from visionr1.config import EndpointConfig
from visionr1.errors import VisionR1Error

PREFLIGHT_TIMEOUT = 30.0
"""Most seconds the preflight waits for an endpoint (less when the endpoint's own timeout is shorter)."""


class EndpointUnavailable(VisionR1Error):
    """An endpoint did not answer the preflight, refused the key, or does not serve the model named."""


class EndpointsFailing(VisionR1Error):
    """Most calls of a run failed for good: the endpoint, not the data, is the problem."""


def _short(e: BaseException, limit: int = 200) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _list_models(ep: EndpointConfig, timeout: float) -> list[str] | None:
    """The model ids the server lists; None when it has no model list. Raises openai's errors otherwise."""
    import openai

    client = openai.OpenAI(base_url=ep.base_url, api_key=ep.api_key(), max_retries=0, timeout=timeout)
    try:
        body: Any = client.get("/models", cast_to=object)
    except openai.NotFoundError:
        return None
    finally:
        client.close()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id") is not None]


def check_endpoint(role: str, ep: EndpointConfig, timeout: float = PREFLIGHT_TIMEOUT) -> str:
    """Preflight one endpoint; returns ``"ok"`` or ``"model not checked"`` (no model list); raises
    :class:`EndpointUnavailable` naming ``role``, the URL and what to fix."""
    import openai

    where = f"{role} {ep.base_url}" if role.startswith("-") else f"the {role} endpoint {ep.base_url}"  # a flag names itself
    timeout = min(timeout, ep.timeout)
    try:
        models = _list_models(ep, timeout)
    except openai.AuthenticationError as e:
        raise EndpointUnavailable(f"{where} refused the API key (from ${ep.api_key_env}): {_short(e)}") from None
    except openai.PermissionDeniedError as e:
        raise EndpointUnavailable(f"{where} denied access with the API key from ${ep.api_key_env}: {_short(e)}") from None
    except openai.APITimeoutError:
        raise EndpointUnavailable(f"{where} did not answer within {timeout:g}s; is the server up and the URL "
                                  "right?") from None
    except openai.APIConnectionError as e:
        cause = _short(e.__cause__) if e.__cause__ else _short(e)
        raise EndpointUnavailable(f"cannot reach {where} ({cause}); is the server up and the URL right (it usually "
                                  "ends in /v1)?") from None
    except openai.APIStatusError as e:
        raise EndpointUnavailable(f"{where} answered HTTP {e.status_code} to GET /models: {_short(e)}") from None
    except (openai.APIError, ValueError) as e:  # a body that is not JSON: not an OpenAI-compatible server
        raise EndpointUnavailable(f"{where} does not answer like an OpenAI-compatible API: {_short(e)}") from None
    if models is None:
        return "model not checked"
    if ep.model not in models:
        listed = ", ".join(models[:10]) + (f", … ({len(models)} in all)" if len(models) > 10 else "")
        raise EndpointUnavailable(f"{where} does not serve model {ep.model!r}; it lists: {listed or 'no models'}")
    return "ok"


def check_endpoints(endpoints: Mapping[str, EndpointConfig], timeout: float = PREFLIGHT_TIMEOUT) -> dict[str, str]:
    """:func:`check_endpoint` for each ``role -> endpoint``, one request per distinct (URL, model); returns
    ``role -> "ok" | "model not checked"``."""
    seen: dict[tuple[str, str, str], str] = {}
    out = {}
    for role, ep in endpoints.items():
        key = (ep.base_url.rstrip("/"), ep.model, ep.api_key_env)
        if key not in seen:
            seen[key] = check_endpoint(role, ep, timeout)
        out[role] = seen[key]
    return out


__all__ = ["EndpointUnavailable", "EndpointsFailing", "check_endpoint", "check_endpoints"]
