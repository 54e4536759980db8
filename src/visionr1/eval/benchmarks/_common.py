"""What every benchmark module shares: the item type, the prompt modes, and the accuracy/breakdown arithmetic
of the official score files. The table and cell readers are :mod:`visionr1.data.tables`.

A benchmark module turns rows into :class:`EvalItem` and owns everything benchmark-specific.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.errors import DataError
from visionr1.r1 import answer_tags, choice_letter, final_answer, r1_instruction, render_user_prompt

PROMPT_MODES = ("official", "r1", "raw")


@dataclass
class EvalItem:
    """One benchmark question, ready to ask.

    ``id`` is the benchmark's own id (MathVista ``pid``, VLMEvalKit ``index``…), unique in a run;
    ``query`` the official prompt text; ``images`` the raw encoded image files (PNG/JPEG bytes);
    ``gold`` the reference answer; ``row`` every original field, kept for the official result file;
    ``raw`` the bare question with its choices (``--prompt raw``; the query when a loader sets none).
    """

    id: str
    query: str
    images: list[bytes]
    gold: str
    choices: list[str] | None = None
    answer_type: str | None = None
    precision: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None


def apply_prompt_mode(item: EvalItem | str, mode: str, multiple_choice: bool | None = None) -> str:
    """The text sent for ``item`` under ``--prompt``: ``official`` the query as the benchmark builds it; ``r1``
    that query plus the ``r1`` form's think/answer instruction (what our SFT and GRPO taught); ``raw`` the bare
    question and its choices (:attr:`EvalItem.raw`: the paper's form, what the authors' eval sends).

    ``item`` may be a bare query string (``raw`` then sends it as it is).
    """
    query = item if isinstance(item, str) else item.query
    if multiple_choice is None:
        multiple_choice = False if isinstance(item, str) else is_multiple_choice(item)
    if mode == "official":
        return query
    if mode == "r1":
        return f"{query.rstrip()}\n{r1_instruction(multiple_choice)}"
    if mode == "raw":
        raw = query if isinstance(item, str) else (item.raw or item.query)
        return raw.strip()
    raise DataError("--prompt", f"unknown prompt mode {mode!r}; valid: {', '.join(PROMPT_MODES)}")


def raw_question(question: str, choices: list[str] | None = None, *, listed: bool = False) -> str:
    """The ``raw`` form of a benchmark question: the question, then its choices as the ``raw`` user template
    lays them out, unless the question text already lists them (``listed``).

    >>> raw_question("Which is larger?", ["3/11", "8/11"])
    'Which is larger?\\nChoices:\\n(A) 3/11\\n(B) 8/11'
    """
    return render_user_prompt(question, None if listed else choices, "raw")


def is_multiple_choice(item: EvalItem) -> bool:
    qtype = str(item.meta.get("question_type") or "")
    return bool(item.choices) or item.answer_type == "multiple choice" or qtype.startswith("multi")


def unique_ids(items: list[EvalItem], source: str) -> None:
    """Every item has an id of its own; an item without one means the file lacks the benchmark's id column."""
    seen: set[str] = set()
    for i, it in enumerate(items):
        if not str(it.id).strip():
            raise DataError(f"item {i + 1}", "has no id: the file lacks this benchmark's id column (is --data a file "
                                             "of the benchmark given with --benchmark?)", source)
        if it.id in seen:
            raise DataError(it.id, "duplicate item id; each benchmark item needs its own id", source)
        seen.add(it.id)


def choices_block(choices: list[str], style: str = "({letter}) {text}") -> str:
    return "\n".join(style.format(letter=choice_letter(i), text=c) for i, c in enumerate(choices))


NOT_COPIED = ("image", "decoded_image", "_source_file")
"""Input columns left out of the official result rows (image payloads and our own bookkeeping)."""


def row_without_images(row: Mapping[str, Any]) -> dict[str, Any]:
    """The input row as the official result files carry it: every column but :data:`NOT_COPIED`."""
    return {k: v for k, v in row.items() if k not in NOT_COPIED}


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


# ----------------------------------------------------------------------------- scoring arithmetic


