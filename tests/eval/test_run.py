"""End to end: load → generate (tiny model, canned) → score → report, and `eval` vs `score` on MathVista."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.errors import ConfigError
from visionr1.eval.benchmarks import BENCHMARKS
from visionr1.eval.run import EvalConfig, run_eval

from .conftest import LAYOUTS

RUN_FILES = {"run.json", "generations.sqlite", "generations.jsonl", "verdicts.jsonl", "scores.json", "report.md"}


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_tiny_model_end_to_end(name, tiny_model_dir, tmp_path):
    """Random weights: the text is noise, so only structure and consistency are asserted."""
    out = tmp_path / name
    cfg = EvalConfig(benchmark=name, data=LAYOUTS[name][0], out=out, model=str(tiny_model_dir), limit=3,
                     max_tokens=8, batch_size=3, prompt="r1", progress=False)
    scores = run_eval(cfg)
    files = {p.name for p in out.iterdir()}
    assert RUN_FILES | {scores["result_file"]} <= files
    gens = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert len(gens) == scores["items"] == 3 and all(g["status"] == "ok" for g in gens)
    assert all(0 < g["completion_tokens"] <= 8 for g in gens)
    assert scores["completion"]["length"]["unit"] == "tokens"
    verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
    assert [v["id"] for v in verdicts] == [g["id"] for g in gens]
    assert "## Completions" in (out / "report.md").read_text()
    backend = json.loads((out / "run.json").read_text())["backend"]
    assert backend["backend"] == "transformers" and backend["device"] == "cpu" and backend["vision_windows"] is True
    # a rerun resumes: nothing is generated again, the outputs are the same
    before = (out / "generations.jsonl").read_text()
    assert run_eval(cfg)["headline"] == scores["headline"]
    assert (out / "generations.jsonl").read_text() == before


def test_canned_regenerate_missing_answer(tmp_path):
    canned = tmp_path / "canned.json"
    canned.write_text(json.dumps({
        "1": "<think>green</think><answer>B</answer>",
        "2": ["there are 3", "<think>count</think><answer>3</answer>"],  # answers on the first re-ask
        "3": ["<think>AB</think>", "still thinking", "AB = 2.5"],        # never closes </answer>
    }))
    out = tmp_path / "run"
    scores = run_eval(EvalConfig(benchmark="mathvista", data=LAYOUTS["mathvista"][0], out=out, canned=canned,
                                 regenerate_missing_answer=5, progress=False))
    gens = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert [(g["id"], g["attempt"]) for g in gens] == [("1", 0), ("2", 0), ("2", 1)] + [("3", a) for a in range(6)]
    verdicts = {v["id"]: v for v in map(json.loads, (out / "verdicts.jsonl").read_text().splitlines())}
    assert verdicts["2"]["attempt"] == 1 and verdicts["3"]["attempt"] == 5
    assert scores["completion"]["regenerated"] == 1 and scores["completion"]["re_asked"] == 2
    assert scores["headline"]["accuracy"] == 100.0


def test_eval_and_score_give_identical_mathvista_verdicts(tmp_path):
    """`visionr1 eval` and `visionr1 score mathvista` on the same responses: the same verdicts."""
    canned = tmp_path / "canned.json"
    canned.write_text(json.dumps({"1": "The tallest is green, so the answer is C.", "2": "<answer>three</answer> 4",
                                  "3": "AB = 2.54 cm"}))
    runner = CliRunner()
    out = tmp_path / "run"
    res = runner.invoke(app, ["eval", "--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0]), "--out", str(out),
                              "--canned", str(canned), "--no-progress"])
    assert res.exit_code == 0, res.output
    scored_by_eval = json.loads((out / "results_mathvista.json").read_text())
    raw = {pid: {k: v for k, v in rec.items() if k not in ("extraction", "prediction", "true_false")}
           for pid, rec in scored_by_eval.items()}
    (tmp_path / "raw.json").write_text(json.dumps(raw))
    res = runner.invoke(app, ["score", "mathvista", str(tmp_path / "raw.json"), "--out", str(tmp_path / "scored.json")])
    assert res.exit_code == 0, res.output
    scored_by_score = json.loads((tmp_path / "scored.json").read_text())
    fields = ("extraction", "prediction", "true_false")
    assert {p: [r[f] for f in fields] for p, r in scored_by_eval.items()} == \
           {p: [r[f] for f in fields] for p, r in scored_by_score.items()}
    scores = json.loads((out / "scores.json").read_text())
    assert scores["headline"]["accuracy"] == round(100 * sum(r["true_false"] for r in scored_by_score.values()) / 3, 2)


def test_config_errors(tmp_path):
    data = LAYOUTS["mathvista"][0]
    with pytest.raises(ConfigError, match="exactly one backend"):
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path)
    with pytest.raises(ConfigError, match="--model-name"):
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path, endpoint="http://x/v1")
    with pytest.raises(ConfigError, match="both --judge-endpoint"):
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path, canned=LAYOUTS["mathvista"][2], judge_model="m")
    run_eval(EvalConfig(benchmark="mathvista", data=data, out=tmp_path / "r", canned=LAYOUTS["mathvista"][2], progress=False))
    with pytest.raises(ConfigError, match="other settings"):  # no mixing generations of different settings
        run_eval(EvalConfig(benchmark="mathvista", data=data, out=tmp_path / "r", canned=LAYOUTS["mathvista"][2],
                            prompt="r1", progress=False))


def test_cli_reports_errors_cleanly(tmp_path):
    res = CliRunner().invoke(app, ["eval", "--benchmark", "nope", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                                   "--canned", "x.json"])
    assert res.exit_code == 2 and "unknown benchmark" in res.output


def test_transformers_backend_batches_vision_windows_and_generates_the_same(tiny_model_dir, noise_image):
    import io

    from visionr1.eval.backends import GenRequest, SamplingConfig, TransformersBackend
    from visionr1.models.vision_windows import enable_vision_windows

    def png(seed):
        buf = io.BytesIO()
        noise_image(seed, (224, 224)).save(buf, format="PNG")  # 4 windows in the windowed layer
        return buf.getvalue()

    requests = [GenRequest(f"r{i}", f"How many? {i}", [png(i)]) for i in range(3)]
    backend = TransformersBackend(tiny_model_dir, SamplingConfig(temperature=0, max_tokens=6), batch_size=3)
    assert backend.describe["vision_windows"] is True

    def run():
        got = {}
        backend.generate(requests, lambda rid, result, error: got.update({rid: (result or {}).get("content", error)}))
        return got

    outputs = {"batched": run()}
    enable_vision_windows(backend.model).remove()  # the handle already there: back to the per-window loop
    assert backend.model.model.visual.config._attn_implementation == "sdpa"
    outputs["stock"] = run()
    assert len(outputs["batched"]) == 3 and outputs["batched"] == outputs["stock"]


def test_mmmath_official_protocol_is_the_released_scorer_on_the_raw_question(tmp_path):
    """``--protocol official``: the raw question, the authors' ``Final Answer:`` extraction, sympy at 1e-2."""
    from visionr1.eval.benchmarks import get_benchmark

    items = get_benchmark("mmmath").load(LAYOUTS["mmmath"][0], protocol="official")
    assert all("boxed" not in it.query and it.query == it.raw for it in items)
    canned = tmp_path / "canned.json"
    canned.write_text(json.dumps({
        "mm_1": "<think>base angles: (180-40)/2</think><answer> Final Answer:70^\\circ </answer>",  # released form
        "mm_2": "Slope is \\boxed{2}.",
        "mm_3": "<think>a quarter circle of radius 2</think><answer> Final Answer:3.14 </answer>",  # pi within 1e-2
    }))
    cli = CliRunner().invoke(app, ["eval", "--benchmark", "mmmath", "--data", str(LAYOUTS["mmmath"][0]),
                                   "--out", str(tmp_path / "run"), "--canned", str(canned), "--protocol", "official",
                                   "--no-progress"])
    assert cli.exit_code == 0, cli.output
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["protocol"] == "official" and scores["headline"]["accuracy"] == 100.0
    verdicts = [json.loads(line) for line in (tmp_path / "run" / "verdicts.jsonl").read_text().splitlines()]
    assert [(v["extracted"], v["extracted_by"]) for v in verdicts] == [
        ("70^\\circ", "answer_tag"), ("Slope is \\boxed{2}.", "boxed"), ("3.14", "answer_tag")]
    # the default protocol (math-verify, exact) does not take 3.14 for pi
    default = run_eval(EvalConfig(benchmark="mmmath", data=LAYOUTS["mmmath"][0], out=tmp_path / "default",
                                  canned=canned, progress=False))
    assert default["protocol"] == "default" and default["headline"]["accuracy"] < 100.0
    # a benchmark without that protocol, and a judge with it, are named errors; a rerun cannot switch protocols
    for args, message in ((["--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0])], "mathvista has no protocol 'official'"),
                          (["--benchmark", "mmmath", "--data", str(LAYOUTS["mmmath"][0]), "--judge-endpoint", "http://x",
                            "--judge-model", "m"], "has no LLM step")):
        bad = CliRunner().invoke(app, ["eval", *args, "--out", str(tmp_path / "bad"), "--canned", str(canned),
                                       "--protocol", "official", "--no-progress"])
        assert bad.exit_code == 2 and message in bad.output, bad.output
    switched = CliRunner().invoke(app, ["eval", "--benchmark", "mmmath", "--data", str(LAYOUTS["mmmath"][0]),
                                        "--out", str(tmp_path / "default"), "--canned", str(canned), "--protocol",
                                        "official", "--no-progress"])
    assert switched.exit_code == 2 and "other settings" in switched.output
