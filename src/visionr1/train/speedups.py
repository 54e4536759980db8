"""Exact speed-ups for multimodal GRPO, applied to a built TRL trainer.

- ``shared_vision``: each distinct image in a batch goes through the vision tower once, in every
  log-prob pass (policy, old policy, reference) and in generation prefill
  (:mod:`visionr1.models.shared_vision`).
- ``shared_prefill``: HF generation prefills each distinct prompt once and samples the G completions
  from the shared KV cache (:mod:`visionr1.models.shared_prefill`). Not used with vLLM rollouts, which
  share prompt work through prefix caching already. ``decode`` then picks how completions are decoded
  from the shared cache: ``auto`` compiles the decode step (static KV cache + CUDA graphs through
  transformers' own compiled generation) on CUDA and keeps the dynamic cache on CPU.
- ``shared_prefix``: in the log-prob passes (reference, old policy, the policy's training forward) each
  group's prompt runs through the layers once and the G completions attend to its KV cache
  (:mod:`visionr1.models.shared_prefix`); also under (non-reentrant) gradient checkpointing.
- ``pixel_store``: the image processor runs once per distinct image of a batch and the batch carries
  small handle tensors in place of G copies of each image's pixels, on the host and the device
  (:mod:`visionr1.models.pixel_store`). The store's rounds follow TRL's: a new one starts where the
  trainer begins generating and scoring a batch (``_generate_and_score_completions``, wrapped, not
  copied).
- ``vision_windows``: the vision tower's windowed attention runs as one batched call per window length
  and layer instead of a Python loop of one call per window (:mod:`visionr1.models.vision_windows`);
  only where the tower is configured for ``sdpa``.

All are exact (tests compare log-probs, gradients and generated tokens with the stock path), so they
are on by default; ``speed.<name>: false`` turns each off.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from visionr1.models.pixel_store import DedupImageProcessor, PixelStore
from visionr1.models.shared_prefill import enable_shared_prefill
from visionr1.models.shared_prefix import enable_shared_prefix
from visionr1.models.shared_vision import enable_shared_vision
from visionr1.models.vision_windows import enable_vision_windows
from visionr1.train.config import SpeedSettings

logger = logging.getLogger(__name__)


def apply_speedups(trainer: Any, speed: SpeedSettings) -> dict[str, Any]:
    """Patch the trainer's policy (and reference) model; returns the handles (their ``stats`` count the savings).

    A speed-up that does not know the model (no Qwen2-VL-style vision tower, another way of computing
    position ids) leaves it as it is, with a warning; the others still apply.
    """
    handles: dict[str, Any] = {}
    models = {"policy": trainer.model}
    if getattr(trainer, "ref_model", None) is not None:
        models["reference"] = trainer.ref_model
    store = None
    if speed.shared_vision and speed.pixel_store and hasattr(getattr(trainer, "processing_class", None), "image_processor"):
        store = PixelStore()
    hf_generation = not getattr(trainer.args, "use_vllm", False) and not getattr(trainer.args, "use_transformers_paged", False)
    for name, model in models.items():
        wanted = {
            "shared_vision": (speed.shared_vision, lambda m: enable_shared_vision(m, store)),
            "shared_prefix": (speed.shared_prefix, enable_shared_prefix),
            "vision_windows": (speed.vision_windows, enable_vision_windows),
            "shared_prefill": (speed.shared_prefill and name == "policy" and hf_generation,
                               lambda m: enable_shared_prefill(m, decode=speed.decode, cache_bucket=speed.cache_bucket)),
        }
        for key, (on, enable) in wanted.items():
            if not on:
                continue
            try:
                handles[f"{name}.{key}"] = enable(model)
            except TypeError as e:  # not a model this speed-up knows: it stays stock, the others still apply
                logger.warning("speed.%s left off for the %s model: %s", key, name, e)
    # handles in pixel_values only where every model reads them (a stock tower would take them as pixels)
    if store is not None and all(f"{name}.shared_vision" in handles for name in models):
        handles["pixel_store"] = enable_pixel_store(trainer, store)
    return handles


def enable_pixel_store(trainer: Any, store: PixelStore) -> PixelStore:
    """Route the trainer's image processing through ``store`` while it generates and scores a batch.

    The image processor is swapped only for the duration of TRL's ``_generate_and_score_completions``
    (so saving the processor, or any other use of it, sees the stock one), and each call starts a store
    round: ``"train"`` when the model is in training mode (the previous batch's buffered inputs are
    done with by then), ``"eval"`` otherwise.
    """
    generate_and_score = trainer._generate_and_score_completions

    @functools.wraps(generate_and_score)
    def wrapped(*args: Any, **kwargs: Any):
        processor = trainer.processing_class
        stock = processor.image_processor
        store.begin("train" if trainer.model.training else "eval")
        processor.image_processor = DedupImageProcessor(stock, store)
        try:
            return generate_and_score(*args, **kwargs)
        finally:
            processor.image_processor = stock

    trainer._generate_and_score_completions = wrapped
    return store
