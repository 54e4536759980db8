"""Test and benchmark helpers that other stages reuse (not needed at run time).

:mod:`visionr1.testing.openai_server` is a local OpenAI-compatible chat-completions server with
pluggable responders, fault injection and a request log, so clients can be tested end to end with
the real ``openai`` package and no network. :mod:`visionr1.testing.numerics` says what "the same training step" means
in float32 (tolerances from the arithmetic); :mod:`visionr1.testing.processes` runs commands in tests with a
limit on silence instead of a clock limit. Names are imported lazily so that
``python -m visionr1.testing.openai_server`` runs the module only once.
"""

from typing import Any

__all__ = ["ChatRequest", "FaultPlan", "LogEntry", "OpenAIServer", "Reply", "echo_responder", "load_responder"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from visionr1.testing import openai_server

        return getattr(openai_server, name)
    raise AttributeError(name)
