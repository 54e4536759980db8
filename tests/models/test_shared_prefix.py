"""Exactness of the shared-prefix backbone forward against the stock one (float32, tiny model)."""

from __future__ import annotations

import pytest
import torch

from visionr1.models.pixel_store import DedupImageProcessor, PixelStore
from visionr1.models.shared_prefix import enable_shared_prefix, shared_prefix_length
from visionr1.models.shared_vision import enable_shared_vision
from visionr1.testing.numerics import SAME_UP_TO, relative_gap  # float32 equality, from the arithmetic


def _grpo_batch(processor, groups, completions, store=None):
    """Prompts left-padded, completions right-padded, as TRL lays out prompt + completion for its log-prob passes.

    ``groups``: one ``(question, images)`` per prompt; ``completions``: completion texts per prompt.
    """
    tok = processor.tokenizer
    prompts, images, comps = [], [], []
    for (question, imgs), texts in zip(groups, completions):
        content = [{"type": "image"} for _ in imgs] + [{"type": "text", "text": question}]
        text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)
        for c in texts:
            prompts.append(text)
            images.append([im.copy() for im in imgs])  # a fresh object per row, as a dataset gives
            comps.append(tok(c, add_special_tokens=False)["input_ids"])
    stock_ip = processor.image_processor
    if store is not None:
        processor.image_processor = DedupImageProcessor(stock_ip, store)
    try:
        tok.padding_side = "left"
        p = processor(text=prompts, images=[im for imgs in images for im in imgs] or None, return_tensors="pt", padding=True)
    finally:
        processor.image_processor = stock_ip
    width = max(len(c) for c in comps)
    cids = torch.tensor([c + [tok.pad_token_id] * (width - len(c)) for c in comps])
    cmask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in comps])
    batch = {k: v for k, v in p.items() if k not in ("input_ids", "attention_mask", "mm_token_type_ids")}
    batch["input_ids"] = torch.cat([p["input_ids"], cids], 1)
    batch["attention_mask"] = torch.cat([p["attention_mask"], cmask], 1)
    if "mm_token_type_ids" in p:
        batch["mm_token_type_ids"] = torch.cat([p["mm_token_type_ids"], torch.zeros_like(cids)], 1)
    return batch, width


def _logps_and_grads(model, batch, keep, grad=True):
    model.zero_grad(set_to_none=True)
    with torch.set_grad_enabled(grad):
        logits = model(**batch, use_cache=False).logits[:, -keep - 1:-1].float()
        ids = batch["input_ids"][:, -keep:]
        logps = torch.log_softmax(logits, -1).gather(-1, ids[..., None]).squeeze(-1) * batch["attention_mask"][:, -keep:]
        if not grad:
            return logps, {}
        logps.sum().backward()
    return logps.detach(), {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}


def _assert_same(ref, ours):
    (lp_ref, g_ref), (lp, g) = ref, ours
    assert relative_gap(lp, lp_ref) <= SAME_UP_TO
    assert g.keys() == g_ref.keys()
    for k in g:
        assert relative_gap(g[k], g_ref[k]) <= SAME_UP_TO, (k, relative_gap(g[k], g_ref[k]))


COMPLETIONS = [["<think> wait</think><answer>3</answer>", "<think> hmm so</think>", "<answer>4", "<think> wait</think><answer>5</answer> x y"],
               ["<think> a b c d</think>", "<answer>7</answer>", "<think>", "<think> a b</think><answer>1"]]


@pytest.mark.parametrize("grad", [True, False])
def test_grpo_batch_is_exact_and_shares(model_and_processor, noise_image, grad):
    model, processor = model_and_processor
    groups = [("How many shapes are there?", [noise_image(1)]),
              ("Which colour is the largest shape in this figure, and why?", [noise_image(2, (84, 112))])]
    batch, keep = _grpo_batch(processor, groups, COMPLETIONS)
    ref = _logps_and_grads(model, batch, keep, grad)
    handle = enable_shared_prefix(model)
    try:
        ours = _logps_and_grads(model, batch, keep, grad)
    finally:
        handle.remove()
    assert handle.stats["calls"] == 1 and handle.stats["rows"] == 8 and handle.stats["groups"] == 2
    assert handle.stats["tokens_saved"] >= 6 * (batch["input_ids"].shape[1] - keep)  # 6 rows reuse their prompt
    if grad:
        assert any("visual" in k for k in ours[1]) and any("layers.0" in k for k in ours[1])
        _assert_same(ref, ours)
    else:
        assert relative_gap(ours[0], ref[0]) <= SAME_UP_TO


def test_with_shared_vision_pixel_store_and_lora(tiny_model_dir, noise_image):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    base = AutoModelForImageTextToText.from_pretrained(tiny_model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "qkv"], init_lora_weights=False))
    groups = [("How many?", [noise_image(3), noise_image(4, (56, 56))]), ("What is shown?", [noise_image(5)])]
    batch, keep = _grpo_batch(processor, groups, COMPLETIONS)
    ref = _logps_and_grads(model, batch, keep)
    store = PixelStore()
    with_handles, _ = _grpo_batch(processor, groups, COMPLETIONS, store=store)
    vision = enable_shared_vision(model, store)
    prefix = enable_shared_prefix(model)
    try:
        ours = _logps_and_grads(model, with_handles, keep)
    finally:
        prefix.remove()
        vision.remove()
    assert prefix.stats["groups"] == 2 and vision.stats["encoded"] == 3
    _assert_same(ref, ours)


