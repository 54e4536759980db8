"""A deterministic responder for the local OpenAI-compatible test server.

The answer depends only on the request key (``item#attempt``) and prompt, so an interrupted and
resumed run must produce byte-identical outputs. Attempt 0 of every second item omits
``</answer>``, which makes ``--regenerate-missing-answer`` re-ask it.
"""

from __future__ import annotations

import hashlib

from visionr1.testing.openai_server import ChatRequest, Reply


def respond(req: ChatRequest) -> Reply:
    item, _, attempt = req.key.rpartition("#")
    digest = int(hashlib.sha256(f"{req.key}|{req.text()}".encode()).hexdigest(), 16)
    letter = "ABCD"[digest % 4]
    number = digest % 10
    n_images = len(req.image_urls())
    think = f"Wait, {n_images} image(s); hmm, item {item}."
    if attempt == "0" and digest % 2:
        return Reply(content=f"<think>{think}</think> The answer might be {letter}.")
    return Reply(content=f"<think>{think} Alternatively {number}.</think><answer>{letter}</answer>",
                 reasoning_content=None)
