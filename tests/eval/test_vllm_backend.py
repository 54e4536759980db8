"""``visionr1 eval --backend vllm``: an offline vLLM engine, batched, against the transformers backend.

Both backends prompt through the same chat template and decode the same way, so greedy answers must agree
token for token. One greedy step may still flip where the two best logits are closer than float32 rounding
between vLLM's CPU kernels and torch's (a near-tie): at most one item of the twelve may differ, and the test says
which when one does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.vllm

REPO = Path(__file__).resolve().parents[2]


def _generations(out: Path) -> dict[str, tuple]:
    rows = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    return {r["id"]: (r["response"], r["finish_reason"], r["completion_tokens"]) for r in rows}


def test_vllm_backend_greedy_answers_match_the_transformers_backend(vllm_env, varied_model_dir, tmp_path):
    from visionr1.data.synth import synthesize
    from visionr1.eval.run import EvalConfig, run_eval

    synthesize(tmp_path / "synth", n=12, seed=3, image_size=112)
    data = tmp_path / "synth" / "train.jsonl"
    common = dict(benchmark="records", data=data, model=str(varied_model_dir), temperature=0.0, max_tokens=24,
                  progress=False)
    ref = run_eval(EvalConfig(out=tmp_path / "hf", **common))

    # the vLLM run as a user types it; --batch-size 5: three engine calls (5, 5, 2), each stored when done
    cmd = [sys.executable, "-m", "visionr1", "eval", "--benchmark", "records", "--data", str(data), "--out",
           str(tmp_path / "vllm"), "--model", str(varied_model_dir), "--backend", "vllm", "--temperature", "0",
           "--max-tokens", "24", "--batch-size", "5", "--no-progress"]
    res = subprocess.run(cmd, cwd=REPO, env=vllm_env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    run = json.loads((tmp_path / "vllm" / "run.json").read_text())
    assert run["identity"]["backend"] == "vllm"
    assert (run["backend"]["backend"], run["backend"]["batch_size"], run["backend"]["dtype"]) == ("vllm", 5, "float32")

    hf, vl = _generations(tmp_path / "hf"), _generations(tmp_path / "vllm")
    assert hf.keys() == vl.keys() and len(hf) == 12
    assert len({text for text, _, _ in hf.values()}) >= 6, "the model answers every prompt alike: nothing is compared"
    differ = sorted(i for i in hf if hf[i] != vl[i])
    assert len(differ) <= 1, {i: (hf[i], vl[i]) for i in differ}
    scores = json.loads((tmp_path / "vllm" / "scores.json").read_text())
    assert scores["backend"] == "vllm" and scores["completion"]["length"]["unit"] == "tokens"
    verdicts = {json.loads(line)["id"]: json.loads(line)["correct"]
                for line in (tmp_path / "vllm" / "verdicts.jsonl").read_text().splitlines()}
    ref_verdicts = {json.loads(line)["id"]: json.loads(line)["correct"]
                    for line in (tmp_path / "hf" / "verdicts.jsonl").read_text().splitlines()}
    assert {i: v for i, v in verdicts.items() if i not in differ} == {i: v for i, v in ref_verdicts.items() if i not in differ}
    assert ref["items"] == scores["items"] == 12


def test_backend_vllm_needs_a_local_model():
    from visionr1.errors import ConfigError
    from visionr1.eval.run import EvalConfig

    with pytest.raises(ConfigError, match="--backend vllm generates with a local checkpoint"):
        EvalConfig(benchmark="records", data=Path("d.jsonl"), out=Path("o"), canned=Path("c.json"), backend="vllm")
    with pytest.raises(ConfigError, match="--backend must be one of transformers, vllm"):
        EvalConfig(benchmark="records", data=Path("d.jsonl"), out=Path("o"), model="m", backend="sglang")
