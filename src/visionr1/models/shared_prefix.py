"""The prompt once per group in the log-prob passes: forward the shared prefix once, the completions from its cache.

A GRPO batch holds G completions per prompt, each sequence ``prompt + completion``. TRL's log-prob passes
(reference, old policy, and the policy's training forward) run the language model over every sequence
whole, so each prompt (~310 tokens for a 448² image and a question, 256 of them visual) goes through the
layers G times per pass. Here the backbone's forward is patched (``Qwen2_5_VLModel.forward``, the module
TRL's fused LM head calls): rows that start with the same tokens, mask and images are grouped, the shared
prefix is run once per group (vision tower included) with a KV cache, the cache is expanded to the rows
by index, and the rest of every row runs against it. The hidden states returned are those of the stock
forward (position ids are computed once from the whole batch, exactly as the stock forward does), and the
gradients of the shared part reach it once, summed over the group (index expansion's backward).

When it steps aside (the stock forward runs): a cache or ``use_cache`` (generation), ``inputs_embeds`` or
explicit ``position_ids``, videos, extra outputs (hidden states, attentions, router logits), no group of
two or more rows with a common prefix, and gradient passes with gradient checkpointing on (checkpointed
layers drop the KV cache); no-gradient passes still share then.

Example:
    >>> handle = enable_shared_prefix(model)     # doctest: +SKIP
    >>> model(**prompt_plus_completions)         # doctest: +SKIP  (each prompt's layers run once per group)
    >>> handle.stats                             # doctest: +SKIP  {'calls': 1, 'rows': 16, 'groups': 2, ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from visionr1.models.shared_prefill import _select_images, group_rows
from visionr1.models.shared_vision import find_vision_owner

_ATTR = "_visionr1_shared_prefix"
_EXTRA_OUTPUTS = ("output_hidden_states", "output_attentions", "output_router_logits", "return_dict")


def shared_prefix_length(ids: torch.Tensor, mask: torch.Tensor, inverse: list[int], first: list[int]) -> int:
    """The longest ``P`` such that every row equals its group's first row in ``ids[:, :P]`` and ``mask[:, :P]``.

    Groups of one row do not constrain ``P``; with no group of two or more rows the result is 0.
    """
    ref = torch.tensor([first[g] for g in inverse], device=ids.device)
    differs = (ids != ids[ref]) | (mask != mask[ref])
    own = ref == torch.arange(ids.shape[0], device=ids.device)
    if bool(own.all()):
        return 0
    differs = differs[~own]
    length = torch.where(differs.any(-1), differs.int().argmax(-1), torch.full_like(differs[:, 0], ids.shape[1], dtype=torch.long))
    return int(length.min())


@dataclass
class SharedPrefixHandle:
    """Returned by :func:`enable_shared_prefix`; ``stats`` counts rows, groups and the tokens not recomputed."""

    owner: torch.nn.Module
    stats: dict[str, int] = field(default_factory=lambda: {"calls": 0, "rows": 0, "groups": 0, "tokens": 0, "tokens_saved": 0})

    def remove(self) -> None:
        """Restore the stock forward."""
        self.owner.__dict__.pop("forward", None)
        self.owner.__dict__.pop(_ATTR, None)


def _checkpointing(owner: torch.nn.Module) -> bool:
    return any(getattr(m, "gradient_checkpointing", False) for m in owner.modules()) and owner.training


def enable_shared_prefix(model: torch.nn.Module) -> SharedPrefixHandle:
    """Patch ``model``'s multimodal backbone so rows sharing a prefix run it once per group; idempotent."""
    owner = find_vision_owner(model)
    existing = owner.__dict__.get(_ATTR)
    if existing is not None:
        return existing
    stock = type(owner).forward.__get__(owner)
    handle = SharedPrefixHandle(owner)
    config = owner.config
    image_token_id, merge = config.image_token_id, config.vision_config.spatial_merge_size

    def forward(input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None, **kwargs: Any):
        plan = None
        if input_ids is not None and attention_mask is not None and input_ids.ndim == 2 and input_ids.shape[0] > 1 \
                and not kwargs.get("use_cache") and kwargs.get("cache") is None and kwargs.get("past_key_values") is None \
                and kwargs.get("inputs_embeds") is None and kwargs.get("position_ids") is None \
                and kwargs.get("pixel_values_videos") is None and not any(kwargs.get(k) for k in _EXTRA_OUTPUTS) \
                and not (torch.is_grad_enabled() and _checkpointing(owner)):
            plan = _plan(input_ids, attention_mask, kwargs, image_token_id, merge)
        if plan is None:
            return stock(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        first, inverse, length = plan
        rows, total = input_ids.shape
        handle.stats["calls"] += 1
        handle.stats["rows"] += rows
        handle.stats["groups"] += len(first)
        handle.stats["tokens"] += rows * total
        handle.stats["tokens_saved"] += (rows - len(first)) * length
        return _shared_forward(owner, stock, input_ids, attention_mask, kwargs, first, inverse, length)

    owner.forward = forward
    setattr(owner, _ATTR, handle)
    return handle


def _plan(ids: torch.Tensor, mask: torch.Tensor, kwargs: dict, image_token_id: int, merge: int):
    """``(first, inverse, P)`` when rows share a prefix of ``P`` tokens holding all their images; else None."""
    image_cols = (ids == image_token_id).any(0).nonzero()
    after_images = int(image_cols[-1]) + 1 if image_cols.numel() else 1
    if after_images >= ids.shape[1]:
        return None
    probe = {"input_ids": ids[:, :after_images], "attention_mask": mask[:, :after_images],
             "pixel_values": kwargs.get("pixel_values"), "image_grid_thw": kwargs.get("image_grid_thw")}
    first, inverse = group_rows(probe, image_token_id, merge)
    if len(first) == len(inverse):
        return None
    length = min(shared_prefix_length(ids, mask, inverse, first), ids.shape[1] - 1)
    if length < after_images:  # cannot happen (rows were grouped on that much); kept as a guard
        return None
    return first, inverse, length


def _shared_forward(owner, stock, ids, mask, kwargs, first, inverse, length):
    from transformers import DynamicCache

    pixel_values, grid = kwargs.pop("pixel_values", None), kwargs.pop("image_grid_thw", None)
    mm_types = kwargs.pop("mm_token_type_ids", None)
    for unused in ("use_cache", "cache", "past_key_values", "position_ids", "inputs_embeds", "pixel_values_videos",
                   "video_grid_thw", "second_per_grid_ts"):  # all None or false here (checked by the caller)
        kwargs.pop(unused, None)
    # Position ids of the whole batch, as the stock forward computes them (and with its side effect on
    # rope_deltas); the language model's own default when they cannot be computed (no mm_token_type_ids).
    position_ids = owner.compute_3d_position_ids(input_ids=ids, image_grid_thw=grid, video_grid_thw=None,
                                                  inputs_embeds=None, attention_mask=mask, cache=None,
                                                  mm_token_type_ids=mm_types)
    if position_ids is None:
        position_ids = torch.arange(ids.shape[1], device=ids.device).view(1, 1, -1).expand(3, ids.shape[0], -1)
    idx = torch.tensor(first, device=ids.device)
    prefix_inputs = {"input_ids": ids[idx, :length], "attention_mask": mask[idx, :length],
                     "position_ids": position_ids[:, idx, :length]}
    if pixel_values is not None:
        prefix_inputs["pixel_values"], prefix_inputs["image_grid_thw"] = _select_images(
            {"input_ids": ids, "pixel_values": pixel_values, "image_grid_thw": grid}, first,
            owner.config.image_token_id, owner.config.vision_config.spatial_merge_size)
    cache = DynamicCache(config=owner.config)
    prefix = stock(**prefix_inputs, cache=cache, use_cache=True, **kwargs)
    expand = torch.tensor(inverse, device=ids.device)
    cache.reorder_cache(expand)  # index_select per layer: the group's rows share one prefix, gradients summed
    rest = stock(input_ids=ids[:, length:], attention_mask=mask, position_ids=position_ids[:, :, length:],
                 cache=cache, use_cache=True, **kwargs)
    hidden = torch.cat([prefix.last_hidden_state.index_select(0, expand), rest.last_hidden_state], dim=1)
    return type(rest)(last_hidden_state=hidden)
