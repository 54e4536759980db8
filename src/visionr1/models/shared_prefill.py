"""Prefill once per group in Hugging Face generation.

GRPO samples G completions per prompt. A stock ``generate`` call receives the prompt G times (TRL
repeats it before generation) and prefills — vision tower included — G identical sequences. Here the
distinct prompts are prefilled once (all but their last token), the KV cache is expanded to the G rows
by index, and ``generate`` continues from that cache: every row still samples independently, and the
logits equal the stock path's (the exactness tests compare greedy outputs and per-step scores).

Patch a model with :func:`enable_shared_prefill` (TRL then calls ``model.generate`` as usual), or call
:func:`generate_shared_prefill` directly. Rows are grouped when their token ids, attention mask and
images are identical; a batch with no repeats goes straight to the stock ``generate`` (with several ranks it
is prefilled the same way, each row its own group, so every rank makes the same module calls:
:mod:`visionr1.models.ranks`).

Decoding after the shared prefill (``decode``):

- ``"dynamic"``: transformers' ``DynamicCache``, eager forward (the stock decode loop).
- ``"static"``: the prefilled keys/values are copied into a ``StaticCache`` of fixed shape (its length
  rounded up to a power of two, at least ``cache_bucket``, so consecutive GRPO steps reuse one shape).
- ``"compiled"``: ``"static"`` plus transformers' own compiled decoding (``torch.compile`` of the
  forward in ``reduce-overhead`` mode = CUDA graphs), which TRL switches off with
  ``disable_compile=True``. Eager decoding of a multi-billion-parameter model at GRPO batch sizes is
  bound by Python and kernel launches (3B-shaped Qwen2.5-VL, 16 sequences, H200: ~32 ms per token
  eager, ~9 ms compiled; docs/speed.md). On CPU it does not pay (compilation costs more than it
  saves), hence ``"auto"``: compiled on CUDA, dynamic elsewhere and for sharded (ZeRO-3, FSDP) parameters.

Example (``model`` a loaded Qwen2.5-VL; the prefill runs on the distinct prompts only):
    >>> handle = enable_shared_prefill(model)       # doctest: +SKIP
    >>> model.generate(**inputs_repeated_g_times)   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from visionr1.models.pixel_store import group_ids
from visionr1.models.ranks import several_ranks, sharded_parameters
from visionr1.models.shared_vision import find_vision_owner, unique_images

_ATTR = "_visionr1_shared_prefill"


def find_generator(model: torch.nn.Module) -> torch.nn.Module:
    """The innermost module with ``generate`` that owns the vision model (under PEFT: the base model)."""
    owner = find_vision_owner(model)
    for module in model.modules():
        if hasattr(type(module), "generate") and any(m is owner for m in module.children()):
            return module
    raise TypeError(f"{type(model).__name__}: no generation module around the vision model")


def images_per_row(ids: torch.Tensor, grid: torch.Tensor, image_token_id: int, merge: int) -> list[list[int]]:
    """For each row of ``ids``, the indices of its images in ``grid`` (images are concatenated row after row)."""
    tokens_per_image = (grid.prod(-1) // (merge * merge)).tolist()
    per_row = (ids == image_token_id).sum(-1).tolist()
    owned: list[list[int]] = []
    k = 0
    for count in per_row:
        mine, seen = [], 0
        while seen < count:
            mine.append(k)
            seen += tokens_per_image[k]
            k += 1
        owned.append(mine)
    return owned


def group_rows(inputs: dict[str, torch.Tensor], image_token_id: int, merge: int) -> tuple[list[int], list[int]]:
    """``(first, inverse)`` over rows: rows are one group when ids, mask and images are all identical."""
    ids, mask = inputs["input_ids"], inputs.get("attention_mask")
    n = ids.shape[0]
    rows_images: list[tuple[int, ...]] = [() for _ in range(n)]
    pv, grid = inputs.get("pixel_values"), inputs.get("image_grid_thw")
    if pv is not None and grid is not None:
        _, img_inverse = unique_images(pv, grid)
        rows_images = [tuple(img_inverse[i] for i in imgs) for imgs in images_per_row(ids, grid, image_token_id, merge)]
    return group_ids([(tuple(ids[r].tolist()), tuple(mask[r].tolist()) if mask is not None else (), rows_images[r])
                      for r in range(n)])


def select_row_images(inputs: dict[str, torch.Tensor], rows: list[int], image_token_id: int, merge: int):
    """pixel_values / image_grid_thw of the given rows, in row order."""
    ids, pv, grid = inputs["input_ids"], inputs["pixel_values"], inputs["image_grid_thw"]
    chunks = pv.split(grid.prod(-1).tolist())
    owned = images_per_row(ids, grid, image_token_id, merge)
    keep = [i for r in rows for i in owned[r]]
    if not keep:
        return None, None
    return torch.cat([chunks[i] for i in keep]), grid[keep]


DECODE_MODES = ("auto", "dynamic", "static", "compiled")


def resolve_decode(decode: str, device: torch.device, sharded: bool = False) -> str:
    """``"auto"`` → ``"compiled"`` on CUDA, ``"dynamic"`` elsewhere or for ``sharded`` parameters (ZeRO-3,
    FSDP: gathered anew for each generation, which CUDA graphs recorded on their addresses would not see);
    other modes pass through (checked)."""
    if decode not in DECODE_MODES:
        raise ValueError(f"decode={decode!r}: expected one of {', '.join(DECODE_MODES)}")
    if decode == "auto":
        return "compiled" if device.type == "cuda" and not sharded else "dynamic"
    return decode


def static_cache_length(needed: int, minimum: int = 256) -> int:
    """The static cache length for ``needed`` positions: the next power of two, at least ``minimum``.

    GRPO prompts differ in length from step to step; rounding to a few sizes keeps the compiled decode
    step (and its CUDA graphs) from being rebuilt for each new length, at up to 2x KV-cache memory.
    """
    return max(minimum, 1 << max(needed - 1, 0).bit_length())


def _static_copy(cache: Any, config: Any, rows: torch.Tensor, max_len: int, pool: dict | None = None) -> Any:
    """A ``StaticCache`` of ``max_len`` positions holding ``cache``'s keys/values for ``rows`` (by index).

    With ``pool``, a cache of the same shape from an earlier call is reset and reused: its tensors keep
    their addresses, which CUDA graphs recorded by the compiled decode step rely on (a fresh cache every
    GRPO step would mean re-recording them).
    """
    from transformers import StaticCache

    probe = cache.layers[0].keys
    key = (len(rows), max_len, probe.dtype, probe.device)
    static = pool.get(key) if pool is not None else None
    if static is None:
        static = StaticCache(config=config, max_cache_len=max_len)
        if pool is not None:
            pool.clear()  # one shape at a time: GRPO batches keep their shape, so older ones are dead weight
            pool[key] = static
    else:
        static.reset()
    if len(static.layers) != len(cache.layers):
        raise TypeError(f"static cache has {len(static.layers)} layers, the prefill cache {len(cache.layers)}")
    for src, dst in zip(cache.layers, static.layers):
        dst.update(src.keys.index_select(0, rows), src.values.index_select(0, rows))
    return static


def _generation_config(module: torch.nn.Module, inputs: dict[str, Any]):
    """The ``GenerationConfig`` ``generate`` will use, with the call's keyword overrides applied (a copy)."""
    import copy

    base = inputs.get("generation_config") or module.generation_config
    cfg = copy.deepcopy(base)
    for key in list(inputs):
        if hasattr(cfg, key) and key not in ("input_ids", "attention_mask"):
            setattr(cfg, key, inputs[key])
    return cfg


