"""The speed-ups inside a real TRL GRPO step: they engage, and the step equals the stock one.

"Equals" is float32 equality from the arithmetic (visionr1.testing.numerics): every gradient the speed-ups
compute is stock's to SAME_UP_TO of its size, and so are the weights' movements (runs use adam_epsilon=1).
"""

from __future__ import annotations

import pytest

from visionr1.errors import ConfigError
from visionr1.testing.rewards import get_spread_reward
from visionr1.train.config import SpeedSettings
from visionr1.train.speedups import apply_speedups

from visionr1.testing.numerics import EQUALITY_ADAM_EPSILON, SAME_UP_TO, gradient_gap, gradient_log, weight_gap


def _trainer(tiny_model_dir, tmp_path, noise_image, name, **overrides):
    from datasets import Dataset
    from transformers import AutoProcessor
    from trl import GRPOConfig, GRPOTrainer

    processor = AutoProcessor.from_pretrained(tiny_model_dir, padding_side="left")
    ds = Dataset.from_list([
        {"prompt": [{"role": "user", "content": q}], "images": [noise_image(i, (112, 84))]}
        for i, q in enumerate(["How many shapes?", "Which colour is the largest shape?"])
    ])

    settings = dict(max_steps=1, per_device_train_batch_size=8, num_generations=4, max_completion_length=10,
                    learning_rate=1e-3, beta=0.01, logging_steps=1, save_strategy="no", report_to="none", use_cpu=True,
                    bf16=False, seed=0, shuffle_dataset=False, adam_epsilon=EQUALITY_ADAM_EPSILON)
    args = GRPOConfig(output_dir=str(tmp_path / name), **{**settings, **overrides})
    trainer = GRPOTrainer(model=str(tiny_model_dir), reward_funcs=get_spread_reward(), args=args, train_dataset=ds,
                          processing_class=processor)
    trainer.start = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}  # before any step
    trainer.gradients = gradient_log()
    trainer.add_callback(trainer.gradients)
    return trainer


def assert_same_steps(stock, ours) -> None:
    """``ours`` took stock's training steps: the same gradients, the same weights (see the module docstring)."""
    gap, where = gradient_gap(stock.gradients.steps, ours.gradients.steps)
    assert gap <= SAME_UP_TO, f"gradients differ by {gap:.3g} of their size at {where}"
    assert max(g.abs().max().item() for g in stock.gradients.steps[0].values()) > 1e-3  # a real gradient
    state = {n: p.detach() for n, p in stock.model.named_parameters()}
    gap, where = weight_gap(dict(ours.model.named_parameters()), state, stock.start, steps=len(stock.gradients.steps))
    assert gap <= SAME_UP_TO, f"weights differ by {gap:.3g} of how far they moved, in {where}"


@pytest.mark.parametrize("decode,checkpointing", [("auto", True), ("static", True), ("auto", False)])
def test_speedups_engage_and_the_step_equals_stock(tiny_model_dir, tmp_path, noise_image, decode, checkpointing):
    stock = _trainer(tiny_model_dir, tmp_path, noise_image, "stock", gradient_checkpointing=checkpointing)
    stock.train()
    ours = _trainer(tiny_model_dir, tmp_path, noise_image, "ours", gradient_checkpointing=checkpointing)
    handles = apply_speedups(ours, SpeedSettings(decode=decode))
    ours.train()

    vision, prefill = handles["policy.shared_vision"].stats, handles["policy.shared_prefill"].stats
    assert prefill["rows"] == 8 and prefill["prefilled"] == 2  # 2 prompts x G=4
    # with the prefix shared in every pass, the vision tower only ever sees distinct images (2 per pass)
    assert vision["encoded"] == vision["images"] == 4
    # the reference pass and the policy's gradient pass run each prompt once (2 groups of 4 rows), with
    # gradient checkpointing (TRL's default, non-reentrant) or without
    for model in ("reference", "policy"):
        prefix = handles[f"{model}.shared_prefix"].stats
        assert (prefix["calls"], prefix["groups"], prefix["rows"]) == (1, 2, 8)
    pixels = handles["pixel_store"].stats  # two processor calls (generation, scoring), 8 images each, 2 distinct
    assert (pixels["images"], pixels["distinct"]) == (16, 4)
    assert pixels["bytes_held"] * 3 < pixels["bytes_stock"]
    assert len(handles["pixel_store"]) == 4  # the last round's images, until the next round begins
    assert type(ours.processing_class.image_processor).__name__ == "Qwen2VLImageProcessor"  # swapped back
    assert handles["policy.vision_windows"].active and handles["reference.vision_windows"].active
    log_s, log_o = stock.state.log_history[0], ours.state.log_history[0]
    assert log_s["completions/mean_length"] == log_o["completions/mean_length"]  # same samples drawn
    assert log_s["reward"] == log_o["reward"]  # the same completions, so the same rewards, exactly
    assert_same_steps(stock, ours)


