"""Image safety: every image path is confined to its data root, and every image is opened defensively.

A 200K-item data set always holds a few broken files. They must become per-item errors that name the
item and the reason, not a crash that loses the run.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image

from visionr1.errors import ImageError

MAX_IMAGE_PIXELS = 64_000_000
"""Refuse images above this many pixels (decompression-bomb guard; 8000×8000)."""


def resolve_image_path(root: Path, rel: str, item: str) -> Path:
    """Resolve ``rel`` against ``root`` and refuse anything that lands outside ``root``.

    Absolute paths are accepted only when they point inside ``root``; ``..`` components and symlinks
    are followed before the check, so neither can escape.
    """
    return confine_image_path(Path(root).resolve(), rel, item)


def confine_image_path(real_root: Path, rel: str, item: str) -> Path:
    """:func:`resolve_image_path` against a root already resolved (``Path(root).resolve()``), for
    callers that resolve many paths against one root: the root is resolved once, not per path."""
    if not rel or not isinstance(rel, str):
        raise ImageError(item, f"empty image path {rel!r}")
    path = (real_root / rel).resolve()
    if path != real_root and real_root not in path.parents:
        raise ImageError(item, f"image path {rel!r} escapes the data root {real_root} (image paths are relative to "
                               "it and stay inside it; for images kept elsewhere set the image root: data.image_root "
                               "for sft and grpo, image_root=... for the bridge)")
    return path


MAX_ASPECT_RATIO = 200
"""The most a side may exceed the other by (long / short): Qwen2-VL and Qwen2.5-VL's image processor refuses a
longer image (transformers' ``smart_resize``: "absolute aspect ratio must be smaller than 200"; qwen-vl-utils'
``MAX_RATIO``). That is its only refusal: a small image is scaled up to the pixel budget, a large one down."""


def check_model_image(width: int, height: int, item: str, what: str = "image") -> None:
    """Refuse an image the model's image processor would refuse (:data:`MAX_ASPECT_RATIO`), here, where it is a
    per-item error naming the item, rather than as a transformers traceback in the middle of training.

    >>> check_model_image(2000, 1, "item-7")
    Traceback (most recent call last):
    ...
    visionr1.errors.ImageError: item-7: image is 2000x1, an aspect ratio of 2000:1; the Qwen2.5-VL image processor refuses more than 200:1 (crop or pad it)
    """
    if min(width, height) <= 0 or max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        ratio = max(width, height) / max(min(width, height), 1)
        raise ImageError(item, f"{what} is {width}x{height}, an aspect ratio of {ratio:.4g}:1; the Qwen2.5-VL image "
                               f"processor refuses more than {MAX_ASPECT_RATIO}:1 (crop or pad it)")


def open_image(source: Path | bytes, item: str, *, max_pixels: int = MAX_IMAGE_PIXELS,
               model_rules: bool = True) -> Image.Image:
    """Open, size-check and fully decode an image; returns it in RGB.

    ``model_rules``: also refuse what the model's image processor refuses (:func:`check_model_image`), so data
    that passes every check also trains and evaluates; off where the picture is only looked at (hashing).

    Raises:
        ImageError: missing file, unreadable or truncated data, more than ``max_pixels`` pixels, or (``model_rules``)
            a shape the image processor refuses.
    """
    what = "image bytes" if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
    except FileNotFoundError:
        raise ImageError(item, f"image file not found: {what}") from None
    except OSError as e:
        raise ImageError(item, f"cannot read image {what}: {e}") from None
    with fp:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(fp)
                w, h = img.size
                if w * h > max_pixels:
                    raise ImageError(item, f"image {what} is {w}x{h} = {w * h} pixels, over the {max_pixels} limit")
                if model_rules:
                    check_model_image(w, h, item, f"image {what}")
                img.load()
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(item, f"image {what} is too large (decompression bomb guard)") from None
        except Exception as e:  # PIL raises many types for bad data
            raise ImageError(item, f"corrupt or unsupported image {what}: {type(e).__name__}: {e}") from None
    return img.convert("RGB")


def image_to_png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
