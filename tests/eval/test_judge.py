"""The LLM judge: through the endpoints client and its store, all records or only the undecided ones,
against the local OpenAI-compatible test server; a rerun makes no call twice."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from visionr1.errors import ConfigError
from visionr1.eval.judge import Judge, JudgeEndpointConfig, build_prompt, judge_config
from visionr1.eval.run import EvalConfig, run_eval
from visionr1.eval.score import default_judge_store, score_command
from visionr1.testing.openai_server import OpenAIServer, Reply
from visionr1.testing.processes import stop, wait_until

from .conftest import LAYOUTS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mathvista" / "results_small.json"

# A result file with one record of each kind: decided by rules, a refusal, a reply only a fallback reads.
MIXED = {
    "1": {"pid": "1", "question": "Which angle is largest?", "query": "Question: Which angle is largest?",
          "choices": ["30°", "60°", "90°"], "question_type": "multi_choice", "answer_type": "text", "precision": None,
          "answer": "90°", "response": "The right angle is largest, so the answer is (C)."},
    "2": {"pid": "2", "question": "Is Teal the lowest?", "query": "Question: Is Teal the lowest?",
          "choices": ["yes", "no"], "question_type": "multi_choice", "answer_type": "text", "precision": None,
          "answer": "no", "response": "As an AI, I cannot see the chart."},
    "3": {"pid": "3", "question": "How many pets are there?", "query": "Question: How many pets are there?",
          "choices": None, "question_type": "free_form", "answer_type": "integer", "precision": None,
          "answer": "7", "response": "There are 3 cats and 4 dogs."},
    "4": {"pid": "4", "question": "How many bars are below 40?", "query": "Question: How many bars are below 40?",
          "choices": None, "question_type": "free_form", "answer_type": "integer", "precision": None,
          "answer": "3", "response": "There are three bars with values below 40."},
}


def judge_answers(req):
    """Answers like an extraction model: the pets are 7 in all, the chart reply has no answer."""
    text = req.text()
    if "3 cats and 4 dogs" in text:
        return Reply(content="7")
    if "cannot see the chart" in text:
        return Reply(content="N/A")
    return Reply(content="Extracted answer: C")


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def run_score(results: Path, url: str, out: Path | None = None, **kwargs) -> tuple[dict, str]:
    buf = io.StringIO()
    scores = score_command("mathvista", results, out or results.with_name("scored.json"),
                           judge_config(url, "judge-model"), console=Console(file=buf, width=200), **kwargs)
    return scores, buf.getvalue()


def test_judge_undecided_sends_only_undecided_records_and_a_rerun_makes_no_call(tmp_path):
    results = write(tmp_path, MIXED)
    with OpenAIServer(judge_answers) as server:
        scores, printed = run_score(results, server.url, judge_undecided=True)
        first = len(server.log)
        again, printed_again = run_score(results, server.url, judge_undecided=True)
        second = len(server.log) - first
    scored = json.loads(results.with_name("scored.json").read_text())
    # the refusal and the fallback went to the judge; the decided records did not
    assert {r for r, rec in scored.items() if rec["extraction_rule"] == "judge"} == {"2", "3"}
    assert first == 2 and scores["judge"]["calls"] == 2 and scores["judge"]["judged"] == 2
    assert scored["3"]["extraction"] == "7" and scored["3"]["true_false"] is True  # the judge read the sum
    assert scored["2"]["extraction"] == "N/A"  # no answer, as the official extraction writes it
    assert scored["1"]["extraction"] == "C" and scored["4"]["extraction"] == "3"  # the rules' own answers
    # the default protocol (the CLI's) takes the judge's answer for an undecided reply: right when it is right
    assert scored["3"]["correct_default"] is True and scored["3"]["extracted"] == "7"
    assert scored["2"]["correct_default"] is False and scored["2"]["correct"] is False  # "N/A": no answer, wrong
    assert [scored[p]["correct"] for p in "1234"] == [scored[p]["correct_default"] for p in "1234"]
    assert scores["extraction"]["decided_by_rules"] == 2 and scores["extraction"]["undecided"] == 2
    assert "judge (judge-model): 2 records judged, 2 calls made" in printed
    # a rerun over the same store asks nothing
    assert second == 0 and again["judge"]["calls"] == 0 and again["judge"]["reused"] == 2
    assert "0 calls made, 2 answers reused" in printed_again
    assert json.loads(results.with_name("scored.json").read_text()) == scored
    assert default_judge_store(results, results.with_name("scored.json")).exists()


def test_judge_all_records_the_official_protocol_sends(tmp_path):
    with OpenAIServer(judge_answers) as server:
        scores, _ = run_score(FIXTURE, server.url, out=tmp_path / "scored.json")
        asked = len(server.log)
    # every record but those the official quick rules settle ("No" is a choice; an empty reply) is asked
    data = json.loads(FIXTURE.read_text())
    expected = sum(1 for r in data.values() if r["response"] and r["response"] not in (r.get("choices") or []))
    assert asked == scores["judge"]["calls"] == scores["judge"]["judged"] == expected


def test_judge_retries_through_the_endpoints_client(tmp_path):
    def flaky(req):
        if req.n == 1:
            return Reply(status=429, headers={"Retry-After": "0"})
        return judge_answers(req)

    results = write(tmp_path, MIXED)
    with OpenAIServer(flaky) as server:
        scores, _ = run_score(results, server.url, judge_undecided=True)
        keys = [e.key for e in server.log]
    assert scores["judge"]["calls"] == 2 and scores["judge"]["retries"] == 2 and scores["judge"]["requests"] == 4
    assert len(set(keys)) == 2  # each logical call retried under its own key


def test_unreachable_judge_falls_back_to_the_rules(tmp_path):
    results = write(tmp_path, MIXED)
    rules_only = score_command("mathvista", results, None, None, console=Console(file=io.StringIO()))
    with OpenAIServer(lambda req: Reply(status=400, content="no")) as server:
        scores, printed = run_score(results, server.url, judge_undecided=True)
    assert scores["judge"]["failures"] == 2 and scores["judge"]["calls"] == 0
    assert scores["protocols"] == rules_only["protocols"]
    assert "2 failed (rules kept)" in printed


def test_the_judge_built_from_url_and_model_keeps_the_judges_defaults(tmp_path):
    """16 in flight, 4 retries, 120 s: lighter than a generation endpoint's 64 / 6 / 600 s."""
    from visionr1.config import EndpointConfig

    url = "http://127.0.0.1:9/v1"
    for cfg in (judge_config(url, "m"), JudgeEndpointConfig(base_url=url, model="m")):
        assert isinstance(cfg, EndpointConfig)
        assert (cfg.concurrency, cfg.max_retries, cfg.timeout, cfg.api_key_env) == (16, 4, 120.0, "OPENAI_API_KEY")
    assert judge_config("http://127.0.0.1:9/v1", "m", "JUDGE_KEY").api_key_env == "JUDGE_KEY"
    with Judge(judge_config("http://127.0.0.1:9/v1", "m"), store_path=tmp_path / "s.sqlite") as judge:
        assert (judge.config.concurrency, judge.config.max_retries, judge.config.timeout) == (16, 4, 120.0)
    with pytest.raises(ConfigError, match="both --judge-endpoint URL and --judge-model NAME"):
        Judge(EndpointConfig(base_url="http://127.0.0.1:9/v1"), store_path=tmp_path / "s.sqlite")


