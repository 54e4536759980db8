"""Sharded scale-out on CPU, two processes: DeepSpeed ZeRO-3 through the 7B recipe's own accelerate file.

GRPO: two runs that must end with the same metrics and weights: two PTST stages with every speed-up on,
and one stage of the same length with every speed-up off. Equality checks the speed-ups under sharding
(each layer call gathers its parameters from both ranks, so both must take the same path; TRL shuffles
each rank's rows into micro-batches, so one rank's micro-batch may hold a group while the other's does
not) and the stage hand-over (a new trainer per stage resumes weights, optimizer, schedule, RNG and the
prompt order from the checkpoint; stage 2 starts in the middle of the second epoch).

A launch is retried once, from scratch, if a rank died with "terminate called without an active exception":
that abort (a C++ thread object destroyed while still running, at the end of a finished run) was seen in
about 2 of 50 launches on 2 CPU cores, never reproduced on demand, and does not come from visionr1's code
(no threads of ours); everything the tests check is asserted on the run that completes.

"The same" is float32 equality from the arithmetic (visionr1.testing.numerics): the runs train with adam_epsilon=1,
so each step is a Lipschitz function of the gradient, and the final weights may differ by at most SAME_UP_TO of
how far they moved from the tiny model's (besides one float32 rounding per step); the logged metrics to
SAME_UP_TO of their size.

FSDP is not run here: on a machine without an accelerator accelerate turns an FSDP config into plain
multi-process CPU training (checked: the parameters are not sharded), so it would test DDP under another name.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from visionr1.testing.processes import run_patiently
from visionr1.train.metrics import read_metrics

from visionr1.testing.numerics import EQUALITY_ADAM_EPSILON, SAME_UP_TO, weight_gap

pytest.importorskip("deepspeed")

REPO = Path(__file__).resolve().parents[2]
ENTRY = Path(__file__).with_name("grpo_entry.py")
ZERO3 = REPO / "recipes/vision_r1_7b/accelerate_zero3.yaml"
TEARDOWN_ABORT = "terminate called without an active exception"
COMPARED = ("loss", "grad_norm", "reward_mean", "kl", "completion_length_mean", "learning_rate")
SPEED_OFF = {"shared_vision": False, "shared_prefill": False, "shared_prefix": False, "pixel_store": False}


def _launch(tmp_path: Path, name: str, cfg: dict, program: list[str], port: int, run_env: dict) -> None:
    """``accelerate launch`` with the 7B recipe's ZeRO-3 file on 2 processes, no GPU (gloo): ``program CONFIG``."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump(cfg))
    env = dict(run_env, CUDA_VISIBLE_DEVICES="")
    cmd = [str(Path(sys.executable).parent / "accelerate"), "launch", "--config_file", str(ZERO3),
           "--num_processes", "2", "--main_process_port", str(port), *program, str(config)]
    for attempt in range(2):
        out = run_patiently(cmd, cwd=REPO, env=env, watch=[Path(cfg["run_dir"])])  # no clock limit: a stall limit
        if out.returncode == 0 or attempt or TEARDOWN_ABORT not in out.stderr:
            break
        # one rank aborted as the processes wound down (seen in ~2 of ~50 CPU ZeRO-3 launches; cause not found
        # in our code, see the module docstring): run it once more from scratch rather than fail on it
        shutil.rmtree(cfg["run_dir"], ignore_errors=True)
    assert out.returncode == 0, out.stderr[-4000:]


def _grpo(tmp_path, name, model, records, stages, speed, port, run_env) -> Path:
    run = tmp_path / name
    cfg = {"run_dir": str(run), "model": {"path": str(model)}, "data": {"path": str(records)},
           "ptst": {"stages": stages}, "samples": {"per_stage": 0}, "speed": speed,
           "trainer": {"use_cpu": True, "bf16": False, "learning_rate": 2e-2, "per_device_train_batch_size": 2,
                       "gradient_accumulation_steps": 2, "beta": 0.01, "save_steps": 1, "seed": 0,
                       # steps Lipschitz in the gradient (testing.numerics); with lr 2e-2 the weights with the largest gradients
                       # move about as far a step as with lr 1e-3 and the default eps, far above float32's last place
                       "adam_epsilon": EQUALITY_ADAM_EPSILON}}
    _launch(tmp_path, name, cfg, [str(ENTRY)], port, run_env)
    return run


