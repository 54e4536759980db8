"""The benchmark scripts keep working as the code under them changes (their figures are never asserted): each
imports, the demo's step profile builds the demo's inputs, and the halved demo recipes load and stay matched."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from unittest import mock

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    """The script as a module; what its import sets in the environment (some set HF_HUB_OFFLINE) stays out of the
    tests that run after."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ):
        spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCHMARKS.glob("*.py")))
def test_each_benchmark_script_imports_and_a_script_has_a_main(name):
    module = load(name)
    if '__name__ == "__main__"' in (BENCHMARKS / f"{name}.py").read_text():  # not a helper another script loads
        assert callable(getattr(module, "main", None))


def test_demo_step_profile_builds_the_demo_inputs(tmp_path):
    """It broke unnoticed when demo.yaml became typed: it read the settings as a dict."""
    load("demo_step_profile").prepare(tmp_path)
    for path in ("data/warmup.jsonl", "cold_start.jsonl", "tiny-model/config.json", "ready"):
        assert (tmp_path / path).is_file(), path


def test_demo_half_writes_the_halved_recipes_matched_and_refuses_an_existing_folder(tmp_path):
    from visionr1.config import load_config
    from visionr1.demo import load_demo_config
    from visionr1.train import GRPORunConfig, SFTRunConfig

    half = load("demo_half").write_half(tmp_path / "half")
    assert load_demo_config(half, quick=False).data.cold_start == 200
    assert load_config(SFTRunConfig, half / "warmup.yaml", ["validation.data=val.jsonl"]).trainer["max_steps"] == 150
    grpo = load_config(GRPORunConfig, half / "grpo.yaml", ["validation.data=val.jsonl"])
    assert [s.steps for s in grpo.ptst.stages] == [15, 10]
    with pytest.raises(SystemExit, match="exists"):
        load("demo_half").write_half(tmp_path / "half")
