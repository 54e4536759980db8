"""The shipped GRPO recipes: the objective stated in each, every value's source marked, and the paper's three
RL runs (Vision-R1 with the optional third PTST stage, Vision-R1-Zero, Vision-R1-Long) on the tiny model."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from visionr1.config import from_dict, load_yaml
from visionr1.train.config import GRPORunConfig
from visionr1.train.objective import LOSS_DEFINING_KEYS

REPO = Path(__file__).resolve().parents[2]
# one level deep; recipes/demo is a link to the package's demo recipes, which a glob follows (rglob may not)
GRPO_RECIPES = sorted(p for p in (REPO / "recipes").glob("*/*.yaml") if "ptst" in load_yaml(p))
PAPER_RECIPES = [REPO / "recipes" / n / "grpo.yaml" for n in ("vision_r1_7b", "vision_r1_zero", "vision_r1_long")]


def test_the_grpo_recipes_are_found():
    names = {str(p.relative_to(REPO / "recipes")) for p in GRPO_RECIPES}
    assert {"vision_r1_7b/grpo.yaml", "vision_r1_zero/grpo.yaml", "vision_r1_long/grpo.yaml", "tiny_cpu/grpo.yaml",
            "demo/grpo.yaml"} <= names


@pytest.mark.parametrize("recipe", GRPO_RECIPES, ids=lambda p: str(p.relative_to(REPO / "recipes")))
def test_every_grpo_recipe_states_its_objective_with_a_reason(recipe):
    """TRL's loss defaults moved between versions: each recipe sets the loss-defining keys itself, with a reason."""
    trainer = load_yaml(recipe)["trainer"]
    missing = [k for k in LOSS_DEFINING_KEYS if k not in trainer]
    assert not missing, f"{recipe} leaves {missing} to TRL's defaults"
    lines = recipe.read_text(encoding="utf-8").splitlines()
    for key in LOSS_DEFINING_KEYS:
        line = next(ln for ln in lines if re.match(rf"\s+{key}:", ln))
        assert re.search(r"#\s*\S", line), f"{recipe}: {key} has no reason: {line!r}"



def test_no_recipe_names_a_trainer_key_transformers_deprecated():
    """transformers 5 renamed ``gradient_checkpointing`` to ``activation_checkpointing`` and warns on every run that
    names the old key; our recipes name the new one (TRL's own default of the old one is hushed where it is built)."""
    recipes = sorted((REPO / "recipes").glob("*/*.yaml"))
    assert REPO / "recipes" / "demo" / "sft.yaml" in recipes
    old = [str(p.relative_to(REPO)) for p in recipes
           if {"gradient_checkpointing", "gradient_checkpointing_kwargs"} & set((load_yaml(p) or {}).get("trainer") or {})]
    assert not old, f"use trainer.activation_checkpointing in {old}"


@pytest.mark.parametrize("recipe", PAPER_RECIPES, ids=lambda p: p.parent.name)
def test_every_value_of_the_paper_recipes_says_where_it_comes_from(recipe):
    """Each setting of the 7B, Zero and Long recipes is marked PAPER, FRAMEWORK or OURS (bookkeeping keys aside)."""
    unmarked = []
    section = None
    for line in recipe.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\S", line) and not line.startswith("#"):
            section = line.split(":")[0]
        setting = re.match(r"^\s+(-\s*\{|[a-z_]+:\s*\S)", line)  # a stage or a key with its value on the line
        if not setting or section in ("samples", "speed") or re.match(r"^\s+(logging_steps|save_strategy):", line):
            continue
        if not re.search(r"#.*\b(PAPER|FRAMEWORK|OURS)\b", line):
            unmarked.append(line.strip())
    assert not unmarked, f"{recipe.parent.name}: values without PAPER/FRAMEWORK/OURS: {unmarked}"


