"""Windowed vision attention in a few batched calls per layer, not one call per window.

Qwen2.5-VL's vision tower attends within windows (112x112 pixels: 64 patches each; 16 windows for a 448²
image) in all but four of its layers. Unless a flash-attention implementation is configured, transformers
runs that attention one window at a time: a Python loop of ``sdpa`` calls per layer, after a
``.tolist()`` that waits for the device. A batch of 2 images through the 32 layers is ~1,000 calls,
each too small to keep a GPU busy. With flash-attention installed (``attn_implementation:
flash_attention_2``) transformers makes one variable-length call per layer instead, and nothing here
is needed.

This module gives the same single entry without flash-attention: a function registered with
transformers' own ``AttentionInterface`` under a name containing "flash" (what makes the vision
attention hand over the window boundaries ``cu_seqlens`` in one call), set on the vision tower's config
only. Windows of equal length are stacked and go through ``torch.nn.functional.scaled_dot_product_attention``
as one batch (at 448² every window is 64 patches: one call per layer), so each window's attention is
exactly the per-window ``sdpa`` of the stock loop. The window lengths are read from the device once per
boundary tensor (twice per forward: windows and whole images), not once per layer.

It applies only where the vision tower is configured for ``sdpa`` (the default), so it computes what
that path computes; with ``eager`` or a flash implementation it steps aside, and so it does for towers
other than Qwen2.5-VL's (:data:`TESTED_TOWERS`).

Example (``model`` a loaded Qwen2.5-VL; at 448² one attention call per vision layer):
    >>> handle = enable_vision_windows(model)   # doctest: +SKIP
    >>> model(**batch)                          # doctest: +SKIP
    >>> handle.remove()                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from visionr1.models.shared_vision import find_vision_owner

logger = logging.getLogger(__name__)

NAME = "visionr1_flash_windows"  # "flash" in the name: transformers then passes cu_seqlens in one call
_ATTR = "_visionr1_vision_windows"
TESTED_TOWERS = ("qwen2_5_vl_vision",)  # vision configs' model_type where this runs (tests/models/test_vision_windows.py)


def window_groups(cu_seqlens: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
    """``[(L, starts)]``: the windows' start offsets, grouped by window length ``L`` (host-side plan)."""
    bounds = cu_seqlens.tolist()
    by_length: dict[int, list[int]] = {}
    for start, end in zip(bounds[:-1], bounds[1:]):
        if end > start:
            by_length.setdefault(end - start, []).append(start)
    return [(length, torch.tensor(starts, dtype=torch.long)) for length, starts in by_length.items()]


class _Plans:
    """Plans per boundary tensor, reused while that tensor lives (one forward's layers share two)."""

    def __init__(self) -> None:
        self._plans: dict[int, tuple[weakref.ref, list, torch.Tensor | None]] = {}

    def get(self, cu: torch.Tensor):
        hit = self._plans.get(id(cu))
        if hit is not None and hit[0]() is cu:
            return hit[1], hit[2]
        self._plans = {k: v for k, v in self._plans.items() if v[0]() is not None}
        groups, positions = [], []
        for length, starts in window_groups(cu):
            rows = starts[:, None] + torch.arange(length)
            positions.append(rows.reshape(-1))
            back_to_back = bool((rows.reshape(-1) == rows[0, 0] + torch.arange(rows.numel())).all())
            # windows back to back: a view of the sequence (no gather, no scatter-add in the backward)
            groups.append((length, (int(rows[0, 0]), len(starts)) if back_to_back else rows.to(cu.device)))
        order = torch.cat(positions) if positions else torch.zeros(0, dtype=torch.long)
        inverse = None  # None: the stacked windows already lie in sequence order
        if not torch.equal(order, torch.arange(order.numel())):
            inverse = torch.empty_like(order)
            inverse[order] = torch.arange(order.numel())
            inverse = inverse.to(cu.device)
        self._plans[id(cu)] = (weakref.ref(cu), groups, inverse)
        return groups, inverse


_PLANS = _Plans()


