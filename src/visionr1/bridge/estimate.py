"""``--dry-run``: how many calls and tokens a run would need, and what it would cost; calls nothing.

Prompt tokens are counted as characters / 4 for text plus ~(width/28)·(height/28) per image (the
Qwen2.5-VL patch grid; other MLLMs are in the same range). Completion tokens are typical lengths
(:data:`TYPICAL_COMPLETION`), capped by the configured ``max_tokens``. Calls already stored in RUN_DIR
are not counted: they will be replayed, not paid for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.pipeline import STAGES, STORE_NAME
from visionr1.bridge.run import load_input
from visionr1.bridge.prompts import load_prompt
from visionr1.data.record import long_questions_warning
from visionr1.r1 import choice_lines

TYPICAL_COMPLETION = {"pseudo_cot": 350, "description": 450, "reasoning": 2500}
"""Typical completion tokens per stage (R1-class CoTs on MathVista-like items run 1-4K tokens)."""


def _image_tokens(path: Path) -> int:
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
    except OSError:
        return 1000
    return max(4, (w // 28) * (h // 28))


def estimate(cfg: BridgeConfig) -> dict[str, Any]:
    """Calls and tokens per stage for ``cfg`` (see the module docstring)."""
    if cfg.input is None:
        from visionr1.errors import ConfigError

        raise ConfigError("set --input")
    data, records = load_input(cfg)
    checks = {"bad_items": [str(e) for e in data.errors],  # the run rejects them as bad_input: name them now
              "warnings": [w for w in [long_questions_warning((r.id, r.question) for r in records)] if w]}
    done: set[tuple[str, str]] = set()
    if cfg.out is not None and (Path(cfg.out) / STORE_NAME).exists():
        from visionr1.endpoints.store import ResponseStore

        with ResponseStore(Path(cfg.out) / STORE_NAME) as store:
            done = {(c.rid, c.stage) for c in store.all_calls() if c.ok}
    if cfg.teacher == "template":
        return {"teacher": "template", "records": len(records), "stages": {}, "cost_usd": 0.0, **checks}
    tpl = {n: load_prompt(n, getattr(cfg.prompts, n)) for n in ("pseudo_cot", "description", "reasoner")}
    gen = cfg.generation
    caps = {"pseudo_cot": gen.mllm_max_tokens, "description": gen.mllm_max_tokens, "reasoning": gen.reasoner_max_tokens}
    out = {s: {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0} for s in STAGES}
    for rec in records:
        choices = choice_lines(rec.choices)
        img = sum(_image_tokens(p) for p in data.image_paths(rec))
        texts = {
            "pseudo_cot": tpl["pseudo_cot"].render(question=rec.question, choices=choices, answer=rec.answer),
            "description": tpl["description"].render(question=rec.question, choices=choices, pseudo_cot="x" * 4 * TYPICAL_COMPLETION["pseudo_cot"]),
            "reasoning": tpl["reasoner"].render(question=rec.question, choices=choices, description="x" * 4 * TYPICAL_COMPLETION["description"]),
        }
        for s in STAGES:
            if (rec.id, s) in done:
                continue
            out[s]["calls"] += 1
            out[s]["prompt_tokens"] += len(texts[s]) // 4 + (img if s != "reasoning" else 0)
            out[s]["completion_tokens"] += min(TYPICAL_COMPLETION[s], caps[s])
    p = cfg.prices
    cost = 0.0
    for s, role in (("pseudo_cot", "mllm"), ("description", "mllm"), ("reasoning", "reasoner")):
        cost += (out[s]["prompt_tokens"] * getattr(p, f"{role}_input") + out[s]["completion_tokens"] * getattr(p, f"{role}_output")) / 1e6
    return {"teacher": cfg.teacher, "records": len(records), "stages": out, "cost_usd": round(cost, 2) if p.any else None,
            **checks}


def print_estimate(est: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    bad = est.get("bad_items") or []
    left_out = f" ({len(bad)} bad item(s) left out, named below)" if bad else ""
    table = Table(title=f"dry run: {est['records']} records{left_out}, teacher {est['teacher']} (nothing was called)")
    for col in ("stage", "calls", "prompt tokens", "completion tokens"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    for s, v in est["stages"].items():
        table.add_row(s, str(v["calls"]), f"{v['prompt_tokens']:,}", f"{v['completion_tokens']:,}")
    console.print(table)
    if est.get("cost_usd") is not None:
        console.print(f"estimated cost: ${est['cost_usd']:,.2f}")
    if bad:
        more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
        console.print(f"[bold yellow]{len(bad)} bad item(s)[/] the run would reject (bad_input):\n  "
                      + "\n  ".join(bad[:20]) + more, markup=True, highlight=False)
    for w in est.get("warnings") or []:
        console.print(f"[bold yellow]warning:[/] {w}", highlight=False)
