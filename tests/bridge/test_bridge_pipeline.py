"""The bridge end to end with the real openai client against the faulty local server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.estimate import estimate
from visionr1.bridge.filters import REASONS
from visionr1.bridge.run import run_bridge
from visionr1.config import EndpointConfig, from_dict
from visionr1.data.io import read_records, read_sharegpt
from visionr1.errors import ConfigError
from visionr1.grading import grade, hard_format_result_reward, parse_r1
from visionr1.testing import FaultPlan, OpenAIServer

OUTPUTS = ("cold.sharegpt.json", "cold.jsonl", "rejected.jsonl", "stats.json", "stats.md")
FAULTS = FaultPlan(rate_limit=0.08, server_error=0.05, hang=0.02, malformed=0.03, empty=0.04, retry_after=0.02,
                   hang_seconds=5.0, always_fail=("-00005/description",))


def make_cfg(url: str, synth_dir: Path, out: Path, **kw) -> BridgeConfig:
    ep = {"base_url": url, "model": "fake", "timeout": 1.0, "max_retries": 3, "concurrency": 8}  # 1 s: ~100x an answer
    return BridgeConfig(input=synth_dir, out=out, mllm=EndpointConfig(**ep), reasoner=EndpointConfig(**ep),
                        retry_backoff=0.01, progress=False, **kw)


def read_outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory, synth_dir, fake_models):
    out = tmp_path_factory.mktemp("run")
    with OpenAIServer(fake_models.respond, faults=FAULTS) as server:
        cfg = make_cfg(server.url, synth_dir, out)
        stats = run_bridge(cfg)
        first = read_outputs(out)
        n_first = len(server.log)
        log_first = list(server.log)
        stats2 = run_bridge(cfg)
        rerun_keys = [e.key for e in server.log[n_first:]]
    return {"out": out, "stats": stats, "stats2": stats2, "first": first, "log": log_first, "rerun_keys": rerun_keys}


def test_every_record_is_kept_or_rejected_with_a_reason(faulty_run, synth_dir):
    ids = [r.id for r in read_records(synth_dir).records]
    out = faulty_run["out"]
    kept = [json.loads(line)["id"] for line in (out / "cold.jsonl").read_text().splitlines()]
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    assert sorted(kept + [r["id"] for r in rejected]) == sorted(ids)
    assert all(r["reason"] in REASONS for r in rejected)
    stats = faulty_run["stats"]
    assert stats["kept"] == len(kept) and stats["rejected"] == len(rejected) and stats["records"] == len(ids)
    # the fault plan and the fake reasoner produce these, at least
    assert {"failed_call", "wrong_answer", "missing_reasoning"} <= set(stats["rejected_by_reason"])
    assert stats["kept"] >= len(ids) // 2


def test_faults_were_injected_and_survived(faulty_run):
    faults = {e.fault for e in faulty_run["log"]}
    assert {"rate_limit", "server_error", "malformed", "hang", "empty", "always_fail"} <= faults


def test_rerun_replays_everything_and_writes_identical_outputs(faulty_run):
    assert read_outputs(faulty_run["out"]) == faulty_run["first"]
    # only the permanently failing call is asked again (retry_failed), nothing that finished
    assert faulty_run["rerun_keys"] and all("-00005/description" in k for k in faulty_run["rerun_keys"])
    runs = [json.loads(x) for x in (faulty_run["out"] / "runs.jsonl").read_text().splitlines()]
    assert runs[-1]["new_calls"] == {"pseudo_cot": 0, "description": 1, "reasoning": 0}


def test_kept_items_are_valid_r1_sft_data(faulty_run, synth_dir):
    out = faulty_run["out"]
    recs = {r.id: r for r in read_records(synth_dir).records}
    for line in (out / "cold.jsonl").read_text().splitlines():
        item = json.loads(line)
        user, assistant = item["messages"]
        assert user["role"] == "user" and assistant["role"] == "assistant"
        assert [p["type"] for p in user["content"]] == ["image"] * len(item["images"]) + ["text"]
        text = assistant["content"][0]["text"]
        parsed = parse_r1(text)
        assert parsed.ok, parsed.reason
        # the paper's answer form, exactly as the authors' eval pattern reads it
        assert re.search(r"</think><answer> Final Answer:(.*?) </answer>$", text).group(1) == parsed.answer
        rec = recs[item["id"]]
        assert hard_format_result_reward(text, rec.answer, choices=rec.choices) == 1.0
        assert grade(text, rec.answer, choices=rec.choices, answer_type=rec.answer_type, precision=rec.precision).correct
        if rec.choices:
            assert parsed.answer == rec.answer_letter
            assert "(A) " in user["content"][-1]["text"]
        assert "descri" not in parsed.think.lower()
        for p in item["images"]:
            assert (out / p).is_file() and not Path(p).is_absolute()
    convs, errors = read_sharegpt(out / "cold.sharegpt.json")
    assert not errors and len(convs) == faulty_run["stats"]["kept"]
    assert convs[0].messages[0]["content"].startswith("<image>")


def test_stats_report_tokens_lengths_and_reflective_words(faulty_run):
    stats = json.loads((faulty_run["out"] / "stats.json").read_text())
    assert all(stats["tokens"][s]["prompt"] > 0 and stats["tokens"][s]["completion"] > 0
               for s in ("pseudo_cot", "description", "reasoning"))
    assert stats["reasoning_length_words"]["p50"] > 0
    assert stats["reflective_words"]["total"]["Wait"] >= stats["kept"]
    md = (faulty_run["out"] / "stats.md").read_text()
    assert "Table 2" in md and "| Wait |" in md


def test_answer_hint_is_off_by_default(tmp_path, synth_dir, fake_models):
    prompts = []

    def responder(req):
        if req.key.endswith("/reasoning/0"):
            prompts.append(req.text())
        return fake_models.respond(req)

    with OpenAIServer(responder) as server:
        run_bridge(make_cfg(server.url, synth_dir, tmp_path, limit=3))
    assert len(prompts) == 3 and not any("Hint" in p for p in prompts)
    assert all("decisive value" in p for p in prompts)  # the description reached the reasoner


def test_prompt_override_and_prices(tmp_path, synth_dir, fake_models):
    user = tmp_path / "user.txt"
    user.write_text("Q: {question}\n{choices}Answer with {answer_kind} in <think></think><answer></answer>.")
    with OpenAIServer(fake_models.respond) as server:
        cfg = make_cfg(server.url, synth_dir, tmp_path / "run", limit=4)
        cfg.prompts.user = user
        cfg.prices.reasoner_output = 2.0
        stats = run_bridge(cfg)
    first = json.loads((tmp_path / "run" / "cold.jsonl").read_text().splitlines()[0])
    assert first["messages"][0]["content"][-1]["text"].startswith("Q: ")
    assert stats["tokens"]["total"]["cost_usd"] > 0


def test_bad_template_placeholder_is_a_config_error(tmp_path, synth_dir):
    bad = tmp_path / "r.txt"
    bad.write_text("$description $answer")
    cfg = make_cfg("http://127.0.0.1:9/v1", synth_dir, tmp_path / "run")
    cfg.prompts.reasoner = bad
    with pytest.raises(ConfigError, match="answer"):
        run_bridge(cfg)


def test_dry_run_counts_only_calls_not_yet_stored(faulty_run, synth_dir, tmp_path):
    cfg = make_cfg("http://127.0.0.1:9/v1", synth_dir, tmp_path / "fresh")
    est = estimate(cfg)
    n = len(read_records(synth_dir).records)
    assert all(est["stages"][s]["calls"] == n for s in ("pseudo_cot", "description", "reasoning"))
    assert est["stages"]["pseudo_cot"]["prompt_tokens"] > n * 64  # images count
    cfg.out = faulty_run["out"]
    est = estimate(cfg)
    assert est["stages"]["pseudo_cot"]["calls"] == 0


def test_a_different_model_in_the_same_run_dir_is_refused(faulty_run, synth_dir):
    cfg = make_cfg("http://127.0.0.1:9/v1", synth_dir, faulty_run["out"])
    cfg.reasoner.model = "another"
    with pytest.raises(ConfigError, match="new --out"):
        run_bridge(cfg)


def test_cli_template_teacher_and_flags_override_yaml(tmp_path, synth_dir):
    from visionr1.cli import app

    yaml_cfg = tmp_path / "bridge.yaml"
    yaml_cfg.write_text("teacher: endpoints\nlimit: 2\ntemplate: {flaw_rate: 0.5}\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(out), "--teacher", "template",
                                   "--config", str(yaml_cfg), "--limit", "20", "--no-progress", "template.seed=1"])
    assert res.exit_code == 0, res.output
    stats = json.loads((out / "stats.json").read_text())
    assert stats["teacher"] == "template" and stats["records"] == 20
    assert stats["rejected"] >= 4  # flaw_rate 0.5 from the YAML
    assert set(stats["rejected_by_reason"]) <= {"wrong_answer", "truncated"}
    assert stats["answer_form"] == "final_answer"


def test_cli_wrong_keys_are_refused_naming_them(tmp_path, synth_dir):
    from visionr1.cli import app

    yaml_cfg = tmp_path / "bridge.yaml"
    yaml_cfg.write_text("teacher: template\nfilters: {min_reasoning_wrds: 5}\n")
    res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "run"),
                                   "--config", str(yaml_cfg)])
    assert res.exit_code == 2 and "unknown config key(s) filters.min_reasoning_wrds" in res.output
    res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "run"),
                                   "--teacher", "template", "mllm.modle=x"])
    assert res.exit_code == 2 and "mllm.modle" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("settings,form,tail", [
    ([], "final_answer", " </answer>"),
    (["template.brief=true"], "short", "</answer>"),  # auto: the demo's brief CoTs keep the short form
    (["template.brief=true", "answer_form=final_answer"], "final_answer", " </answer>"),
    (["answer_form=short"], "short", "</answer>"),
])
def test_answer_form_setting(tmp_path, synth_dir, settings, form, tail):
    from visionr1.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(out), "--teacher", "template",
                                   "--limit", "4", "--no-progress", "template.flaw_rate=0", *settings])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "stats.json").read_text())["answer_form"] == form
    texts = [json.loads(line)["messages"][1]["content"][0]["text"] for line in (out / "cold.jsonl").read_text().splitlines()]
    assert texts and all(parse_r1(t).ok and t.endswith(tail) for t in texts)
    assert all(("Final Answer:" in t) == (form == "final_answer") for t in texts)
    bad = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(out), "--teacher", "template",
                                   "answer_form=long"])
    assert bad.exit_code == 2 and "answer_form must be one of auto, final_answer, short" in bad.output


def test_cli_dry_run_calls_nothing(tmp_path, synth_dir):
    from visionr1.cli import app

    res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "r"), "--dry-run",
                                   "--mllm-url", "http://127.0.0.1:9/v1", "--mllm-model", "a",
                                   "--reasoner-url", "http://127.0.0.1:9/v1", "--reasoner-model", "b",
                                   "prices.reasoner_output=2.19"])
    assert res.exit_code == 0, res.output
    assert "dry run" in res.output and "estimated cost" in res.output
    assert not (tmp_path / "r" / "calls.sqlite").exists()


def test_cli_missing_endpoint_is_a_clear_error(tmp_path, synth_dir):
    from visionr1.cli import app

    res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "r"), "--no-progress"])
    assert res.exit_code == 2 and "--mllm-url" in res.output


def test_yaml_config_loads():
    cfg = from_dict(BridgeConfig, {"mllm": {"base_url": "http://x/v1", "model": "m"}, "filters": {"max_reasoning_words": 10}})
    assert cfg.filters.max_reasoning_words == 10
    with pytest.raises(ConfigError):
        from_dict(BridgeConfig, {"teacher": "oracle"})


def test_an_image_path_through_dotdot_is_placed_inside_images(tmp_path, synth_dir):
    """`images/../x.png` (inside the input folder) must not land next to RUN_DIR's output files."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(synth_dir, data)
    lines = (data / "train.jsonl").read_text().splitlines()[:3]
    first = json.loads(lines[0])
    (data / "images" / Path(first["images"][0]).name).rename(data / "stats.json.png")
    first["images"] = ["images/../stats.json.png"]
    (data / "train.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    out = tmp_path / "run"
    cfg = from_dict(BridgeConfig, {"input": str(data), "out": str(out), "teacher": "template", "progress": False,
                                   "template": {"flaw_rate": 0.0}})
    run_bridge(cfg)
    assert not (out / "stats.json.png").exists()
    assert (out / "images" / "stats.json.png").is_file()
    kept = [json.loads(x) for x in (out / "cold.jsonl").read_text().splitlines()]
    assert any(img.endswith("images/stats.json.png") for r in kept for img in r.get("images", []))


# ----------------------------------------------------------------------------- what a new user hits (issue 22)


def _closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_a_dead_endpoint_ends_the_bridge_at_once_naming_it(tmp_path, synth_dir, monkeypatch):
    import time

    from visionr1.cli import app

    url = _closed_port_url()
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)  # a retry would wait (backoff) before trying again
    res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "r"), "--no-progress",
                                   "--mllm-url", url, "--mllm-model", "a", "--reasoner-url", url, "--reasoner-model", "b"])
    monkeypatch.undo()
    assert res.exit_code == 2 and "cannot reach the mllm endpoint" in res.output and url in " ".join(res.output.split())
    assert waits == []  # at once: no retries with backoff (not timed: a busy machine is slow, not wrong)
    assert not (tmp_path / "r" / "cold.jsonl").exists()