def window_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     attention_mask: torch.Tensor | None = None, scaling: float | None = None, dropout: float = 0.0,
                     cu_seq_lens_q: torch.Tensor | None = None, cu_seq_lens_k: torch.Tensor | None = None,
                     is_causal: bool = False, **kwargs) -> tuple[torch.Tensor, None]:
    """Attention within the windows ``cu_seq_lens_q`` marks; ``query``/``key``/``value``: ``(1, heads, S, d)``.

    Returns ``(1, S, heads, d)``, as transformers' attention functions do.
    """
    if cu_seq_lens_q is None or query.shape[0] != 1 or attention_mask is not None or is_causal:
        raise ValueError(f"{NAME}: expects one packed sequence with window boundaries (cu_seq_lens_q), no mask, "
                         "not causal (Qwen2.5-VL's vision attention)")
    if cu_seq_lens_k is not None and cu_seq_lens_k is not cu_seq_lens_q and not torch.equal(cu_seq_lens_k, cu_seq_lens_q):
        raise ValueError(f"{NAME}: query and key windows differ")
    groups, inverse = _PLANS.get(cu_seq_lens_q)
    heads, dim = query.shape[1], query.shape[-1]
    q, k, v = query.squeeze(0), key.squeeze(0), value.squeeze(0)  # (heads, S, d); views (indexing [0] would
    # make the backward allocate and fill a zero tensor per input)
    outs = []
    for length, rows in groups:
        q_, k_, v_ = (_stack(t, length, rows) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q_, k_, v_, dropout_p=dropout, scale=scaling)
        outs.append(out.transpose(1, 2).reshape(-1, heads, dim))  # (n*L, heads, d), windows in order
    out = outs[0] if len(outs) == 1 else torch.cat(outs)
    if inverse is not None:
        out = out.index_select(0, inverse)
    return out.unsqueeze(0), None


def _stack(t: torch.Tensor, length: int, rows) -> torch.Tensor:
    """``(heads, S, d)`` → ``(n, heads, L, d)``; ``rows``: ``(start, n)`` of windows back to back (a view),
    or their ``(n, L)`` positions (a gather)."""
    if isinstance(rows, tuple):
        start, n = rows
        return t[:, start:start + n * length].unflatten(1, (n, length)).transpose(0, 1)
    return t[:, rows].transpose(0, 1)


@dataclass
class VisionWindowsHandle:
    """Returned by :func:`enable_vision_windows`; ``active`` is False where it stepped aside."""

    owner: torch.nn.Module
    config: object | None
    previous: str | None

    @property
    def active(self) -> bool:
        return self.config is not None

    @property
    def stats(self) -> dict[str, bool]:
        """What the other speed-up handles' ``stats`` are to the benchmarks: here, whether it applies."""
        return {"active": self.active}

    def remove(self) -> None:
        """Give the vision tower its attention implementation back."""
        self.owner.__dict__.pop(_ATTR, None)
        if self.config is not None and self.config._attn_implementation == NAME:
            self.config._attn_implementation = self.previous


def enable_vision_windows(model: torch.nn.Module) -> VisionWindowsHandle:
    """Run ``model``'s windowed vision attention in one batched call per window length; idempotent."""
    from transformers import AttentionInterface

    owner = find_vision_owner(model)
    existing = owner.__dict__.get(_ATTR)
    if existing is not None:
        return existing
    config = owner.visual.config
    current = config._attn_implementation
    # eager computes differently; flash already makes one call per layer. Qwen2-VL, Qwen3-VL and GLM-4V
    # towers loop the same way in transformers 5 but are not tested here: left stock.
    if current != "sdpa" or getattr(config, "model_type", None) not in TESTED_TOWERS:
        handle = VisionWindowsHandle(owner, None, current)
    else:
        AttentionInterface.register(NAME, window_attention)
        config._attn_implementation = NAME
        handle = VisionWindowsHandle(owner, config, current)
    setattr(owner, _ATTR, handle)
    return handle


def try_vision_windows(model: torch.nn.Module) -> bool:
    """:func:`enable_vision_windows` where the model has a Qwen2-VL-style vision tower; whether it applies."""
    try:
        return enable_vision_windows(model).active
    except TypeError as e:  # not a model it knows: it runs stock
        logger.warning("vision_windows left off: %s", e)
        return False