def acc_entry(correct: int, total: int) -> dict[str, Any]:
    """``{"accuracy": percent (2 decimals), "correct", "total"}`` as the official score files write it."""
    return {"accuracy": round(100.0 * correct / total, 2) if total else 0.0, "correct": correct, "total": total}


def breakdown(rows: Iterable[Mapping[str, Any]], key: str, ok: str = "correct") -> dict[str, dict[str, Any]]:
    """Accuracy per value of ``key`` (list values count for each element), sorted best first."""
    counts: dict[str, list[int]] = {}
    for r in rows:
        value = r.get(key)
        for v in value if isinstance(value, list) else [value]:
            if v is None or v == "":
                continue
            c = counts.setdefault(str(v), [0, 0])
            c[0] += bool(r.get(ok))
            c[1] += 1
    table = {k: acc_entry(c, t) for k, (c, t) in counts.items()}
    return dict(sorted(table.items(), key=lambda kv: (-kv[1]["accuracy"], kv[0])))


def answer_span(response: str) -> str:
    """The part of a response the official rules should see: the ``<answer>`` content (the paper's
    ``Final Answer:`` label dropped) when an R1 completion closed one, else the whole response."""
    if not isinstance(response, str):
        return ""
    tags = answer_tags(response)
    if tags and tags[-1].strip():
        return final_answer(tags[-1]) or tags[-1].strip()  # the paper's "Final Answer: X" → X
    return response


@dataclass
class Scored:
    """What a benchmark's ``score`` returns.

    ``official``: the result file in the benchmark's own format (written as ``result_filename``);
    ``per_item``: one dict per item with at least ``id``, ``correct``, ``extracted`` and
    ``decided`` (the benchmark's rules found an answer the response states, no fallback, no judge);
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
    """Each protocol's accuracy and share decided by rules (:func:`merge_protocols`), side by side."""


# ----------------------------------------------------------------------------- protocols

PROTOCOLS = ("default", "official")
"""Every public benchmark scores by two protocols. ``official`` follows the benchmark's released scoring code as
closely as it can be followed without a GPT call (a GPT step is the judge when one is given, else the rules stand
in and the item counts as undecided): use it to compare with published numbers. ``default`` is ours and judge-free:
the answer the reply states, compared by :func:`visionr1.grading.is_equivalent`; an undecided reply is never
credited (``--judge-undecided`` sends it to a judge)."""


def check_protocol(bench: Any, protocol: str) -> None:
    """A :class:`~visionr1.errors.ConfigError` naming the protocols ``bench`` has when it has no ``protocol``."""
    from visionr1.errors import ConfigError

    protocols = getattr(bench, "PROTOCOLS", ("default",))
    if protocol not in protocols:
        raise ConfigError(f"{bench.NAME} has no protocol {protocol!r}; it has: {', '.join(protocols)}")


def merge_protocols(by_protocol: dict[str, Scored], chosen: str) -> Scored:
    """The ``chosen`` protocol's :class:`Scored`, with every protocol's verdict per item (``correct_<protocol>``,
    ``decided_<protocol>``), their accuracies and shares decided by rules side by side (``protocols``), and
    ``accuracy (<protocol>)`` in the headline after its first entry (the leaderboard number).

    This is the one contract of a scored item, for every benchmark, in ``eval``'s ``verdicts.jsonl`` and
    ``score``'s SCORED.json alike: ``correct`` (the chosen protocol's verdict), ``correct_official``,
    ``correct_default``, ``extracted`` and ``decided`` (the chosen protocol's reading). A result file keyed by item
    id whose records are the scored records (MathVista's pid → record) gets the same fields in each record."""
    main = by_protocol[chosen]
    n = len(main.per_item)
    records = main.official if _result_records_are_scored(main) else {}
    summary = {}
    for name, scored in by_protocol.items():
        verdicts = {r["id"]: bool(r["correct"]) for r in scored.per_item}
        decisions = {r["id"]: bool(r.get("decided")) for r in scored.per_item}
        for r in main.per_item:
            fields = {f"correct_{name}": verdicts.get(r["id"], False), f"decided_{name}": decisions.get(r["id"], False)}
            r.update(fields)
            if records:
                records[r["id"]].update(fields)
        decided = sum(decisions.values())
        summary[name] = {**acc_entry(sum(verdicts.values()), n), "decided_by_rules": decided,
                         "decided_share": round(decided / n, 4) if n else 0.0}
    main.protocol, main.protocols = chosen, summary
    if len(summary) > 1:  # one protocol (our own records): its accuracy is the headline's already
        head = list(main.headline.items())
        extra = {f"accuracy ({name})": entry["accuracy"]
                 for name, entry in sorted(summary.items(), key=lambda kv: kv[0] != "official")}
        main.headline = dict(head[:1] + list(extra.items()) + [kv for kv in head[1:] if kv[0] not in extra])
    return main


