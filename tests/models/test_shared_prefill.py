"""Prefill once per group: same tokens and scores as stock generate, fewer prefills."""

from __future__ import annotations

import pytest
import torch

from visionr1.models.shared_prefill import (
    enable_shared_prefill,
    find_generator,
    group_rows,
    resolve_decode,
    static_cache_length,
)
from visionr1.testing.numerics import SAME_UP_TO, relative_gap  # float32 equality, from the arithmetic


def _inputs(processor, rows):
    processor.tokenizer.padding_side = "left"
    texts, images = [], []
    for question, imgs in rows:
        content = [{"type": "image"} for _ in imgs] + [{"type": "text", "text": question}]
        texts.append(processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False))
        images += imgs
    return processor(text=texts, images=images, return_tensors="pt", padding=True)


@pytest.fixture(scope="module")
def mp(tiny_model_dir):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    return AutoModelForImageTextToText.from_pretrained(tiny_model_dir).eval(), AutoProcessor.from_pretrained(tiny_model_dir)


def _both(model, inputs, decode="dynamic", **kw):
    torch.manual_seed(0)
    ref = model.generate(**inputs, **kw)
    handle = enable_shared_prefill(model, decode=decode)
    try:
        torch.manual_seed(0)
        out = model.generate(**inputs, **kw)
    finally:
        handle.remove()
    return ref, out, handle.stats


def test_greedy_tokens_and_scores_match_stock(mp, noise_image):
    model, processor = mp
    a, b = noise_image(1), noise_image(2, (84, 112))
    rows = [("How many?", [a])] * 3 + [("Which colour is the largest shape?", [b])] * 3
    ref, out, stats = _both(model, _inputs(processor, rows), max_new_tokens=8, do_sample=False,
                            output_scores=True, return_dict_in_generate=True)
    assert stats == {"calls": 1, "rows": 6, "prefilled": 2}
    assert torch.equal(ref.sequences, out.sequences)
    assert max(relative_gap(y, x) for x, y in zip(ref.scores, out.scores)) <= SAME_UP_TO


def test_sampling_is_independent_per_row_and_matches_stock_under_a_seed(mp, noise_image):
    model, processor = mp
    a = noise_image(3)
    rows = [("How many?", [a])] * 4
    ref, out, stats = _both(model, _inputs(processor, rows), max_new_tokens=8, do_sample=True, top_k=0)
    assert stats["prefilled"] == 1
    assert torch.equal(ref, out)
    completions = {tuple(r[-8:].tolist()) for r in out}
    assert len(completions) > 1  # G samples, not one sample copied G times


def test_same_text_different_images_are_not_shared(mp, noise_image):
    model, processor = mp
    rows = [("How many?", [noise_image(4)]), ("How many?", [noise_image(5)]), ("How many?", [noise_image(4)])]
    inputs = _inputs(processor, rows)
    first, inverse = group_rows(inputs, model.config.image_token_id, 2)
    assert first == [0, 1] and inverse == [0, 1, 0]
    ref, out, stats = _both(model, inputs, max_new_tokens=6, do_sample=False)
    assert stats["prefilled"] == 2 and torch.equal(ref, out)


@pytest.mark.parametrize("decode", ["dynamic", "static"])
def test_several_ranks_prefill_a_batch_with_nothing_shared(mp, noise_image, monkeypatch, decode):
    """With several ranks a batch with no repeats is prefilled the same way (each row its own group), so
    every rank makes the same module calls (ZeRO-3/FSDP gather parameters per call); same tokens as stock."""
    import visionr1.models.shared_prefill as shared_prefill

    model, processor = mp
    inputs = _inputs(processor, [("How many?", [noise_image(6)]), ("What colour?", [noise_image(7)])])
    calls = []
    hook = model.model.language_model.layers[0].register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        ref, out, stats = _both(model, inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False)
        assert stats["prefilled"] == 2 and torch.equal(ref, out)
        stock_calls = len(calls) // 2
        monkeypatch.setattr(shared_prefill, "several_ranks", lambda: True)
        calls.clear()
        ref, out, stats = _both(model, inputs, decode=decode, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    finally:
        hook.remove()
    assert torch.equal(ref, out)
    assert len(calls) - stock_calls == stock_calls + 1  # the prefill pass, then generate's own calls


@pytest.mark.parametrize("decode", ["dynamic", "static"])
def test_lora_model(tiny_model_dir, noise_image, decode):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForImageTextToText.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)).eval()
    rows = [("How many?", [noise_image(6)])] * 3
    ref, out, stats = _both(model, _inputs(processor, rows), decode=decode, max_new_tokens=6, do_sample=False)
    assert stats["prefilled"] == 1 and torch.equal(ref, out)


