"""``visionr1 score``: scoring of a benchmark's released result file, by its official protocol and ours.

The I/O edge around :mod:`visionr1.grading`: read the result file in the benchmark's own released layout (MATH-V
``outputs/<model>.jsonl`` with ``--data data/test.jsonl``; MathVista's pid → record JSON; MathVerse's list of
records with ``model_answer``; DynaMath's report keyed by id with ``--data dataset.json``; We-Math's list of
records with ``response``; MM-Math's id → record JSON), score every item by both protocols (``--protocol`` picks
the one whose verdicts are ``correct``; see :data:`visionr1.eval.benchmarks.scoring.PROTOCOLS`), write
``SCORED.json`` (keyed by the official item id: ``correct``, ``extracted``, ``decided``, each protocol's
verdict; MathVista keeps its official record with ``true_false`` too) and the scores beside it, print both
accuracies side by side and the share of items the rules decided, return the scores.

Every benchmark goes the same way: its ``read_results`` reads the released layout, the one scoring loop gives the
verdicts (:func:`visionr1.eval.benchmarks.scoring.score_protocols`, as ``visionr1 eval`` does, so both commands give
the same verdicts), and :func:`visionr1.eval.benchmarks.scoring.scored_records` the records written.

With a judge (:mod:`visionr1.eval.judge`), scoring runs twice: the first pass queues what the
judge must be asked (every record the official protocol sends to GPT, or with
``judge_undecided`` only the records the rules leave undecided), the queued calls go out
together, and the second pass reads every answer back. Answers are kept in a durable store, so a
rerun makes no call it already made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from visionr1.config import EndpointConfig
from visionr1.errors import ConfigError
from visionr1.files import write_json

BENCHMARKS: tuple[str, ...] = ("mathvista", "mathverse", "mmmath", "dynamath", "mathvision", "wemath")


def default_judge_store(results: Path, out: Path | None) -> Path:
    """Where judge answers are kept unless ``--judge-store`` says otherwise: beside the scored file
    (``scored.json`` → ``scored.judge.sqlite``), else beside the result file."""
    base = Path(out) if out is not None else Path(results)
    return base.with_name(f"{base.stem}.judge.sqlite")


def scores_path(out: Path) -> Path:
    """Where the scores are written beside the scored file (``scored.json`` → ``scored.scores.json``)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.scores.json")


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
    the result file does not carry them (MATH-V, DynaMath; optional elsewhere). ``protocol`` is the one whose
    verdicts are ``correct`` (both are computed and shown). ``out`` receives the scored file (:func:`scores_path`
    the scores beside it). With a ``judge`` endpoint (:func:`visionr1.eval.judge.judge_config` builds it from the
    ``--judge-*`` flags) an OpenAI-compatible LLM does the GPT steps; ``judge_undecided`` limits it to the items
    the rules leave undecided; ``judge_store`` is the file that keeps its answers (default
    :func:`default_judge_store`).

    Example (shell): ``visionr1 score mathvision MATH-V/outputs/GPT4V.jsonl --data MATH-V/data/test.jsonl
    --protocol official --out scored.json``
    """
    from visionr1.eval.benchmarks import get_benchmark
    from visionr1.eval.benchmarks.scoring import check_protocol, extraction_share, score_protocols, scored_records
    from visionr1.eval.judge import JudgeSpec

    bench = get_benchmark(benchmark)
    if bench.NAME not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {benchmark!r}; valid names: {', '.join(BENCHMARKS)}")
    check_protocol(bench, protocol)
    if judge_undecided and judge is None:
        raise ConfigError("--judge-undecided needs a judge: add --judge-endpoint URL --judge-model NAME")
    check_protocol(bench, protocol, judge=judge is not None)
    console = console or Console()
    items, responses = bench.read_results(Path(results), Path(data) if data is not None else None)
    judge_spec = None
    if judge is not None:
        from visionr1.endpoints import check_endpoints

        check_endpoints({"--judge-endpoint": judge})  # a dead URL or an unserved model ends here, as in eval
        judge_spec = JudgeSpec(judge, judge_store or default_judge_store(results, out), undecided_only=judge_undecided)
    scored = score_protocols(bench, items, responses, protocol, judge_spec)
    per_id = scored_records(scored)
    scores = {"benchmark": bench.NAME, "protocol": protocol, "items": len(items), "headline": scored.headline,
              "protocols": scored.protocols, "breakdowns": scored.breakdowns, "official": scored.official_scores,
              "extraction": extraction_share(scored.per_item)}
    if scored.judge is not None:
        scores["judge"] = scored.judge
    if out is not None:
        write_json(out, per_id, indent=4, end="")
        write_json(scores_path(out), scores, indent=4, end="")
        console.print(f"wrote {len(per_id)} scored items to {out}, the scores to {scores_path(out)}")
    print_scores(scores, console)
    return scores


def print_scores(scores: dict[str, Any], console: Console) -> None:
    """The headline, both protocols side by side, the breakdown tables, the share decided by rules, the judge."""
    head = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in scores["headline"].items())
    console.print(f"[bold]{scores['benchmark']}[/] ({scores['items']} items, verdicts of {scores['protocol']}): {head}")
    print_protocols(scores["benchmark"], scores["protocols"], scores["protocol"], console)
    for key, table in scores["breakdowns"].items():
        t = Table(title=key, title_justify="left")
        for col in (key, "accuracy", "correct/total"):
            t.add_column(col, justify="left" if col == key else "right")
        for name, row in table.items():
            t.add_row(str(name), f"{row['accuracy']:.2f}%", f"{row['correct']}/{row['total']}")
        console.print(t)
    ext, judge = scores["extraction"], scores.get("judge")
    console.print(f"decided by rules: {ext['decided_by_rules']}/{ext['items']} ({100 * ext['decided_share']:.1f}%), "
                  f"undecided: {ext['undecided']}")
    if judge is not None:
        console.print(
            f"judge ({judge['model']}): {judge['judged']} records judged, {judge['calls']} calls made, "
            f"{judge['reused']} answers reused from {judge['store']}, {judge['failures']} failed (rules kept)"
        )


def print_protocols(name: str, protocols: dict[str, dict[str, Any]], chosen: str, console: Console) -> None:
    """Both protocols' accuracies side by side, each with the share of items its rules decided."""
    t = Table(title=f"{name}: accuracy by protocol (verdicts of {chosen} written)", title_justify="left")
    for col in ("protocol", "accuracy", "correct/total", "decided by rules"):
        t.add_column(col, justify="left" if col == "protocol" else "right")
    for proto, e in sorted(protocols.items(), key=lambda kv: kv[0] != "official"):
        t.add_row(proto + (" *" if proto == chosen else ""), f"{e['accuracy']}%", f"{e['correct']}/{e['total']}",
                  f"{e['decided_by_rules']}/{e['total']} ({100 * e['decided_share']:.1f}%)")
    console.print(t)
