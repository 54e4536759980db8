"""Exact speed-ups for multimodal GRPO, applied to a built TRL trainer.

- ``shared_vision``: each distinct image in a batch goes through the vision tower once, in every
  log-prob pass (policy, old policy, reference) and in generation prefill
  (:mod:`visionr1.models.shared_vision`).
- ``shared_prefill``: HF generation prefills each distinct prompt once and samples the G completions
  from the shared KV cache (:mod:`visionr1.models.shared_prefill`). Not used with vLLM rollouts, which
  share prompt work through prefix caching already. ``decode`` then picks how completions are decoded
  from the shared cache: ``auto`` compiles the decode step (static KV cache + CUDA graphs through
  transformers' own compiled generation) on CUDA and keeps the dynamic cache on CPU.

Both are exact (tests compare log-probs, gradients and generated tokens with the stock path), so they
are on by default; ``speed.shared_vision: false`` / ``speed.shared_prefill: false`` turn them off.
"""

from __future__ import annotations

from typing import Any

from visionr1.models.shared_prefill import enable_shared_prefill
from visionr1.models.shared_vision import enable_shared_vision
from visionr1.train.config import SpeedSettings


def apply_speedups(trainer: Any, speed: SpeedSettings) -> dict[str, Any]:
    """Patch the trainer's policy (and reference) model; returns the handles (their ``stats`` count the savings).

    Models without a Qwen2-VL-style vision tower are left as they are.
    """
    handles: dict[str, Any] = {}
    models = {"policy": trainer.model}
    if getattr(trainer, "ref_model", None) is not None:
        models["reference"] = trainer.ref_model
    for name, model in models.items():
        try:
            if speed.shared_vision:
                handles[f"{name}.shared_vision"] = enable_shared_vision(model)
            if speed.shared_prefill and name == "policy" and not getattr(trainer.args, "use_vllm", False) \
                    and not getattr(trainer.args, "use_transformers_paged", False):
                handles[f"{name}.shared_prefill"] = enable_shared_prefill(model, decode=speed.decode,
                                                                          cache_bucket=speed.cache_bucket)
        except TypeError:  # not a Qwen2-VL-family model: nothing to share
            continue
    return handles
