"""Fake MLLM and reasoner for the bridge tests: a responder for visionr1.testing.OpenAIServer.

Deterministic per request key (``record/stage/attempt``). Stage 1 repeats the ground-truth answer it
was given, stage 2 puts it into the "description", and stage 3 reasons from the description. A
record's behaviour in stage 3 is chosen by a hash of its id, so every rejection reason shows up:
"""

from __future__ import annotations

import hashlib
import re

from visionr1.testing.openai_server import ChatRequest, Reply

# share of records per stage-3 behaviour (by hash bucket out of 100)
BEHAVIOURS = [
    (60, "good_inline"),
    (72, "good_separate"),  # reasoning_content field (DeepSeek API / vLLM reasoning parser)
    (78, "wrong"),
    (82, "truncated"),
    (86, "repeat"),
    (89, "chinese"),
    (92, "no_think"),
    (95, "short"),
    (100, "good_description_refs"),
]


def behaviour(rid: str) -> str:
    b = int(hashlib.sha1(rid.encode()).hexdigest(), 16) % 100
    return next(name for bound, name in BEHAVIOURS if b < bound)


def _find(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    return m.group(1).strip() if m else "?"


def respond(req: ChatRequest) -> Reply:
    rid, stage, _ = (req.key.split("/") + ["", "", ""])[:3]
    text = req.text()
    if stage == "pseudo_cot":
        answer = _find(r"Correct answer: (.*)", text)
        return Reply(content=f"Caption: a synthetic figure.\nReasoning:\n1. Read the figure.\n2. KEY={answer}=KEY")
    if stage == "description":
        answer = _find(r"KEY=(.*?)=KEY", text)
        return Reply(content=f"The image shows a figure whose decisive value is <<{answer}>>. Nothing else matters.")
    answer = _find(r"<<(.*?)>>", text)
    m = re.match(r"\(([A-Z])\) ", answer)
    final = m.group(1) if m else answer
    kind = behaviour(rid)
    body = (
        f"Okay, let me think about what the question asks. The image shows a figure with one decisive value, "
        f"and the question depends only on it. Let me read it carefully: the value is {answer}. "
        f"Wait, let me double-check that reading against the question before I answer. "
        f"Hmm, the question asks exactly for this quantity, so nothing else needs computing here. "
        f"Alternatively, I could reason about the other parts of the figure, but they do not change the value. "
        f"So the answer is {final}."
    )
    if kind == "good_separate":
        return Reply(content=f"The answer is {final}.\n\nFinal answer: {final}", reasoning_content=body)
    if kind == "wrong":
        wrong = "Z" if m else answer + "1"
        return Reply(content=f"<think>{body.replace(f'answer is {final}', f'answer is {wrong}')}</think>Final answer: {wrong}")
    if kind == "truncated":
        return Reply(content=f"<think>{body[: len(body) // 2]}", finish_reason="length")
    if kind == "repeat":
        loop = "Let me count the items again one by one to be sure of the total. " * 12
        return Reply(content=f"<think>{body} {loop}</think>Final answer: {final}")
    if kind == "chinese":
        return Reply(content=f"<think>{body} 所以答案是这个值，我们再检查一遍这个图形里的数字。</think>Final answer: {final}")
    if kind == "no_think":
        return Reply(content=f"Final answer: {final}")
    if kind == "short":
        return Reply(content=f"<think>It is {final}.</think>Final answer: {final}")
    if kind == "good_description_refs":
        refs = body.replace("The image shows", "The description says that").replace(
            "Let me read it carefully", "According to the description, let me read it carefully")
        return Reply(content=f"<think>{refs}</think>Final answer: {final}")
    return Reply(content=f"<think>{body}</think>\n\nFinal answer: {final}")