@pytest.mark.parametrize("decode", ["static", "compiled"])
def test_static_and_compiled_decoding_match_stock(mp, noise_image, decode):
    """The shared prefill copied into a fixed-shape cache (and decoded by a compiled forward) changes nothing."""
    from transformers import CompileConfig, GenerationConfig

    model, processor = mp
    a, b = noise_image(1), noise_image(2, (84, 112))
    inputs = _inputs(processor, [("How many?", [a])] * 2 + [("Which colour is the largest shape?", [b])] * 2)
    kw = {}
    if decode == "compiled":  # dynamo's tracing and guards without a C++ toolchain; CUDA uses inductor + CUDA graphs
        kw["generation_config"] = GenerationConfig(compile_config=CompileConfig(backend="eager", mode=None))
    ref, out, stats = _both(model, inputs, decode=decode, max_new_tokens=8, do_sample=False, output_scores=True,
                            return_dict_in_generate=True, **kw)
    assert stats["prefilled"] == 2
    assert torch.equal(ref.sequences, out.sequences)
    assert max(relative_gap(y, x) for x, y in zip(ref.scores, out.scores)) <= SAME_UP_TO
    assert hasattr(find_generator(model), "_compiled_call") == (decode == "compiled")
    ref, out, _ = _both(model, inputs, decode=decode, max_new_tokens=8, do_sample=True, top_k=0, **kw)
    assert torch.equal(ref, out)  # sampling unchanged too: same draws from the same distributions
    find_generator(model).__dict__.pop("_compiled_call", None)


def test_static_cache_is_reused_across_calls_and_stays_exact(mp, noise_image):
    model, processor = mp
    batches = [_inputs(processor, [("How many?", [noise_image(7)])] * 3),
               _inputs(processor, [("Which colour?", [noise_image(8, (84, 112))])] * 3)]
    refs = [model.generate(**b, max_new_tokens=6, do_sample=False) for b in batches]
    handle = enable_shared_prefill(model, decode="static", cache_bucket=512)
    try:
        outs, caches = [], []
        for b in batches:
            outs.append(model.generate(**b, max_new_tokens=6, do_sample=False))
            caches.append(next(iter(handle.cache_pool.values())))
    finally:
        handle.remove()
    assert all(torch.equal(r, o) for r, o in zip(refs, outs))  # the reset cache holds nothing of the first batch
    assert caches[0] is caches[1] and caches[0].layers[0].max_cache_len == 512  # one shape, reused
    assert handle.cache_pool == {}


def test_static_cache_lengths_are_few():
    assert [static_cache_length(n) for n in (1, 256, 257, 600, 1024, 1025)] == [256, 256, 512, 1024, 1024, 2048]
    assert static_cache_length(300, minimum=512) == 512
    assert len({static_cache_length(n) for n in range(300, 1000)}) == 2  # 700 prompt lengths, two compiled shapes


def test_decode_modes_are_checked_and_auto_compiles_only_on_cuda():
    assert resolve_decode("auto", torch.device("cpu")) == "dynamic"
    assert resolve_decode("auto", torch.device("cuda")) == "compiled"
    assert resolve_decode("auto", torch.device("cuda"), sharded=True) == "dynamic"  # ZeRO-3/FSDP: gathered anew
    assert resolve_decode("compiled", torch.device("cuda"), sharded=True) == "compiled"  # asked for: kept
    assert resolve_decode("static", torch.device("cpu")) == "static"
    with pytest.raises(ValueError, match="decode='fast'"):
        resolve_decode("fast", torch.device("cpu"))
