"""Stage 5 and the run's files: assemble kept CoTs into SFT data, write rejections and statistics.

RUN_DIR after a run::

    cold.sharegpt.json   LLaMA-Factory ShareGPT: [{"id", "conversations": [{role, content}...], "images"}]
                         (the user turn starts with one <image> per image)
    cold.jsonl           TRL SFTTrainer messages format, one object per line:
                         {"id", "messages": [user: [{"type": "image"}..., {"type": "text", "text": prompt}],
                                             assistant: [{"type": "text", "text": "<think>…</think><answer> Final Answer:… </answer>"}]],
                          "images": ["images/..."]}
    images/...           copies (or hard links) of the kept records' images; both files' image paths are
                         relative to RUN_DIR, so the folder moves as a unit
    rejected.jsonl       {"id", "stage", "reason", "detail"} per rejected record (and per unreadable input item)
    stats.json/stats.md  kept/rejected counts by reason, tokens and cost per stage, reasoning length
                         distribution, and the paper's Table 2 figures (counts of its five reflective words)
    calls.sqlite         every endpoint response (the resume store)
    runs.jsonl           one line per invocation (new vs replayed calls, items/s)

The user turn is rendered by :func:`visionr1.r1.render_user_prompt` (the GRPO and eval prompt). For multiple choice the options
are listed as ``(A) ...`` lines and ``<answer>`` holds the option **letter** (the grader maps letters to
option text through ``choices``, so GRPO rewards accept either); otherwise ``<answer>`` holds the
reasoner's final answer, already verified equivalent to the ground truth. The answer is written in the paper's
form, ``<answer> Final Answer:X </answer>`` (``answer_form``; see :data:`visionr1.r1.ANSWER_FORMS`),
which the grammar, the reward and every extractor read as they read ``<answer>X</answer>``.

Every file is written atomically and only from the outcomes in input order, so a resumed run writes
byte-identical files.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import statistics
from pathlib import Path
from typing import Any

from visionr1 import files
from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.filters import REASONS
from visionr1.data.io import Conversation, LoadResult, write_sharegpt
from visionr1.errors import VisionR1Error
from visionr1.r1 import REFLECTIVE_WORDS, format_r1, reflective_tally, render_user_prompt

STAGE_ROLE = {"pseudo_cot": "mllm", "description": "mllm", "reasoning": "reasoner"}


def assemble(reasoning: str, answer: str, form: str = "final_answer") -> str:
    """The assistant turn, in ``form`` (:func:`visionr1.grading.format_r1`).

    >>> assemble("2 and 2 make 4.", "4")
    '<think>2 and 2 make 4.</think><answer> Final Answer:4 </answer>'
    """
    return format_r1(reasoning, answer, form)


def _place_image(src: Path, dst: Path, mode: str) -> None:
    if dst.exists() and dst.stat().st_size == src.stat().st_size:
        return
    with files.replacing_file(dst, sync=False) as tmp:  # a copy of a file that stays where it is: no fsync
        if mode == "link":
            tmp.unlink()
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
        else:
            shutil.copyfile(src, tmp)


def _place_images(placements: dict[str, Path], out: Path, mode: str, threads: int = 8) -> None:
    """Copy (or link) every image into RUN_DIR, several at once: a small file's copy is mostly waiting on
    the file system (~0.7 ms each here, ~0.1 ms with 4+ in parallel), and that wait is the bulk of the export."""
    if len(placements) < 2 * threads:
        for dst, src in placements.items():
            _place_image(src, out / dst, mode)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads, thread_name_prefix="visionr1-export") as pool:
        for _ in pool.map(lambda item: _place_image(item[1], out / item[0], mode), placements.items()):
            pass  # re-raises the first error


def plain_dest(rel: str) -> str:
    """Where an input image goes under RUN_DIR unless another image claimed that place first: always
    inside ``images/`` (``images/../x.png`` goes to ``images/x.png``, not next to the output files).

    >>> [plain_dest(p) for p in ("a.png", "images/b.png", "images/../c.png", "d/./e.png")]
    ['images/a.png', 'images/b.png', 'images/c.png', 'images/d/e.png']
    """
    rel = posixpath.normpath(Path(rel).as_posix()).lstrip("/")
    while rel.startswith("../"):  # cannot come from confined input paths; never leave images/ anyway
        rel = rel[3:]
    return rel if rel.startswith("images/") else f"images/{rel}"


def note_destinations(records: Any, first: dict[str, str], contested: set[str]) -> None:
    """Add ``records`` (in input order, after those already noted) to ``first`` (destination -> the first
    image path naming it) and ``contested`` (destinations two different image paths name).

    An image whose destination is not contested ends at :func:`plain_dest` whichever records are kept,
    so the bridge may place it as soon as its record is kept (see ``Bridge``), before the export."""
    for r in records:
        for rel in r.images:
            dst = plain_dest(rel)
            if first.setdefault(dst, rel) != rel:
                contested.add(dst)


def place_early(rec: Any, data: LoadResult, out: Path, mode: str, contested: set[str] | frozenset[str],
                placed: set[str] | None = None) -> None:
    """Place a kept record's images whose destinations are not contested, adding each destination to
    ``placed`` (the export passes that set back and places them no more). Errors are left for the
    export to raise."""
    try:
        for rel, src in zip(rec.images, data.image_paths(rec), strict=True):
            dst = plain_dest(rel)
            if dst not in contested:
                _place_image(src, out / dst, mode)
                if placed is not None:
                    placed.add(dst)
    except (OSError, VisionR1Error):
        pass


def _image_dest(rel: str, src: Path, claimed: dict[str, Path]) -> str:
    """Where an input image goes under RUN_DIR: its input-relative path, under ``images/`` (once)."""
    dst = plain_dest(rel)
    if claimed.setdefault(dst, src) != src:  # two inputs would land on one file: keep both apart
        import hashlib

        dst = f"images/_/{hashlib.sha1(str(src).encode()).hexdigest()[:12]}/{Path(rel).name}"
        claimed[dst] = src
    return dst


def write_outputs(cfg: BridgeConfig, data: LoadResult, outcomes: list[Any], state: Any,
                  placed: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """Write every RUN_DIR output file from ``outcomes`` (input order); returns the stats.

    ``placed``: destinations :func:`place_early` already placed in this run (not looked at again)."""
    assert cfg.out is not None
    out = Path(cfg.out)
    outcomes = sorted(outcomes, key=lambda o: o.index)
    sharegpt: list[Conversation] = []
    trl_rows: list[dict[str, Any]] = []
    rejected_rows: list[dict[str, Any]] = []
    claimed: dict[str, Path] = {}
    for err in data.errors:
        rejected_rows.append({"id": err.item, "stage": "input", "reason": "bad_input", "detail": err.reason})
    placements: dict[str, Path] = {}  # destination -> source, each destination once
    for o in outcomes:
        rec = o.record
        if not o.kept:
            rejected_rows.append({"id": rec.id, "stage": o.stage, "reason": o.reason, "detail": o.detail})
            continue
        images = []
        for rel, src in zip(rec.images, data.image_paths(rec), strict=True):
            dst_rel = _image_dest(rel, src, claimed)
            if dst_rel not in placed:
                placements.setdefault(dst_rel, src)
            images.append(dst_rel)
        prompt = render_user_prompt(rec.question, rec.choices, cfg.prompts.user)
        reply = assemble(o.reasoning, o.answer, cfg.resolved_answer_form)
        sharegpt.append(Conversation(id=rec.id, messages=[{"role": "user", "content": prompt},
                                                          {"role": "assistant", "content": reply}], images=images))
        trl_rows.append({
            "id": rec.id,
            "messages": [
                {"role": "user", "content": [{"type": "image"} for _ in images] + [{"type": "text", "text": prompt}]},
                {"role": "assistant", "content": [{"type": "text", "text": reply}]},
            ],
            "images": images,
        })
    _place_images(placements, out, cfg.images)
    write_sharegpt(out / "cold.sharegpt.json", sharegpt)
    files.write_jsonl(out / "cold.jsonl", trl_rows)
    files.write_jsonl(out / "rejected.jsonl", rejected_rows)
    stats = compute_stats(cfg, data, outcomes, state)
    files.write_json(out / "stats.json", stats, indent=2)
    files.write_text(out / "stats.md", stats_markdown(stats))
    return stats


def _percentiles(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    v = sorted(values)

    def q(p: float) -> int:
        return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]

    return {"min": v[0], "p10": q(0.1), "p50": q(0.5), "p90": q(0.9), "max": v[-1], "mean": round(statistics.fmean(v), 1)}


def compute_stats(cfg: BridgeConfig, data: LoadResult, outcomes: list[Any], state: Any) -> dict[str, Any]:
    kept = [o for o in outcomes if o.kept]
    by_reason: dict[str, int] = {}
    by_stage: dict[str, int] = {}
    for o in outcomes:
        if not o.kept:
            by_reason[o.reason] = by_reason.get(o.reason, 0) + 1
            by_stage[o.stage] = by_stage.get(o.stage, 0) + 1
    if data.errors:
        by_reason["bad_input"] = len(data.errors)
        by_stage["input"] = len(data.errors)
    tokens: dict[str, Any] = {}
    cost = 0.0
    prices = cfg.prices
    for stage, role in STAGE_ROLE.items():
        c = state.stages[stage]
        tokens[stage] = {"prompt": c.prompt_tokens, "completion": c.completion_tokens}
        pin = getattr(prices, f"{role}_input")
        pout = getattr(prices, f"{role}_output")
        stage_cost = (c.prompt_tokens * pin + c.completion_tokens * pout) / 1e6
        if prices.any:
            tokens[stage]["cost_usd"] = round(stage_cost, 4)
        cost += stage_cost
    tokens["total"] = {
        "prompt": sum(t["prompt"] for k, t in tokens.items()),
        "completion": sum(t["completion"] for k, t in tokens.items() if k != "total"),
    }
    if prices.any:
        tokens["total"]["cost_usd"] = round(cost, 4)
    tally = reflective_tally(o.reasoning for o in kept)
    reflective, with_word = tally.total, tally.texts_with
    words = [len(o.reasoning.split()) for o in kept]
    chars = [len(o.reasoning) for o in kept]
    return {
        "teacher": cfg.teacher,
        "answer_form": cfg.resolved_answer_form,
        "models": {"mllm": cfg.mllm.model, "reasoner": cfg.reasoner.model} if cfg.teacher == "endpoints" else None,
        "records": len(outcomes) + len(data.errors),
        "kept": len(kept),
        "rejected": len(outcomes) - len(kept) + len(data.errors),
        "rejected_by_reason": dict(sorted(by_reason.items())),
        "rejected_by_stage": dict(sorted(by_stage.items())),
        "tokens": tokens,
        "reasoning_length_words": _percentiles(words),
        "reasoning_length_chars": _percentiles(chars),
        "reflective_words": {
            "total": reflective,
            "cots_containing": with_word,
            "per_cot": {w: round(n / len(kept), 3) if kept else 0.0 for w, n in reflective.items()},
        },
    }


def stats_markdown(stats: dict[str, Any]) -> str:
    """A human-readable ``stats.md``."""
    lines = [
        "# Cold-start data (modality bridging)",
        "",
        f"Teacher: **{stats['teacher']}**" + (f" (MLLM `{stats['models']['mllm']}`, reasoner `{stats['models']['reasoner']}`)"
                                              if stats.get("models") else " (offline templates, not a model)"),
        "",
        f"Records: {stats['records']}; kept **{stats['kept']}**, rejected {stats['rejected']}.",
        "",
        "## Rejections",
        "",
        "| reason | count | meaning |",
        "|---|---:|---|",
    ]
    for reason, n in stats["rejected_by_reason"].items():
        lines.append(f"| {reason} | {n} | {REASONS.get(reason, 'an input item could not be read')} |")
    lines += ["", "## Tokens", "", "| stage | prompt | completion | cost (USD) |", "|---|---:|---:|---:|"]
    for stage, t in stats["tokens"].items():
        lines.append(f"| {stage} | {t['prompt']} | {t['completion']} | {t.get('cost_usd', '')} |")
    lines += ["", "## Reasoning length (words, kept CoTs)", ""]
    if stats["reasoning_length_words"]:
        lines += ["| min | p10 | p50 | p90 | max | mean |", "|---:|---:|---:|---:|---:|---:|",
                  "| " + " | ".join(str(stats["reasoning_length_words"][k]) for k in ("min", "p10", "p50", "p90", "max", "mean")) + " |"]
    else:
        lines.append("(no kept CoTs)")
    rw = stats["reflective_words"]
    lines += ["", "## Reflective words in kept CoTs (the paper's Table 2)", "",
              "| word | occurrences | CoTs containing it | per CoT |", "|---|---:|---:|---:|"]
    for w in REFLECTIVE_WORDS:
        lines.append(f"| {w} | {rw['total'][w]} | {rw['cots_containing'][w]} | {rw['per_cot'][w]} |")
    return "\n".join(lines) + "\n"
