"""Shared fixtures: the tiny model is built once per machine (cached under .cache/ in the repo, see ../conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# offline and the repo's model cache: set for every run (doctests too) by the conftest.py at the repo root


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the checkout (or $VISIONR1_SHARED_DATA); None when absent."""
    env = os.environ.get("VISIONR1_SHARED_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from visionr1.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


def make_image(seed: int, size: tuple[int, int] = (112, 84)):
    """A deterministic noise image (distinct per seed)."""
    import torch
    from PIL import Image

    g = torch.Generator().manual_seed(seed)
    return Image.fromarray((torch.rand(size[1], size[0], 3, generator=g) * 255).to(torch.uint8).numpy())


@pytest.fixture(scope="session")
def noise_image():
    """``noise_image(seed, size=(w, h))`` → a deterministic RGB noise image."""
    return make_image