def test_judge_answer_is_queued_then_read_back(tmp_path):
    with OpenAIServer(lambda req: "B") as server:
        with Judge(JudgeEndpointConfig(base_url=server.url, model="m"), store_path=tmp_path / "s.sqlite") as judge:
            assert judge.answer("r1", "prompt") is None and judge.pending
            assert judge.flush() == 1 and not judge.pending
            assert judge.answer("r1", "prompt") == "B" and judge.reused == 0
            assert judge.answer("r1", "another prompt") is None  # another prompt is another call
        with Judge(JudgeEndpointConfig(base_url=server.url, model="m"), store_path=tmp_path / "s.sqlite") as judge:
            assert judge.answer("r1", "prompt") == "B" and judge.reused == 1 and judge.flush() == 0
        other = JudgeEndpointConfig(base_url=server.url, model="other-model")
        with Judge(other, store_path=tmp_path / "s.sqlite") as judge:
            assert judge.answer("r1", "prompt") is None  # another judge model is another call
        assert len(server.log) == 1


@pytest.mark.parametrize("name", ["mathvista", "mathverse"])
def test_eval_judge_undecided_and_rerun(name, tmp_path):
    """visionr1 eval --judge-undecided: only undecided items reach the judge, a rerun calls nothing."""
    data, _, canned = LAYOUTS[name]
    responses = json.loads(Path(canned).read_text())
    undecided = {k for k in responses}  # every canned reply, made undecided by a refusal
    (tmp_path / "canned.json").write_text(json.dumps({k: "Sorry, I cannot see the image." for k in undecided}))
    cfg = dict(benchmark=name, data=data, canned=tmp_path / "canned.json", judge_undecided=True, progress=False)
    with OpenAIServer(lambda req: "A") as server:
        judge = JudgeEndpointConfig(base_url=server.url, model="judge")
        scores = run_eval(EvalConfig(out=tmp_path / "run", judge=judge, **cfg))
        first = len(server.log)
        again = run_eval(EvalConfig(out=tmp_path / "run", judge=judge, **cfg))
        second = len(server.log) - first
    assert first == scores["judge"]["calls"] == scores["items"] > 0
    assert scores["extraction"]["decided_by_rules"] == 0
    assert second == 0 and again["judge"]["calls"] == 0 and again["judge"]["reused"] == first
    assert (tmp_path / "run" / "judge.sqlite").exists()


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_eval_reports_the_share_decided_by_rules(name, tmp_path):
    data, _, canned = LAYOUTS[name]
    scores = run_eval(EvalConfig(benchmark=name, data=data, canned=canned, out=tmp_path / "run", progress=False))
    ext = scores["extraction"]
    verdicts = [json.loads(x) for x in (tmp_path / "run" / "verdicts.jsonl").read_text().splitlines()]
    assert all(isinstance(v["decided"], bool) for v in verdicts)
    assert ext["items"] == len(verdicts) and ext["decided_by_rules"] == sum(v["decided"] for v in verdicts) > 0
    assert json.loads((tmp_path / "run" / "scores.json").read_text())["extraction"] == ext


