"""``visionr1 score``: official-protocol scoring of a benchmark's result file.

The I/O edge around :mod:`visionr1.grading`: read the result JSON, score every record with the
benchmark's protocol (judge-free by default, an LLM judge on request), write the scored file in
the benchmark's own format, print the accuracy breakdown, return the scores.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

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


def score_command(
    benchmark: str,
    results: Path,
    out: Path | None,
    judge_endpoint: str | None,
    judge_model: str | None,
    judge_api_key_env: str = "OPENAI_API_KEY",
    *,
    console: Console | None = None,
) -> dict:
    """Read, score, write and print a benchmark result file; return the scores.

    ``results`` is the benchmark's own result format (MathVista: pid → record with ``response``,
    ``question_type``, ``answer_type``, ``precision``, ``choices``, ``answer``…). ``out`` receives
    the same object with ``extraction``, ``prediction`` and ``true_false`` filled in. With
    ``judge_endpoint`` and ``judge_model`` an OpenAI-compatible LLM does the extraction step.

    Example (shell): ``visionr1 score mathvista output.json --out scored.json``
    """
    if benchmark not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {benchmark!r}; valid names: {', '.join(BENCHMARKS)}")
    if bool(judge_endpoint) != bool(judge_model):
        raise ConfigError("give both --judge-endpoint and --judge-model to use a judge, or neither")
    console = console or Console()
    data = read_results(results)
    extractor = None
    if judge_endpoint:
        from visionr1.eval.judge import JudgeExtractor

        extractor = JudgeExtractor(judge_endpoint, judge_model, api_key_env=judge_api_key_env)
    scored = mathvista.score_results(data, extractor)
    scores = mathvista.compute_scores(scored)
    if out is not None:
        write_json(scored, out)
        console.print(f"wrote {len(scored)} scored records to {out}")
    print_scores(scores, console)
    if extractor is not None:
        console.print(
            f"judge: {extractor.calls} calls, {extractor.retries} retries, {extractor.failures} fell back to rules"
        )
        scores["judge"] = {"calls": extractor.calls, "retries": extractor.retries, "failures": extractor.failures}
    quick = Counter(bool(mathvista.quick_extract(r.get("response") or "", r) is not None) for r in data.values())
    scores["extraction"] = {"quick_rules": quick[True], "extractor": quick[False]}
    return scores
