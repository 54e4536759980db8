"""Each distinct image's pixel tensor held once: small handles travel in ``pixel_values`` instead.

In GRPO every completion of a group carries its own copy of the prompt's image. TRL processes the
repeated prompts as they come, so the image processor runs G times per image and ``pixel_values`` holds
G copies of every image's patches, on the host and then on the device, for as long as the batch is
buffered (``steps_per_generation`` × ``num_iterations`` optimiser steps). At 448² that is
1,024 patches × 1,176 floats = 4.8 MB per copy: 77 MB per prompt at G=16, gigabytes per generation
batch. (verl#3236 reports > 1.5 TB host RAM from the same repetition.)

Here the image processor is wrapped (:class:`DedupImageProcessor`): it processes each distinct image of
a call once, keeps its pixels in a :class:`PixelStore`, and returns in ``pixel_values`` a *handle*
tensor with the shape TRL expects along dim 0 — one row per patch, ``(image id, patch index)`` as
int64, 16 bytes a row instead of 4,704. TRL slices, splits, shuffles and concatenates it by rows exactly
as it does real pixels, and moves it to the device; the model's patched ``get_image_features``
(:mod:`visionr1.models.shared_vision`) turns the handles back into the distinct images' pixels, copied
to the device once per image, and encodes each distinct image once.

Exact: the pixels the tower sees are the image processor's own output for that image (tests compare
them bit for bit with the stock processor's, and whole GRPO steps with the stock step).

Identity: images are compared by content (mode, size, palette and bytes for PIL images; dtype, shape and
bytes for arrays and tensors), hashed and then compared byte for byte, because datasets decode a fresh
image object for each of the G repeats.

Lifetime: the store keeps the images of the current training round and of the current evaluation round;
:meth:`PixelStore.begin` starts a round (``visionr1.train.speedups`` calls it where TRL starts generating
and scoring a batch). A handle to an image from a dropped round is an error that says so, never a wrong
image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

HANDLE_COLUMNS = 2  # (image id, patch index within the image)


def is_handle(pixel_values: Any) -> bool:
    """Whether ``pixel_values`` is a handle tensor (int64, two columns) rather than real pixels (floating)."""
    return (isinstance(pixel_values, torch.Tensor) and pixel_values.dtype == torch.int64
            and pixel_values.ndim == 2 and pixel_values.shape[1] == HANDLE_COLUMNS)


def make_handles(image_id: int, patches: int) -> torch.Tensor:
    """The handle rows of one image: ``(image_id, 0) … (image_id, patches - 1)``."""
    rows = torch.arange(patches, dtype=torch.int64)
    return torch.stack([torch.full_like(rows, image_id), rows], dim=1)


def handle_image_ids(handles: torch.Tensor, grid_thw: torch.Tensor) -> list[int]:
    """The image id of each image in ``grid_thw``; checks that the handle rows are whole images in order."""
    sizes = grid_thw.prod(-1).to(handles.device)
    if int(sizes.sum()) != handles.shape[0]:
        raise ValueError(f"pixel handles have {handles.shape[0]} rows but image_grid_thw describes {int(sizes.sum())} patches")
    if handles.shape[0] == 0:
        return []
    starts = torch.cumsum(sizes, 0) - sizes
    owner = torch.repeat_interleave(torch.arange(sizes.numel(), device=handles.device), sizes)
    ids = handles[starts, 0]
    expected_row = torch.arange(handles.shape[0], device=handles.device) - starts[owner]
    whole = (handles[:, 0] == ids[owner]).all() & (handles[:, 1] == expected_row).all()
    if not bool(whole):
        raise ValueError("pixel handles do not line up with image_grid_thw: a batch slice cut through an image")
    return ids.tolist()


def group_ids(ids: Sequence[Hashable]) -> tuple[list[int], list[int]]:
    """``(first, inverse)`` for a list of keys: first occurrence of each distinct key, and each item's slot."""
    first: list[int] = []
    inverse: list[int] = []
    slot: dict[Hashable, int] = {}
    for i, key in enumerate(ids):
        if key not in slot:
            slot[key] = len(first)
            first.append(i)
        inverse.append(slot[key])
    return first, inverse


def group_verified(items: Iterable[tuple[Hashable, Any]], same: Callable[[Any, Any], bool]) -> tuple[list[int], list[int]]:
    """:func:`group_ids` over ``(key, payload)`` items where equal keys only nominate candidates: an item
    joins an earlier group with its key only if ``same(payload, group's first payload)`` (a fingerprint
    picks, an exact comparison decides). Only the groups' first payloads are kept, so ``items`` may be a
    generator of large payloads."""
    first: list[int] = []
    inverse: list[int] = []
    by_key: dict[Hashable, list[tuple[int, Any]]] = {}
    for i, (key, payload) in enumerate(items):
        slot = next((u for u, kept in by_key.get(key, []) if same(payload, kept)), None)
        if slot is None:
            slot = len(first)
            first.append(i)
            by_key.setdefault(key, []).append((slot, payload))
        inverse.append(slot)
    return first, inverse