def _result_records_are_scored(scored: Scored) -> bool:
    """Whether the result file is keyed by item id and its records carry the verdict (``correct``)."""
    official = scored.official
    return isinstance(official, dict) and all(isinstance(official.get(r["id"]), dict) and "correct" in official[r["id"]]
                                              for r in scored.per_item)


def scored_records(scored: Scored) -> dict[str, dict[str, Any]]:
    """Each item's scored record, keyed by item id (``visionr1 score`` writes them as SCORED.json).

    Where the result file is keyed by item id and its records carry the verdict (MathVista's pid → record, which
    keeps ``true_false`` and every field of the input) those records, else the per-item rows (less their ``id``);
    either way with the fields :func:`merge_protocols` lists."""
    if _result_records_are_scored(scored):
        return {r["id"]: scored.official[r["id"]] for r in scored.per_item}
    return {r["id"]: {k: v for k, v in r.items() if k != "id"} for r in scored.per_item}


def score_protocols(bench: Any, items: list[EvalItem], responses: dict[str, str], protocol: str,
                    judge: dict[str, Any] | None = None) -> Scored:
    """Score ``items`` by every protocol of ``bench`` and merge them (:func:`merge_protocols`), ``protocol`` first.

    With a judge (``{"config", "store", "undecided_only"}``), each protocol is scored twice: a first pass queues
    the calls its rules need, they go out together, and a second pass reads every answer back. One judge client
    serves every protocol (the same prompt is the same call, asked once), so its counters are the run's; a protocol
    with no LLM step (``NO_JUDGE_PROTOCOLS``) is scored without it."""
    judge = dict(judge) if judge and judge.get("config") is not None else None
    no_judge = getattr(bench, "NO_JUDGE_PROTOCOLS", ())
    by_protocol: dict[str, Scored] = {}
    try:
        for name in sorted(getattr(bench, "PROTOCOLS", ("default",)), key=lambda p: p != protocol):
            by_protocol[name] = _score_with_judge(bench, items, responses, name,
                                                  judge if name == protocol or name not in no_judge else None)
    finally:
        if judge is not None and judge.get("client") is not None:
            judge["client"].close()
    merged = merge_protocols(by_protocol, protocol)
    client = judge.get("client") if judge is not None else None
    if client is not None:
        merged.judge = {**client.summary(), "judged": sum(1 for r in merged.per_item if r.get("extracted_by") == "judge")}
        merged.judge_calls = client.calls
    return merged


def _score_with_judge(bench: Any, items: list[EvalItem], responses: dict[str, str], protocol: str,
                      judge: dict[str, Any] | None) -> Scored:
    """``bench.score`` by ``protocol``; with a judge, again once the calls the first pass queued are answered."""
    import inspect

    kwargs = {"protocol": protocol} if "protocol" in inspect.signature(bench.score).parameters else {}
    scored = bench.score(items, responses, judge, **kwargs)
    client = judge.get("client") if judge else None  # opened by the benchmark's extractor, if it asked anything
    if client is not None and client.pending:
        client.flush()
        scored = bench.score(items, responses, judge, **kwargs)
    return scored


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


