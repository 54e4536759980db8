"""The tiny offline Qwen2.5-VL: the real architecture, processor and chat template, random weights.

It exists so that every stage (bridge, SFT, GRPO, eval) runs the *same code path* as a 7B run on a
laptop CPU with no model hub: ``Qwen2_5_VLForConditionalGeneration`` with text hidden 128 and 2 layers,
a 2-block vision tower, a 3K-token byte-level BPE tokenizer trained here with ``tokenizers`` (all
Qwen2-VL special tokens plus ``<think>``, ``</think>``, ``<answer>``, ``</answer>``), Qwen2.5-VL's image
processor, and Qwen2.5-VL's original chat template (TRL ships a copy; we read it from there).

The weights are random: the model knows nothing until it is trained (the demo gives it a short
warm-up). Do not read anything into its outputs before that.

Example:
    >>> from visionr1.models.tiny import build_tiny_model          # doctest: +SKIP
    >>> path = build_tiny_model("/tmp/tiny", seed=0)                # doctest: +SKIP
    >>> AutoModelForImageTextToText.from_pretrained(path)           # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from visionr1.files import replacing_dir
from visionr1.r1 import LETTERS, R1_TAGS

BUILDER_VERSION = 1
"""Bump when the builder's output changes, so cached builds are not reused."""

QWEN2_VL_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]  # fmt: skip
"""Added as single tokens but not *special*: decoding with ``skip_special_tokens=True`` must keep them."""


