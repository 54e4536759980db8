"""Exactness of group-shared vision encoding against the stock path (float32, tiny model)."""

from __future__ import annotations

import pytest
import torch

from visionr1.models.pixel_store import DedupImageProcessor, PixelStore, is_handle
from visionr1.models.shared_vision import enable_shared_vision, unique_images
from visionr1.testing.numerics import SAME_UP_TO, relative_gap  # float32 equality, from the arithmetic


def _batch(processor, image_lists, completion_len=6):
    texts = []
    for i, imgs in enumerate(image_lists):
        content = [{"type": "image"} for _ in imgs] + [{"type": "text", "text": f"Question {i}: how many?"}]
        prompt = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)
        texts.append(prompt + "<think>" + " wait" * (completion_len + i % 3) + "</think>")
    processor.tokenizer.padding_side = "left"
    flat = [im for imgs in image_lists for im in imgs]
    return processor(text=texts, images=flat, return_tensors="pt", padding=True)


def _logps_and_grads(model, batch):
    model.zero_grad(set_to_none=True)
    out = model(**batch)
    logits = out.logits[:, :-1].float()
    logps = torch.log_softmax(logits, -1).gather(-1, batch["input_ids"][:, 1:, None]).squeeze(-1)
    mask = batch["attention_mask"][:, 1:].float()
    (logps * mask).sum().backward()
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
    return (logps * mask).detach(), grads


def _compare(model, batch, expect_encoded, shared_batch=None, store=None):
    """Stock pass on ``batch``, shared pass on ``shared_batch`` (default: the same batch); both must agree."""
    ref_logps, ref_grads = _logps_and_grads(model, batch)
    handle = enable_shared_vision(model, store)
    try:
        logps, grads = _logps_and_grads(model, batch if shared_batch is None else shared_batch)
    finally:
        handle.remove()
    assert handle.stats["encoded"] == expect_encoded
    assert relative_gap(logps, ref_logps) <= SAME_UP_TO
    assert ref_grads.keys() == grads.keys()
    visual = [k for k in grads if "visual" in k]
    assert visual, "the vision tower must receive gradients"
    for k in grads:
        assert relative_gap(grads[k], ref_grads[k]) <= SAME_UP_TO, (k, relative_gap(grads[k], ref_grads[k]))


@pytest.mark.parametrize(
    "layout,encoded",
    [
        ("group", 2),        # 2 prompts x G=4 completions, one image each: 8 images, 2 distinct
        ("distinct", 4),     # no repeats: nothing to share, same result
        ("multi", 3),        # two images per sample, one of them shared across samples
    ],
)
def test_full_finetuning_is_exact(model_and_processor, layout, encoded, noise_image):
    model, processor = model_and_processor
    a, b, c = noise_image(1), noise_image(2, (84, 112)), noise_image(3)
    lists = {
        "group": [[a]] * 4 + [[b]] * 4,
        "distinct": [[a], [b], [c], [noise_image(4)]],
        "multi": [[a, c], [a, c], [b, c]],
    }[layout]
    _compare(model, _batch(processor, lists), encoded)


@pytest.mark.parametrize("layout,encoded", [("group", 2), ("distinct", 4), ("multi", 3)])
def test_pixel_store_handles_are_exact(model_and_processor, layout, encoded, noise_image):
    """The batch carries handles instead of pixels (fresh, equal image objects per sample, as a dataset gives)."""
    model, processor = model_and_processor
    lists = {
        "group": [[noise_image(1)] for _ in range(4)] + [[noise_image(2, (84, 112))] for _ in range(4)],
        "distinct": [[noise_image(i)] for i in range(4)],
        "multi": [[noise_image(1), noise_image(3)], [noise_image(1), noise_image(3)], [noise_image(2), noise_image(3)]],
    }[layout]
    stock = processor.image_processor
    store = PixelStore()
    processor.image_processor = DedupImageProcessor(stock, store)
    try:
        with_handles = _batch(processor, lists)
    finally:
        processor.image_processor = stock
    assert is_handle(with_handles["pixel_values"]) == (layout != "distinct")
    _compare(model, _batch(processor, lists), encoded, shared_batch=with_handles, store=store)


def test_lora_is_exact(tiny_model_dir, noise_image):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    base = AutoModelForImageTextToText.from_pretrained(tiny_model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "qkv"], init_lora_weights=False))
    a, b = noise_image(5), noise_image(6)
    _compare(model, _batch(processor, [[a]] * 3 + [[b]] * 3), 2)


def test_frozen_tower_still_exact_and_shares(model_and_processor, noise_image):
    model, processor = model_and_processor
    for p in model.model.visual.parameters():
        p.requires_grad_(False)
    try:
        batch = _batch(processor, [[noise_image(7)]] * 4)
        ref, _ = _logps_and_grads(model, batch)
        handle = enable_shared_vision(model)
        logps, _ = _logps_and_grads(model, batch)
        handle.remove()
        assert handle.stats == {"calls": 1, "images": 4, "encoded": 1}
        assert relative_gap(logps, ref) <= SAME_UP_TO
    finally:
        for p in model.model.visual.parameters():
            p.requires_grad_(True)


def test_unique_images_is_exact_not_just_a_fingerprint():
    grid = torch.tensor([[1, 2, 2], [1, 2, 2], [1, 2, 2], [1, 2, 4]])
    x = torch.randn(4, 6)
    y = x.clone()
    y[[0, 3]] = y[[3, 0]]  # same row sums, permuted rows
    z = torch.randn(8, 6)
    first, inverse = unique_images(torch.cat([x, x, y, z]), grid)
    assert first == [0, 2, 3] and inverse == [0, 0, 1, 2]


def test_remove_restores_stock_behaviour_and_enable_is_idempotent(model_and_processor):
    model, _ = model_and_processor
    h1 = enable_shared_vision(model)
    assert enable_shared_vision(model) is h1
    h1.remove()
    assert "get_image_features" not in model.model.__dict__
