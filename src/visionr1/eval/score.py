"""``visionr1 score``: official-protocol scoring of a benchmark's result file.

The I/O edge around :mod:`visionr1.grading`: read the result JSON, score every record with the
benchmark's protocol (judge-free by default, an LLM judge on request), write the scored file in
the benchmark's own format and the scores beside it, print the accuracy breakdown and the share
of records the rules decided, return the scores.

With a judge (:mod:`visionr1.eval.judge`), scoring runs twice: the first pass queues what the
judge must be asked (every record the official protocol sends to GPT, or with
``judge_undecided`` only the records the rules leave undecided), the queued calls go out
together, and the second pass reads every answer back. Answers are kept in a durable store, so a
rerun makes no call it already made.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from visionr1.config import EndpointConfig
from visionr1.errors import ConfigError, DataError
from visionr1.grading import mathvista

BENCHMARKS: tuple[str, ...] = ("mathvista",)
_MATHVISTA_FIELDS = ("response", "question_type", "answer_type", "answer")


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """A MathVista-style result file: a JSON object pid → record; :class:`DataError` when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise DataError(str(path), "file not found") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(str(path), f"not valid JSON ({e})") from e
    if not isinstance(data, dict):
        raise DataError(str(path), "expected a JSON object mapping each pid to its record")
    for pid, rec in data.items():
        if not isinstance(rec, dict):
            raise DataError(f"pid {pid}", "record is not a JSON object", str(path))
        missing = [f for f in _MATHVISTA_FIELDS if f not in rec]
        if missing:
            raise DataError(f"pid {pid}", f"missing field(s) {', '.join(missing)}", str(path))
        if rec.get("question_type") == "multi_choice" and not rec.get("choices"):
            raise DataError(f"pid {pid}", "multi_choice record without choices", str(path))
    return data


def write_json(obj: Any, path: Path) -> None:
    """Write atomically (temp file, then rename) so an interrupted run never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=4, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def print_scores(scores: dict[str, Any], console: Console | None = None, title: str = "MathVista") -> None:
    """The accuracy and the official breakdown tables."""
    console = console or Console()
    avg = scores["average"]
    console.print(f"[bold]{title}[/]: accuracy {avg['accuracy']}% ({avg['correct']}/{avg['total']})")
    for key in mathvista.BREAKDOWN_KEYS:
        table = scores.get(key)
        if not table:
            continue
        t = Table(title=key, title_justify="left")
        t.add_column(key)
        t.add_column("accuracy", justify="right")
        t.add_column("correct/total", justify="right")
        for name, row in table.items():
            t.add_row(name, f"{row['accuracy']}%", f"{row['correct']}/{row['total']}")
        console.print(t)


def default_judge_store(results: Path, out: Path | None) -> Path:
    """Where judge answers are kept unless ``--judge-store`` says otherwise: beside the scored file
    (``scored.json`` → ``scored.judge.sqlite``), else beside the result file."""
    base = Path(out) if out is not None else Path(results)
    return base.with_name(f"{base.stem}.judge.sqlite")


def scores_path(out: Path) -> Path:
    """Where the scores are written beside the scored file (``scored.json`` → ``scored.scores.json``)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.scores.json")


def print_extraction(summary: dict[str, Any], judge: dict[str, Any] | None, console: Console) -> None:
    """One line on how answers were found, and one on the judge's calls."""
    n = summary["records"]
    share = 100 * summary["decided_by_rules"] / n if n else 0.0
    console.print(f"decided by rules: {summary['decided_by_rules']}/{n} ({share:.1f}%), "
                  f"undecided: {summary['undecided']}")
    if judge is not None:
        console.print(
            f"judge ({judge['model']}): {judge['judged']} records judged, {judge['calls']} calls made, "
            f"{judge['reused']} answers reused from {judge['store']}, {judge['failures']} failed (rules kept)"
        )


def score_command(
    benchmark: str,
    results: Path,
    out: Path | None,
    judge: EndpointConfig | None = None,
    *,
    judge_undecided: bool = False,
    judge_store: Path | None = None,
    console: Console | None = None,
) -> dict:
    """Read, score, write and print a benchmark result file; return the scores.

    ``results`` is the benchmark's own result format (MathVista: pid → record with ``response``,
    ``question_type``, ``answer_type``, ``precision``, ``choices``, ``answer``…). ``out`` receives
    the same object with ``extraction``, ``prediction`` and ``true_false`` filled in (and
    ``extraction_rule`` / ``decided``), and the scores go beside it (:func:`scores_path`). With a
    ``judge`` endpoint (:func:`visionr1.eval.judge.judge_config` builds it from the ``--judge-*`` flags,
    with the judge's defaults) an OpenAI-compatible LLM does the extraction step; ``judge_undecided``
    limits it to the records the rules leave undecided; ``judge_store`` is the file that keeps its
    answers (default :func:`default_judge_store`).

    Example (shell): ``visionr1 score mathvista output.json --out scored.json --judge-endpoint
    http://localhost:8000/v1 --judge-model qwen --judge-undecided``
    """
    if benchmark not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {benchmark!r}; valid names: {', '.join(BENCHMARKS)}")
    if judge_undecided and judge is None:
        raise ConfigError("--judge-undecided needs a judge: add --judge-endpoint URL --judge-model NAME")
    console = console or Console()
    data = read_results(results)
    client = None
    if judge is not None:
        from visionr1.endpoints import check_endpoints
        from visionr1.eval.judge import Judge

        check_endpoints({"--judge-endpoint": judge})  # a dead URL or an unserved model ends here, as in eval
        client = Judge(judge, store_path=judge_store or default_judge_store(results, out))
    try:
        scored, judge_summary = _score(data, client, judge_undecided)
    finally:
        if client is not None:
            client.close()
    scores = mathvista.compute_scores(scored)
    scores["extraction"] = mathvista.extraction_summary(scored)
    if judge_summary is not None:
        scores["judge"] = judge_summary
    if out is not None:
        write_json(scored, out)
        write_json(scores, scores_path(out))
        console.print(f"wrote {len(scored)} scored records to {out}, the scores to {scores_path(out)}")
    print_scores(scores, console)
    print_extraction(scores["extraction"], judge_summary, console)
    return scores


def _score(data: dict, judge, undecided_only: bool) -> tuple[dict, dict[str, Any] | None]:
    """Score ``data``; with a judge: queue, flush, score again (see the module docstring)."""
    if judge is None:
        return mathvista.score_results(data), None
    from visionr1.eval.judge import MathVistaJudge

    extractor = MathVistaJudge(judge)
    scored = mathvista.score_results(data, extractor, undecided_only=undecided_only)
    if judge.pending:
        judge.flush()
        scored = mathvista.score_results(data, extractor, undecided_only=undecided_only)
    summary = judge.summary()
    summary.update({"undecided_only": undecided_only,
                    "judged": sum(1 for r in scored.values() if r.get("extraction_rule") == "judge")})
    return scored, summary
