"""The prompt once per group in the log-prob passes: forward the shared prefix once, the completions from its cache.

A GRPO batch holds G completions per prompt, each sequence ``prompt + completion``. TRL's log-prob passes
(reference, old policy, and the policy's training forward) run the language model over every sequence
whole, so each prompt (~310 tokens for a 448² image and a question, 256 of them visual) goes through the
layers G times per pass. Here the backbone's forward is patched (``Qwen2_5_VLModel.forward``, the module
TRL's fused LM head calls): rows that start with the same tokens, mask and images are grouped, the shared
prefix is run once per group (vision tower included), its keys and values are expanded to the rows by
index, and the rest of every row runs against them. The hidden states returned are those of the stock
forward (position ids are computed once from the whole batch, exactly as the stock forward does), and the
gradients of the shared part reach it once, summed over the group (index expansion's backward).

The keys and values go through a small stand-in for a transformers ``Cache`` (:class:`PrefixKV`) that stores
per layer and never appends: a gradient-checkpointing replay of a layer then computes exactly what the
first run did, so gradient passes share the prompt under (non-reentrant) gradient checkpointing too.

When it steps aside (the stock forward runs): a cache or ``use_cache`` (generation), ``inputs_embeds`` or
explicit ``position_ids``, videos, extra outputs (hidden states, attentions, router logits), sliding-window
layers, no group of two or more rows with a common prefix, and gradient passes under *reentrant* gradient
checkpointing (its forward runs without autograd, so the prompt's keys would reach the completions
detached); no-gradient passes share either way.

With several ranks (ZeRO-3, FSDP, DDP) the path may not depend on the rank's own batch: ZeRO-3 and FSDP
gather each layer's parameters when it is called, so a rank that ran its layers once while the others
ran them twice would wait forever (TRL shuffles each rank's rows into micro-batches, so some micro-batches
hold no group). There a batch with no group still takes the two passes, each row its own group, split
after the last image token; only the conditions every rank shares (the call's arguments, the model's
settings) make it step aside (:mod:`visionr1.models.ranks`).

Example (``model`` a loaded Qwen2.5-VL; each prompt's layers run once per group):
    >>> handle = enable_shared_prefix(model)     # doctest: +SKIP
    >>> model(**prompt_plus_completions)         # doctest: +SKIP
    >>> handle.stats                             # doctest: +SKIP
    {'calls': 1, 'rows': 16, 'groups': 2, ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from visionr1.models.ranks import several_ranks
from visionr1.models.shared_prefill import group_rows, select_row_images
from visionr1.models.shared_vision import find_vision_owner

_ATTR = "_visionr1_shared_prefix"
_EXTRA_OUTPUTS = ("output_hidden_states", "output_attentions", "output_router_logits")


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


class PrefixKV:
    """Keys and values of a shared prefix, in the role of a transformers ``Cache`` for one forward pass.

    ``past == 0`` (recording, the prefix pass): ``update`` keeps each layer's keys/values and returns them.
    ``past > 0`` (reading, the rest of the rows): ``update`` returns the prefix's keys/values followed by the
    new ones and keeps nothing. Either way a second call for the same layer (a checkpoint replay) returns
    what the first did. ``get_query_offset``/``get_mask_sizes`` are what transformers' mask builders ask a
    cache for.
    """

    def __init__(self, past: int = 0, keys: dict | None = None, values: dict | None = None,
                 rows: torch.Tensor | None = None) -> None:
        self.past = past
        self.keys: dict[int, torch.Tensor] = keys if keys is not None else {}
        self.values: dict[int, torch.Tensor] = values if values is not None else {}
        self.rows = rows

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int, *args: Any, **kwargs: Any):
        if self.past == 0:
            self.keys[layer_idx], self.values[layer_idx] = key, value
            return key, value
        past_k, past_v = self.keys[layer_idx], self.values[layer_idx]
        if self.rows is not None:  # expanded here, per layer, so only the distinct prompts' copy is kept alive
            past_k, past_v = past_k.index_select(0, self.rows), past_v.index_select(0, self.rows)
        return torch.cat([past_k, key], dim=-2), torch.cat([past_v, value], dim=-2)

    def expanded(self, rows: torch.Tensor | None) -> PrefixKV:
        """The recorded prefix for the given rows (by index: the backward sums each group's gradients);
        ``None``: one row per recorded row, as recorded."""
        length = next(iter(self.keys.values())).shape[-2]
        return PrefixKV(length, dict(self.keys), dict(self.values), rows)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.past

    def get_query_offset(self, layer_idx: int = 0) -> int:
        return self.past

    def get_mask_sizes(self, query_length: int, layer_idx: int = 0) -> tuple[int, int]:
        return self.past + query_length, 0


@dataclass
class SharedPrefixHandle:
    """Returned by :func:`enable_shared_prefix`; ``stats`` counts rows, groups and the tokens not recomputed."""

    owner: torch.nn.Module
    stats: dict[str, int] = field(default_factory=lambda: {"calls": 0, "rows": 0, "groups": 0, "tokens": 0, "tokens_saved": 0})

    def remove(self) -> None:
        """Restore the stock forward."""
        self.owner.__dict__.pop("forward", None)
        self.owner.__dict__.pop(_ATTR, None)


def _checkpointed_layers(module: torch.nn.Module) -> list[torch.nn.Module]:
    """The layers that will checkpoint in this pass (gradients on, training mode, checkpointing on)."""
    if not torch.is_grad_enabled():
        return []
    return [m for m in module.modules() if getattr(m, "gradient_checkpointing", False) and m.training]


def _reentrant(layers: list[torch.nn.Module]) -> bool:
    """Whether any layer checkpoints reentrantly (``use_reentrant`` not set to False counts as reentrant)."""
    for layer in layers:
        keywords = getattr(getattr(layer, "_gradient_checkpointing_func", None), "keywords", None) or {}
        if keywords.get("use_reentrant", True) is not False:
            return True
    return False


_POSITION_ARGS = ("input_ids", "image_grid_thw", "video_grid_thw", "inputs_embeds", "attention_mask", "cache",
                  "mm_token_type_ids")


def _check_supported(owner: torch.nn.Module) -> None:
    """The backbone must compute its position ids the Qwen2-VL way and own a ``language_model``."""
    import inspect

    compute = getattr(owner, "compute_3d_position_ids", None)
    params = inspect.signature(compute).parameters if callable(compute) else {}
    missing = [a for a in _POSITION_ARGS if a not in params]
    if missing or not hasattr(owner, "language_model"):
        raise TypeError(f"{type(owner).__name__}: shared prefix needs compute_3d_position_ids({', '.join(_POSITION_ARGS)}) "
                        f"and a language_model (missing: {', '.join(missing) or 'language_model'}); "
                        "set speed.shared_prefix: false for this model")


def enable_shared_prefix(model: torch.nn.Module) -> SharedPrefixHandle:
    """Patch ``model``'s multimodal backbone so rows sharing a prefix run it once per group; idempotent."""
    owner = find_vision_owner(model)
    existing = owner.__dict__.get(_ATTR)
    if existing is not None:
        return existing
    _check_supported(owner)
    stock = type(owner).forward.__get__(owner)
    handle = SharedPrefixHandle(owner)
    config = owner.config
    image_token_id, merge = config.image_token_id, config.vision_config.spatial_merge_size
    text_layers = owner.language_model
    sliding = "sliding_attention" in (getattr(text_layers.config, "layer_types", None) or [])

    def forward(input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None, **kwargs: Any):
        plan = checkpointed = None
        if not sliding and _eligible(input_ids, attention_mask, kwargs):
            checkpointed = _checkpointed_layers(text_layers)
            if not _reentrant(checkpointed):
                # several ranks: every rank takes the same path, whatever its batch holds
                plan = _plan(input_ids, attention_mask, kwargs, image_token_id, merge, uniform=several_ranks())
        if plan is None:
            return stock(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        first, inverse, length = plan
        rows, total = input_ids.shape
        handle.stats["calls"] += 1
        handle.stats["rows"] += rows
        handle.stats["groups"] += len(first)
        handle.stats["tokens"] += rows * total
        handle.stats["tokens_saved"] += (rows - len(first)) * length
        return _shared_forward(owner, stock, checkpointed, input_ids, attention_mask, kwargs, first, inverse, length)

    owner.forward = forward
    setattr(owner, _ATTR, handle)
    return handle


def _eligible(ids: torch.Tensor | None, mask: torch.Tensor | None, kwargs: dict) -> bool:
    """A plain batched forward with no cache, no generation state and no extra outputs (a single row has
    no group, so :func:`_plan` only splits it with several ranks)."""
    if ids is None or mask is None or ids.ndim != 2:
        return False
    if kwargs.get("use_cache") or kwargs.get("return_dict") is False or any(kwargs.get(k) for k in _EXTRA_OUTPUTS):
        return False
    return all(kwargs.get(k) is None for k in ("cache", "past_key_values", "inputs_embeds", "position_ids", "pixel_values_videos"))


def _plan(ids: torch.Tensor, mask: torch.Tensor, kwargs: dict, image_token_id: int, merge: int, uniform: bool = False):
    """``(first, inverse, P)`` when rows share a prefix of ``P`` tokens holding all their images; else None.

    ``uniform``: a batch with no shared prefix is still split, after its last image token, each row its
    own group (several ranks must run the same layers the same number of times).
    """
    image_cols = (ids == image_token_id).any(0).nonzero()
    after_images = int(image_cols[-1]) + 1 if image_cols.numel() else 1
    if after_images >= ids.shape[1]:
        return None
    probe = {"input_ids": ids[:, :after_images], "attention_mask": mask[:, :after_images],
             "pixel_values": kwargs.get("pixel_values"), "image_grid_thw": kwargs.get("image_grid_thw")}
    first, inverse = group_rows(probe, image_token_id, merge)
    if len(first) == len(inverse):
        return (first, inverse, after_images) if uniform else None
    # at least ``after_images``: the rows were grouped on that much
    return first, inverse, min(shared_prefix_length(ids, mask, inverse, first), ids.shape[1] - 1)


def _shared_forward(owner, stock, checkpointed, ids, mask, kwargs, first, inverse, length):
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
        prefix_inputs["pixel_values"], prefix_inputs["image_grid_thw"] = select_row_images(
            {"input_ids": ids, "pixel_values": pixel_values, "image_grid_thw": grid}, first,
            owner.config.image_token_id, owner.config.vision_config.spatial_merge_size)
    recorded = PrefixKV()
    for layer in checkpointed:  # PrefixKV is replay-safe: let checkpointed layers keep it
        layer._can_checkpoint_with_cache = True
    try:
        prefix = stock(**prefix_inputs, cache=recorded, use_cache=False, **kwargs)
        # each row its own group (several ranks, nothing shared here): no copies to make
        expand = None if inverse == list(range(len(inverse))) else torch.tensor(inverse, device=ids.device)
        rest = stock(input_ids=ids[:, length:], attention_mask=mask, position_ids=position_ids[:, :, length:],
                     cache=recorded.expanded(expand), use_cache=False, **kwargs)
    finally:
        for layer in checkpointed:
            layer.__dict__.pop("_can_checkpoint_with_cache", None)
    shared = prefix.last_hidden_state if expand is None else prefix.last_hidden_state.index_select(0, expand)
    hidden = torch.cat([shared, rest.last_hidden_state], dim=1)
    return type(rest)(last_hidden_state=hidden)
