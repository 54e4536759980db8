"""Optional LLM judge for the extraction step, over any OpenAI-compatible chat endpoint.

MathVista's official pipeline asks GPT-4 to pull the answer out of each response with a few-shot
prompt. :class:`JudgeExtractor` does the same against an endpoint you choose (vLLM, a hosted
model…), so the official protocol can be followed where a judge is available; the rule extractor
stays the default. Calls, retries and failures are counted, and a response the judge cannot
handle falls back to the rule extractor so one bad call never loses a record.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from visionr1.errors import ConfigError
from visionr1.grading.mathvista import rule_extract

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


def build_prompt(response: str, record: Mapping[str, Any]) -> str:
    """The few-shot prompt for one record: examples, then its query and response."""
    query = record.get("query") or record.get("question") or ""
    return f"{EXTRACTION_PROMPT}\n{query}\n\nModel response: {response}\n\nExtracted answer: "


class JudgeExtractor:
    """An extractor (``(response, record) -> str``) backed by an OpenAI-compatible chat endpoint.

    Args:
        endpoint: base URL, e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name the endpoint serves.
        api_key_env: environment variable holding the key (``"EMPTY"`` when unset, as local servers accept).
        max_retries: attempts per record after the first, with a short growing pause.
        timeout: seconds per HTTP call.

    Attributes ``calls``, ``retries`` and ``failures`` count what happened.
    """

    def __init__(
        self,
        endpoint: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        max_retries: int = 2,
        timeout: float = 60.0,
        backoff: float = 0.5,
    ) -> None:
        if not endpoint or not model:
            raise ConfigError("a judge needs both --judge-endpoint URL and --judge-model NAME")
        try:
            from openai import OpenAI
        except ImportError as e:  # pragma: no cover - openai is a core dependency
            raise ImportError("the LLM judge needs the `openai` package: pip install openai") from e
        self.client = OpenAI(
            base_url=endpoint, api_key=os.environ.get(api_key_env, "EMPTY"), max_retries=0, timeout=timeout
        )
        self.model = model
        self.max_retries = max_retries
        self.backoff = backoff
        self.calls = 0
        self.retries = 0
        self.failures = 0

    def __call__(self, response: str, record: Mapping[str, Any]) -> str:
        prompt = build_prompt(response, record)
        for attempt in range(self.max_retries + 1):
            self.calls += 1
            try:
                out = self.client.chat.completions.create(
                    model=self.model,
                    messages=[{"role": "user", "content": prompt}],
                    temperature=0.0,
                    max_tokens=64,
                )
                text = (out.choices[0].message.content or "").strip()
                if text.lower().startswith("extracted answer:"):
                    text = text.split(":", 1)[1].strip()
                return text
            except Exception:  # noqa: BLE001 - network and API errors: retry, then fall back
                if attempt < self.max_retries:
                    self.retries += 1
                    time.sleep(self.backoff * (attempt + 1))
        self.failures += 1
        return rule_extract(response, record)
