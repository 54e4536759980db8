"""A deterministic fake judge for ``benchmarks/same_scores.sh`` (served by ``visionr1.testing.openai_server``).

It reads the model response out of the extraction prompt and answers from it alone, by a hash of the response:
``N/A`` for one in five, else its last option letter or its last number; the same response always gets the same
answer, so two scoring runs can be compared byte for byte.
"""

from __future__ import annotations

import hashlib
import re


def respond(req) -> str:
    text = req.text()
    response = text.rsplit("Model response: ", 1)[-1].rsplit("\n\nExtracted answer:", 1)[0]
    h = int(hashlib.sha256(response.encode()).hexdigest(), 16)
    if h % 5 == 0:
        return "N/A"
    numbers = re.findall(r"-?\d+(?:\.\d+)?", response)
    letters = re.findall(r"\b([A-E])\b", response)
    if h % 2 and letters:
        return letters[-1]
    if numbers:
        return f"Extracted answer: {numbers[-1]}" if h % 3 == 0 else numbers[-1]
    return letters[-1] if letters else "N/A"
