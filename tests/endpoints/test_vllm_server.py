"""A real vLLM OpenAI-compatible server (``python -m vllm.entrypoints.openai.api_server``) as the endpoint of
``visionr1 eval --endpoint`` and as both teachers of ``visionr1 bridge``: our client against the server our users
run, rather than our own test server. One server for the module, on the varied tiny model, started here and
stopped by its process id (its process group: the engine core is its child)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.vllm

REPO = Path(__file__).resolve().parents[2]
SERVED = "tiny-vl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(vllm_env, varied_model_dir, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("vllm_server") / "server.log"
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(varied_model_dir),
           "--served-model-name", SERVED, "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
           "--enforce-eager", "--max-model-len", "2048", "--max-num-seqs", "8", "--limit-mm-per-prompt",
           '{"image": 2}']
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=vllm_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 240
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the vLLM server exited ({proc.returncode}): {log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail(f"the vLLM server was not healthy within 240 s: {log.read_text()[-3000:]}")
            time.sleep(1)
        yield f"{url}/v1"
    finally:
        proc.terminate()  # the server shuts its engine core down on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything of its session still there (the engine core)
        except ProcessLookupError:
            pass


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "visionr1", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def test_eval_against_a_vllm_server_answers_as_the_transformers_backend(vllm_server, varied_model_dir,
                                                                               vllm_env, tmp_path):
    """Greedy through the server: images sent as base64 data URLs, the served chat template, the same answers
    (token counts and finish reasons; text up to vLLM's holding back a last incomplete UTF-8 character) as the
    transformers backend on the same items."""
    from visionr1.eval.run import EvalConfig, run_eval

    data = REPO / "tests" / "fixtures" / "records" / "test.jsonl"
    res = _cli(["eval", "--benchmark", "records", "--data", str(data), "--out", str(tmp_path / "ep"), "--endpoint",
                vllm_server, "--model-name", SERVED, "--temperature", "0", "--max-tokens", "20", "--no-progress"], vllm_env)
    assert res.returncode == 0, res.stderr[-3000:]
    scores = json.loads((tmp_path / "ep" / "scores.json").read_text())
    assert scores["backend"] == "endpoint" and scores["completion"]["failed"] == 0 and scores["items"] == 3
    got = {r["id"]: r for r in map(json.loads, (tmp_path / "ep" / "generations.jsonl").read_text().splitlines())}

    run_eval(EvalConfig(benchmark="records", data=data, out=tmp_path / "hf", model=str(varied_model_dir),
                        temperature=0.0, max_tokens=20, progress=False))
    ref = {r["id"]: r for r in map(json.loads, (tmp_path / "hf" / "generations.jsonl").read_text().splitlines())}
    assert got.keys() == ref.keys()
    for i in ref:
        assert (got[i]["finish_reason"], got[i]["completion_tokens"]) == (ref[i]["finish_reason"], ref[i]["completion_tokens"])
        assert got[i]["response"] and ref[i]["response"].startswith(got[i]["response"]), (got[i], ref[i])


def test_bridge_with_a_vllm_server_as_both_teachers(vllm_server, vllm_env, tmp_path):
    """Every record goes through the three stages (pseudo-CoT and description with its image, the reasoner with
    text) against the real server; a random model's reasoning cannot pass the filters, so each is rejected for a
    named reason, never for a failed call."""
    data = REPO / "tests" / "fixtures" / "records" / "test.jsonl"
    args = ["bridge", "--input", str(data), "--out", str(tmp_path / "br"), "--mllm-url", vllm_server, "--mllm-model",
            SERVED, "--reasoner-url", vllm_server, "--reasoner-model", SERVED, "--no-progress", "--workers", "1",
            "generation.mllm_max_tokens=16", "generation.reasoner_max_tokens=24", "generation.stage_attempts=1"]
    res = _cli(args, vllm_env)
    stats = json.loads((tmp_path / "br" / "stats.json").read_text())
    # a run that keeps nothing says so and exits 2 (sft would have nothing to learn from), its outputs written
    assert res.returncode == (0 if stats["kept"] else 2), res.stderr[-3000:]
    assert stats["kept"] or "kept none of the records" in " ".join(res.stderr.split())
    assert stats["records"] == 3 and stats["models"] == {"mllm": SERVED, "reasoner": SERVED}
    for stage in ("pseudo_cot", "description", "reasoning"):
        assert stats["tokens"][stage]["prompt"] > 0 and stats["tokens"][stage]["completion"] > 0, stage
    # the image went to the MLLM stages (the served processor expands it into image tokens): their prompts are
    # longer than the text-only reasoner's, which holds the question too
    assert stats["tokens"]["pseudo_cot"]["prompt"] > stats["tokens"]["reasoning"]["prompt"]
    rejected = [json.loads(line) for line in (tmp_path / "br" / "rejected.jsonl").read_text().splitlines()]
    assert stats["kept"] + len(rejected) == 3
    assert all(r["reason"] != "failed_call" for r in rejected), rejected

