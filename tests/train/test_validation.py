"""Validation during training: eval's code path on the policy in memory, validation.jsonl, best/, early stop."""

from __future__ import annotations

import json

import pytest
import torch

from visionr1.config import from_dict
from visionr1.errors import ConfigError
from visionr1.train.config import GRPORunConfig, SFTRunConfig
from visionr1.train.validation import read_validation

STAGES = [{"max_completion_length": 8, "num_generations": 4, "steps": 3},
          {"max_completion_length": 12, "num_generations": 2, "steps": 2}]


def _validation(records_path, **kw):
    return {"data": str(records_path.parent), "split": "train", "every_steps": 2, "max_items": 4, "max_tokens": 8,
            "batch_size": 4, **kw}


def test_validation_settings_are_checked(tiny_model_dir, cold_path):
    base = {"model": {"path": str(tiny_model_dir)}, "data": {"path": str(cold_path)}}
    with pytest.raises(ConfigError, match="needs a validation"):
        from_dict(SFTRunConfig, {**base, "checkpoint_selection": "best_validation"})
    with pytest.raises(ConfigError, match="checkpoint_selection must be one of"):
        from_dict(SFTRunConfig, {**base, "checkpoint_selection": "best"})
    with pytest.raises(ConfigError, match="validation.every_steps"):
        from_dict(SFTRunConfig, {**base, "validation": {"data": "x", "every_steps": 0}})
    with pytest.raises(ConfigError, match="unknown config key.*validation.steps"):
        from_dict(SFTRunConfig, {**base, "validation": {"data": "x", "steps": 3}})


@pytest.mark.slow
def test_sft_validates_keeps_the_best_and_stops_when_accuracy_stops_rising(tiny_model_dir, cold_path, records_path,
                                                                          tmp_path, monkeypatch):
    from visionr1.train import validation as val
    from visionr1.train.sft import run_sft

    # a fixed accuracy sequence stands in for the model's: best at step 2, then no gain twice -> stop at step 6
    accs = iter([10.0, 30.0, 20.0, 30.0, 50.0])
    real = val.validate

    def scripted(model, processor, settings, out, label):
        row = real(model, processor, settings, out, label)  # the real eval path runs (and writes its folder)
        return {**row, "accuracy": next(accs)}

    monkeypatch.setattr(val, "validate", scripted)
    run = tmp_path / "sft"
    cfg = from_dict(SFTRunConfig, {
        "run_dir": str(run), "model": {"path": str(tiny_model_dir), "max_pixels": 112 * 112},
        "data": {"path": str(cold_path)}, "checkpoint_selection": "best_validation",
        "validation": _validation(records_path, stop_after_no_gain=2),
        "trainer": {"use_cpu": True, "bf16": False, "per_device_train_batch_size": 4, "learning_rate": 1e-3,
                    "max_steps": 20, "save_steps": 100, "seed": 0}})
    summary = run_sft(cfg)
    rows = read_validation(run)
    assert [r["step"] for r in rows] == [0, 2, 4, 6]
    assert [r["best"] for r in rows] == [True, True, False, False]
    assert summary["global_step"] == 6 and summary["validation"]["stopped_early"]
    assert summary["validation"]["best_step"] == 2
    assert json.loads((run / "best" / "best.json").read_text())["step"] == 2
    from transformers import AutoProcessor

    assert (run / "best" / "model.safetensors").is_file()
    assert AutoProcessor.from_pretrained(run / "best").tokenizer.padding_side == "right"  # as trained, not the eval copy's
    again = run_sft(cfg)  # the rerun finds the stopped run complete: no step past the stop
    assert again["already_complete"] and again["global_step"] == 6 and "stop_after_no_gain" in again["message"]
    assert [r["step"] for r in read_validation(run)] == [0, 2, 4, 6]
    scores = json.loads((run / "validation" / "step-4" / "scores.json").read_text())
    assert scores["items"] == 4 and scores["benchmark"] == "records"
    for key in ("format", "mean_length", "truncated", "items", "seconds"):
        assert key in rows[0]


@pytest.mark.slow
def test_validation_does_not_change_training(tiny_model_dir, records_path, tmp_path):
    """Same rollouts and weights with and without validation (RNG, model mode and processor restored)."""
    from safetensors.torch import load_file

    from visionr1.train.grpo import run_grpo

    def run(name, validation):
        cfg = {"run_dir": str(tmp_path / name), "model": {"path": str(tiny_model_dir)}, "data": {"path": str(records_path)},
               "ptst": {"stages": STAGES}, "samples": {"per_stage": 0},
               "trainer": {"use_cpu": True, "bf16": False, "per_device_train_batch_size": 4, "learning_rate": 1e-3,
                           "save_steps": 100, "seed": 0, "temperature": 1.0}}
        if validation:
            cfg.update(validation=_validation(records_path, temperature=1.0, top_p=0.9), checkpoint_selection="best_validation")
        return run_grpo(from_dict(GRPORunConfig, cfg))

    plain, checked = run("plain", False), run("checked", True)
    assert plain["global_step"] == checked["global_step"] == 5
    a = load_file(tmp_path / "plain" / "final" / "model.safetensors")
    b = load_file(tmp_path / "checked" / "final" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = read_validation(tmp_path / "checked")
    # the start, every 2 steps, the stage boundary (3) and the end (5), each with its stage
    assert [(r["step"], r["stage"]) for r in rows] == [(0, 0), (2, 0), (3, 0), (4, 1), (5, 1)]
    best = max(rows, key=lambda r: r["accuracy"])
    assert json.loads((tmp_path / "checked" / "best" / "best.json").read_text())["step"] == best["step"]
    assert checked["validation"]["best_step"] == best["step"]
