"""Generation backends: local transformers, local vLLM, an OpenAI-compatible endpoint (vLLM serve), canned responses.

All four take the same :class:`GenRequest` list and report each finished item through one
callback, ``on_result(rid, payload, error)``, the moment it is done; the run loop stores it durably
(``visionr1.endpoints.ResponseStore``) before anything else happens, which is what makes a killed
evaluation resumable without generating a finished item twice.

``payload`` is ``{"content", "finish_reason", "completion_tokens", "prompt_tokens"}``; ``error`` is a
one-line reason when the item could not be generated (a corrupt image, an endpoint that kept failing).

Sampling defaults are the paper's: temperature 0.6, top_p 0.95, max_tokens 16000.

Example:
    >>> from visionr1.eval.backends import CannedBackend, GenRequest
    >>> got = []
    >>> CannedBackend({"a": "<answer>4</answer>"}).generate([GenRequest("a", "2+2?", [])], lambda *r: got.append(r))
    >>> got[0][1]["content"]
    '<answer>4</answer>'
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError
from visionr1.r1 import inline_reasoning

OnResult = Callable[[str, "dict[str, Any] | None", "str | None"], None]


@dataclass
class SamplingConfig:
    """How to sample. Paper defaults; ``temperature=0`` means greedy."""

    temperature: float = field(default=0.6, metadata={"help": "Sampling temperature (0 = greedy)."})
    top_p: float = field(default=0.95, metadata={"help": "Nucleus sampling mass."})
    max_tokens: int = field(default=16000, metadata={"help": "Most new tokens per answer."})
    seed: int | None = field(default=0, metadata={"help": "Seed (transformers: per batch; endpoint: sent as `seed`)."})

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be >= 1, got {self.max_tokens}")


@dataclass
class GenRequest:
    """One prompt: ``rid`` (item id + attempt, unique per call), the text, the encoded images, and the system
    message before it (None: the chat template's default, as most evals ask)."""

    rid: str
    text: str
    images: list[bytes]
    item_id: str = ""
    attempt: int = 0
    system: str | None = None


def chat_messages(r: GenRequest, user: Any) -> list[dict[str, Any]]:
    """The conversation of one request: its system message (if it has one), then the user turn ``user``."""
    return ([{"role": "system", "content": r.system}] if r.system else []) + [{"role": "user", "content": user}]


def image_mime(data: bytes) -> str:
    """MIME type from the file signature (PNG, JPEG, GIF, WebP, BMP); PNG when unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    return "image/png"


def bytes_data_url(data: bytes) -> str:
    return f"data:{image_mime(data)};base64,{base64.b64encode(data).decode('ascii')}"


class CannedBackend:
    """Responses from a dict (or a JSON file) keyed by item id: for tests and for re-scoring old outputs.

    A value may be a list: attempt ``k`` gets element ``k`` (the last one when past the end), which
    is how a test exercises ``--regenerate-missing-answer``.
    """

    name = "canned"

    def __init__(self, responses: dict[str, Any] | Path | str):
        if not isinstance(responses, dict):
            path = Path(responses)
            if not path.exists():
                raise ConfigError(f"canned responses file {path} does not exist")
            from visionr1.data.io import reading

            with reading(path, "JSON"):
                responses = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(responses, dict):
                raise ConfigError(f"{path} must hold a JSON object of item id -> response")
        self.responses = responses
        self.describe = {"backend": "canned", "responses": len(responses)}

    def generate(self, requests: list[GenRequest], on_result: OnResult) -> None:
        for r in requests:
            value = self.responses.get(r.item_id or r.rid)
            if isinstance(value, list):
                value = value[min(r.attempt, len(value) - 1)] if value else None
            if isinstance(value, dict):
                value = value.get("response")
            if value is None:
                on_result(r.rid, None, f"no canned response for item {r.item_id or r.rid!r}")
            else:
                on_result(r.rid, {"content": str(value), "finish_reason": "stop", "completion_tokens": None,
                                  "prompt_tokens": None}, None)


def chat_prompt(processor, r: GenRequest):
    """``r`` as one user turn (its images, then its text), after its system message if any, through the
    processor's chat template, with the generation prompt: ``(prompt text, PIL images)``. The transformers and vLLM backends both prompt this way,
    so the two see the same tokens. A corrupt image raises :class:`~visionr1.errors.DataError` naming the item."""
    from visionr1.data.images import open_image

    images = [open_image(b, r.item_id or r.rid) for b in r.images]
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": r.text}]
    text = processor.apply_chat_template(chat_messages(r, content), tokenize=False, add_generation_prompt=True)
    return text, images


class TransformersBackend:
    """Any ``AutoModelForImageTextToText`` checkpoint with its processor's chat template, batched, CPU or GPU.

    Prompts are left-padded and generated ``batch_size`` at a time; each batch is reported as soon
    as it finishes. A corrupt image fails its item only.
    """

    name = "transformers"

    def __init__(self, model_path: str | Path, sampling: SamplingConfig, *, batch_size: int = 8,
                 device: str | None = None, dtype: str = "auto"):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.sampling = sampling
        self.batch_size = batch_size
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = {"auto": "auto", "bfloat16": torch.bfloat16, "float16": torch.float16,
                       "float32": torch.float32}.get(dtype)
        if torch_dtype is None:
            raise ConfigError(f"dtype must be auto, bfloat16, float16 or float32, not {dtype!r}")
        if torch_dtype == "auto" and self.device == "cpu":
            torch_dtype = torch.float32
        from visionr1.config import check_model_path
        from visionr1.models.cpu import tune_cpu

        tune_cpu(self.device)

        check_model_path(str(model_path), "--model")
        try:
            processor = AutoProcessor.from_pretrained(str(model_path))
        except (OSError, ValueError) as e:  # a hub id that cannot be fetched, a folder without processor files
            raise ConfigError(f"cannot load the processor of --model {model_path}: {' '.join(str(e).split())[:300]}") from None
        model = AutoModelForImageTextToText.from_pretrained(str(model_path), dtype=torch_dtype)
        model.to(self.device).eval()
        self._attach(model, processor, str(model_path))

    @classmethod
    def from_loaded(cls, model, processor, sampling: SamplingConfig, *, batch_size: int = 8,
                    label: str = "in-memory model") -> "TransformersBackend":
        """A backend over a model already in memory (the policy being trained: validation during training).

        The caller owns the model's mode: :func:`visionr1.train.validation` switches it to ``eval()`` and back.
        """
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self = cls.__new__(cls)
        self.sampling, self.batch_size = sampling, batch_size
        self.device = str(next(model.parameters()).device)
        self._attach(model, processor, label)
        return self

    def _attach(self, model, processor, label: str) -> None:
        from visionr1.models.vision_windows import try_vision_windows

        tok = getattr(processor, "tokenizer", processor)
        tok.padding_side = "left"
        if getattr(tok, "pad_token", None) is None:
            tok.pad_token = tok.eos_token
        self.processor, self.tokenizer, self.model = processor, tok, model
        self.describe = {"backend": "transformers", "model": label, "device": self.device,
                         "batch_size": self.batch_size, "vision_windows": try_vision_windows(self.model)}

    def _prepare(self, r: GenRequest):
        return chat_prompt(self.processor, r)

    def generate(self, requests: list[GenRequest], on_result: OnResult) -> None:
        import torch

        from visionr1.errors import DataError

        eos_ids = self.model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids] if eos_ids is not None else [])
        if self.tokenizer.pad_token_id is not None:
            eos_ids.add(self.tokenizer.pad_token_id)
        for start in range(0, len(requests), self.batch_size):
            batch, texts, images = [], [], []
            for r in requests[start : start + self.batch_size]:
                try:
                    text, imgs = self._prepare(r)
                except DataError as e:
                    on_result(r.rid, None, str(e))
                    continue
                batch.append(r)
                texts.append(text)
                images.extend(imgs)
            if not batch:
                continue
            inputs = self.processor(text=texts, images=images or None, padding=True, return_tensors="pt").to(self.device)
            kwargs: dict[str, Any] = {"max_new_tokens": self.sampling.max_tokens, "use_cache": True}
            if self.sampling.temperature > 0:
                kwargs.update(do_sample=True, temperature=self.sampling.temperature, top_p=self.sampling.top_p)
            else:
                kwargs.update(do_sample=False)
            if self.sampling.seed is not None:
                torch.manual_seed(self.sampling.seed + start)
            with torch.inference_mode():
                out = self.model.generate(**inputs, **kwargs)
            new = out[:, inputs["input_ids"].shape[1] :].tolist()
            for r, ids in zip(batch, new):
                n = next((i for i, t in enumerate(ids) if t in eos_ids), None)
                finished = n is not None
                ids = ids[:n] if finished else ids
                content = self.tokenizer.decode(ids, skip_special_tokens=True)
                on_result(r.rid, {"content": content, "finish_reason": "stop" if finished else "length",
                                  "completion_tokens": len(ids), "prompt_tokens": int(inputs["attention_mask"].shape[1])},
                          None)


class VLLMBackend:
    """A local checkpoint through an offline vLLM engine (``--backend vllm``): what evaluating a 7B model wants.

    ``batch_size`` prompts go to the engine at once (it batches and schedules within them; use hundreds on a
    GPU) and each chunk is reported when it is done, so a killed run keeps the finished chunks. Prompts are the
    transformers backend's (:func:`chat_prompt`), so with ``temperature=0`` both decode greedily from the same
    tokens; each request carries ``seed``, so a sampled answer does not depend on the batch it was in. A corrupt
    image, or a prompt longer than the engine's context, fails its item only.
    """

    name = "vllm"

    def __init__(self, model_path: str | Path, sampling: SamplingConfig, *, batch_size: int = 8, dtype: str = "auto",
                 max_model_len: int | None = None):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        from visionr1.config import check_model_path
        from visionr1.models.vllm_engine import build_llm, require_vllm

        require_vllm("--backend vllm")
        check_model_path(str(model_path), "--model")
        from transformers import AutoProcessor

        try:
            processor = AutoProcessor.from_pretrained(str(model_path))
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot load the processor of --model {model_path}: {' '.join(str(e).split())[:300]}") from None
        if dtype not in ("auto", "bfloat16", "float16", "float32"):
            raise ConfigError(f"dtype must be auto, bfloat16, float16 or float32, not {dtype!r}")
        llm = build_llm(model_path, max_model_len=max_model_len, seed=sampling.seed or 0, dtype=dtype)
        self._attach(llm, processor, sampling, batch_size, str(model_path))

    @classmethod
    def from_engine(cls, llm, processor, sampling: SamplingConfig, *, batch_size: int = 8,
                    label: str = "in-memory engine") -> "VLLMBackend":
        """A backend over an engine already built: a GRPO run's colocated engine, whose weights the caller has
        synced to the policy (validation during training, :mod:`visionr1.train.validation`)."""
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self = cls.__new__(cls)
        self._attach(llm, processor, sampling, batch_size, label)
        return self

    def _attach(self, llm, processor, sampling: SamplingConfig, batch_size: int, label: str) -> None:
        self.llm, self.processor, self.sampling, self.batch_size = llm, processor, sampling, batch_size
        self.tokenizer = getattr(processor, "tokenizer", processor)
        config = llm.llm_engine.model_config
        self.describe = {"backend": "vllm", "model": label, "batch_size": batch_size,
                         "dtype": str(config.dtype).removeprefix("torch."), "max_model_len": config.max_model_len}

    def _params(self):
        from vllm import SamplingParams

        greedy = self.sampling.temperature == 0
        return SamplingParams(temperature=self.sampling.temperature, top_p=1.0 if greedy else self.sampling.top_p,
                              max_tokens=self.sampling.max_tokens, seed=self.sampling.seed, skip_special_tokens=True)

    def generate(self, requests: list[GenRequest], on_result: OnResult) -> None:
        from visionr1.errors import DataError

        params = self._params()
        for start in range(0, len(requests), self.batch_size):
            batch, prompts = [], []
            for r in requests[start : start + self.batch_size]:
                try:
                    text, images = chat_prompt(self.processor, r)
                except DataError as e:
                    on_result(r.rid, None, str(e))
                    continue
                prompt: dict[str, Any] = {"prompt": text}
                if images:
                    prompt["multi_modal_data"] = {"image": images if len(images) > 1 else images[0]}
                batch.append(r)
                prompts.append(prompt)
            if not batch:
                continue
            try:
                outputs = self.llm.generate(prompts, params, use_tqdm=False)
            except ValueError:  # one prompt the engine refuses (too long) fails the call: ask item by item
                outputs = []
                for r, prompt in zip(batch, prompts):
                    try:
                        outputs.append(self.llm.generate([prompt], params, use_tqdm=False)[0])
                    except ValueError as e:
                        outputs.append(f"vLLM refused the prompt: {' '.join(str(e).split())[:300]}")
            for r, out in zip(batch, outputs):
                if isinstance(out, str):
                    on_result(r.rid, None, out)
                    continue
                done = out.outputs[0]
                ids = list(done.token_ids)
                if done.finish_reason == "stop" and done.stop_reason is None and ids:
                    ids = ids[:-1]  # the end-of-sequence token, which the transformers backend does not count either
                # decoded by the tokenizer, as the transformers backend does (vLLM's own text holds back a last
                # incomplete UTF-8 sequence): the same tokens give the same text
                on_result(r.rid, {"content": self.tokenizer.decode(ids, skip_special_tokens=True),
                                  "finish_reason": "length" if done.finish_reason == "length" else "stop",
                                  "completion_tokens": len(ids), "prompt_tokens": len(out.prompt_token_ids)}, None)


class EndpointBackend:
    """An OpenAI-compatible chat endpoint through the shared ``visionr1.endpoints.ChatClient``
    (bounded concurrency, retries with backoff and ``Retry-After``, timeouts, base64 image data URLs).

    A server that returns the reasoning separately (vLLM ``--reasoning-parser``) gets it put back
    inline as ``<think>…</think>`` so the response reads as the model wrote it.
    """

    name = "endpoint"

    def __init__(self, config, sampling: SamplingConfig):
        self.config = config
        self.sampling = sampling
        self.describe = {"backend": "endpoint", "base_url": config.base_url, "model": config.model,
                         "concurrency": config.concurrency}
        self.counters = None

    def generate(self, requests: list[GenRequest], on_result: OnResult) -> None:
        import asyncio

        asyncio.run(self._run(requests, on_result))

    async def _run(self, requests: list[GenRequest], on_result: OnResult) -> None:
        import asyncio

        from visionr1.endpoints import ChatClient, EndpointError, user_message

        params: dict[str, Any] = {"temperature": self.sampling.temperature, "top_p": self.sampling.top_p,
                                  "max_tokens": self.sampling.max_tokens}
        if self.sampling.seed is not None:
            params["seed"] = self.sampling.seed
        async with ChatClient(self.config, default_params=params) as client:
            self.counters = client.counters

            async def one(r: GenRequest) -> None:
                message = user_message(r.text, [bytes_data_url(b) for b in r.images])
                try:
                    res = await client.chat(chat_messages(r, message["content"]), key=r.rid)
                except EndpointError as e:
                    on_result(r.rid, None, f"{e}")
                    return
                content = inline_reasoning(res.content, res.reasoning)
                on_result(r.rid, {"content": content, "finish_reason": res.finish_reason,
                                  "completion_tokens": res.completion_tokens, "prompt_tokens": res.prompt_tokens}, None)

            await asyncio.gather(*(one(r) for r in requests))
