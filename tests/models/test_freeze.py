"""Freezing the vision tower / projector: which parameters stop training, LoRA placement, clear errors."""

from __future__ import annotations

import pytest
import torch

from visionr1.errors import ConfigError
from visionr1.models.freeze import freeze_parts, lora_exclude
from visionr1.train.config import LoraSettings, ModelSettings


@pytest.fixture()
def model(tiny_model_dir):
    from transformers import AutoModelForImageTextToText

    return AutoModelForImageTextToText.from_pretrained(tiny_model_dir, dtype=torch.float32)


def _frozen(model) -> set[str]:
    return {n for n, p in model.named_parameters() if not p.requires_grad}


def _count(model, where) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if where(n))


def test_tower_only_keeps_the_merger_and_the_language_model_training(model):
    counts = freeze_parts(model, ["vision_tower"])
    frozen = _frozen(model)
    assert frozen and all(".visual." in n and ".merger." not in n for n in frozen)
    assert {n for n, _ in model.named_parameters() if ".visual." in n and ".merger." not in n} == frozen
    assert counts["vision_tower"] == _count(model, lambda n: n in frozen)
    assert counts["trainable"] == _count(model, lambda n: n not in frozen) > 0


def test_tower_and_projector_freeze_all_of_visual(model):
    counts = freeze_parts(model, ["vision_tower", "multi_modal_projector"])
    assert _frozen(model) == {n for n, _ in model.named_parameters() if ".visual." in n}
    assert counts["multi_modal_projector"] == _count(model, lambda n: ".visual.merger." in n) > 0


def test_nothing_asked_changes_nothing(model):
    counts = freeze_parts(model, [])
    assert _frozen(model) == set() and counts == {"trainable": _count(model, lambda n: True)}


def test_lora_adapters_stay_out_of_a_frozen_tower(model):
    from peft import get_peft_model

    settings = ModelSettings(path="m", lora=LoraSettings(enabled=True), freeze_vision_tower=True)
    wrapped = get_peft_model(model, settings.peft_config())
    adapters = [n for n, _ in wrapped.named_parameters() if "lora_A" in n]
    assert adapters and not any(".visual." in n for n in adapters)  # the default targets match its MLPs otherwise
    counts = freeze_parts(wrapped, settings.frozen_parts())
    assert counts["vision_tower"] > 0 and counts["trainable"] == sum(
        p.numel() for n, p in wrapped.named_parameters() if "lora_" in n)


def test_default_lora_targets_reach_the_tower_when_it_trains(model):
    from peft import get_peft_model

    wrapped = get_peft_model(model, ModelSettings(path="m", lora=LoraSettings(enabled=True)).peft_config())
    assert any(".visual." in n for n, _ in wrapped.named_parameters() if "lora_A" in n)


def test_a_model_without_the_part_is_a_config_error_naming_the_setting():
    lm = torch.nn.ModuleDict({"embed": torch.nn.Embedding(4, 2), "lm_head": torch.nn.Linear(2, 4)})
    with pytest.raises(ConfigError, match="model.freeze_multi_modal_projector: ModuleDict has no parameters"):
        freeze_parts(lm, ["multi_modal_projector"])


def test_freezing_everything_left_to_train_is_refused(model):
    for n, p in model.named_parameters():
        p.requires_grad_(".visual." in n)
    with pytest.raises(ConfigError, match="nothing left to train"):
        freeze_parts(model, ["vision_tower", "multi_modal_projector"])


def test_llava_style_names_match():
    import re

    from visionr1.models.freeze import PATTERNS

    assert re.fullmatch(PATTERNS["vision_tower"], "model.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight")
    assert re.fullmatch(PATTERNS["multi_modal_projector"], "model.multi_modal_projector.linear_1.weight")
    assert not re.fullmatch(PATTERNS["vision_tower"], "model.language_model.layers.0.mlp.gate_proj.weight")
    assert lora_exclude([]) is None
