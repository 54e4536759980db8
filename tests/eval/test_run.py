"""End to end: load → generate (tiny model, canned) → score → report, and `eval` vs `score` on MathVista."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.config import EndpointConfig
from visionr1.errors import ConfigError, DataError
from visionr1.eval.benchmarks import BENCHMARKS, OWN
from visionr1.eval.run import EvalConfig, run_eval

from .conftest import LAYOUTS

RUN_FILES = {"run.json", "generations.sqlite", "generations.jsonl", "verdicts.jsonl", "scores.json", "report.md"}


@pytest.mark.parametrize("name", sorted({**BENCHMARKS, **OWN}))
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
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path, endpoint=EndpointConfig(base_url="http://x/v1"))
    with pytest.raises(ConfigError, match="both --judge-endpoint"):
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path, canned=LAYOUTS["mathvista"][2],
                   judge=EndpointConfig(model="m"))
    with pytest.raises(ConfigError, match="--judge-undecided needs a judge"):
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path, canned=LAYOUTS["mathvista"][2], judge_undecided=True)
    with pytest.raises(ConfigError, match="exactly one backend"):  # endpoint settings without a URL choose nothing
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path, endpoint=EndpointConfig(model="m", concurrency=4))
    with pytest.raises(ConfigError, match="endpoint must be an EndpointConfig"):
        EvalConfig(benchmark="mathvista", data=data, out=tmp_path, endpoint="http://x/v1")
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


# ----------------------------------------------------------------------------- what a new user hits (issue 22)


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory):
    from visionr1.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth")
    synthesize(out, n=2, seed=0, tasks=["shape_colour"], split_test=4)
    return out


def _canned_for(test_jsonl, tmp_path):
    rows = [json.loads(line) for line in test_jsonl.read_text().splitlines()]
    canned = {r["id"]: f"<think>look</think><answer>{r['answer'] if i % 2 == 0 else 'no idea'}</answer>"
              for i, r in enumerate(rows)}
    (tmp_path / "canned.json").write_text(json.dumps(canned))
    return tmp_path / "canned.json"


@pytest.mark.parametrize("name", ["records", "synth"])
def test_our_own_records_are_a_named_benchmark(name, synth_set, tmp_path):
    canned = _canned_for(synth_set / "test.jsonl", tmp_path)
    res = CliRunner().invoke(app, ["eval", "--benchmark", name, "--data", str(synth_set / "test.jsonl"), "--out",
                                   str(tmp_path / "run"), "--canned", str(canned), "--no-progress"])
    assert res.exit_code == 0, res.output
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["benchmark"] == "records" and scores["items"] == 4 and scores["headline"]["accuracy"] == 50.0


def test_records_given_to_a_public_benchmark_say_which_benchmark_reads_them(synth_set, tmp_path):
    for data in (synth_set / "test.jsonl", synth_set):
        res = CliRunner().invoke(app, ["eval", "--benchmark", "mathvista", "--data", str(data), "--out",
                                       str(tmp_path / "run"), "--canned", "x.json"])
        said = " ".join(res.output.split())
        assert res.exit_code == 2 and "holds visionr1 records" in said and "--benchmark records" in said
        assert "duplicate item id" not in said


def test_a_benchmark_file_without_its_id_column_names_the_item(tmp_path):
    (tmp_path / "mv.json").write_text(json.dumps([{"question": "q1", "answer": "1"}, {"question": "q2", "answer": "2"}]))
    with pytest.raises(DataError, match=r"is not MathVista data: its rows lack the field\(s\) pid"):
        run_eval(EvalConfig(benchmark="mathvista", data=tmp_path / "mv.json", out=tmp_path / "run",
                            canned=tmp_path / "mv.json", progress=False))


def test_an_unreadable_parquet_is_a_clear_error(tmp_path):
    cut = tmp_path / "testmini-00000-of-00001.parquet"
    blob = (LAYOUTS["mathvista"][0] / "data" / "testmini-00000-of-00001.parquet").read_bytes()
    cut.write_bytes(blob[:300])
    res = CliRunner().invoke(app, ["eval", "--benchmark", "mathvista", "--data", str(cut), "--out", str(tmp_path / "o"),
                                   "--canned", str(LAYOUTS["mathvista"][2])])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "cannot be read as Parquet" in said and "Traceback" not in said


def test_a_run_folder_given_as_the_model_points_at_its_final_model(tiny_model_dir, synth_set, tmp_path):
    import shutil

    shutil.copytree(tiny_model_dir, tmp_path / "sft" / "final")
    res = CliRunner().invoke(app, ["eval", "--benchmark", "records", "--data", str(synth_set), "--out",
                                   str(tmp_path / "run"), "--model", str(tmp_path / "sft")])
    assert res.exit_code == 2 and "its trained model is" in " ".join(res.output.split())


def test_out_is_eval_s_own_and_bad_records_are_skipped_only_when_asked(synth_set, tmp_path):
    import shutil

    shutil.copytree(synth_set, tmp_path / "data")
    test = tmp_path / "data" / "test.jsonl"
    rows = [json.loads(line) for line in test.read_text().splitlines()]
    rows[1]["images"] = ["images/missing.png"]
    test.write_text("".join(json.dumps(r) + "\n" for r in rows))
    canned = _canned_for(synth_set / "test.jsonl", tmp_path)
    cfg = dict(benchmark="records", data=test, canned=canned, progress=False)
    with pytest.raises(DataError, match=r"1 bad record\(s\) \(3 good\).*--skip-bad"):
        run_eval(EvalConfig(out=tmp_path / "a", **cfg))
    assert run_eval(EvalConfig(out=tmp_path / "a", skip_bad=True, **cfg))["items"] == 3
    with pytest.raises(ConfigError, match="--skip-bad works with --benchmark records"):
        run_eval(EvalConfig(benchmark="mathvista", data=LAYOUTS["mathvista"][0], canned=LAYOUTS["mathvista"][2],
                            out=tmp_path / "b", skip_bad=True, progress=False))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"notes\.txt.*--force"):
        run_eval(EvalConfig(out=tmp_path / "mine", skip_bad=True, **cfg))
    assert run_eval(EvalConfig(out=tmp_path / "mine", skip_bad=True, force=True, **cfg))["items"] == 3
    # every record bad: --skip-bad cannot help, and the error says so rather than suggesting it (issue 33 polish)
    test.write_text("".join(json.dumps(dict(r, images=["images/missing.png"])) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"4 bad record\(s\) \(0 good\); all are bad, so there is nothing to evaluate"):
        run_eval(EvalConfig(out=tmp_path / "c", skip_bad=True, **cfg))


def test_an_unreadable_canned_file_is_a_clear_error(tmp_path):
    (tmp_path / "canned.json").write_text('{"1": "A",')
    with pytest.raises(DataError, match="canned.json: cannot be read as JSON"):
        run_eval(EvalConfig(benchmark="mathvista", data=LAYOUTS["mathvista"][0], out=tmp_path / "run",
                            canned=tmp_path / "canned.json", progress=False))


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
    for args, message in ((["--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0]), "--protocol", "vlmeval"],
                           "mathvista has no protocol 'vlmeval'; it has: default, official"),
                          (["--benchmark", "mmmath", "--data", str(LAYOUTS["mmmath"][0]), "--judge-endpoint", "http://x",
                            "--judge-model", "m", "--protocol", "official"], "has no LLM step")):
        bad = CliRunner().invoke(app, ["eval", *args, "--out", str(tmp_path / "bad"), "--canned", str(canned),
                                       "--no-progress"])
        assert bad.exit_code == 2 and message in bad.output, bad.output
    switched = CliRunner().invoke(app, ["eval", "--benchmark", "mmmath", "--data", str(LAYOUTS["mmmath"][0]),
                                        "--out", str(tmp_path / "default"), "--canned", str(canned), "--protocol",
                                        "official", "--no-progress"])
    assert switched.exit_code == 2 and "other settings" in switched.output


def test_eval_takes_a_config_file_flags_and_overrides_like_every_stage(tmp_path):
    """`visionr1 eval --config FILE key=value`: the file, then the flags typed, then the overrides; a wrong key
    is refused naming it, a missing one too."""
    import yaml

    canned = tmp_path / "canned.json"
    canned.write_text(json.dumps({"1": "The answer is C.", "2": "<answer>3</answer>", "3": "AB = 2.54 cm"}))
    cfg_file = tmp_path / "eval.yaml"
    cfg_file.write_text(yaml.safe_dump({"benchmark": "mathvista", "data": str(LAYOUTS["mathvista"][0]),
                                        "out": str(tmp_path / "from-file"), "canned": str(canned), "progress": False,
                                        "temperature": 0.3, "max_tokens": 100}))
    runner = CliRunner()
    res = runner.invoke(app, ["eval", "--config", str(cfg_file), "--max-tokens", "50", "temperature=0.0",
                              f"out={tmp_path / 'run'}"])
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "run" / "run.json").read_text())["identity"]
    assert (run["temperature"], run["max_tokens"], run["benchmark"]) == (0.0, 50, "mathvista")  # override, flag, file
    assert not (tmp_path / "from-file").exists()
    # the same run from flags only gives the same verdicts
    res = runner.invoke(app, ["eval", "--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0]), "--out",
                              str(tmp_path / "flags"), "--canned", str(canned), "--no-progress", "--max-tokens", "50",
                              "--temperature", "0"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "flags" / "verdicts.jsonl").read_text() == (tmp_path / "run" / "verdicts.jsonl").read_text()
    # wrong and missing keys: one line, exit 2, the key named
    res = runner.invoke(app, ["eval", "--config", str(cfg_file), "temprature=0.1"])
    assert res.exit_code == 2 and "unknown config key(s) temprature" in res.output and "Traceback" not in res.output
    (tmp_path / "bad.yaml").write_text("benchmark: mathvista\nmax_tokes: 5\n")
    res = runner.invoke(app, ["eval", "--config", str(tmp_path / "bad.yaml")])
    assert res.exit_code == 2 and "max_tokes" in res.output
    res = runner.invoke(app, ["eval", "--canned", str(canned)])
    assert res.exit_code == 2 and "missing config key(s) benchmark, data, out" in res.output


@pytest.mark.parametrize("recipe", ["recipes/tiny_cpu/eval.yaml", "recipes/vision_r1_7b/eval.yaml"])
def test_eval_recipes_load(recipe):
    from pathlib import Path

    from visionr1.eval.run import load_eval_config

    root = Path(__file__).resolve().parents[2]
    cfg = load_eval_config(root / recipe)
    if "7b" in recipe:  # the authors' sampling
        assert (cfg.prompt, cfg.temperature, cfg.top_p, cfg.max_tokens, cfg.regenerate_missing_answer) == \
               ("raw", 0.6, 0.95, 16000, 4)
        assert isinstance(cfg.endpoint, EndpointConfig) and cfg.endpoint.base_url and cfg.endpoint.model
        assert cfg.identity()["backend"] == "endpoint" and cfg.judge is None
    else:
        assert cfg.benchmark == "records" and cfg.model and cfg.prompt == "r1"


def _eval_yaml(tmp_path, text: str):
    from visionr1.eval.run import load_eval_config

    path = tmp_path / "eval.yaml"
    path.write_text(f"benchmark: mathvista\ndata: {LAYOUTS['mathvista'][0]}\nout: {tmp_path / 'run'}\n{text}")
    return lambda overrides=(), flags=None: load_eval_config(path, overrides, flags)


def test_eval_yaml_endpoint_and_judge_blocks_load_as_endpoint_configs(tmp_path):
    load = _eval_yaml(tmp_path, "endpoint: {base_url: http://localhost:8000/v1, model: vision-r1-7b, concurrency: 8}\n"
                                "judge: {base_url: http://localhost:8001/v1, model: qwen-judge}\n")
    cfg = load()
    assert isinstance(cfg.endpoint, EndpointConfig) and isinstance(cfg.judge, EndpointConfig)
    assert cfg.endpoint == EndpointConfig(base_url="http://localhost:8000/v1", model="vision-r1-7b", concurrency=8)
    assert (cfg.judge.base_url, cfg.judge.model) == ("http://localhost:8001/v1", "qwen-judge")
    # only URL and model given: the judge's own defaults, not the generation endpoint's
    assert (cfg.judge.concurrency, cfg.judge.max_retries, cfg.judge.timeout) == (16, 4, 120.0)
    assert load(["judge.concurrency=2", "endpoint.timeout=30"]).judge.concurrency == 2
    assert load(["endpoint.timeout=30"]).endpoint.timeout == 30.0
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) endpoint\.bse_url; did you mean endpoint\.base_url\? valid keys here: api_key_env"):
        load(["endpoint.bse_url=x"])
    with pytest.raises(ConfigError, match=r"judge\.modle"):
        _eval_yaml(tmp_path, "canned: c.json\njudge: {base_url: http://x/v1, modle: m}\n")()
    # a judge needs both its URL and its model, from a file as from the flags (test_score: the flags)
    with pytest.raises(ConfigError, match="give both --judge-endpoint and --judge-model"):
        _eval_yaml(tmp_path, "canned: c.json\njudge: {base_url: http://x/v1}\n")()


def test_an_override_or_a_flag_fills_an_endpoint_block_the_file_does_not_have(tmp_path):
    load = _eval_yaml(tmp_path, "")
    cfg = load(["endpoint.base_url=http://localhost:8000/v1", "endpoint.model=m"])
    assert cfg.endpoint == EndpointConfig(base_url="http://localhost:8000/v1", model="m")
    cfg = load(flags={"endpoint.base_url": "http://h/v1", "endpoint.model": "m", "judge.base_url": "http://j/v1",
                      "judge.model": "jm", "judge.api_key_env": None})
    assert (cfg.endpoint.base_url, cfg.judge.base_url, cfg.judge.api_key_env) == ("http://h/v1", "http://j/v1",
                                                                                    "OPENAI_API_KEY")


def test_an_older_flat_eval_yaml_is_refused_with_the_nested_form(tmp_path):
    with pytest.raises(ConfigError, match=r"config key\(s\) model_name.*endpoint: \{base_url: URL, model: NAME"):
        _eval_yaml(tmp_path, "endpoint: {base_url: http://x/v1, model: m}\nmodel_name: m\n")()
    with pytest.raises(ConfigError, match=r"endpoint='http://x/v1': expected a mapping.*endpoint: \{base_url: URL"):
        _eval_yaml(tmp_path, "endpoint: http://x/v1\n")()


def test_eval_flags_land_in_the_nested_endpoint_and_judge(tmp_path, monkeypatch):
    """The flags users type (--endpoint, --model-name, --concurrency, ..., --judge-*) fill endpoint.* and judge.*."""
    import visionr1.eval.run as run

    seen = {}

    def capture(cfg):
        seen["cfg"] = cfg
        raise ConfigError("captured")

    monkeypatch.setattr(run, "run_eval", capture)
    res = CliRunner().invoke(app, [
        "eval", "--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0]), "--out", str(tmp_path / "run"),
        "--endpoint", "http://h:8000/v1", "--model-name", "vision-r1", "--concurrency", "3", "--timeout", "60",
        "--max-retries", "1", "--api-key-env", "GEN_KEY", "--judge-endpoint", "http://j:8001/v1", "--judge-model",
        "qwen", "--judge-api-key-env", "JUDGE_KEY", "--judge-undecided"])
    assert res.exit_code == 2 and "captured" in res.output, res.output
    cfg = seen["cfg"]
    assert cfg.endpoint == EndpointConfig(base_url="http://h:8000/v1", model="vision-r1", api_key_env="GEN_KEY",
                                          timeout=60.0, max_retries=1, concurrency=3)
    assert (cfg.judge.base_url, cfg.judge.model, cfg.judge.api_key_env) == ("http://j:8001/v1", "qwen", "JUDGE_KEY")
    assert (cfg.judge.concurrency, cfg.judge.max_retries, cfg.judge.timeout) == (16, 4, 120.0)
    assert cfg.judge_undecided
    res = CliRunner().invoke(app, ["eval", "--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0]),
                                   "--out", str(tmp_path / "run"), "--endpoint", "http://h/v1"])
    assert res.exit_code == 2 and "--endpoint needs --model-name" in res.output
    res = CliRunner().invoke(app, ["eval", "--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0]),
                                   "--out", str(tmp_path / "run"), "--model-name", "m", "--judge-endpoint", "http://j"])
    assert res.exit_code == 2 and "exactly one backend" in res.output


def test_identity_of_an_endpoint_run_is_what_earlier_run_folders_hold(tmp_path):
    """A run folder written before endpoint settings were nested must still resume: same identity dict."""
    cfg = EvalConfig(benchmark="mathvista", data=LAYOUTS["mathvista"][0], out=tmp_path,
                     endpoint=EndpointConfig(base_url="http://localhost:8000/v1", model="vision-r1-7b", concurrency=8),
                     judge=EndpointConfig(base_url="http://j/v1", model="judge"), prompt="raw",
                     regenerate_missing_answer=4)
    assert cfg.identity() == {"benchmark": "mathvista", "split": None, "prompt": "raw", "backend": "endpoint",
                              "model": "vision-r1-7b", "temperature": 0.6, "top_p": 0.95, "max_tokens": 16000,
                              "seed": 0, "protocol": "default"}


def test_the_local_backends_put_the_system_prompt_through_the_chat_template(tiny_model_dir):
    """The transformers and vLLM backends prompt through chat_prompt: a request's system message replaces the
    template's default one; without it the template's default stays."""
    from transformers import AutoProcessor

    from visionr1.eval.backends import GenRequest, chat_prompt

    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    plain, _ = chat_prompt(processor, GenRequest("a", "2+2?", []))
    told, _ = chat_prompt(processor, GenRequest("a", "2+2?", [], system="Think first."))
    default = "You are a helpful assistant."
    assert default in plain and "Think first." not in plain
    assert "<|im_start|>system\nThink first.<|im_end|>" in told and default not in told
    assert told.endswith(plain.split("<|im_end|>", 1)[1])  # the same user turn and generation prompt after it
