"""GRPO with PTST on the tiny model: stages, carried optimizer/schedule/step, LoRA, resume, accelerate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from visionr1.config import from_dict
from visionr1.testing.processes import run_patiently, wait_until
from visionr1.testing.rewards import get_spread_reward
from visionr1.train.config import GRPORunConfig
from visionr1.train.metrics import read_metrics

REPO = Path(__file__).resolve().parents[2]
TWO_STAGES = [{"max_completion_length": 8, "num_generations": 4, "steps": 3},
              {"max_completion_length": 16, "num_generations": 2, "steps": 3}]


def _cfg(run_dir, model, records, stages=TWO_STAGES, **trainer):
    return {"run_dir": str(run_dir), "model": {"path": str(model)}, "data": {"path": str(records)},
            "ptst": {"stages": stages}, "samples": {"per_stage": 2},
            "trainer": {"use_cpu": True, "bf16": False, "per_device_train_batch_size": 4, "learning_rate": 1e-3,
                        "lr_scheduler_type": "linear", "save_steps": 1, "seed": 0, **trainer}}


def _adam_steps(ckpt: Path) -> set[int]:
    opt = torch.load(ckpt / "optimizer.pt", map_location="cpu", weights_only=False)
    return {int(s["step"]) for s in opt["state"].values()}


def test_two_stage_ptst_carries_step_optimizer_schedule_and_weights(tiny_model_dir, records_path, tmp_path, monkeypatch):
    import visionr1.train.grpo as grpo
    from safetensors.torch import load_file

    monkeypatch.setattr(grpo, "get_hard_format_result_reward", get_spread_reward)
    run = tmp_path / "run"
    summary = grpo.run_grpo(from_dict(GRPORunConfig, _cfg(run, tiny_model_dir, records_path, save_total_limit=None)))
    assert summary["global_step"] == 6 and summary["stages_run"] == [0, 1]

    rows = read_metrics(run)
    assert [r["global_step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [(r["stage"], r["num_generations"], r["max_completion_length"]) for r in rows] == \
        [(0, 4, 8)] * 3 + [(1, 2, 16)] * 3
    assert all(r["completion_length_max"] <= r["max_completion_length"] for r in rows)
    for key in ("reward_mean", "reward_std", "accuracy", "format_rate", "completion_length_mean", "truncation_rate",
                "reflective_per_1k_tokens", "kl", "loss", "step_seconds"):
        assert all(r.get(key) is not None for r in rows), key
    # one linear LR schedule over all 6 steps, not one per stage
    lrs = [r["learning_rate"] for r in rows]
    assert lrs == pytest.approx([1e-3 * (1 - k / 6) for k in range(6)])

    # the optimizer state carried through the stage boundary: Adam step counts keep counting
    assert _adam_steps(run / "checkpoint-3") == {3}
    assert _adam_steps(run / "checkpoint-6") == {6}
    # stage 2 started from stage 1's weights (not the base model's): the state at step 4 is one step from step 3
    w = {s: load_file(run / f"checkpoint-{s}" / "model.safetensors") for s in (3, 4)}
    base = load_file(Path(tiny_model_dir) / "model.safetensors")
    k = next(k for k in w[3] if "embed_tokens" in k)
    assert not torch.equal(w[3][k], base[k])
    assert (w[4][k] - w[3][k]).abs().max() < (w[4][k] - base[k]).abs().max()
    assert json.loads((run / "checkpoint-3" / "ptst_state.json").read_text())["stages_completed"] == 1
    assert json.loads((run / "checkpoint-6" / "trainable.json").read_text()) == summary["parameters"]

    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    assert [s["stage"] for s in samples] == [0, 0, 1, 1] and all("completion" in s for s in samples)
    assert (run / "config.yaml").is_file() and (run / "final" / "model.safetensors").is_file()

    # rerunning a finished run does nothing and says so
    again = grpo.run_grpo(from_dict(GRPORunConfig, _cfg(run, tiny_model_dir, records_path)))
    assert again["stages_run"] == [] and again["start_step"] == 6 and len(read_metrics(run)) == 6


def test_changing_a_finished_stage_is_refused(tiny_model_dir, records_path, tmp_path):
    from visionr1.errors import ConfigError
    from visionr1.train.config import PTSTStage
    from visionr1.train.grpo import run_grpo
    from visionr1.train.ptst import STATE_FILE
    from visionr1.train.ptst_plan import plan_ptst

    ckpt = tmp_path / "run" / "checkpoint-3"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 3}))
    plan = plan_ptst([PTSTStage(8, 4, 3), PTSTStage(16, 2, 3)]).rows()
    (ckpt / STATE_FILE).write_text(json.dumps({"global_step": 3, "stage": 0, "plan": plan}))
    changed = [dict(TWO_STAGES[0], num_generations=2), TWO_STAGES[1]]
    with pytest.raises(ConfigError, match="ptst stage 0"):
        run_grpo(from_dict(GRPORunConfig, _cfg(tmp_path / "run", tiny_model_dir, records_path, stages=changed)))


def test_lora_variant_trains_the_adapter_with_the_disabled_adapter_as_reference(tiny_model_dir, records_path, tmp_path,
                                                                              monkeypatch):
    import visionr1.train.grpo as grpo
    from safetensors.torch import load_file

    monkeypatch.setattr(grpo, "get_hard_format_result_reward", get_spread_reward)
    cfg = _cfg(tmp_path / "run", tiny_model_dir, records_path,
               stages=[{"max_completion_length": 8, "num_generations": 2, "steps": 2},
                       {"max_completion_length": 12, "num_generations": 2, "steps": 1}], beta=0.01)
    cfg["model"]["lora"] = {"enabled": True, "r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}
    summary = grpo.run_grpo(from_dict(GRPORunConfig, cfg))
    assert summary["global_step"] == 3
    final = Path(summary["final"])
    assert (final / "adapter_model.safetensors").is_file() and not (final / "model.safetensors").exists()
    b = {k: v for k, v in load_file(final / "adapter_model.safetensors").items() if "lora_B" in k}
    assert b and any(v.abs().sum() > 0 for v in b.values())  # lora_B starts at zero: it was trained
    assert [r["global_step"] for r in read_metrics(tmp_path / "run")] == [1, 2, 3]
    assert _adam_steps(tmp_path / "run" / "checkpoint-3") == {3}


def _write_yaml(path: Path, cfg: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_killed_mid_stage_two_resumes_in_the_right_stage_at_the_right_step(tiny_model_dir, records_path, tmp_path, run_env):
    run = tmp_path / "run"
    config = _write_yaml(tmp_path / "grpo.yaml", _cfg(run, tiny_model_dir, records_path, save_total_limit=2))
    cmd = [sys.executable, "-m", "visionr1", "grpo", "--config", str(config)]
    err = tmp_path / "stderr"
    with open(err, "wb") as err_file:
        proc = subprocess.Popen(cmd, cwd=REPO, env=run_env, stdout=subprocess.DEVNULL, stderr=err_file)
    try:  # no clock limit: wait while the run makes progress (a slow machine only takes longer)
        wait_until(lambda: any(r["global_step"] >= 4 for r in read_metrics(run)), proc, outputs=[err], watch=[run])
        assert proc.poll() is None, err.read_text()[-3000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = max(r["global_step"] for r in read_metrics(run))
    assert 4 <= killed_at < 6

    out = run_patiently(cmd, cwd=REPO, env=run_env, watch=[run])
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["start_step"] >= 3 and summary["stages_run"] == [1] and summary["global_step"] == 6
    rows = read_metrics(run)
    assert [r["global_step"] for r in rows] == [1, 2, 3, 4, 5, 6]  # continuous, no duplicated steps
    assert [r["stage"] for r in rows] == [0, 0, 0, 1, 1, 1]
    assert [r["num_generations"] for r in rows] == [4, 4, 4, 2, 2, 2]
    assert _adam_steps(run / "checkpoint-6") == {6}
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    assert [s["stage"] for s in samples].count(1) <= 2


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tiny_model_dir, records_path, tmp_path, run_env):
    """Two processes over gloo through `accelerate launch` (``--multi_gpu`` is accelerate's multi-process
    launcher; on a machine without GPUs torch.distributed uses gloo and the trainer runs on the CPU)."""
    run = tmp_path / "run"
    cfg = _cfg(run, tiny_model_dir, records_path, stages=[{"max_completion_length": 8, "num_generations": 2, "steps": 2}],
               per_device_train_batch_size=2)
    config = _write_yaml(tmp_path / "grpo.yaml", cfg)
    accelerate = Path(sys.executable).parent / "accelerate"
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--num_cpu_threads_per_process", "1",
           "--main_process_port", "29517", "-m", "visionr1", "grpo", "--config", str(config)]
    env = dict(run_env)
    env["CUDA_VISIBLE_DEVICES"] = ""
    out = run_patiently(cmd, cwd=REPO, env=env, watch=[run])
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_step"] == 2
    assert [r["global_step"] for r in read_metrics(run)] == [1, 2]


def test_epoch_seeded_sampler_gives_a_restarted_trainer_the_continuous_order():
    """TRL's sampler replays epoch 0's order in a trainer started after an epoch boundary (a PTST stage, a
    resumed run); with the epoch taken from the trainer's state every epoch's order is the same either way."""
    from trl.trainer.utils import RepeatSampler

    from visionr1.train.grpo import EpochSeededSampler

    def sampler():
        return RepeatSampler(list(range(10)), mini_repeat_count=2, batch_size=5, seed=3)

    epoch = {"now": 0}
    continuous = EpochSeededSampler(sampler(), lambda: epoch["now"])
    orders = []
    for e in range(3):
        epoch["now"] = e
        orders.append(list(continuous))
    assert orders[0] == list(sampler())  # epoch 0: TRL's own order
    assert orders[1] != orders[0] and orders[2] != orders[1]
    assert list(sampler()) == list(sampler())  # a restarted stock sampler starts over with epoch 0's order...
    restarted = EpochSeededSampler(sampler(), lambda: 2)
    assert list(restarted) == orders[2]  # ...ours starts with the epoch it is in
    assert len(restarted) == len(sampler())


def test_frozen_vision_parts_keep_their_weights_under_grpo(tiny_model_dir, records_path, tmp_path, monkeypatch):
    import visionr1.train.grpo as grpo
    from safetensors.torch import load_file

    monkeypatch.setattr(grpo, "get_hard_format_result_reward", get_spread_reward)
    cfg = _cfg(tmp_path / "run", tiny_model_dir, records_path,
               stages=[{"max_completion_length": 8, "num_generations": 2, "steps": 2}], save_steps=10)
    cfg["model"].update(freeze_vision_tower=True, freeze_multi_modal_projector=True)
    summary = grpo.run_grpo(from_dict(GRPORunConfig, cfg))
    base = load_file(Path(tiny_model_dir) / "model.safetensors")
    final = load_file(Path(summary["final"]) / "model.safetensors")
    visual = [k for k in base if k.startswith("visual.")]
    assert visual and all(torch.equal(final[k], base[k]) for k in visual)
    assert any(not torch.equal(final[k], base[k]) for k in base if k.startswith("model.layers."))
    assert summary["parameters"]["frozen"]["multi_modal_projector"] == sum(base[k].numel() for k in visual if "merger" in k)


def test_an_optional_stage_turned_on_later_continues_the_run(tiny_model_dir, records_path, tmp_path):
    """The paper's optional third stage: run the others, then rerun with ptst.run_optional=true."""
    from visionr1.train.grpo import run_grpo

    stages = [{"max_completion_length": 8, "num_generations": 4, "steps": 2},
              {"max_completion_length": 16, "num_generations": 2, "steps": 2, "optional": True}]

    def cfg(run_optional):
        raw = _cfg(tmp_path / "run", tiny_model_dir, records_path, stages, lr_scheduler_type="constant")
        raw["ptst"]["run_optional"] = run_optional
        return from_dict(GRPORunConfig, raw)

    first = run_grpo(cfg(False))
    assert (first["global_step"], first["stages_run"]) == (2, [0])
    second = run_grpo(cfg(True))
    assert (second["start_step"], second["global_step"], second["stages_run"]) == (2, 4, [1])
    rows = read_metrics(tmp_path / "run")
    assert [(r["global_step"], r["stage"], r["num_generations"]) for r in rows] == [(1, 0, 4), (2, 0, 4), (3, 1, 2), (4, 1, 2)]
    assert {r["learning_rate"] for r in rows} == {1e-3}


def test_importing_the_grpo_stage_changes_nothing_and_the_trainer_prepares_vllm_first():
    """No work at import: ``import visionr1.train.grpo`` leaves the environment as it was and imports neither TRL's
    trainer nor vLLM; the trainer class, made on first use, sets vLLM's CPU settings before vLLM is imported."""
    import os
    import subprocess
    import sys

    from visionr1.models.vllm_engine import CPU_ENVIRONMENT

    code = """if True:
        import json, os, sys
        before = dict(os.environ)
        import visionr1.train.grpo as grpo
        changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
        imported = [m for m in ("vllm", "trl.trainer.grpo_trainer") if m in sys.modules]
        grpo.trainer_class()
        import torch
        print(json.dumps({"changed": changed, "imported": imported, "cuda": torch.cuda.is_available(),
                          "set": {k: os.environ.get(k) for k in %r}}))
    """ % list(CPU_ENVIRONMENT)
    env = {k: v for k, v in os.environ.items() if k not in CPU_ENVIRONMENT}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["changed"] == [] and seen["imported"] == []
    assert seen["set"] == ({k: None for k in CPU_ENVIRONMENT} if seen["cuda"] else CPU_ENVIRONMENT)