def read_json_file(path: Path | str, what: str) -> Any:
    """A result file's JSON (``.jsonl``: a list of its lines' objects); :class:`DataError` naming the file and line."""
    import json

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(str(path), f"{what} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(str(path), f"cannot read {what}: {e}") from None
    if path.suffix == ".jsonl":
        from visionr1.files import loads_jsonl

        return loads_jsonl(text, str(path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(str(path), f"{what} is not valid JSON ({e})") from None


def join_results(items: list[EvalItem], responses: dict[str, str], source: str) -> list[EvalItem]:
    """The items a result file answers, in its order; a result id the annotations lack is an error naming it."""
    by_id = {it.id: it for it in items}
    missing = [rid for rid in responses if rid not in by_id]
    if missing:
        raise DataError(f"item {missing[0]}", f"is not in the annotations given with --data ({len(missing)} result id(s) "
                                              "missing there; is --data the benchmark's annotation file?)", source)
    return [by_id[rid] for rid in responses]


def require_fields(rows: list[dict[str, Any]], fields: tuple[str, ...], benchmark: str, source: str,
                   alternatives: dict[str, tuple[str, ...]] | None = None) -> None:
    """Refuse rows that do not carry ``benchmark``'s fields (issue 33: a MathVista folder given as MathVerse data
    must not run): a :class:`DataError` naming the missing fields. ``alternatives`` maps a field to other names
    that stand for it in other layouts (``id`` ← ``index``)."""
    if not rows:
        return
    alternatives = alternatives or {}
    present = set().union(*(r.keys() for r in rows[:20]))
    missing = [f for f in fields if f not in present and not any(a in present for a in alternatives.get(f, ()))]
    if missing:
        names = [f + (f" (or {', '.join(alternatives[f])})" if f in alternatives else "") for f in missing]
        raise DataError(source, f"is not {benchmark} data: its rows lack the field(s) {', '.join(names)} "
                                 f"(they have: {', '.join(sorted(k for k in present if not k.startswith('_'))[:15])})")


# ----------------------------------------------------------------------------- optional LLM judge


class LLMExtractor:
    """Answer extraction by an OpenAI-compatible LLM, for the protocols whose official step is GPT.

    A thin adapter over :class:`visionr1.eval.judge.Judge` (few-shot extraction through the
    endpoints client, answers kept in a durable store). ``judge`` is ``{"config": EndpointConfig, "store",
    "undecided_only"}``; the :class:`Judge` it opens is kept in
    ``judge["client"]``, so the caller can send what a first scoring pass queued
    (``client.flush()``) and score again with every answer in hand. Returns ``None`` when the
    judge has no answer yet, says there is none, or (with ``undecided_only``) when the rules
    decide the response themselves: the benchmark's rules then decide.
    """

    rule = "judge"

    def __init__(self, judge: dict[str, Any]):
        self._judge = judge_client(judge)
        self.undecided_only = bool(judge.get("undecided_only"))

    @property
    def calls(self) -> int:
        return self._judge.calls

    def __call__(self, response: str, item: EvalItem) -> str | None:
        from visionr1.eval.judge import NO_ANSWER, build_prompt
        from visionr1.grading import extract_answer

        if not response or not response.strip():
            return None
        if self.undecided_only and extract_answer(response, choices=item.choices).decided:
            return None
        record = {"response": response, "query": item.query, "question": item.query, "choices": item.choices,
                  "answer_type": item.answer_type or "text", "precision": item.precision,
                  "question_type": "multi_choice" if item.choices else "free_form"}
        out = self._judge.answer(item.id, build_prompt(response, record))
        if not isinstance(out, str) or out.strip().upper() in NO_ANSWER:
            return None
        return out.strip()


def judge_client(judge: dict[str, Any]):
    """The :class:`visionr1.eval.judge.Judge` of a judge spec, opened on first use and kept in ``judge["client"]``
    (so the caller can flush what a scoring pass queued, and every protocol shares one client and its store)."""
    from visionr1.eval.judge import Judge

    client = judge.get("client")
    if client is None:
        if not judge.get("store"):
            raise DataError("--judge-endpoint", "the judge needs a file to keep its answers in (judge['store'])")
        client = Judge(judge["config"], store_path=judge["store"])
        judge["client"] = client
    return client


def make_extractor(judge: dict[str, Any] | None) -> LLMExtractor | None:
    """An :class:`LLMExtractor` when a judge endpoint is configured, else ``None`` (judge-free)."""
    if not judge or judge.get("config") is None:
        return None
    return LLMExtractor(judge)
