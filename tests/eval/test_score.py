"""visionr1 score: the I/O edge (read, score, write, print) and the optional judge, against a local server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console

from visionr1.errors import ConfigError, DataError
from visionr1.eval.judge import JudgeExtractor, build_prompt
from visionr1.eval.score import score_command

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mathvista" / "results_small.json"


def quiet() -> Console:
    return Console(file=open("/dev/null", "w"), width=120)


def test_score_command_writes_official_fields(tmp_path):
    out = tmp_path / "scored.json"
    scores = score_command("mathvista", FIXTURE, out, None, None, console=quiet())
    scored = json.loads(out.read_text())
    original = json.loads(FIXTURE.read_text())
    assert list(scored) == list(original)
    for pid, rec in scored.items():
        assert isinstance(rec["true_false"], bool) and "extraction" in rec and "prediction" in rec
        assert isinstance(rec["decided"], bool) and rec["extraction_rule"]
        added = ("extraction", "prediction", "true_false", "extraction_rule", "decided")
        assert {k: v for k, v in rec.items() if k not in added} == original[pid]
    assert scores["average"]["correct"] == sum(r["true_false"] for r in scored.values())
    assert "question_type" in scores and "skills" in scores


def test_score_command_prints_the_table(tmp_path):
    import io

    buf = io.StringIO()
    score_command("mathvista", FIXTURE, None, None, None, console=Console(file=buf, width=120))
    text = buf.getvalue()
    assert "accuracy 90.00% (9/10)" in text and "multi_choice" in text


def test_unknown_benchmark_lists_valid_names():
    with pytest.raises(ConfigError, match="mathvista"):
        score_command("mathverse", FIXTURE, None, None, None, console=quiet())


def test_judge_needs_endpoint_and_model():
    with pytest.raises(ConfigError):
        score_command("mathvista", FIXTURE, None, "http://127.0.0.1:9/v1", None, console=quiet())


@pytest.mark.parametrize("content, reason", [("[1, 2]", "JSON object"), ('{"1": {"response": "x"}}', "missing")])
def test_bad_result_files(tmp_path, content, reason):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(DataError, match=reason):
        score_command("mathvista", p, None, None, None, console=quiet())


class _Judge(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions: the first call of each request fails (to exercise retries) when asked."""

    calls = 0
    fail_first = False
    answer = "C"

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls += 1
        if self.path != "/v1/chat/completions" or (type(self).fail_first and type(self).calls % 2 == 1):
            self.send_response(500)
            self.end_headers()
            return
        assert "Extracted answer:" in body["messages"][0]["content"]
        reply = {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": type(self).answer}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def judge_server():
    _Judge.calls, _Judge.fail_first, _Judge.answer = 0, False, "C"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_score_with_judge(tmp_path, judge_server):
    out = tmp_path / "scored.json"
    scores = score_command("mathvista", FIXTURE, out, judge_server, "judge-model", console=quiet())
    scored = json.loads(out.read_text())
    # records the official quick rules settle (pid 2: "No" is a choice) never reach the judge
    assert scored["2"]["extraction"] == "No"
    assert scored["1"]["extraction"] == "C" and scored["1"]["true_false"] is True
    assert scores["judge"]["calls"] == _Judge.calls == scores["extraction"]["extractor"]


def test_judge_retries_then_counts(judge_server):
    _Judge.fail_first = True
    judge = JudgeExtractor(judge_server, "m", backoff=0.0)
    rec = json.loads(FIXTURE.read_text())["1"]
    assert judge(rec["response"], rec) == "C"
    assert (judge.calls, judge.retries, judge.failures) == (2, 1, 0)


def test_judge_falls_back_to_rules_when_unreachable():
    judge = JudgeExtractor("http://127.0.0.1:9/v1", "m", max_retries=1, backoff=0.0, timeout=2.0)
    rec = json.loads(FIXTURE.read_text())["1"]
    assert judge(rec["response"], rec) == "C"  # the rule extractor's answer
    assert (judge.calls, judge.failures) == (2, 1)


def test_prompt_contains_query_and_response():
    p = build_prompt("RESP", {"query": "QUERY"})
    assert p.endswith("QUERY\n\nModel response: RESP\n\nExtracted answer: ")