def image_content(image: Any) -> tuple[tuple, bytes] | None:
    """``(description, raw bytes)`` that decide what the image processor makes of ``image``; None if unknown."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - PIL comes with transformers' image stack
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        palette = bytes(image.getpalette() or []) if image.mode in ("P", "PA") else b""
        meta = ("pil", image.mode, image.size, repr(image.info.get("transparency")), palette)
        return meta, image.tobytes()
    if isinstance(image, torch.Tensor):
        t = image.detach().cpu().contiguous()
        return ("tensor", str(t.dtype), tuple(t.shape)), t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
    if hasattr(image, "__array_interface__"):
        import numpy as np

        a = np.ascontiguousarray(image)
        return ("array", a.dtype.str, a.shape), a.tobytes()
    return None


@dataclass
class PixelStore:
    """The pixels of the distinct images of the current training and evaluation rounds."""

    stats: dict[str, int] = field(default_factory=lambda: {
        "images": 0, "distinct": 0, "bytes_stock": 0, "bytes_held": 0})
    _pixels: dict[int, torch.Tensor] = field(default_factory=dict, repr=False)
    _on_device: dict[tuple[int, torch.device], torch.Tensor] = field(default_factory=dict, repr=False)
    _rounds: dict[str, list[int]] = field(default_factory=lambda: {"train": [], "eval": []}, repr=False)
    _mode: str = "train"
    _next_id: int = 1

    def begin(self, mode: str) -> None:
        """Start a round: ``"train"`` drops every earlier image, ``"eval"`` the earlier evaluation round's."""
        if mode not in self._rounds:
            raise ValueError(f"mode={mode!r}: expected 'train' or 'eval'")
        for old in ("train", "eval") if mode == "train" else ("eval",):
            for image_id in self._rounds[old]:
                self._pixels.pop(image_id, None)
            self._rounds[old] = []
        live = set(self._pixels)
        self._on_device = {k: v for k, v in self._on_device.items() if k[0] in live}
        self._mode = mode

    def put(self, pixels: torch.Tensor) -> int:
        """Keep one image's patches ``(patches, dim)``; returns its id."""
        image_id = self._next_id
        self._next_id += 1
        self._pixels[image_id] = pixels
        self._rounds[self._mode].append(image_id)
        return image_id

    def pixels(self, image_ids: Sequence[int], device: torch.device | str) -> torch.Tensor:
        """The patches of ``image_ids``, concatenated, on ``device`` (each image copied there once per round)."""
        device = torch.device(device)
        parts = []
        for image_id in image_ids:
            key = (image_id, device)
            if key not in self._on_device:
                if image_id not in self._pixels:
                    raise KeyError(f"pixel handle names image {image_id}, which is not in the pixel store any more "
                                   "(its round ended); a batch was used after the next training round began")
                self._on_device[key] = self._pixels[image_id].to(device, non_blocking=True)
            parts.append(self._on_device[key])
        return torch.cat(parts) if len(parts) > 1 else parts[0]

    def __len__(self) -> int:
        return len(self._pixels)


class DedupImageProcessor:
    """Wraps an image processor of the Qwen2-VL family: each distinct image processed once, handles returned.

    A processor whose output handles cannot express (keys other than ``pixel_values`` and
    ``image_grid_thw``, or non-tensor outputs) is detected on its first call and from then on called as
    it is, on every image. Other attributes are the wrapped processor's.
    """

    def __init__(self, inner: Any, store: PixelStore) -> None:
        self._inner = inner
        self._store = store
        self.supported = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __call__(self, images: Any = None, *args: Any, **kwargs: Any) -> Any:
        from transformers.image_utils import make_flat_list_of_images

        if images is None or args or kwargs.get("videos") is not None or not self.supported:
            return self._inner(images, *args, **kwargs)
        flat = make_flat_list_of_images(images)

        def keyed():  # one image's bytes at a time (plus each group's first): G copies are never all held
            for i, image in enumerate(flat):
                content = image_content(image)
                if content is None:  # an image of unknown kind is its own group
                    yield ("unknown", i), None
                else:
                    yield (content[0], hashlib.blake2b(content[1], digest_size=16).digest()), content[1]

        first, inverse = group_verified(keyed(), lambda a, b: a == b)
        self._store.stats["images"] += len(inverse)
        self._store.stats["distinct"] += len(first)
        if len(first) == len(flat):
            return self._inner(images, *args, **kwargs)
        out = self._inner([flat[i] for i in first], **kwargs)
        pixels, grid = out.get("pixel_values"), out.get("image_grid_thw")
        if set(out.keys()) != {"pixel_values", "image_grid_thw"} or not isinstance(pixels, torch.Tensor) \
                or not isinstance(grid, torch.Tensor):
            self.supported = False
            return self._inner(images, *args, **kwargs)
        chunks = pixels.split(grid.prod(-1).tolist())
        ids = [self._store.put(chunk) for chunk in chunks]
        out["pixel_values"] = torch.cat([make_handles(ids[u], chunks[u].shape[0]) for u in inverse])
        out["image_grid_thw"] = grid[inverse]
        stats = self._store.stats
        row_bytes = pixels.element_size() * pixels.shape[1]
        stats["bytes_stock"] += sum(chunks[u].shape[0] for u in inverse) * row_bytes
        stats["bytes_held"] += pixels.shape[0] * row_bytes + out["pixel_values"].numel() * 8
        return out