def test_records_benchmark_carries_the_decided_signal():
    from visionr1.eval.benchmarks import records
    from visionr1.eval.benchmarks._common import EvalItem
    from visionr1.eval.benchmarks.scoring import score_protocols

    items = [EvalItem(id=i, query="q", images=[], gold="4", row={}) for i in ("a", "b", "c")]
    replies = {"a": "<think>x</think><answer>4</answer>", "b": "I cannot tell.", "c": "maybe 3 or 4"}
    rows = {r["id"]: r["decided"] for r in score_protocols(records, items, replies).per_item}
    assert rows == {"a": True, "b": False, "c": False}


def test_build_prompt_holds_the_query_and_response():
    assert build_prompt("RESP", {"query": "Q?"}).endswith("Q?\n\nModel response: RESP\n\nExtracted answer: ")


def test_a_judge_store_that_cannot_be_opened_is_a_clear_error(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ConfigError, match="judge store"):
        Judge(judge_config("http://127.0.0.1:9/v1", "m"), store_path=tmp_path / "a-file" / "judge.sqlite")
    with pytest.raises(ConfigError, match="judge store"):
        Judge(judge_config("http://127.0.0.1:9/v1", "m"), store_path=tmp_path)  # a folder, not a file


def test_a_judge_run_killed_with_sigkill_and_rerun_asks_nothing_twice(tmp_path):
    """`visionr1 score --judge-*` in a child process, SIGKILLed once half of its answers are stored; the rerun
    sends only the calls that had not been answered."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys

    results = write(tmp_path, MIXED)
    scored = results.with_name("scored.json")
    store = default_judge_store(results, scored)
    slow = {"3 cats and 4 dogs", "three bars"}  # records 3 and 4 hang until the kill

    def answers(req):
        reply = judge_answers(req)
        if any(s in req.text() for s in slow):
            reply.delay = 60.0
        return reply

    def stored_ok() -> int:
        if not store.exists():
            return 0
        try:
            with sqlite3.connect(store) as db:
                return db.execute("SELECT COUNT(*) FROM calls WHERE status = 'ok'").fetchone()[0]
        except sqlite3.Error:
            return 0

    cmd = [sys.executable, "-m", "visionr1", "score", "mathvista", str(results), "--out", str(scored),
           "--judge-endpoint", "URL", "--judge-model", "judge-model"]
    with OpenAIServer(answers) as server:
        cmd[cmd.index("URL")] = server.url
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:  # no clock limit: wait while the judge's store grows
            wait_until(lambda: stored_ok() >= 2, child, watch=[store], poll_s=0.05)
        except BaseException:
            stop(child)
            raise
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL and stored_ok() == 2 and not scored.exists()
        before = len(server.log)
    with OpenAIServer(judge_answers) as server:  # the rerun, against a prompt server
        scores, printed = run_score(results, server.url)
        asked = [e.key for e in server.log]
    assert len(asked) == 2 and scores["judge"]["calls"] == 2 and scores["judge"]["reused"] == 2, printed
    assert before >= 2  # sent before the kill (the slow two may or may not have gone out); answered ones are not resent
    assert json.loads(scored.read_text())["3"]["extraction"] == "7"


def test_mathvista_judge_undecided_gives_eval_and_score_the_same_default_verdicts(tmp_path):
    """`eval --judge-undecided` and `score mathvista --judge-undecided` on the same refusals: the judge's answers
    decide both protocols' verdicts, the same in both commands, and a refusal the judge finds no answer in stays
    wrong under the default protocol."""
    data = LAYOUTS["mathvista"][0]
    (tmp_path / "canned.json").write_text(json.dumps({p: "Sorry, I cannot see the image." for p in "123"}))

    def answers(req):
        text = req.text()
        return "B" if "tallest" in text else "3" if "squares" in text else "N/A"  # item 3: no answer

    with OpenAIServer(answers) as server:
        judge = JudgeEndpointConfig(base_url=server.url, model="judge")
        scores = run_eval(EvalConfig(benchmark="mathvista", data=data, canned=tmp_path / "canned.json", judge=judge,
                                     judge_undecided=True, out=tmp_path / "run", progress=False))
        by_eval = {v["id"]: v for v in map(json.loads, (tmp_path / "run" / "verdicts.jsonl").read_text().splitlines())}
        raw = {pid: {k: v for k, v in rec.items() if k not in ("extraction", "prediction", "true_false")}
               for pid, rec in json.loads((tmp_path / "run" / "results_mathvista.json").read_text()).items()}
        (tmp_path / "raw.json").write_text(json.dumps(raw))
        scored_scores, _ = run_score(tmp_path / "raw.json", server.url, judge_undecided=True)
    by_score = json.loads((tmp_path / "scored.json").read_text())
    fields = ("correct", "correct_official", "correct_default", "extracted", "decided")
    assert {p: [r[f] for f in fields] for p, r in by_eval.items()} == {p: [r[f] for f in fields] for p, r in by_score.items()}
    assert [by_score[p]["correct_default"] for p in "123"] == [True, True, False]
    assert all(by_score[p]["extraction_rule"] == "judge" and not by_score[p]["decided"] for p in "123")
    # each command keeps its own store; each asks each undecided item once, though it scores both protocols
    assert scores["judge"]["calls"] == scored_scores["judge"]["calls"] == 3 == len(server.log) / 2


def test_score_with_a_dead_judge_endpoint_stops_at_once(tmp_path, monkeypatch):
    """Issue 33 item 13: ``score --judge-endpoint`` against a dead endpoint ran 9 s, retrying every record, and
    exited 0 (``20 failed (rules kept)``); eval with the same flags stopped at once. Both ask the judge first now."""
    import socket
    import time

    from typer.testing import CliRunner

    from visionr1.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    results = write(tmp_path, MIXED)
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)  # a retry would wait (backoff) before trying again
    res = CliRunner().invoke(app, ["score", "mathvista", str(results), "--out", str(tmp_path / "scored.json"),
                                   "--judge-endpoint", dead, "--judge-model", "judge"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and f"cannot reach --judge-endpoint {dead} (" in said, res.output
    assert waits == [] and not (tmp_path / "scored.json").exists()  # at once: no retries (not timed)
    monkeypatch.undo()
    with OpenAIServer(judge_answers, models=["other"]) as server:
        res = CliRunner().invoke(app, ["score", "mathvista", str(results), "--judge-endpoint", server.url,
                                       "--judge-model", "judge"])
        assert res.exit_code == 2 and "does not serve model 'judge'; it lists: other" in " ".join(res.output.split())
        assert server.log == []  # no record was sent
