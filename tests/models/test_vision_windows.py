"""Batched windowed vision attention against the stock per-window loop (float32, tiny model)."""

from __future__ import annotations

import json

import pytest
import torch

from visionr1.models.vision_windows import NAME, enable_vision_windows, window_attention, window_groups
from visionr1.testing.numerics import SAME_UP_TO, relative_gap  # float32 equality, from the arithmetic


def test_window_groups_stack_windows_of_equal_length():
    cu = torch.tensor([0, 4, 8, 10, 14, 14, 16])
    groups = dict(window_groups(cu))
    assert sorted(groups) == [2, 4]
    assert groups[4].tolist() == [0, 4, 10]
    assert groups[2].tolist() == [8, 14]  # the empty window (14, 14) is dropped


def _vision_pass(model, pixel_values, grid):
    model.zero_grad(set_to_none=True)
    visual = model.model.visual
    out = visual(pixel_values, grid_thw=grid)
    feats = out.pooler_output if hasattr(out, "pooler_output") else out
    (feats.float() * torch.linspace(-1, 1, feats.shape[-1])).sum().backward()  # not symmetric in the features
    grads = {k: p.grad.detach().clone() for k, p in visual.named_parameters() if p.grad is not None}
    return feats.detach(), grads


@pytest.mark.parametrize("sizes", [
    [(224, 224), (224, 224)],               # every window the same length: one call per layer, no reordering
    [(300, 200), (130, 470), (224, 224)],   # grids not divisible by the window: several lengths, reordered
])
def test_features_and_gradients_equal_the_per_window_loop(model_and_processor, noise_image, sizes):
    model, processor = model_and_processor
    px = processor.image_processor(images=[noise_image(i, s) for i, s in enumerate(sizes)], return_tensors="pt")
    stock, stock_grads = _vision_pass(model, px["pixel_values"], px["image_grid_thw"])
    handle = enable_vision_windows(model)
    try:
        assert handle.active and model.model.visual.config._attn_implementation == NAME
        feats, grads = _vision_pass(model, px["pixel_values"], px["image_grid_thw"])
    finally:
        handle.remove()
    assert model.model.visual.config._attn_implementation == "sdpa"
    assert relative_gap(feats, stock) <= SAME_UP_TO
    assert grads.keys() == stock_grads.keys() and any("attn" in k for k in grads)
    for k in grads:
        assert relative_gap(grads[k], stock_grads[k]) <= SAME_UP_TO, (k, relative_gap(grads[k], stock_grads[k]))


def test_whole_model_logits_equal_and_saved_config_is_stock(model_and_processor, noise_image, tmp_path):
    model, processor = model_and_processor
    content = [{"type": "image"}, {"type": "text", "text": "How many?"}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)
    batch = processor(text=[text], images=[noise_image(7, (260, 190))], return_tensors="pt")
    with torch.no_grad():
        stock = model(**batch).logits
        handle = enable_vision_windows(model)
        assert enable_vision_windows(model) is handle  # idempotent
        try:
            ours = model(**batch).logits
            model.save_pretrained(tmp_path / "saved")
        finally:
            handle.remove()
    assert relative_gap(ours, stock) <= SAME_UP_TO
    # the registered name is a runtime setting: a saved model must load anywhere, without visionr1
    assert NAME not in (tmp_path / "saved" / "config.json").read_text()
    json.loads((tmp_path / "saved" / "config.json").read_text())


def test_steps_aside_unless_the_tower_uses_sdpa(model_and_processor):
    model, _ = model_and_processor
    config = model.model.visual.config
    config._attn_implementation = "eager"
    try:
        handle = enable_vision_windows(model)
        assert not handle.active and config._attn_implementation == "eager"
        handle.remove()
        assert config._attn_implementation == "eager"
    finally:
        config._attn_implementation = "sdpa"


def test_steps_aside_for_towers_it_was_not_tested_on(model_and_processor, monkeypatch):
    import visionr1.models.vision_windows as vw

    model, _ = model_and_processor
    monkeypatch.setattr(vw, "TESTED_TOWERS", ("qwen3_vl_vision",))
    handle = vw.enable_vision_windows(model)
    assert not handle.active and model.model.visual.config._attn_implementation == "sdpa"
    handle.remove()


def test_rejects_what_is_not_windowed_vision_attention():
    q = torch.zeros(1, 2, 4, 8)
    with pytest.raises(ValueError, match="window boundaries"):
        window_attention(None, q, q, q)
    with pytest.raises(ValueError, match="no mask"):
        window_attention(None, q, q, q, attention_mask=torch.ones(1, 1, 4, 4), cu_seq_lens_q=torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="windows differ"):
        window_attention(None, q, q, q, cu_seq_lens_q=torch.tensor([0, 4]), cu_seq_lens_k=torch.tensor([0, 2, 4]))
