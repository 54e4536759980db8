"""Prefill once per group: same tokens and scores as stock generate, fewer prefills."""

from __future__ import annotations

import pytest
import torch

from visionr1.models.shared_prefill import enable_shared_prefill, group_rows


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


def _both(model, inputs, **kw):
    torch.manual_seed(0)
    ref = model.generate(**inputs, **kw)
    handle = enable_shared_prefill(model)
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
    assert max((x - y).abs().max().item() for x, y in zip(ref.scores, out.scores)) <= 1e-4


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


def test_lora_model(tiny_model_dir, noise_image):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForImageTextToText.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)).eval()
    rows = [("How many?", [noise_image(6)])] * 3
    ref, out, stats = _both(model, _inputs(processor, rows), max_new_tokens=6, do_sample=False)
    assert stats["prefilled"] == 1 and torch.equal(ref, out)