@pytest.mark.parametrize("buffering", [
    {"num_iterations": 2, "max_steps": 2},  # the old-policy pass, and one generation used for two optimizer steps
    {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 2},  # rows shuffled into two micro-batches
])
def test_buffered_generations_equal_stock(tiny_model_dir, tmp_path, noise_image, buffering):
    """TRL keeps a generation batch (pixel handles included) for several micro-batches or optimizer steps."""
    stock = _trainer(tiny_model_dir, tmp_path, noise_image, "stock", **buffering)
    stock.train()
    ours = _trainer(tiny_model_dir, tmp_path, noise_image, "ours", **buffering)
    handles = apply_speedups(ours, SpeedSettings())
    ours.train()
    assert handles["pixel_store"].stats["distinct"] == 4 and handles["policy.shared_prefix"].stats["calls"] >= 2
    for a, b in zip(stock.state.log_history[:-1], ours.state.log_history[:-1]):
        assert a["loss"] == pytest.approx(b["loss"], rel=SAME_UP_TO, abs=1e-6)
    assert_same_steps(stock, ours)


def test_an_inexact_speed_up_fails_the_comparison(tiny_model_dir, tmp_path, noise_image, monkeypatch):
    """What "equal" rejects: a pixel store serving each image's pixels rounded to bfloat16 (half the memory, a
    2**-9 change of the input) is caught by the gradients, though its step looks alike to the eye."""
    import visionr1.models.pixel_store as pixel_store

    stock = _trainer(tiny_model_dir, tmp_path, noise_image, "stock")
    stock.train()
    exact = pixel_store.PixelStore.pixels
    monkeypatch.setattr(pixel_store.PixelStore, "pixels", lambda self, ids, device: exact(self, ids, device).bfloat16().float())
    rounded = _trainer(tiny_model_dir, tmp_path, noise_image, "bf16-pixels")
    apply_speedups(rounded, SpeedSettings())
    rounded.train()
    assert rounded.state.log_history[0]["reward"] == stock.state.log_history[0]["reward"]  # same completions
    gap, where = gradient_gap(stock.gradients.steps, rounded.gradients.steps)
    assert gap > 10 * SAME_UP_TO, (gap, where)
    with pytest.raises(AssertionError, match="gradients differ"):
        assert_same_steps(stock, rounded)


def test_switches_turn_them_off(tiny_model_dir, tmp_path, noise_image):
    trainer = _trainer(tiny_model_dir, tmp_path, noise_image, "off")
    off = SpeedSettings(shared_vision=False, shared_prefill=False, shared_prefix=False, vision_windows=False)
    assert apply_speedups(trainer, off) == {}
    assert trainer.model.model.visual.config._attn_implementation == "sdpa"
    assert "get_image_features" not in trainer.model.model.__dict__
    assert "_generate_and_score_completions" not in trainer.__dict__  # no pixel store without shared vision
    only_vision = _trainer(tiny_model_dir, tmp_path, noise_image, "no-store")
    handles = apply_speedups(only_vision, SpeedSettings(shared_prefill=False, shared_prefix=False, pixel_store=False,
                                                        vision_windows=False))
    assert set(handles) == {"policy.shared_vision", "reference.shared_vision"}
    assert handles["policy.shared_vision"].store is None


def test_bad_speed_settings_are_named():
    with pytest.raises(ConfigError, match="speed.decode='fastest'"):
        SpeedSettings(decode="fastest")
    with pytest.raises(ConfigError, match="speed.cache_bucket=0"):
        SpeedSettings(cache_bucket=0)


def test_a_speed_up_that_does_not_know_the_model_leaves_the_others(tiny_model_dir, tmp_path, noise_image, monkeypatch, caplog):
    import visionr1.train.speedups as speedups

    def refuse(model):
        raise TypeError("Backbone: shared prefix needs compute_3d_position_ids(...)")

    monkeypatch.setattr(speedups, "enable_shared_prefix", refuse)
    trainer = _trainer(tiny_model_dir, tmp_path, noise_image, "partial")
    with caplog.at_level("WARNING", logger="visionr1.train.speedups"):
        handles = apply_speedups(trainer, SpeedSettings())
    assert set(handles) == {"policy.shared_vision", "policy.shared_prefill", "reference.shared_vision", "pixel_store",
                            "policy.vision_windows", "reference.vision_windows"}
    assert "speed.shared_prefix left off for the policy model: Backbone: shared prefix needs" in caplog.text


def test_no_pixel_store_unless_every_model_reads_handles(tiny_model_dir, tmp_path, noise_image, monkeypatch):
    import visionr1.train.speedups as speedups

    stock_enable = speedups.enable_shared_vision

    def policy_only(model, store=None):
        if model is not trainer.model:
            raise TypeError("reference: not a Qwen2-VL-family model")
        return stock_enable(model, store)

    monkeypatch.setattr(speedups, "enable_shared_vision", policy_only)
    trainer = _trainer(tiny_model_dir, tmp_path, noise_image, "ref-stock")
    handles = apply_speedups(trainer, SpeedSettings())
    assert "policy.shared_vision" in handles and "reference.shared_vision" not in handles
    assert "pixel_store" not in handles and "_generate_and_score_completions" not in trainer.__dict__
