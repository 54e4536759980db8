"""Keep the vision tower and/or the vision-language projector fixed while the language model trains.

LLaMA-Factory, which the Vision-R1 authors used for cold-start SFT, freezes both by default
(``freeze_vision_tower``, ``freeze_multi_modal_projector``), and their released SFT config keeps that
default; ms-swift (``--freeze_vit``) and EasyR1 (``freeze_vision_tower``) offer the same. TRL has no such
setting (a model's ``requires_grad`` flags are the user's business), so it lives here, with the same names.

Parts are found by parameter name, one pattern per part, for the two layouts in transformers:
the Qwen-VL family (``visual.*`` is the tower, ``visual.merger`` the projector) and LLaVA-style models
(``vision_tower``/``vision_model`` and ``multi_modal_projector``). The same patterns keep LoRA adapters
out of a frozen part (PEFT's ``exclude_modules`` matches module names the same way), so a frozen tower
gets no adapters either. Freezing happens after the trainer has built (and PEFT-wrapped) the model and
before it builds its optimizer, which takes only parameters that require gradients.

Example:
    >>> import re
    >>> bool(re.fullmatch(PATTERNS["vision_tower"], "base_model.model.model.visual.blocks.0.mlp.gate_proj"))
    True
    >>> bool(re.fullmatch(PATTERNS["vision_tower"], "model.visual.merger.mlp.0.weight"))
    False
    >>> bool(re.fullmatch(PATTERNS["multi_modal_projector"], "model.visual.merger.mlp.0.weight"))
    True
"""

from __future__ import annotations

import logging
import re
from typing import Any

from visionr1.errors import ConfigError

logger = logging.getLogger(__name__)

PATTERNS = {
    "vision_tower": r"(?:.*\.)?(?:visual\.(?!merger(?:\.|$))|vision_tower\.|vision_model\.).*",
    "multi_modal_projector": r"(?:.*\.)?(?:visual\.merger|multi_modal_projector)(?:\..*)?",
}


def frozen_parts(vision_tower: bool, multi_modal_projector: bool) -> list[str]:
    """The part names to freeze, in :data:`PATTERNS`' order."""
    return [name for name, on in (("vision_tower", vision_tower), ("multi_modal_projector", multi_modal_projector)) if on]


def lora_exclude(parts: list[str]) -> str | None:
    """PEFT ``exclude_modules`` (a regex over module names) that keeps adapters out of ``parts``; None if none."""
    return "|".join(f"(?:{PATTERNS[p]})" for p in parts) or None


def _numel(p: Any) -> int:
    return int(getattr(p, "ds_numel", 0) or p.numel())  # a ZeRO-3-partitioned parameter's local numel is 0


def freeze_parts(model: Any, parts: list[str]) -> dict[str, int]:
    """Turn off gradients for the parameters of ``parts``; returns the parameter counts.

    Returns ``{part: parameters frozen, ..., "trainable": parameters still trained}``. A part with no
    parameter in ``model`` is a :class:`ConfigError` naming the setting, as is a model left with nothing
    to train.
    """
    counts = {part: 0 for part in parts}
    matchers = {part: re.compile(PATTERNS[part]) for part in parts}
    trainable = 0
    seen: set[int] = set()
    for name, p in model.named_parameters():
        if id(p) in seen:  # tied weights appear once
            continue
        seen.add(id(p))
        part = next((part for part, m in matchers.items() if m.fullmatch(name)), None)
        if part is not None:
            p.requires_grad_(False)
            counts[part] += _numel(p)
        elif p.requires_grad:
            trainable += _numel(p)
    for part, n in counts.items():
        if n == 0:
            raise ConfigError(f"model.freeze_{part}: {type(model).__name__} has no parameters named like a {part.replace('_', ' ')} "
                              f"(pattern {PATTERNS[part]}); set model.freeze_{part}: false")
    if parts and trainable == 0:
        raise ConfigError(f"nothing left to train: with {', '.join('model.freeze_' + p for p in parts)} every trainable "
                          "parameter is frozen (check model.lora.target_modules)")
    if parts:
        logger.info("frozen: %s; %s parameters still train", ", ".join(f"{p} ({n:,})" for p, n in counts.items()), f"{trainable:,}")
    return {**counts, "trainable": trainable}
