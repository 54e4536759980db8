"""The ablation variants' recipes: matched compute with the demo's PTST GRPO (full and --quick), and every other
value grpo.yaml's, so the runs differ only in what the paper's ablation varies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.config import load_config, load_yaml
from visionr1.demo import RECIPES, load_demo_config
from visionr1.demo.ablation import VARIANTS, check_recipes, sampled_tokens
from visionr1.errors import ConfigError
from visionr1.train import GRPORunConfig

REPO = Path(__file__).resolve().parents[2]


def grpo(name: str, quick: bool = False) -> GRPORunConfig:
    """A demo GRPO recipe with its --quick overrides and a validation set filled in (as the demo does)."""
    return load_config(GRPORunConfig, RECIPES / f"{name}.yaml",
                       ["validation.data=val.jsonl", *load_demo_config(RECIPES, quick).overrides[name]])


def test_the_budget_counts_completions_at_their_stage_budget():
    """Sum over stages of steps x completions per step x max_completion_length (prompts x G = the per-device
    batch of completions, one process, no accumulation)."""
    cfg = grpo("grpo")
    batch = cfg.trainer["per_device_train_batch_size"]
    assert sampled_tokens(cfg) == sum(s.steps * batch * s.max_completion_length for s in cfg.ptst.stages)


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_variant_samples_as_many_tokens_as_ptst(variant, quick):
    """The nearest whole number of steps to PTST's budget: off by at most half a step. Changing the steps of one
    recipe (or of a PTST stage) by one moves the budgets apart by a whole step of one of them."""
    ptst, cfg = grpo("grpo", quick), grpo(VARIANTS[variant][0], quick)
    one_step = sampled_tokens(cfg) / cfg.plan.total_steps
    assert len(cfg.ptst.stages) == 1
    assert abs(sampled_tokens(cfg) - sampled_tokens(ptst)) <= one_step / 2, (sampled_tokens(cfg), sampled_tokens(ptst))


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_zero_takes_ptsts_first_stage_and_long_its_last(quick):
    ptst = grpo("grpo", quick).ptst.stages
    for name, stage in (("grpo_zero", ptst[0]), ("grpo_long", ptst[-1])):
        mine = grpo(name, quick).ptst.stages[0]
        assert (mine.max_completion_length, mine.num_generations) == (stage.max_completion_length, stage.num_generations)


def test_the_variants_differ_from_grpo_yaml_only_where_the_ablation_does():
    base = load_yaml(RECIPES / "grpo.yaml")
    for name, differs in (("grpo_zero", {"run_dir", "ptst", "reward", "data", "validation"}), ("grpo_long", {"run_dir", "ptst"})):
        recipe = load_yaml(RECIPES / f"{name}.yaml")
        assert {k for k in base.keys() | recipe.keys() if base.get(k) != recipe.get(k)} - {"model"} == differs, name
        assert {k: v for k, v in recipe["model"].items() if k != "path"} == {
            k: v for k, v in base["model"].items() if k != "path"}
    assert load_yaml(RECIPES / "grpo_zero.yaml")["data"]["path"] == base["data"]["path"]
    assert load_yaml(RECIPES / "grpo_zero.yaml")["model"]["path"].endswith("base/final")
    assert load_yaml(RECIPES / "grpo_long.yaml")["model"]["path"] == base["model"]["path"]


@pytest.mark.skipif(not (REPO / "recipes" / "vision_r1_zero" / "grpo.yaml").is_file(), reason="a repository checkout")
def test_zero_asks_and_rewards_as_the_7b_zero_recipe_does():
    seven_b, mine = load_yaml(REPO / "recipes/vision_r1_zero/grpo.yaml"), load_yaml(RECIPES / "grpo_zero.yaml")
    for key in ("system_prompt", "user_template"):
        assert mine["data"][key] == seven_b["data"][key]
    assert mine["reward"] == seven_b["reward"] and grpo("grpo_zero").reward.trl_weights() == [0.0, 1.0, 1.0]


def test_a_recipes_folder_without_the_variants_is_refused_before_the_demo_runs(tmp_path):
    recipes = tmp_path / "recipes"
    shutil.copytree(RECIPES, recipes)
    (recipes / "grpo_long.yaml").unlink()
    with pytest.raises(ConfigError, match="grpo_long.yaml"):
        check_recipes(recipes)
    result = CliRunner().invoke(app, ["demo", "--ablation", "--quick", "--recipes", str(recipes),
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code != 0 and "grpo_long.yaml" in result.output
    assert not (tmp_path / "run").exists()  # refused before anything ran
