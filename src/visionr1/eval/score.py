"""``visionr1 score``: scoring of a benchmark's released result file, by its official protocol and ours.

The I/O edge around :mod:`visionr1.grading`: read the result file in the benchmark's own released layout (MATH-V
``outputs/<model>.jsonl`` with ``--data data/test.jsonl``; MathVista's pid → record JSON; MathVerse's list of
records with ``model_answer``; DynaMath's report keyed by id with ``--data dataset.json``; We-Math's list of
records with ``response``; MM-Math's id → record JSON), score every item by both protocols (``--protocol`` picks
the one whose verdicts are ``correct``; see :data:`visionr1.eval.benchmarks._common.PROTOCOLS`), write
``SCORED.json`` (keyed by the official item id: ``correct``, ``extracted``, ``decided``, each protocol's
verdict; MathVista keeps its official record with ``true_false`` too) and the scores beside it, print both
accuracies side by side and the share of items the rules decided, return the scores.

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

BENCHMARKS: tuple[str, ...] = ("mathvista", "mathverse", "mmmath", "dynamath", "mathvision", "wemath")
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
    protocol: str = "default",
    data: Path | None = None,
    judge_undecided: bool = False,
    judge_store: Path | None = None,
    console: Console | None = None,
) -> dict:
    """Read, score, write and print a benchmark result file; return the scores.

    ``results`` is the benchmark's own released result layout (module docstring); ``data`` its annotations where
    the result file does not carry them (MATH-V, DynaMath; optional elsewhere). ``out`` receives the scored file
    (:func:`scores_path` the scores beside it). With a ``judge`` endpoint (:func:`visionr1.eval.judge.judge_config`
    builds it from the ``--judge-*`` flags) an OpenAI-compatible LLM does the GPT steps; ``judge_undecided`` limits
    it to the items the rules leave undecided; ``judge_store`` is the file that keeps its answers (default
    :func:`default_judge_store`).

    Example (shell): ``visionr1 score mathvision MATH-V/outputs/GPT4V.jsonl --data MATH-V/data/test.jsonl
    --protocol official --out scored.json``
    """
    from visionr1.eval.benchmarks import get_benchmark
    from visionr1.eval.benchmarks._common import check_protocol

    if benchmark not in BENCHMARKS and get_benchmark(benchmark).NAME not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {benchmark!r}; valid names: {', '.join(BENCHMARKS)}")
    bench = get_benchmark(benchmark)
    check_protocol(bench, protocol)
    if judge_undecided and judge is None:
        raise ConfigError("--judge-undecided needs a judge: add --judge-endpoint URL --judge-model NAME")
    console = console or Console()
    if bench.NAME == "mathvista":
        return _score_mathvista(results, out, judge, protocol=protocol, judge_undecided=judge_undecided,
                                judge_store=judge_store, console=console)
    from visionr1.eval.benchmarks._common import score_protocols
    from visionr1.eval.run import extraction_share

    items, responses = bench.read_results(Path(results), Path(data) if data is not None else None)
    judge_spec = None
    if judge is not None:
        judge_spec = {"config": judge, "undecided_only": judge_undecided,
                      "store": judge_store or default_judge_store(results, out)}
    scored = score_protocols(bench, items, responses, protocol, judge_spec)
    per_id = {r["id"]: {k: v for k, v in r.items() if k != "id"} for r in scored.per_item}
    scores = {"benchmark": bench.NAME, "protocol": protocol, "items": len(items), "headline": scored.headline,
              "protocols": scored.protocols, "breakdowns": scored.breakdowns, "official": scored.official_scores,
              "extraction": extraction_share(scored.per_item)}
    if scored.judge is not None:
        scores["judge"] = scored.judge
    if out is not None:
        write_json(per_id, out)
        write_json(scores, scores_path(out))
        console.print(f"wrote {len(per_id)} scored items to {out}, the scores to {scores_path(out)}")
    print_protocols(bench.NAME, scored.protocols, protocol, console)
    for name, value in list(scored.headline.items())[:1]:
        console.print(f"{name}: {value}")
    if scored.judge is not None:
        print_extraction({"records": len(items), "decided_by_rules": scores["extraction"]["decided_by_rules"],
                          "undecided": scores["extraction"]["undecided"]}, scored.judge, console)
    return scores


def print_protocols(name: str, protocols: dict[str, dict[str, Any]], chosen: str, console: Console) -> None:
    """Both protocols' accuracies side by side, each with the share of items its rules decided."""
    t = Table(title=f"{name}: accuracy by protocol (verdicts of {chosen} written)", title_justify="left")
    for col in ("protocol", "accuracy", "correct/total", "decided by rules"):
        t.add_column(col, justify="left" if col == "protocol" else "right")
    for proto, e in sorted(protocols.items(), key=lambda kv: kv[0] != "official"):
        t.add_row(proto + (" *" if proto == chosen else ""), f"{e['accuracy']}%", f"{e['correct']}/{e['total']}",
                  f"{e['decided_by_rules']}/{e['total']} ({100 * e['decided_share']:.1f}%)")
    console.print(t)


def _score_mathvista(results: Path, out: Path | None, judge: EndpointConfig | None, *, protocol: str,
                     judge_undecided: bool, judge_store: Path | None, console: Console) -> dict:
    """MathVista's pid → record file, scored as its official ``true_false`` (kept in every record) plus
    ``correct`` under ``protocol`` and both protocols' verdicts."""
    data = read_results(results)
    client = None
    if judge is not None:
        from visionr1.eval.judge import Judge

        client = Judge(judge, store_path=judge_store or default_judge_store(results, out))
    try:
        scored, judge_summary = _score(data, client, judge_undecided)
    finally:
        if client is not None:
            client.close()
    protocols = add_protocol_verdicts(scored, protocol)
    scores = mathvista.compute_scores(scored)
    scores["extraction"] = mathvista.extraction_summary(scored)
    scores["protocol"], scores["protocols"] = protocol, protocols
    if judge_summary is not None:
        scores["judge"] = judge_summary
    if out is not None:
        write_json(scored, out)
        write_json(scores, scores_path(out))
        console.print(f"wrote {len(scored)} scored records to {out}, the scores to {scores_path(out)}")
    print_scores(scores, console)
    print_protocols("MathVista", protocols, protocol, console)
    print_extraction(scores["extraction"], judge_summary, console)
    return scores


def add_protocol_verdicts(scored: dict[str, dict[str, Any]], protocol: str) -> dict[str, dict[str, Any]]:
    """Set each MathVista record's ``correct_official`` (the official ``true_false``), ``correct_default`` (ours:
    the official verdict of an answer the rules decided; an undecided reply is never credited) and ``correct``
    (``protocol``'s); return both protocols' accuracy and decided share."""
    from visionr1.eval.benchmarks._common import acc_entry

    n = len(scored)
    decided = sum(1 for r in scored.values() if r.get("decided"))
    for rec in scored.values():
        rec["correct_official"] = rec.get("true_false") is True
        rec["correct_default"] = rec["correct_official"] and bool(rec.get("decided"))
        rec["correct"] = rec[f"correct_{protocol}"]
    return {p: {**acc_entry(sum(r[f"correct_{p}"] for r in scored.values()), n), "decided_by_rules": decided,
                "decided_share": round(decided / n, 4) if n else 0.0} for p in ("official", "default")}


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
