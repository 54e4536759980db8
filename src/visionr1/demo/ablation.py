"""``visionr1 demo --ablation``: the paper's ablations in miniature, from the checkpoints the demo made.

Two more GRPO runs per seed beside the demo's PTST run, each sampling the same tokens (matched compute, as the
paper compares them), then evaluated as the demo's models are (test split, greedy, the eval budget):

* **Zero** (``grpo_zero.yaml``, paper §3.1): GRPO from the warmed-up base (``base/final``, where cold-start SFT
  starts), with DeepSeek-R1-Zero's system prompt, the raw user prompt and the format and result rewards added
  1:1, as ``recipes/vision_r1_zero/`` does at 7B; one stage at PTST's first budget and group; validated and
  evaluated with the prompt it trains on;
* **Long** (``grpo_long.yaml``): from the cold-start model (``sft/final``), one stage at PTST's longest budget
  and smallest group from the start;

beside **cold start only** (the SFT model) and **PTST** (the demo's RL model), already evaluated. Outputs:
``grpo_zero/``, ``grpo_long/``, ``eval/zero/``, ``eval/long/`` and ``summary.json``'s ``ablation`` section
(:func:`ablation_summary`). ``visionr1.demo`` runs the variants (``ablation_stages``); this module says what they
are and sums them up.

The budget (:func:`sampled_tokens`): tokens sampled, each completion counted at its stage's
``max_completion_length``: the sum over stages of steps x completions per step (prompts x G) x budget, as
``visionr1 grpo --dry-run`` counts them (``tokens_sampled``). grpo.yaml: 30 x 32 x 136 + 20 x 32 x 192 = 253,440
(its per-device batch is 32 completions in both stages: 4 prompts x G8, then 8 prompts x G4). A variant's steps
are the nearest whole number to the same budget (``tests/demo/test_ablation.py`` checks the recipes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

VARIANTS = {  # key: (recipe, checkpoint it starts from, label)
    "zero": ("grpo_zero", "base/final", "Zero (RL from the base: R1-Zero prompt, format + result reward)"),
    "long": ("grpo_long", "sft/final", "Long (cold start + one stage at the longest budget)"),
}
ROWS = (("cold_start", "cold start only (SFT)"), ("ptst", "PTST (the demo's RL)"),
        ("long", VARIANTS["long"][2]), ("zero", VARIANTS["zero"][2]))
"""The ablation table's rows, in the paper's order of comparison."""
NAMES = {"cold_start": "cold start only", "ptst": "PTST", "long": "Long", "zero": "Zero"}
"""Each row's short name (narrow tables)."""
LONG_CHAIN = "longer than the median completion length (tokens) of that model's test completions"
BUDGET = ("tokens sampled: the sum over PTST stages of steps x completions per step (prompts x G) x "
          "max_completion_length, as `visionr1 grpo --dry-run` counts them")


def stage_names() -> tuple[str, ...]:
    """The demo stages ``--ablation`` adds (one GRPO run and its eval each), before the report."""
    return tuple(f"grpo-{key}" for key in VARIANTS)


def check_recipes(recipes: Path) -> None:
    """Refuse, before the demo runs, a recipes folder that lacks a variant's recipe."""
    from visionr1.errors import ConfigError

    for recipe, _, _ in VARIANTS.values():
        if not (Path(recipes) / f"{recipe}.yaml").is_file():
            raise ConfigError(f"--recipes {recipes}: no {recipe}.yaml, which --ablation needs (copy it from "
                              f"visionr1/demo/recipes/)")


def sampled_tokens(cfg) -> int:
    """Tokens a GRPO config samples in all (:data:`BUDGET`): each stage's ``tokens_sampled_per_step`` of
    :func:`visionr1.train.grpo.build_stage` times its steps."""
    from visionr1.train.grpo import build_stage

    return round(sum(build_stage(cfg, i, host_only=True)[1]["tokens_sampled_per_step"] * s.steps
                     for i, s in enumerate(cfg.ptst.stages)))


def _row(run, key: str, evaluated: dict[str, Any], seconds: float | None) -> dict[str, Any]:
    from visionr1.demo.chains import generations, long_chain_errors, scored_items

    model = {"cold_start": "cold_start", "ptst": "rl"}.get(key, key)
    correct = {s["id"]: bool(s.get("correct")) for s in scored_items(run.out, model)}
    long = long_chain_errors(generations(run.out, model), correct)
    return {"name": NAMES[key], "label": dict(ROWS)[key], "model": evaluated.get("model"), "accuracy": evaluated["accuracy"],
            "format": evaluated["format"], "mean_tokens": evaluated["mean_tokens"], "truncated": evaluated["truncated"],
            "wrong_among_long": long["wrong_percent"], "long_chains": long["long"],
            "median_tokens": long["median_tokens"], "seconds": seconds}


def ablation_summary(run) -> dict[str, Any]:
    """``summary.json``'s ``ablation`` section: per row of :data:`ROWS`, the eval figures, the share of wrong
    answers among long chains (:data:`LONG_CHAIN`) and the wall seconds the variant took (Zero, Long: its GRPO
    run and eval; PTST: the demo's GRPO stage; cold start: none of its own, its SFT is every variant's); and
    each RL variant's sampled-token budget."""
    from visionr1.config import load_config
    from visionr1.train import GRPORunConfig

    s = run.summary
    evals = {"cold_start": s["eval"]["cold_start"], "ptst": s["eval"]["rl"], **s["ablation"]["eval"]}
    seconds = {"cold_start": None, "ptst": s["stages"]["grpo"]["seconds"],
               **{k: s["stages"][f"grpo-{k}"]["seconds"] for k in VARIANTS}}
    budgets = {"ptst": sampled_tokens(load_config(GRPORunConfig, run.out / "grpo" / "config.yaml"))}
    for key in VARIANTS:
        budgets[key] = sampled_tokens(load_config(GRPORunConfig, run.out / f"grpo_{key}" / "config.yaml"))
    return {"rows": {key: _row(run, key, evals[key], seconds[key]) for key, _ in ROWS},
            "tokens_sampled": budgets, "budget": BUDGET, "long_chain": LONG_CHAIN, "eval": s["ablation"]["eval"]}