@dataclass
class SharedPrefillHandle:
    module: torch.nn.Module
    decode: str = "dynamic"
    cache_bucket: int = 256
    stats: dict[str, int] = field(default_factory=lambda: {"calls": 0, "rows": 0, "prefilled": 0})
    cache_pool: dict = field(default_factory=dict, repr=False)

    def remove(self) -> None:
        self.cache_pool.clear()
        self.module.__dict__.pop("generate", None)
        self.module.__dict__.pop(_ATTR, None)


def generate_shared_prefill(module: torch.nn.Module, stats: dict[str, int] | None = None, *, decode: str = "dynamic",
                            cache_bucket: int = 256, cache_pool: dict | None = None, **inputs: Any):
    """``module.generate(**inputs)`` with one prefill per distinct prompt; returns what ``generate`` returns.

    Args:
        module: the generation module (see :func:`find_generator`).
        decode: ``"auto"``, ``"dynamic"``, ``"static"`` or ``"compiled"`` (module docstring).
        cache_bucket: the smallest static cache length (lengths are powers of two; :func:`static_cache_length`).
        cache_pool: reuse static caches across calls (see :func:`_static_copy`); the patched ``generate`` does.
        inputs: ``input_ids`` ``(N, L)`` (left-padded), ``attention_mask``, ``pixel_values``,
            ``image_grid_thw``, ``mm_token_type_ids`` and any ``generate`` keyword.
    """
    stock = type(module).generate.__get__(module)
    ids = inputs.get("input_ids")
    unsupported = inputs.get("pixel_values_videos") is not None or inputs.get("cache") is not None
    if ids is None or ids.shape[0] < 2 or ids.shape[1] < 2 or unsupported:
        return stock(**inputs)
    cfg = module.config
    image_token_id = cfg.image_token_id
    merge = cfg.vision_config.spatial_merge_size
    first, inverse = group_rows(inputs, image_token_id, merge)
    if stats is not None:
        stats["calls"] += 1
        stats["rows"] += len(inverse)
        stats["prefilled"] += len(first)
    if len(first) == len(inverse) and not several_ranks():  # several ranks: the same calls on each (models/ranks.py)
        return stock(**inputs)

    idx = torch.tensor(first, device=ids.device)
    prefill = {"input_ids": ids[idx, :-1], "use_cache": True}
    if inputs.get("attention_mask") is not None:
        prefill["attention_mask"] = inputs["attention_mask"][idx, :-1]
    if inputs.get("mm_token_type_ids") is not None:
        prefill["mm_token_type_ids"] = inputs["mm_token_type_ids"][idx, :-1]
    if inputs.get("pixel_values") is not None:
        prefill["pixel_values"], prefill["image_grid_thw"] = select_row_images(inputs, first, image_token_id, merge)
    inner = find_vision_owner(module)
    with torch.no_grad():
        out = module(**prefill, logits_to_keep=1)
    expand = torch.tensor(inverse, device=ids.device)
    cache = out.cache if hasattr(out, "cache") else out.past_key_values
    if getattr(inner, "rope_deltas", None) is not None:
        inner.rope_deltas = inner.rope_deltas[expand]
    rest = {k: v for k, v in inputs.items() if k not in ("pixel_values", "image_grid_thw")}
    decode = resolve_decode(decode, ids.device, sharded=decode == "auto" and sharded_parameters(module))
    if decode == "dynamic":
        cache.reorder_cache(expand)
    else:
        gen_cfg = _generation_config(module, inputs)
        new = gen_cfg.max_new_tokens if gen_cfg.max_new_tokens is not None else max(gen_cfg.max_length - ids.shape[1], 1)
        length = static_cache_length(ids.shape[1] + new, cache_bucket)
        cache = _static_copy(cache, module.config, expand, length, cache_pool)
        if decode == "compiled":
            from transformers import CompileConfig

            compile_config = gen_cfg.compile_config or CompileConfig()
            compile_config._compile_all_devices = True  # asked for explicitly, also off CUDA
            gen_cfg.disable_compile = False
            gen_cfg.compile_config = compile_config
        rest = {k: v for k, v in rest.items() if not hasattr(gen_cfg, k) or k in ("input_ids", "attention_mask")}
        rest["generation_config"] = gen_cfg
    return stock(**rest, cache=cache)


def enable_shared_prefill(model: torch.nn.Module, decode: str = "dynamic", cache_bucket: int = 256) -> SharedPrefillHandle:
    """Patch the generation module inside ``model`` so ``generate`` prefills each distinct prompt once.

    ``decode`` picks how the completions are decoded from the shared cache (module docstring).
    """
    resolve_decode(decode, torch.device("cpu"))  # validate early
    if cache_bucket < 1:
        raise ValueError(f"cache_bucket={cache_bucket}: must be >= 1")
    module = find_generator(model)
    existing = module.__dict__.get(_ATTR)
    if existing is not None:
        existing.decode, existing.cache_bucket = decode, cache_bucket
        return existing
    handle = SharedPrefillHandle(module, decode, cache_bucket)

    def generate(*args: Any, **kwargs: Any):
        if args:  # positional input_ids
            kwargs["input_ids"], args = args[0], args[1:]
        if args:
            raise TypeError("shared-prefill generate takes its inputs as keywords")
        return generate_shared_prefill(module, handle.stats, decode=handle.decode, cache_bucket=handle.cache_bucket,
                                       cache_pool=handle.cache_pool, **kwargs)

    module.generate = generate
    setattr(module, _ATTR, handle)
    return handle
