"""Group-shared vision encoding: each unique image in a batch goes through the vision tower once.

In GRPO every completion of a group carries its own copy of the prompt's image, so a stock forward
pass encodes the same image G times — in generation prefill and in every log-prob pass (policy, old
policy, reference). On Qwen2.5-VL-3B with 448² images and G=8 the vision tower is ~64% of a forward
pass. This module patches the model at its boundary, ``get_image_features`` of the inner multimodal
model, so the tower sees each distinct image once and every sequence gets its copy of the features.
The copies are views of one tensor, so autograd sums their gradients into the tower once: the result
equals the vanilla path (the tower attends within each image only; see the exactness tests).

Works with PEFT-wrapped models (the patch lands on the inner module), a frozen or trainable tower,
and any model of the Qwen2-VL family whose inner model has ``visual`` and ``get_image_features``
taking ``(pixel_values, image_grid_thw)`` with patches concatenated image after image.

Example (``model`` a loaded Qwen2.5-VL, ``batch`` 16 rows holding 2 distinct images: each is encoded once):
    >>> handle = enable_shared_vision(model)        # doctest: +SKIP
    >>> model(**batch)                              # doctest: +SKIP
    >>> handle.stats                                # doctest: +SKIP
    {'calls': 1, 'images': 16, 'encoded': 2}
    >>> handle.remove()                             # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from visionr1.models.pixel_store import PixelStore, group_ids, group_verified, handle_image_ids, is_handle

_ATTR = "_visionr1_shared_vision"


def find_vision_owner(model: torch.nn.Module) -> torch.nn.Module:
    """The module that owns the vision tower and ``get_image_features`` (e.g. ``Qwen2_5_VLModel``)."""
    for module in model.modules():
        if hasattr(module, "visual") and "get_image_features" in type(module).__dict__:
            return module
    raise TypeError(
        f"{type(model).__name__} has no inner module with `visual` and `get_image_features`; "
        "shared vision encoding supports the Qwen2-VL family (set shared_vision: false for other models)"
    )


def unique_images(pixel_values: torch.Tensor, grid_thw: torch.Tensor) -> tuple[list[int], list[int]]:
    """Group identical images.

    Args:
        pixel_values: ``(sum_i t_i*h_i*w_i, C*P*P*T)`` patches of all images, image after image.
        grid_thw: ``(n_images, 3)`` patch grid per image.

    Returns:
        ``(first, inverse)``: indices of the first occurrence of each distinct image, and for every image
        the position of its distinct image in ``first``. Identity is exact (``torch.equal``); a cheap
        on-device fingerprint (two weighted sums) only picks the candidates to compare. For a handle
        tensor (:mod:`visionr1.models.pixel_store`) the image ids decide.
    """
    if is_handle(pixel_values):
        return group_ids(handle_image_ids(pixel_values, grid_thw))
    sizes = grid_thw.prod(-1)
    n = sizes.numel()
    if n <= 1:
        return list(range(n)), list(range(n))
    owner = torch.repeat_interleave(torch.arange(n, device=pixel_values.device), sizes)
    row = pixel_values.detach().float().sum(-1).double()
    starts = torch.cumsum(sizes, 0) - sizes
    pos = torch.arange(row.numel(), device=row.device) - starts[owner] + 1
    fp = torch.zeros(n, 2, dtype=torch.float64, device=row.device)
    fp[:, 0].index_add_(0, owner, row)
    fp[:, 1].index_add_(0, owner, row * torch.sqrt(pos.double()))
    keys = torch.cat([grid_thw.double(), fp], dim=1).tolist()  # the one host sync
    chunks = pixel_values.detach().split(sizes.tolist())
    return group_verified(zip(map(tuple, keys), chunks), torch.equal)


@dataclass
class SharedVisionHandle:
    """Returned by :func:`enable_shared_vision`; ``stats`` counts images seen and images encoded."""

    owner: torch.nn.Module
    store: PixelStore | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"calls": 0, "images": 0, "encoded": 0})

    def remove(self) -> None:
        """Restore the stock ``get_image_features``."""
        self.owner.__dict__.pop("get_image_features", None)
        self.owner.__dict__.pop(_ATTR, None)


def enable_shared_vision(model: torch.nn.Module, store: PixelStore | None = None) -> SharedVisionHandle:
    """Patch ``model`` so each unique image in a batch is encoded once; idempotent.

    With ``store``, ``pixel_values`` may also be a handle tensor naming images in it
    (:mod:`visionr1.models.pixel_store`); their pixels are taken from the store.
    """
    owner = find_vision_owner(model)
    existing = owner.__dict__.get(_ATTR)
    if existing is not None:
        if store is not None:
            existing.store = store
        return existing
    original = type(owner).get_image_features.__get__(owner)
    handle = SharedVisionHandle(owner, store)

    def get_image_features(pixel_values: torch.Tensor, image_grid_thw: torch.Tensor | None = None, **kwargs: Any):
        handles = is_handle(pixel_values)
        if handles and (handle.store is None or image_grid_thw is None):
            raise ValueError("pixel_values holds pixel-store handles, but this model has no pixel store "
                             "(or no image_grid_thw came with them)")
        if image_grid_thw is None or pixel_values is None:
            return original(pixel_values, image_grid_thw, **kwargs)
        if handles:
            ids = handle_image_ids(pixel_values, image_grid_thw)
            first, inverse = group_ids(ids)
            distinct = handle.store.pixels([ids[i] for i in first], pixel_values.device)
        else:
            first, inverse = unique_images(pixel_values, image_grid_thw)
            chunks = pixel_values.split(image_grid_thw.prod(-1).tolist())
            distinct = pixel_values if len(first) == len(inverse) else torch.cat([chunks[i] for i in first])
        handle.stats["calls"] += 1
        handle.stats["images"] += len(inverse)
        handle.stats["encoded"] += len(first)
        out = original(distinct, image_grid_thw[first], **kwargs)
        if first == inverse:  # nothing shared: the stock output
            return out
        if isinstance(out, tuple):  # return_dict=False: (last_hidden_state, pooler_output, ...)
            pooled = out[1]
            return (None, tuple(pooled[u] for u in inverse), *out[2:])
        out.pooler_output = tuple(out.pooler_output[u] for u in inverse)
        # The tower's own hidden states are window-permuted and per *distinct* image; nothing downstream
        # reads them, and expanding them would cost the memory this module saves.
        out.last_hidden_state = None
        return out

    owner.get_image_features = get_image_features
    setattr(owner, _ATTR, handle)
    return handle