def test_steps_aside_where_nothing_is_shared(model_and_processor, noise_image):
    model, processor = model_and_processor
    distinct = [("How many?", [noise_image(6)]), ("What colour?", [noise_image(7)])]
    batch, keep = _grpo_batch(processor, distinct, [["<answer>1"], ["<answer>2"]])
    handle = enable_shared_prefix(model)
    try:
        model(**batch, use_cache=False)
        model(**batch)  # use_cache from the config: stock
        assert handle.stats["calls"] == 0
        # same question, different images: not a shared prefix although the tokens match
        same_text, keep = _grpo_batch(processor, [("How many?", [noise_image(8)]), ("How many?", [noise_image(9)])],
                                      [["<answer>1"], ["<answer>1"]])
        ref = model.model.__class__.forward(model.model, **same_text, use_cache=False).last_hidden_state
        out = model.model(**same_text, use_cache=False).last_hidden_state
        assert handle.stats["calls"] == 0 and torch.equal(out, ref)
    finally:
        handle.remove()


@pytest.mark.parametrize("prompts", [2, 1])
def test_several_ranks_run_the_layers_twice_with_nothing_shared(model_and_processor, noise_image, monkeypatch, prompts):
    """With several ranks (ZeRO-3/FSDP gather each layer's parameters when it is called) a batch with no
    group still takes the two passes, each row its own group, so every rank calls each layer as often as
    the others whatever its batch holds; and it stays exact."""
    import visionr1.models.shared_prefix as shared_prefix

    model, processor = model_and_processor
    distinct = [("How many?", [noise_image(6)]), ("What colour?", [noise_image(7)])][:prompts]
    batch, keep = _grpo_batch(processor, distinct, [["<answer>1 2"], ["<answer>2"]][:prompts])
    ref = _logps_and_grads(model, batch, keep)
    calls = []
    hook = model.model.language_model.layers[0].register_forward_pre_hook(lambda *a: calls.append(1))
    handle = enable_shared_prefix(model)
    try:
        model(**batch, use_cache=False)
        assert len(calls) == 1 and handle.stats["calls"] == 0  # one rank: the stock forward
        monkeypatch.setattr(shared_prefix, "several_ranks", lambda: True)
        calls.clear()
        ours = _logps_and_grads(model, batch, keep)
    finally:
        handle.remove()
        hook.remove()
    assert len(calls) == 2 and handle.stats["calls"] == 1
    assert handle.stats["groups"] == prompts and handle.stats["tokens_saved"] == 0
    _assert_same(ref, ours)


@pytest.mark.parametrize("reentrant", [False, True])
def test_gradient_checkpointing(model_and_processor, noise_image, reentrant):
    """Non-reentrant checkpointing (transformers' default): exact with the prompt shared in the gradient pass.
    Reentrant: the checkpointed forward runs without autograd, so only the no-gradient pass shares."""
    model, processor = model_and_processor
    batch, keep = _grpo_batch(processor, [("How many?", [noise_image(1)]), ("Why?", [noise_image(2)])], COMPLETIONS)
    model.train()
    ref = _logps_and_grads(model, batch, keep)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": reentrant})
    handle = enable_shared_prefix(model)
    try:
        ours = _logps_and_grads(model, batch, keep)
        assert handle.stats["calls"] == (0 if reentrant else 1)
        _assert_same(ref, ours)
        _logps_and_grads(model, batch, keep, grad=False)
        assert handle.stats["calls"] == (1 if reentrant else 2)
        assert all("_can_checkpoint_with_cache" not in m.__dict__ for m in model.modules())  # put back
    finally:
        handle.remove()
        model.gradient_checkpointing_disable()
        model.eval()


def test_a_backbone_without_qwen_position_ids_is_refused_by_name():
    class Backbone(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.visual = torch.nn.Identity()
            self.language_model = torch.nn.Identity()

        def get_image_features(self, pixel_values, image_grid_thw=None):
            return pixel_values

        def compute_3d_position_ids(self, input_ids, image_grid_thw):  # another family's signature
            return None

    with pytest.raises(TypeError, match="Backbone: shared prefix needs .*missing: video_grid_thw"):
        enable_shared_prefix(Backbone())


def test_shared_prefix_length():
    ids = torch.tensor([[0, 5, 6, 7, 8], [0, 5, 6, 9, 9], [1, 2, 3, 4, 5], [1, 2, 3, 4, 6]])
    mask = torch.ones_like(ids)
    assert shared_prefix_length(ids, mask, [0, 0, 1, 1], [0, 2]) == 3
    mask[1, 2] = 0  # a mask difference ends the shared part too
    assert shared_prefix_length(ids, mask, [0, 0, 1, 1], [0, 2]) == 2
    assert shared_prefix_length(ids, mask, [0, 1, 2, 3], [0, 1, 2, 3]) == 0
    assert shared_prefix_length(ids[:2], torch.ones_like(ids[:2]), [0, 0], [0]) == 3