def test_a_model_the_server_does_not_serve_ends_the_bridge_before_any_record(tmp_path, synth_dir, fake_models):
    from visionr1.endpoints import EndpointUnavailable

    with OpenAIServer(fake_models.respond, models=["fake"]) as server:
        cfg = make_cfg(server.url, synth_dir, tmp_path / "r")
        cfg.reasoner.model = "deepseek-r1"
        with pytest.raises(EndpointUnavailable, match=r"reasoner endpoint .* does not serve model 'deepseek-r1'; it lists: fake"):
            run_bridge(cfg)
        assert server.log == []


def test_a_run_whose_calls_mostly_fail_exits_non_zero_with_the_reason(tmp_path, synth_dir):
    from visionr1.cli import app
    from visionr1.testing import Reply

    with OpenAIServer(lambda req: Reply(status=400, content="context length exceeded")) as server:
        res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "r"), "--no-progress",
                                       "--limit", "6", "--workers", "1", "--mllm-url", server.url, "--mllm-model", "m",
                                       "--reasoner-url", server.url, "--reasoner-model", "r"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "6 of 6 records failed their endpoint calls" in said and "context length exceeded" in said
    assert json.loads((tmp_path / "r" / "stats.json").read_text())["rejected_by_reason"] == {"failed_call": 6}