@dataclass(frozen=True)
class TinyModelSpec:
    """Dimensions of the tiny model. Defaults: ~2M parameters, builds in seconds."""

    vocab_size: int = 3072
    hidden_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 256
    vision_depth: int = 2
    vision_hidden_size: int = 64
    vision_heads: int = 2
    vision_intermediate_size: int = 128
    min_pixels: int = 56 * 56
    max_pixels: int = 224 * 224
    max_position_embeddings: int = 8192

    def key(self, seed: int) -> str:
        blob = json.dumps({"v": BUILDER_VERSION, "seed": seed, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$VISIONR1_CACHE`` or ``~/.cache/visionr1``."""
    return Path(os.environ.get("VISIONR1_CACHE", Path.home() / ".cache" / "visionr1"))


def tokenizer_corpus() -> list[str]:
    """A small, fixed English+math corpus to train the BPE on (deterministic; no downloads)."""
    words = (
        "the image shows a red blue green yellow purple orange black white gray circle square triangle bar "
        "chart line segment angle degrees length longer shorter count how many sum of digits value height "
        "label axis which what is are there in each total number answer question choose option correct "
        "first second third step so therefore wait hmm alternatively let me check again verify recount "
        "carefully that gives means because since plus minus times equals greater less than between "
        "largest smallest most least frequent colour color shape drawn labelled labeled measure read "
        "think reasoning final explanation description picture figure shown above below left right "
        "top bottom middle we need to find compute calculate add subtract multiply divide half double"
    ).split()
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    lines += [w.capitalize() + "," for w in words]
    lines += [f"{a} + {b} = {a + b}. {a} - {b} = {a - b}. {a} * {b} = {a * b}." for a in range(0, 60, 3) for b in range(1, 40, 7)]
    lines += [f"The angles of a triangle sum to 180 degrees, so 180 - {a} - {b} = {180 - a - b}." for a in range(20, 90, 9) for b in range(15, 80, 11)]
    lines += [f"({c}) {x}  {c}. {x}" for c, x in zip(LETTERS, ["red", "blue", "3", "4.5", "yes", "no", "12", "0.25"])]
    lines += ["Wait, let me double-check that. Hmm, that does not look right. Alternatively, count row by row."] * 3
    lines += ["<think>\nFirst, look at the image.\n</think>\n<answer>7</answer>", "Answer: (B)", "\\boxed{42}", "x^2 + y^2 = r^2, \\frac{1}{2}"]
    return lines


def build_tokenizer(spec: TinyModelSpec):
    """Train a byte-level BPE with Qwen2's pre-tokenizer and wrap it as ``Qwen2Tokenizer``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import AddedToken
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX, Qwen2Tokenizer

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
         pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    n_extra = len(QWEN2_VL_SPECIAL_TOKENS) + len(R1_TAGS)
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size - n_extra,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tok.train_from_iterator(tokenizer_corpus(), trainer=trainer)
    state = json.loads(tok.to_str())
    vocab, merges = state["model"]["vocab"], state["model"]["merges"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]
    qtok = Qwen2Tokenizer(vocab=vocab, merges=merges, unk_token=None, eos_token="<|im_end|>",
                          pad_token="<|endoftext|>", errors="replace", model_max_length=spec.max_position_embeddings)
    qtok.add_special_tokens({"additional_special_tokens": QWEN2_VL_SPECIAL_TOKENS})
    qtok.add_tokens([AddedToken(t, special=False, normalized=False) for t in R1_TAGS])
    return qtok


def qwen2_5_vl_chat_template() -> str:
    """Qwen2.5-VL's original chat template, from the copy TRL ships (``trl/chat_templates``)."""
    import trl

    path = Path(trl.__file__).parent / "chat_templates" / "qwen2_5_vl.jinja"
    return path.read_text(encoding="utf-8")


MADE_BY = "visionr1 tiny-model"


def looks_like_tiny_model(path: Path) -> bool:
    """A folder this builder wrote before output folders were marked (its README says so)."""
    readme = Path(path) / "README.md"
    try:
        return readme.is_file() and "Built by `visionr1 tiny-model`" in readme.read_text(encoding="utf-8")
    except OSError:
        return False


def build_tiny_model(out: Path | str, seed: int = 0, spec: TinyModelSpec | None = None, *,
                     cache_dir: Path | None = None, use_cache: bool = True, force: bool = False) -> Path:
    """Build (or copy from the cache) the tiny model into ``out``; returns ``out``.

    Deterministic for ``(seed, spec)``: the cache key is a hash of both and of ``BUILDER_VERSION``.
    ``out`` is replaced whole, so it must be new, empty or a tiny model built here before
    (:mod:`visionr1.outdir`); ``force`` replaces any folder.
    """
    from visionr1.outdir import check_output_dir, mark_output_dir

    spec = spec or TinyModelSpec()
    out = Path(out)
    cache = Path(cache_dir or default_cache_dir()) / "tiny-model" / spec.key(seed)
    same = out.exists() and cache.exists() and out.resolve() == cache.resolve()
    if not same:
        check_output_dir(out, MADE_BY, force=force, looks_ours=looks_like_tiny_model, what="--out folder",
                         force_effect="everything in it is deleted")
    if use_cache and (cache / "config.json").exists():
        if not same:
            with replacing_dir(out) as tmp:
                shutil.copytree(cache, tmp, dirs_exist_ok=True)
            mark_output_dir(out, MADE_BY)
        return out
    target = cache if use_cache else out
    with replacing_dir(target) as tmp:
        _build_into(tmp, seed, spec)
    if target != out:
        return build_tiny_model(out, seed, spec, cache_dir=cache_dir, use_cache=True, force=force)
    mark_output_dir(out, MADE_BY)
    return out


def _build_into(path: Path, seed: int, spec: TinyModelSpec) -> None:
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tokenizer = build_tokenizer(spec)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN2_VL_SPECIAL_TOKENS}
    vocab = max(spec.vocab_size, len(tokenizer))
    vocab = (vocab + 63) // 64 * 64
    head_dim = spec.hidden_size // spec.num_attention_heads
    half = head_dim // 2
    mrope = [half - 2 * (3 * half // 8), 3 * half // 8, 3 * half // 8]  # Qwen2.5-VL's 16/24/24 split, scaled
    config = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=vocab, hidden_size=spec.hidden_size, intermediate_size=spec.intermediate_size,
            num_hidden_layers=spec.num_hidden_layers, num_attention_heads=spec.num_attention_heads,
            num_key_value_heads=spec.num_key_value_heads, max_position_embeddings=spec.max_position_embeddings,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": mrope},
            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
            tie_word_embeddings=True,
        ),
        vision_config=dict(
            depth=spec.vision_depth, hidden_size=spec.vision_hidden_size, num_heads=spec.vision_heads,
            intermediate_size=spec.vision_intermediate_size, out_hidden_size=spec.hidden_size,
            fullatt_block_indexes=[spec.vision_depth - 1], patch_size=14, spatial_merge_size=2,
            temporal_patch_size=2, window_size=112,
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]], pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"], do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
    )
    image_processor = Qwen2VLImageProcessor(min_pixels=spec.min_pixels, max_pixels=spec.max_pixels,
                                            patch_size=14, merge_size=2, temporal_patch_size=2)
    video_processor = Qwen2VLVideoProcessor(min_pixels=spec.min_pixels, max_pixels=spec.max_pixels)
    processor = Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                    video_processor=video_processor, chat_template=qwen2_5_vl_chat_template())
    model.save_pretrained(path)
    processor.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "README.md").write_text(
        "# visionr1 tiny Qwen2.5-VL (RANDOM WEIGHTS)\n\n"
        "Built by `visionr1 tiny-model` to exercise the real Qwen2.5-VL code path offline. Its weights are\n"
        "random: it knows nothing until trained. Not a usable model.\n\n"
        f"seed: {seed}\n\nspec: `{json.dumps(asdict(spec))}`\n",
        encoding="utf-8",
    )
