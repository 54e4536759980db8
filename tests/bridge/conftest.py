"""Fixtures for the bridge tests: a small synth data set and the fake model responder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FAKE_MODELS = HERE / "fake_models.py"


def _load_fake_models():
    spec = importlib.util.spec_from_file_location("bridge_fake_models", FAKE_MODELS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fake_models():
    return _load_fake_models()


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    from visionr1.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth")
    synthesize(out, n=48, seed=3)
    return out