def test_an_out_folder_the_bridge_did_not_make_is_refused(tmp_path, synth_dir):
    from visionr1.cli import app

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    args = ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "mine"), "--teacher", "template", "--no-progress"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "notes.txt" in res.output and "--force" in res.output
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
    assert CliRunner().invoke(app, [*args, "--force"]).exit_code == 0
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me" and (tmp_path / "mine" / "cold.jsonl").exists()
    assert CliRunner().invoke(app, args).exit_code == 0  # now the bridge's own: a rerun resumes


def test_concurrency_help_shows_its_default():
    from visionr1.cli import app

    res = CliRunner().invoke(app, ["bridge", "--help"], env={"COLUMNS": "200"})
    assert "per endpoint (default 64" in res.output


def test_an_unreadable_parquet_input_is_a_clear_error(tmp_path):
    from visionr1.cli import app

    (tmp_path / "cut.parquet").write_bytes(b"PAR1" + b"\0" * 64)
    res = CliRunner().invoke(app, ["bridge", "--input", str(tmp_path / "cut.parquet"), "--out", str(tmp_path / "r"),
                                   "--teacher", "template", "--no-progress"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "cut.parquet: cannot be read as Parquet" in said and "Traceback" not in said


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_server_answering_binary_as_json_rejects_the_records_with_the_reason(tmp_path, synth_dir, workers):
    """Issue 33 item 6: a UnicodeDecodeError from the bridge worker ended the run with a traceback and no
    rejected.jsonl. Each record now fails its call (bad_response), the outputs are written, and the run ends
    with the endpoint named as the problem."""
    from visionr1.cli import app
    from visionr1.testing import Reply

    def binary(req):
        return Reply(raw=b"\xff\xfe\x00\x81binary\x9c", headers={"Content-Type": "application/json"})

    with OpenAIServer(binary) as server:
        res = CliRunner().invoke(app, ["bridge", "--input", str(synth_dir), "--out", str(tmp_path / "r"), "--no-progress",
                                       "--limit", "4", "--workers", workers, "--mllm-url", server.url, "--mllm-model",
                                       "m", "--reasoner-url", server.url, "--reasoner-model", "r",
                                       "mllm.max_retries=0", "retry_backoff=0.01"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "Traceback" not in said and "4 of 4 records failed their endpoint calls" in said
    rejected = [json.loads(line) for line in (tmp_path / "r" / "rejected.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejected] == ["failed_call"] * 4 and all("bad_response" in r["detail"] for r in rejected)


def test_dry_run_names_the_bad_items_the_run_would_reject(tmp_path, synth_dir):
    """Issue 33 item 10: ``dry run: 23 records`` dropped the bad items without a word."""
    import shutil

    from visionr1.cli import app

    shutil.copytree(synth_dir / "images", tmp_path / "images")
    lines = (synth_dir / "train.jsonl").read_text().splitlines()[:6]
    bad = dict(json.loads(lines[0]), id="no-image", images=["images/nope.png"])
    (tmp_path / "train.jsonl").write_text("\n".join([*lines, json.dumps(bad), "{not json"]) + "\n")
    for teacher in (["--teacher", "template"], ["--mllm-url", "http://127.0.0.1:9/v1", "--mllm-model", "a",
                                                "--reasoner-url", "http://127.0.0.1:9/v1", "--reasoner-model", "b"]):
        res = CliRunner().invoke(app, ["bridge", "--input", str(tmp_path / "train.jsonl"), "--out", str(tmp_path / "r"),
                                       "--dry-run", *teacher])
        said = " ".join(res.output.split())
        assert res.exit_code == 0, res.output
        assert "dry run: 6 records (2 bad item(s) left out, named below)" in said
        assert "2 bad item(s) the run would reject (bad_input):" in said
        assert "no-image: image file not found" in said and "line 8 in" in said and "invalid JSON" in said
