"""Fixtures shared by the model-boundary tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def model_and_processor(tiny_model_dir):
    """The tiny Qwen2.5-VL in float32 and its processor (one per test module: tests may toggle its state)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    torch.manual_seed(0)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir, dtype=torch.float32)
    return model, AutoProcessor.from_pretrained(tiny_model_dir)
