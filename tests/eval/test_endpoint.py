"""The endpoint backend against a local OpenAI-compatible server, and kill-and-resume durability."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from visionr1.config import EndpointConfig
from visionr1.endpoints import ResponseStore
from visionr1.eval.benchmarks import BENCHMARKS, OWN
from visionr1.eval.judge import JudgeEndpointConfig
from visionr1.eval.run import EvalConfig, run_eval
from visionr1.testing.openai_server import OpenAIServer, Reply
from visionr1.testing.processes import run_patiently, stop, wait_until

from .conftest import LAYOUTS
from .responder import respond

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted({**BENCHMARKS, **OWN}))
def test_endpoint_backend_second_layout(name, tmp_path):
    """The second fixture set (VLMEvalKit TSV / other layout) through the endpoint backend."""
    with OpenAIServer(respond) as server:
        ep = EndpointConfig(base_url=server.url, model="vision-r1", concurrency=4)
        scores = run_eval(EvalConfig(benchmark=name, data=LAYOUTS[name][1], out=tmp_path / "run", endpoint=ep,
                                     prompt="r1", regenerate_missing_answer=2, progress=False))
        log = list(server.log)
    gens = [json.loads(line) for line in (tmp_path / "run" / "generations.jsonl").read_text().splitlines()]
    assert len(log) == len(gens)  # one request per stored call, none repeated
    assert len({e.key for e in log}) == len(log)
    assert all(g["status"] == "ok" and g["completion_tokens"] for g in gens)
    assert scores["completion"]["reflective_words"]["total"]["Wait"] == scores["items"]
    assert scores["completion"]["length"]["unit"] == "tokens"
    assert (tmp_path / "run" / "report.md").exists()


def test_endpoint_retries_and_failed_items(tmp_path):
    """429s are retried; an item that keeps failing is recorded as failed, left out of the scores (not scored
    wrong), and re-asked on rerun."""
    broken = {"on": True}

    def flaky(req):
        if req.key.startswith("2#") and broken["on"]:
            return Reply(status=400, content="bad request")
        if req.n == 1:
            return Reply(status=429, headers={"Retry-After": "0"})
        return Reply(content="<think>x</think><answer>B</answer>")

    data = LAYOUTS["mathvista"][0]
    with OpenAIServer(flaky) as server:
        cfg = EvalConfig(benchmark="mathvista", data=data, out=tmp_path / "run",
                         endpoint=EndpointConfig(base_url=server.url, model="m", max_retries=3), progress=False,
                         allow_failed=True)
        scores = run_eval(cfg)
        assert scores["completion"]["failed"] == 1 and scores["failed"]["ids"] == ["2"]
        assert (scores["items"], scores["answered"]) == (3, 2)
        verdicts = {v["id"]: v for v in map(json.loads, (tmp_path / "run" / "verdicts.jsonl").read_text().splitlines())}
        assert verdicts["2"]["error"] and verdicts["2"]["correct"] is None
        assert "2" not in json.loads((tmp_path / "run" / "results_mathvista.json").read_text())
        n_before = len(server.log)
        broken["on"] = False
        scores = run_eval(cfg)
        assert scores["completion"]["failed"] == 0
        assert {e.key for e in server.log[n_before:]} == {"2#0"}  # only the failed call is asked again


def _eval_cmd(url: str, out: Path, data: Path) -> list[str]:
    return [sys.executable, "-m", "visionr1", "eval", "--benchmark", "mathvista", "--data", str(data), "--out", str(out),
            "--endpoint", url, "--model-name", "vision-r1", "--prompt", "r1", "--regenerate-missing-answer", "3",
            "--concurrency", "2", "--no-progress"]


def _finished(out: Path) -> set[str]:
    path = out / "generations.sqlite"
    if not path.exists():
        return set()
    with ResponseStore(path) as store:
        return {f"{c.rid}#{c.attempt}" for c in store.all_calls() if c.ok}


def test_kill_and_resume_matches_uninterrupted_run(tmp_path):
    """SIGKILL the eval at several points, rerun: outputs equal an uninterrupted run's, and no call
    that had finished before a kill is ever requested again."""
    data = LAYOUTS["mathvista"][1]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    with OpenAIServer(respond, latency=0.4) as server:
        ref = tmp_path / "ref"
        assert run_patiently(_eval_cmd(server.url, ref, data), env=env, watch=[ref]).returncode == 0
        ref_calls = len(server.log)
        assert ref_calls > 3  # attempts beyond 0 happened, so kills can land in the re-ask phase too

        out = tmp_path / "resumed"
        kills = []
        for kill_after in (1, 3, ref_calls - 1):
            proc = subprocess.Popen(_eval_cmd(server.url, out, data), env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:  # no clock limit: wait while the run makes progress
                wait_until(lambda: len(_finished(out)) >= kill_after, proc, watch=[out], poll_s=0.02)
            except BaseException:
                stop(proc)
                raise
            proc.send_signal(signal.SIGKILL)
            assert proc.wait() == -signal.SIGKILL, "the run ended before the kill point"
            kills.append((len(server.log), _finished(out)))
        assert run_patiently(_eval_cmd(server.url, out, data), env=env, watch=[out]).returncode == 0
        assert len(_finished(out)) == ref_calls
        for mark, finished in kills:
            assert finished, "the kill came before anything finished"
            later = {e.key for e in server.log[mark:]}
            assert not (later & finished), f"finished calls requested again: {later & finished}"
        for name in ("generations.jsonl", "results_mathvista.json", "verdicts.jsonl", "scores.json", "report.md"):
            assert (out / name).read_text() == (ref / name).read_text(), name


@pytest.mark.parametrize("name", ["mathverse", "dynamath"])
def test_llm_judge_extraction_is_counted(name, tmp_path):
    """With --judge-endpoint the extraction step asks the LLM; its calls are counted in scores.json."""
    def judge(req):
        return Reply(content="N/A" if name == "dynamath" else "D")

    with OpenAIServer(respond) as model, OpenAIServer(judge) as judge_server:
        scores = run_eval(EvalConfig(benchmark=name, data=LAYOUTS[name][0], out=tmp_path / "run",
                                     endpoint=EndpointConfig(base_url=model.url, model="m"),
                                     judge=JudgeEndpointConfig(base_url=judge_server.url, model="judge"),
                                     progress=False))
        asked = len(judge_server.log)
    assert scores["judge"]["used"] and scores["judge"]["calls"] == asked > 0
    if name == "mathverse":  # the judge's "D" is the gold letter for every version
        assert scores["headline"]["accuracy"] == 100.0


def test_a_dead_endpoint_or_an_unserved_model_ends_eval_before_any_item(tmp_path, monkeypatch):
    import socket

    from visionr1.endpoints import EndpointUnavailable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    data = LAYOUTS["mathvista"][0]
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)  # a retry would wait (backoff) before trying again
    with pytest.raises(EndpointUnavailable, match=rf"cannot reach --endpoint {dead} \("):
        run_eval(EvalConfig(benchmark="mathvista", data=data, out=tmp_path / "a",
                            endpoint=EndpointConfig(base_url=dead, model="m"), progress=False))
    assert waits == []  # at once: no retries with backoff (not timed: a busy machine is slow, not wrong)
    monkeypatch.undo()
    with OpenAIServer(respond, models=["vision-r1"]) as server:
        with pytest.raises(EndpointUnavailable, match="does not serve model 'vision-r2'; it lists: vision-r1"):
            run_eval(EvalConfig(benchmark="mathvista", data=data, out=tmp_path / "b",
                                endpoint=EndpointConfig(base_url=server.url, model="vision-r2"), progress=False))
        with pytest.raises(EndpointUnavailable, match=r"--judge-endpoint http\S+ does not serve model 'judge'"):
            run_eval(EvalConfig(benchmark="mathvista", data=data, out=tmp_path / "c",
                                endpoint=EndpointConfig(base_url=server.url, model="vision-r1"),
                                judge=JudgeEndpointConfig(base_url=server.url, model="judge"), progress=False))
        assert server.log == []


def test_eval_whose_calls_mostly_fail_exits_non_zero_with_the_reason(tmp_path):
    from typer.testing import CliRunner

    from visionr1.cli import app

    with OpenAIServer(lambda req: Reply(status=400, content="image too large")) as server:
        res = CliRunner().invoke(app, ["eval", "--benchmark", "mathvista", "--data", str(LAYOUTS["mathvista"][0]),
                                       "--out", str(tmp_path / "run"), "--endpoint", server.url, "--model-name", "m",
                                       "--max-retries", "0", "--no-progress"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "3 of 3 items got no answer from the endpoint" in said and "image too large" in said
    assert (tmp_path / "run" / "scores.json").exists()  # written first: the rerun asks only for the failed items


def test_eval_with_some_failed_items_exits_non_zero_unless_allowed(tmp_path):
    """Issue 33 item 4: a server failing every other call gave 'accuracy 0.00 … 4 failed' and exit 0, the failed items
    counted as answered wrong. Now they are left out of the accuracy, and the run exits 2 unless --allow-failed."""
    from typer.testing import CliRunner

    from visionr1.cli import app

    def every_other(req):
        if req.key.startswith("2#"):
            return Reply(status=500, content="internal error")
        return Reply(content="<think>x</think><answer>" + {"1": "1.2", "3": "B"}.get(req.key[0], "?") + "</answer>")

    data = LAYOUTS["mathvista"][0]
    args = ["eval", "--benchmark", "mathvista", "--data", str(data), "--endpoint", "URL", "--model-name", "m",
            "--max-retries", "0", "--no-progress"]
    with OpenAIServer(every_other) as server:
        args[args.index("URL")] = server.url
        res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])
        said = " ".join(res.output.split())
        assert res.exit_code == 2, res.output
        assert "1 of 3 items got no generation (1x " in said and "internal error" in said and "--allow-failed" in said
        scores = json.loads((tmp_path / "a" / "scores.json").read_text())
        assert scores["answered"] == 2 and scores["failed"]["count"] == 1
        expected = 100.0 * sum(v["correct"] for v in map(json.loads, (tmp_path / "a" / "verdicts.jsonl").read_text()
                                                              .splitlines()) if v["correct"] is not None) / 2
        assert scores["headline"]["accuracy"] == pytest.approx(expected, abs=0.01)  # of the 2 answered, 2-decimal %
        res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b"), "--allow-failed"])
        assert res.exit_code == 0, res.output
        assert "1 failed (left out of the scores)" in " ".join(res.output.split())


def test_a_system_prompt_goes_before_every_question_and_is_part_of_the_runs_identity(tmp_path):
    """--system-prompt (a model trained with one, as recipes/vision_r1_zero's): sent as the first message of every
    request; without it no system message is sent; a resume with another system prompt is refused."""
    from visionr1.errors import ConfigError

    seen: dict[str, list[tuple[str, list]]] = {}

    def recording(req):
        seen.setdefault(req.model, []).append((req.key, req.messages))
        return respond(req)

    data = LAYOUTS["mathvista"][0]
    with OpenAIServer(recording) as server:
        for name, system in (("told", "Think first."), ("plain", None)):
            run_eval(EvalConfig(benchmark="mathvista", data=data, out=tmp_path / name, prompt="raw",
                                endpoint=EndpointConfig(base_url=server.url, model=name), system_prompt=system,
                                progress=False))
        with pytest.raises(ConfigError, match="other settings"):
            run_eval(EvalConfig(benchmark="mathvista", data=data, out=tmp_path / "told", prompt="raw",
                                endpoint=EndpointConfig(base_url=server.url, model="told"),
                                system_prompt="Answer at once.", progress=False))
    told, plain = dict(seen["told"]), dict(seen["plain"])
    assert told and all(m[0] == {"role": "system", "content": "Think first."} for m in told.values())
    assert {k: m[1:] for k, m in told.items()} == plain  # the same user turns after it
    assert plain and all(msg["role"] != "system" for m in plain.values() for msg in m)
    assert json.loads((tmp_path / "told" / "scores.json").read_text())["system_prompt"] == "Think first."
    assert "system_prompt" not in json.loads((tmp_path / "plain" / "scores.json").read_text())