@pytest.mark.slow
def test_zero3_speedups_and_stage_handover_are_exact(tiny_model_dir, records_path, tmp_path, run_env):
    from safetensors.torch import load_file

    stage = {"max_completion_length": 8, "num_generations": 2}
    # 8 records, 4 prompts a step: an epoch is 2 steps, so stage 2 starts in the middle of the second epoch
    staged = _grpo(tmp_path, "staged_fast", tiny_model_dir, records_path, [{**stage, "steps": 3}] * 2, {}, 29541, run_env)
    plain = _grpo(tmp_path, "one_stage_stock", tiny_model_dir, records_path, [{**stage, "steps": 6}], SPEED_OFF, 29542,
                  run_env)

    summary = json.loads((staged / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["stages_run"] == [0, 1] and summary["global_step"] == 6
    a, b = read_metrics(staged), read_metrics(plain)
    assert [r["global_step"] for r in a] == [r["global_step"] for r in b] == [1, 2, 3, 4, 5, 6]
    assert [r["stage"] for r in a] == [0, 0, 0, 1, 1, 1]
    for ra, rb in zip(a, b):
        for key in COMPARED:
            assert ra[key] == pytest.approx(rb[key], rel=SAME_UP_TO, abs=1e-6), (ra["global_step"], key)
    assert any(r["grad_norm"] > 0 for r in a)

    wa, wb = load_file(staged / "final/model.safetensors"), load_file(plain / "final/model.safetensors")
    base = load_file(tiny_model_dir / "model.safetensors")
    # the ZeRO-3 save names the language model's weights model.model.*, the tiny model's file model.*
    start = {k: base[k if k in base else k.removeprefix("model.")] for k in wa}
    gap, where = weight_gap(wa, wb, start, steps=6)
    assert gap <= SAME_UP_TO, f"final weights differ by {gap:.3g} of how far they moved, in {where}"


@pytest.mark.slow
def test_zero3_cold_start_sft(tiny_model_dir, cold_path, tmp_path, run_env):
    """The paper's SFT scale-out (ZeRO-3) on 2 CPU processes, vision tower and projector frozen as in its config:
    trains, saves full weights that load, the language model moved and the vision side did not."""
    import torch
    from transformers import AutoModelForImageTextToText

    run = tmp_path / "sft"
    cfg = {"run_dir": str(run), "data": {"path": str(cold_path)},
           "model": {"path": str(tiny_model_dir), "freeze_vision_tower": True, "freeze_multi_modal_projector": True},
           "trainer": {"use_cpu": True, "bf16": False, "learning_rate": 1e-3, "num_train_epochs": 1,
                       "per_device_train_batch_size": 2, "gradient_accumulation_steps": 2, "save_steps": 1, "seed": 0}}
    _launch(tmp_path, "sft", cfg, ["-m", "visionr1", "sft", "--config"], 29543, run_env)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["examples"] == 8
    model, info = AutoModelForImageTextToText.from_pretrained(run / "final", dtype=torch.float32, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]  # every weight gathered for the save
    trained = model.state_dict()
    base = AutoModelForImageTextToText.from_pretrained(tiny_model_dir, dtype=torch.float32).state_dict()
    assert trained.keys() == base.keys()
    visual = [k for k in base if ".visual." in k]
    assert visual and all(torch.equal(trained[k], base[k]) for k in visual)
    assert any(not torch.equal(trained[k], base[k]) for k in base if k not in visual)
    # counted from the full parameter sizes, not the ranks' ZeRO-3 shards
    assert sum(summary["parameters"]["frozen"].values()) == sum(
        base[k].numel() for k in visual)
