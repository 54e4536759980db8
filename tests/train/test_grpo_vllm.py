"""``visionr1 grpo`` with vLLM colocated (``use_vllm: true, vllm_mode: colocate``) on the tiny model, for real.

One run of two PTST stages with validation, killed in stage 2 and rerun (two processes, as a user would see it):

* one engine for the whole run: every stage boundary finds one engine alive, built once (``memory.jsonl``, which
  also holds the process's memory there);
* weights synced into the engine: validation goes through the run's engine, and its greedy answers at the last
  step are the transformers backend's on the saved final model (the engine holds the policy's weights, not the
  checkpoint it was built from), and differ from its answers at step 0 (the policy moved);
* resume after the kill: the right stage at the right step, continuous metrics, one engine again.

Server mode needs CUDA (TRL's weight sync is NCCL): on a CPU ``--dry-run`` refuses it before anything loads.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from visionr1.testing.processes import run_patiently, wait_until
from visionr1.train.metrics import read_metrics

REPO = Path(__file__).resolve().parents[2]
ENTRY = Path(__file__).resolve().parent / "grpo_entry.py"  # visionr1 grpo with a reward that has spread


def _config(run: Path, model: Path, records: Path) -> dict:
    return {"run_dir": str(run), "model": {"path": str(model)}, "data": {"path": str(records)},
            "ptst": {"stages": [
                {"max_completion_length": 8, "num_generations": 4, "steps": 2, "trainer": {"vllm_max_model_length": 512}},
                {"max_completion_length": 12, "num_generations": 2, "steps": 2, "trainer": {"vllm_max_model_length": 640}}]},
            "samples": {"per_stage": 2},
            "validation": {"data": str(records), "every_steps": 2, "max_items": 4, "max_tokens": 12, "batch_size": 4},
            "trainer": {"use_cpu": True, "bf16": False, "per_device_train_batch_size": 4, "learning_rate": 5e-3,
                        "save_steps": 1, "seed": 0, "use_vllm": True, "vllm_mode": "colocate",
                        "vllm_importance_sampling_correction": False, "use_bias_correction_kl": False,
                        "loss_type": "grpo", "scale_rewards": "group", "mask_truncated_completions": False,
                        "importance_sampling_level": "token"}}


@pytest.fixture(scope="module")
def killed_and_resumed(vllm_env, varied_model_dir, records_path, tmp_path_factory):
    """The run killed after step 3 (in stage 2), then rerun to the end: ``(run_dir, rows of memory.jsonl by
    process)``."""
    root = tmp_path_factory.mktemp("grpo_vllm")
    run = root / "run"
    config = root / "grpo.yaml"
    config.write_text(yaml.safe_dump(_config(run, varied_model_dir, records_path)))
    cmd = [sys.executable, str(ENTRY), str(config)]
    env = {**vllm_env, "OMP_NUM_THREADS": "1"}
    err = root / "stderr"
    with open(err, "wb") as err_file:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
    try:  # no clock limit: wait while the run makes progress; kill once step 3's checkpoint is whole (its
        # ptst_state.json is written last, on save), so the rerun has that checkpoint to resume from
        wait_until(lambda: (run / "checkpoint-3" / "ptst_state.json").is_file(), proc, outputs=[err], watch=[run],
                   poll_s=0.05)
        assert proc.poll() is None, err.read_text()[-3000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    first = [json.loads(line) for line in (run / "memory.jsonl").read_text().splitlines()]
    out = run_patiently(cmd, cwd=REPO, env=env, watch=[run])
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line) for line in (run / "memory.jsonl").read_text().splitlines()]
    return run, first, rows[len(first):]


@pytest.mark.slow
@pytest.mark.vllm
def test_one_engine_serves_both_stages_and_the_resumed_run(killed_and_resumed):
    run, first, second = killed_and_resumed
    # the first process crossed the stage boundary with the engine it built at the start
    assert [(r["event"], r["stage"], r["global_step"]) for r in first] == \
        [("stage_start", 0, 0), ("stage_end", 0, 2), ("stage_start", 1, 2)]
    assert all(r["engines_alive"] == 1 and r["engine_builds"] == 1 for r in first), first
    assert all(r["engine_context"] == 640 and r["rss_mib"] > 0 for r in first)  # the largest stage's context
    # the rerun resumed in stage 2 from the checkpoint of step 3 and built one engine of its own
    assert [(r["event"], r["stage"], r["global_step"]) for r in second] == [("stage_start", 1, 3), ("stage_end", 1, 4)]
    assert all(r["engines_alive"] == 1 and r["engine_builds"] == 1 for r in second), second

    summary = json.loads((run / "summary.json").read_text())
    assert summary["start_step"] == 3 and summary["stages_run"] == [1] and summary["global_step"] == 4
    assert summary["vllm_engine"]["builds"] == 1 and summary["vllm_engine"]["context"] == 640
    # the rerun trained one step and validated once: the policy's weights went into the engine for each
    assert summary["vllm_engine"]["syncs"] == 2
    o = summary["objective"][0]
    assert (o["use_vllm"], o["use_bias_correction_kl"], o["num_generations"]) == (True, False, 2)
    rows = read_metrics(run)
    assert [(r["global_step"], r["stage"]) for r in rows] == [(1, 0), (2, 0), (3, 1), (4, 1)]
    assert all(r["completion_length_max"] <= r["max_completion_length"] for r in rows)


@pytest.mark.slow
@pytest.mark.vllm
def test_validation_goes_through_the_engine_holding_the_policys_weights(killed_and_resumed, tmp_path):
    from visionr1.eval.run import EvalConfig, run_eval

    run, _, _ = killed_and_resumed
    rows = [json.loads(line) for line in (run / "validation.jsonl").read_text().splitlines()]
    assert [(r["step"], r.get("engine")) for r in rows] == [(0, "vllm"), (2, "vllm"), (4, "vllm")]

    def answers(folder: Path) -> dict[str, tuple]:
        return {r["id"]: (r["response"], r["completion_tokens"])
                for r in map(json.loads, (folder / "generations.jsonl").read_text().splitlines())}

    at_end, at_start = answers(run / "validation" / "step-4"), answers(run / "validation" / "step-0")
    settings = yaml.safe_load((run / "config.yaml").read_text())["validation"]
    ref = tmp_path / "final_hf"
    run_eval(EvalConfig(benchmark="records", data=Path(settings["data"]), out=ref, model=str(run / "final"),
                        limit=settings["max_items"], prompt=settings["prompt"], temperature=0.0, top_p=1.0,
                        max_tokens=settings["max_tokens"], progress=False))
    hf = answers(ref)
    assert hf.keys() == at_end.keys() and len(hf) == 4
    # greedy on the same weights: equal but for a float32 near-tie between vLLM's CPU kernels and torch's
    assert sum(hf[i] != at_end[i] for i in hf) <= 1, (hf, at_end)
    assert any(at_start[i] != at_end[i] for i in hf), "the policy moved, so its greedy answers must have"


def test_server_mode_is_refused_on_a_cpu_at_dry_run(tmp_path):
    import torch
    from typer.testing import CliRunner

    from visionr1.cli import app

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: server mode can run here")
    res = CliRunner().invoke(app, ["grpo", "--config", str(REPO / "recipes/vision_r1_7b/grpo.yaml"), "--dry-run",
                                   "trainer.vllm_mode=server"])
    assert res.exit_code == 2
    assert "error: trainer.vllm_mode=server (stage(s) [0, 1]) needs CUDA" in " ".join(res.output.split())
    assert "Traceback" not in res.output
