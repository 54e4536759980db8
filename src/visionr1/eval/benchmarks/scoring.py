"""The one scoring loop every benchmark plugs into: both protocols, the judge's two passes, the scored-item contract.

Why one loop: each benchmark differs in how it reads a reply (its extraction and its match), what its result file
records and which metrics it reports; everything else (ask every item, send what the judge queued and read again,
score every protocol, merge their verdicts into one scored item, count the judge) is the same for all six and for
our records, and lives here once. ``visionr1 eval`` and ``visionr1 score`` both call :func:`score_protocols`, so
the two commands give the same verdicts.

A benchmark module plugs in with (besides ``NAME``, ``load`` …):

* ``PROTOCOLS``: the protocols it scores by (``("default", "official")``; our records: ``("default",)``);
* ``JUDGED``: the protocols whose reading asks an LLM judge when one is given (its GPT step, or our
  ``--judge-undecided`` stand-in); ``NO_JUDGE_PROTOCOLS``: those that refuse a judge outright (MM-Math's official);
* ``read(response, item, protocol, judge) -> Reading``: one reply read by one protocol (``judge`` an
  :class:`~visionr1.eval.judge.ItemJudge`, or ``None``);
* ``result_row(item, response, readings, protocol) -> dict``: the item's record in the benchmark's own result
  file, given every protocol's reading and the chosen protocol; ``RESULT_BY_ID`` says whether that file is an
  object keyed by item id (MathVista, MathVerse) or a list;
* ``metrics(per_item, readings) -> Metrics``: the headline, breakdowns and official score structure from the
  chosen protocol's scored items.

Example:
    >>> from visionr1.eval.benchmarks import get_benchmark                      # doctest: +SKIP
    >>> bench = get_benchmark("mathvision")                                     # doctest: +SKIP
    >>> scored = score_protocols(bench, items, {"1": "\\\\boxed{C}"}, "official")  # doctest: +SKIP
    >>> scored.per_item[0]["correct_official"], scored.protocols["default"]["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from visionr1.errors import ConfigError
from visionr1.eval.benchmarks._common import EvalItem, acc_entry

if TYPE_CHECKING:
    from visionr1.eval.judge import ItemJudge, JudgeSpec

PROTOCOLS = ("default", "official")
"""Every public benchmark scores by two protocols. ``official`` follows the benchmark's released scoring code as
closely as it can be followed without a GPT call (a GPT step is the judge when one is given, else the rules stand
in and the item counts as undecided): use it to compare with published numbers. ``default`` is ours and judge-free:
the answer the reply states, compared by :func:`visionr1.grading.is_equivalent`; an undecided reply is never
credited (``--judge-undecided`` sends it to a judge)."""


@dataclass(frozen=True)
class Reading:
    """One reply read by one protocol of a benchmark.

    ``extracted``: the answer its rules read (``None`` when none); ``correct``: the verdict (``None`` when the
    grader could not decide in its budget: not credited, counted apart); ``decided``: whether the rules found an
    answer the reply states (no fallback, no judge); ``rule``: which rule read it, written as ``extracted_by``
    where the benchmark names its rules; ``extra``: more per-item fields, written before ``decided`` (MathVista's
    ``prediction``, our records' ``well_formed``); ``record``: what else the rules produced, for the benchmark's
    own result row and metrics (MathVista's scored record, our records' grade).
    """

    extracted: Any
    correct: bool | None
    decided: bool
    rule: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    record: Any = None


@dataclass(frozen=True)
class Metrics:
    """A benchmark's metrics: ``headline`` (metric name → percent, the leaderboard number first), ``breakdowns``
    (name → value → :func:`~visionr1.eval.benchmarks._common.acc_entry`) and its ``official`` score structure."""

    headline: dict[str, float]
    breakdowns: dict[str, dict[str, dict[str, Any]]]
    official: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scored:
    """What :func:`score_protocols` returns.

    ``official``: the result file in the benchmark's own format (written as ``RESULT_FILENAME``);
    ``per_item``: one dict per item (:func:`item_result`, then every protocol's verdict: :func:`score_protocols`);
    ``headline``: metric name → percent, first entry is the number leaderboards quote;
    ``breakdowns``: name → value → ``acc_entry``; ``official_scores``: the official score structure.
    """

    official: Any
    per_item: list[dict[str, Any]]
    headline: dict[str, float]
    breakdowns: dict[str, dict[str, dict[str, Any]]]
    official_scores: dict[str, Any] = field(default_factory=dict)
    judge_calls: int = 0
    judge: dict[str, Any] | None = None
    """The judge's counters when one was used (:meth:`visionr1.eval.judge.Judge.summary`)."""
    protocol: str = "default"
    """The protocol whose verdicts are ``correct``."""
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each protocol's accuracy and share decided by rules, side by side."""
    readings: dict[str, list[Reading]] = field(default_factory=dict, repr=False)
    """Each protocol's readings, in item order (for scripts that compare the protocols item by item)."""


# ----------------------------------------------------------------------------- per-item bookkeeping


def item_result(item: EvalItem, correct: bool | None, extracted: Any, **extra: Any) -> dict[str, Any]:
    """One ``per_item`` row: id, verdict, extraction, gold, then ``extra`` and the item's metadata.

    ``correct`` is ``None`` when the grader could not decide in its budget (see
    :func:`visionr1.grading.is_equivalent`): such an item is not credited, and :func:`verdict_counts`
    counts it as undecided, not as wrong.
    """
    return {"id": item.id, "correct": correct, "extracted": extracted, "gold": item.gold, **extra, **item.meta}


def verdict_counts(per_item: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """How many items the grader found right, wrong, and could not decide (their ids listed).

    >>> verdict_counts([{"id": "1", "correct": True}, {"id": "2", "correct": False}, {"id": "3", "correct": None}])
    {'correct': 1, 'wrong': 1, 'undecided': 1, 'undecided_ids': ['3']}
    """
    rows = list(per_item)
    undecided = [str(r.get("id")) for r in rows if r.get("correct") is None]
    correct = sum(r.get("correct") is True for r in rows)
    return {"correct": correct, "wrong": len(rows) - correct - len(undecided), "undecided": len(undecided),
            "undecided_ids": undecided}


def extraction_share(per_item: list[dict[str, Any]]) -> dict[str, Any]:
    """How many items the rules decided (an answer the response states; no fallback, no judge), and how many each
    rule read (``rules``, where the benchmark names its rules in ``extracted_by``)."""
    n = len(per_item)
    decided = sum(1 for r in per_item if r.get("decided"))
    out: dict[str, Any] = {"items": n, "decided_by_rules": decided, "undecided": n - decided,
                           "decided_share": round(decided / n, 4) if n else 0.0}
    rules: dict[str, int] = {}
    for r in per_item:
        if r.get("extracted_by") is not None:
            rules[str(r["extracted_by"])] = rules.get(str(r["extracted_by"]), 0) + 1
    if rules:
        out["rules"] = dict(sorted(rules.items(), key=lambda kv: -kv[1]))
    return out


def _row(item: EvalItem, reading: Reading) -> dict[str, Any]:
    """The per-item row of one reading (:func:`item_result`; ``extracted_by`` where the benchmark names a rule)."""
    rule = {"extracted_by": reading.rule} if reading.rule is not None else {}
    return item_result(item, reading.correct, reading.extracted, **reading.extra, decided=reading.decided, **rule)


# ----------------------------------------------------------------------------- protocols and the judge


def protocols_of(bench: Any) -> tuple[str, ...]:
    return tuple(getattr(bench, "PROTOCOLS", ("default",)))


def check_protocol(bench: Any, protocol: str, *, judge: bool = False) -> None:
    """A :class:`~visionr1.errors.ConfigError` when ``bench`` has no ``protocol``, or when a judge is given to a
    protocol that refuses one (``NO_JUDGE_PROTOCOLS``: MM-Math's official scorer has no LLM step)."""
    if protocol not in protocols_of(bench):
        raise ConfigError(f"{bench.NAME} has no protocol {protocol!r}; it has: {', '.join(protocols_of(bench))}")
    if judge and protocol in getattr(bench, "NO_JUDGE_PROTOCOLS", ()):
        raise ConfigError(f"{bench.NAME}'s {protocol} protocol has no LLM step: drop --judge-endpoint, or use "
                          "--protocol default")


def read_all(bench: Any, items: list[EvalItem], responses: Mapping[str, str], protocol: str,
             judge: ItemJudge | None = None) -> list[Reading]:
    """Every item's reply read by ``protocol``; with a judge (an :class:`~visionr1.eval.judge.ItemJudge`), the
    first pass queues the calls the rules need, they go out together, and a second pass reads every answer back."""
    def one_pass() -> list[Reading]:
        return [bench.read(responses.get(it.id, ""), it, protocol, judge) for it in items]

    readings = one_pass()
    if judge is not None and judge.judge.pending:
        judge.judge.flush()
        readings = one_pass()
    return readings


def score_protocols(bench: Any, items: list[EvalItem], responses: Mapping[str, str], protocol: str = "default",
                    judge: JudgeSpec | None = None) -> Scored:
    """Score ``items`` by every protocol of ``bench`` (``protocol`` first) and merge them: ``protocol``'s
    verdicts, result file and metrics, and each protocol's verdict per item.

    This is the one contract of a scored item, for every benchmark, in ``eval``'s ``verdicts.jsonl`` and
    ``score``'s SCORED.json alike: ``correct`` (the chosen protocol's verdict), ``correct_official``,
    ``correct_default`` (``correct_<protocol>`` and ``decided_<protocol>`` for each), ``extracted`` and ``decided``
    (the chosen protocol's reading); ``protocols`` holds their accuracies and shares decided by rules side by side,
    and the headline gives ``accuracy (<protocol>)`` after its first entry (the leaderboard number). A result file
    keyed by item id whose records are the scored records (MathVista's pid → record) gets the same fields in each
    record.

    ``judge`` (a :class:`~visionr1.eval.judge.JudgeSpec`): one judge client serves every protocol in ``JUDGED`` (the
    same prompt is the same call, asked once), so its counters are the run's."""
    from visionr1.eval.judge import ItemJudge, Judge

    check_protocol(bench, protocol, judge=judge is not None)
    names = sorted(protocols_of(bench), key=lambda p: p != protocol)
    judged = [p for p in names if p in getattr(bench, "JUDGED", ())] if judge is not None else []
    client = Judge(judge.config, store_path=judge.store) if judged else None
    try:
        step = ItemJudge(client, undecided_only=judge.undecided_only) if client is not None else None
        readings = {p: read_all(bench, items, responses, p, step if p in judged else None) for p in names}
    finally:
        if client is not None:
            client.close()
    scored = _assemble(bench, items, responses, readings, protocol)
    if client is not None:
        scored.judge = {**client.summary(), "judged": sum(1 for r in scored.per_item if r.get("extracted_by") == "judge")}
        scored.judge_calls = client.calls
    return scored


def _assemble(bench: Any, items: list[EvalItem], responses: Mapping[str, str], readings: dict[str, list[Reading]],
              protocol: str) -> Scored:
    """The :class:`Scored` of ``protocol`` with every protocol's verdicts merged in (:func:`score_protocols`)."""
    chosen = readings[protocol]
    per_item = [_row(it, r) for it, r in zip(items, chosen)]
    rows = [bench.result_row(it, responses.get(it.id, ""), {p: rs[i] for p, rs in readings.items()}, protocol)
            for i, it in enumerate(items)]
    official = {it.id: row for it, row in zip(items, rows)} if getattr(bench, "RESULT_BY_ID", False) else rows
    metrics = bench.metrics(per_item, chosen)
    records = official if _result_records_are_scored(official, per_item) else {}
    n, summary = len(per_item), {}
    for name, protocol_readings in readings.items():
        verdicts = {it.id: bool(r.correct) for it, r in zip(items, protocol_readings)}
        decisions = {it.id: bool(r.decided) for it, r in zip(items, protocol_readings)}
        for row in per_item:
            fields = {f"correct_{name}": verdicts[row["id"]], f"decided_{name}": decisions[row["id"]]}
            row.update(fields)
            if records:
                records[row["id"]].update(fields)
        decided = sum(decisions.values())
        summary[name] = {**acc_entry(sum(verdicts.values()), n), "decided_by_rules": decided,
                         "decided_share": round(decided / n, 4) if n else 0.0}
    headline = dict(metrics.headline)
    if len(summary) > 1:  # one protocol (our own records): its accuracy is the headline's already
        head = list(headline.items())
        extra = {f"accuracy ({name})": entry["accuracy"]
                 for name, entry in sorted(summary.items(), key=lambda kv: kv[0] != "official")}
        headline = dict(head[:1] + list(extra.items()) + [kv for kv in head[1:] if kv[0] not in extra])
    return Scored(official=official, per_item=per_item, headline=headline, breakdowns=metrics.breakdowns,
                  official_scores=metrics.official, protocol=protocol, protocols=summary, readings=readings)


def _result_records_are_scored(official: Any, per_item: list[dict[str, Any]]) -> bool:
    """Whether the result file is keyed by item id and its records carry the verdict (``correct``)."""
    return isinstance(official, dict) and all(isinstance(official.get(r["id"]), dict) and "correct" in official[r["id"]]
                                              for r in per_item)


def scored_records(scored: Scored) -> dict[str, dict[str, Any]]:
    """Each item's scored record, keyed by item id (``visionr1 score`` writes them as SCORED.json).

    Where the result file is keyed by item id and its records carry the verdict (MathVista's pid → record, which
    keeps ``true_false`` and every field of the input) those records, else the per-item rows (less their ``id``);
    either way with the fields :func:`score_protocols` lists."""
    if _result_records_are_scored(scored.official, scored.per_item):
        return {r["id"]: scored.official[r["id"]] for r in scored.per_item}
    return {r["id"]: {k: v for k, v in r.items() if k != "id"} for r in scored.per_item}