def tiny_version(recipe: Path, model: Path, data: Path, run_dir: Path, *overrides: str) -> GRPORunConfig:
    """A paper recipe shrunk to the tiny model on CPU: the same stages (group sizes, matched compute, optional
    stage), reward, prompt and objective; budgets / 256, one rollout batch of 4 updates per stage, no vLLM/GPU."""
    from visionr1.config import apply_overrides

    raw = apply_overrides(load_yaml(recipe), list(overrides))
    raw["run_dir"] = str(run_dir)
    raw["model"].update(path=str(model), dtype="float32", attn_implementation=None, min_pixels=3136, max_pixels=50176)
    raw["data"]["path"] = str(data)
    for stage in raw["ptst"]["stages"]:
        stage.update(max_completion_length=stage["max_completion_length"] // 256, steps=4)
    t = raw["trainer"]
    for key in [k for k in t if k.startswith("vllm_")] + ["activation_checkpointing"]:
        t.pop(key)
    t.update(use_cpu=True, bf16=False, use_vllm=False, gradient_accumulation_steps=1, steps_per_generation=4,
             report_to="none", save_steps=4, save_total_limit=None)
    raw["samples"] = {"per_stage": 1}
    return from_dict(GRPORunConfig, raw)


def _run(cfg: GRPORunConfig) -> tuple[dict, list[dict]]:
    from visionr1.train.grpo import run_grpo
    from visionr1.train.metrics import read_metrics

    summary = run_grpo(cfg)
    return summary, read_metrics(cfg.run_dir)


def test_vision_r1_7b_with_the_optional_third_stage_on_the_tiny_model(tiny_model_dir, records_path, tmp_path):
    cfg = tiny_version(REPO / "recipes/vision_r1_7b/grpo.yaml", tiny_model_dir, records_path, tmp_path / "run",
                       "ptst.run_optional=true")
    summary, rows = _run(cfg)
    assert summary["global_step"] == 12 and summary["stages_run"] == [0, 1, 2]
    assert [(r["stage"], r["num_generations"], r["max_completion_length"]) for r in rows] == \
        [(0, 16, 16)] * 4 + [(1, 8, 32)] * 4 + [(2, 4, 64)] * 4
    # read back from the trainers: the paper's objective, 4 updates per rollout batch of one prompt x G,
    # per-device batches 4, 2, 1 (matched compute: the same prompts and tokens sampled per step)
    obj = summary["objective"]
    assert [o["name"] for o in obj] == ["grpo"] * 3 and all(o["updates_per_rollout_batch"] == 4.0 for o in obj)
    assert [(o["per_device_train_batch_size"], o["prompts_per_rollout_batch"]) for o in obj] == [(4, 1.0), (2, 1.0), (1, 1.0)]
    assert all((o["loss_type"], o["scale_rewards"], o["mask_truncated_completions"], o["importance_sampling_level"],
                o["reward_weights"], o["epsilon"], o["beta"], o["entropy_coef"], o["use_bias_correction_kl"]) ==
               ("grpo", "group", False, "token", [1.0, 0.0, 0.0], 0.2, 0.01, 1e-3, False) for o in obj)
    assert summary["prompt_form"] == "raw" and summary["reward"] == "hard"
    assert all(math.isfinite(r["loss"]) for r in rows)
    # the rollout metrics (reward, lengths) come with the first update of each rollout batch: one per stage here
    rollouts = [r for r in rows if "reward_mean" in r]
    assert [r["global_step"] for r in rollouts] == [1, 5, 9]
    assert all(r["completion_length_max"] <= r["max_completion_length"] for r in rollouts)


def test_vision_r1_zero_on_the_tiny_model(tiny_model_dir, records_path, tmp_path, monkeypatch):
    import visionr1.train.grpo as grpo
    from visionr1.train.data import build_grpo_dataset

    # a random model earns 0 everywhere: give format and accuracy distinct stand-in values to see them summed
    def format_reward(completions, **kw):
        return [1.0] * len(completions)

    def accuracy_reward(completions, **kw):
        return [0.25] * len(completions)

    monkeypatch.setattr(grpo, "format_reward", format_reward)
    monkeypatch.setattr(grpo, "accuracy_reward", accuracy_reward)

    cfg = tiny_version(REPO / "recipes/vision_r1_zero/grpo.yaml", tiny_model_dir, records_path, tmp_path / "run")
    prompt = build_grpo_dataset(cfg.data)[0]["prompt"]
    assert prompt[0]["role"] == "system" and "<think> </think> and <answer> </answer>" in prompt[0]["content"]
    assert "<think>" not in prompt[1]["content"]  # the raw problem: the system prompt carries the format
    summary, rows = _run(cfg)
    assert summary["global_step"] == 4 and summary["reward"] == "additive"
    assert summary["objective"][0]["reward_weights"] == [0.0, 1.0, 1.0] and summary["objective"][0]["num_generations"] == 16
    # the optimised reward is format + accuracy, 1:1; the hard reward is still logged beside them
    rollouts = [r for r in rows if "reward_mean" in r]
    assert len(rollouts) == 1
    for r in rollouts:
        assert (r["format_rate"], r["accuracy"]) == (1.0, 0.25)
        assert r["reward_mean"] == pytest.approx(1.25) and r["hard_reward"] is not None


def test_vision_r1_long_on_the_tiny_model(tiny_model_dir, records_path, tmp_path):
    cfg = tiny_version(REPO / "recipes/vision_r1_long/grpo.yaml", tiny_model_dir, records_path, tmp_path / "run")
    summary, rows = _run(cfg)
    assert summary["global_step"] == 4 and summary["stages_run"] == [0]
    assert [(r["num_generations"], r["max_completion_length"]) for r in rows] == [(4, 64)] * 4
    o = summary["objective"][0]
    assert (o["name"], o["per_device_train_batch_size"], o["updates_per_rollout_batch"], o["reward_weights"]) == (
        "grpo", 1, 4.0, [1.0, 0.0, 0.0])
    rollouts = [r for r in rows if "reward_mean" in r]
    assert len(rollouts) == 1 and rollouts[0]["completion_length_max"] <= 64
    for r in rollouts:  # the hard reward is the optimised one
        assert r["reward_mean"] == pytest.approx(r["hard_reward"], abs=1e-6)


def test_the_7b_bridge_recipe_exports_what_the_7b_sft_and_grpo_recipes_expect(tmp_path):
    """recipes/vision_r1_7b/bridge.yaml writes the raw prompt form (GRPO's data.user_template) and the paper's answer."""
    from visionr1.bridge.config import BridgeConfig
    from visionr1.bridge.export import assemble
    from visionr1.r1 import render_user_prompt, template_form

    bridge = from_dict(BridgeConfig, load_yaml(REPO / "recipes/vision_r1_7b/bridge.yaml"))
    grpo = from_dict(GRPORunConfig, load_yaml(REPO / "recipes/vision_r1_7b/grpo.yaml"))
    assert template_form(bridge.prompts.user) == template_form(grpo.data.user_template) == "raw"
    assert render_user_prompt("Find x.", None, bridge.prompts.user) == "Find x."
    assert bridge.resolved_answer_form == "final_answer"
    assert assemble("r", "7", bridge.resolved_answer_form) == "<think>r</think><answer> Final Answer:7 </answer>"


def test_the_7b_bridge_recipe_asks_the_reasoner_in_the_papers_words_and_ours_stays_the_default():
    from visionr1.bridge.config import BridgeConfig
    from visionr1.bridge.prompts import load_prompt

    bridge = from_dict(BridgeConfig, load_yaml(REPO / "recipes/vision_r1_7b/bridge.yaml"))
    values = {"description": "Two red dots.", "question": "How many dots?", "choices": "", "hint": "", "answer_format": ""}
    paper = load_prompt("reasoner", bridge.prompts.reasoner).render(**values)
    assert "Following the above image description, think step by step and answer the following question directly." in paper
    assert paper.startswith("Two red dots.") and paper.endswith("How many dots?") and "Final answer" not in paper
    ours = load_prompt("reasoner", None).render(**values)
    assert ours == load_prompt("reasoner", "ours").render(**values) and "Final answer" in ours


def test_the_7b_dry_run_prints_the_kl_weighting_and_the_vllm_context_of_each_stage():
    """--dry-run of the 7B recipe shows use_bias_correction_kl (false: Eq. 1) and each stage's vLLM context
    (prompt + completion budget), and the one engine's (the largest)."""
    from typer.testing import CliRunner

    from visionr1.cli import app

    res = CliRunner().invoke(app, ["grpo", "--config", str(REPO / "recipes/vision_r1_7b/grpo.yaml"), "--dry-run",
                                   "--world-size", "8", "ptst.run_optional=true"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout[: res.stdout.rindex("}") + 1])
    assert [r["vllm"] for r in plan["stages"]] == [{"mode": "colocate", "context": n} for n in (6144, 10240, 18432)]
    assert plan["vllm_engine"]["context"] == 18432
    assert all(r["objective"]["use_bias_correction_kl"] is False for r in plan["stages"])
    assert "use_bias_correction_kl=False" in res.output and "vLLM context" in res.output
    assert not any("vllm_max_model_length is unset" in w for w in plan["warnings"])
