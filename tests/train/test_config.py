from __future__ import annotations

from pathlib import Path

import pytest

from visionr1.config import load_config
from visionr1.errors import ConfigError
from visionr1.train.config import GRPORunConfig, PTSTSettings, PTSTStage, SFTRunConfig

REPO = Path(__file__).resolve().parents[2]
BASE = {"model": {"path": "m"}, "data": {"path": "d.jsonl"}}


def _grpo(**extra):
    from visionr1.config import from_dict

    return from_dict(GRPORunConfig, {**BASE, **extra})


def test_trainer_typo_is_an_error_that_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"learning_rat\b.*valid keys here: .*learning_rate"):
        _grpo(trainer={"learning_rat": 1e-6})
    # issue 33 polish: a typo among ~120 TRL keys gets the one it was meant to be, first
    with pytest.raises(ConfigError, match=r"learnig_rate \(not fields of trl.GRPOConfig\); did you mean "
                                          r"trainer\.learning_rate\? valid keys"):
        _grpo(trainer={"learnig_rate": 1e-6})
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) data\.pth; did you mean data\.path\?"):
        _grpo(data={"pth": "x"})


@pytest.mark.parametrize("key,hint", [("max_steps", "ptst.stages"), ("num_generations", "ptst.stages"),
                                      ("output_dir", "run_dir")])
def test_keys_set_by_visionr1_are_refused_with_where_to_set_them(key, hint):
    with pytest.raises(ConfigError, match=hint):
        _grpo(trainer={key: 1})


def test_stage_cannot_change_what_must_carry_across_stages():
    with pytest.raises(ConfigError, match=r"ptst.stages\[1\].trainer.learning_rate"):
        _grpo(ptst={"stages": [{"steps": 1}, {"steps": 1, "trainer": {"learning_rate": 1.0}}]})


def test_required_sections_and_stage_ranges():
    from visionr1.config import from_dict

    with pytest.raises(ConfigError, match="model.path is required"):
        from_dict(GRPORunConfig, {"data": {"path": "x"}})
    with pytest.raises(ConfigError, match="num_generations must be >= 2"):
        PTSTStage(num_generations=1)
    with pytest.raises(ConfigError, match="ptst.stages has no stage to run"):
        PTSTSettings(stages=[])


def test_stage_plan_arithmetic():
    """The PTST plan (visionr1.train.ptst_plan), computed once when the run's config is loaded."""
    p = _grpo(ptst={"stages": [{"max_completion_length": 8, "num_generations": 4, "steps": 3},
                               {"max_completion_length": 16, "num_generations": 2, "steps": 3, "optional": True}],
                    "run_optional": True}).plan
    assert p.total_steps == 6 and [(s.start_step, s.end_step) for s in p.stages] == [(0, 3), (3, 6)]
    assert [p.stage_at(s) for s in range(7)] == [0, 0, 0, 1, 1, 1, 1]
    # ptst_state.json's and the summary's rows: the stage settings and their step range, in this order
    assert [list(r) for r in p.rows()] == [["stage", "max_completion_length", "num_generations", "steps", "optional",
                                            "start_step", "end_step"]] * 2
    assert p.rows()[1] == {"stage": 1, "max_completion_length": 16, "num_generations": 2, "steps": 3, "optional": True,
                           "start_step": 3, "end_step": 6}
    assert p.derived == ({}, {})  # no matched compute: no batch derived


def test_matched_compute_derives_each_stage_batch_once_when_the_config_is_loaded():
    stages = [{"max_completion_length": 8, "num_generations": 8, "steps": 1},
              {"max_completion_length": 16, "num_generations": 4, "steps": 1},
              {"max_completion_length": 32, "num_generations": 2, "steps": 1}]
    cfg = _grpo(ptst={"stages": stages, "matched_compute": True}, trainer={"per_device_train_batch_size": 8})
    assert cfg.plan.derived == ({}, {"per_device_train_batch_size": 4}, {"per_device_train_batch_size": 2})
    with_generation = _grpo(ptst={"stages": stages, "matched_compute": True}, trainer={"generation_batch_size": 32})
    assert with_generation.plan.derived[2] == {"per_device_train_batch_size": 2, "generation_batch_size": 8}  # TRL's 8
    with pytest.raises(ConfigError, match=r"stage 2 \(num_generations=2\) needs per_device_train_batch_size = 2 x 2 / 8 = "
                                          r"0\.5, not a whole number >= 1"):
        _grpo(ptst={"stages": stages, "matched_compute": True}, trainer={"per_device_train_batch_size": 2})
    # a stage's own accumulation would change its tokens per step: refused, not silently unmatched
    stages[1] = {**stages[1], "trainer": {"gradient_accumulation_steps": 2}}
    with pytest.raises(ConfigError, match=r"ptst\.stages\[1\]\.trainer\.gradient_accumulation_steps would change the "
                                          r"tokens sampled per step"):
        _grpo(ptst={"stages": stages, "matched_compute": True})
    assert _grpo(ptst={"stages": stages}).plan.derived == ({}, {}, {})  # without matched compute it is the stage's own


def test_a_stage_violating_trl_batch_rules_is_named(tmp_path):
    from visionr1.train.grpo import stage_args

    cfg = _grpo(run_dir=str(tmp_path), trainer={"use_cpu": True, "bf16": False, "per_device_train_batch_size": 4},
                ptst={"stages": [{"num_generations": 4, "max_completion_length": 8, "steps": 1},
                                 {"num_generations": 3, "max_completion_length": 16, "steps": 1}]})
    assert stage_args(cfg, 0).num_generations == 4
    with pytest.raises(ConfigError, match=r"ptst.stages\[1\] \(max_completion_length=16, num_generations=3\).*divisible"):
        stage_args(cfg, 1)


def test_stage_args_span_all_stages_and_keep_paper_defaults(tmp_path):
    from visionr1.train.grpo import stage_args

    cfg = _grpo(run_dir=str(tmp_path), trainer={"use_cpu": True, "bf16": False, "per_device_train_batch_size": 4},
                ptst={"stages": [{"num_generations": 4, "max_completion_length": 8, "steps": 2},
                                 {"num_generations": 2, "max_completion_length": 16, "steps": 5,
                                  "trainer": {"temperature": 0.7}}]})
    a0, a1 = stage_args(cfg, 0), stage_args(cfg, 1)
    assert a0.max_steps == a1.max_steps == 7  # one LR schedule over both stages
    assert (a0.max_completion_length, a1.max_completion_length, a1.temperature) == (8, 16, 0.7)
    assert a0.beta == 0.01 and a0.epsilon == 0.2 and a0.logging_steps == 1 and not a0.save_only_model


@pytest.mark.parametrize("name", ["tiny_cpu", "vision_r1_7b"])
def test_shipped_recipes_load(name):
    sft = load_config(SFTRunConfig, REPO / "recipes" / name / "sft.yaml")
    grpo = load_config(GRPORunConfig, REPO / "recipes" / name / "grpo.yaml")
    assert len(grpo.ptst.stages) == 2 and sft.trainer


def test_7b_recipe_matches_the_paper():
    sft = load_config(SFTRunConfig, REPO / "recipes/vision_r1_7b/sft.yaml")
    grpo = load_config(GRPORunConfig, REPO / "recipes/vision_r1_7b/grpo.yaml")
    t = sft.trainer
    assert (t["learning_rate"], t["lr_scheduler_type"], t["warmup_steps"], t["num_train_epochs"], t["max_length"]) == (
        5e-6, "cosine", 0.05, 2, 16384)
    assert t["per_device_train_batch_size"] * t["gradient_accumulation_steps"] * 8 == 32 and t["bf16"]
    assert sft.model.freeze_vision_tower and sft.model.freeze_multi_modal_projector  # the released config's defaults
    assert not sft.model.lora.enabled and not grpo.model.freeze_vision_tower
    # PAPER: 4K/G16 then 8K/G8, 100 steps each; a paper step is a rollout batch of 4 updates (EasyR1's batch)
    assert [(s.max_completion_length, s.num_generations, s.steps) for s in grpo.ptst.stages] == [(4096, 16, 400), (8192, 8, 400)]
    t = grpo.trainer
    assert t["steps_per_generation"] // t["gradient_accumulation_steps"] == 4 and t["num_iterations"] == 1
    assert t["beta"] == 0.01 and t["epsilon"] == 0.2 and t["use_vllm"] and grpo.ptst.matched_compute
    assert (t["loss_type"], t["scale_rewards"], t["mask_truncated_completions"], t["importance_sampling_level"]) == (
        "grpo", "group", False, "token")
    assert grpo.reward.kind == "hard" and grpo.data.user_template == "raw" and grpo.data.system_prompt is None
    third = load_config(GRPORunConfig, REPO / "recipes/vision_r1_7b/grpo.yaml", ["ptst.run_optional=true"])
    assert [(s.max_completion_length, s.num_generations, s.steps) for s in third.ptst.stages][2] == (16384, 4, 400)


def test_overrides_reach_nested_fields():
    cfg = load_config(GRPORunConfig, REPO / "recipes/tiny_cpu/grpo.yaml",
                      ["model.lora.enabled=true", "ptst.stages=[{steps: 2, num_generations: 2, max_completion_length: 4}]"])
    assert cfg.model.lora.enabled and cfg.plan.total_steps == 2


def test_vision_windows_switches_are_booleans_named_when_wrong():
    from visionr1.config import from_dict

    with pytest.raises(ConfigError, match="speed.vision_windows='maybe': expected true or false"):
        _grpo(speed={"vision_windows": "maybe"})
    with pytest.raises(ConfigError, match="^vision_windows='maybe': expected true or false"):
        from_dict(SFTRunConfig, {**BASE, "vision_windows": "maybe"})
    assert _grpo().speed.vision_windows and not _grpo(speed={"vision_windows": False}).speed.vision_windows


@pytest.mark.parametrize("name,n", [("accelerate_zero3.yaml", 8), ("accelerate_zero3_server.yaml", 7)])
def test_accelerate_deepspeed_configs_parse(name, n, monkeypatch):
    """The shipped accelerate configs load with accelerate's own reader and point at a valid ZeRO-3 file."""
    import json

    from accelerate.commands.config.config_args import load_config_from_file

    monkeypatch.chdir(REPO)  # the configs name the DeepSpeed file relative to the repo root, as launched
    cfg = load_config_from_file(str(REPO / "recipes/vision_r1_7b" / name))
    assert cfg.distributed_type == "DEEPSPEED" and cfg.num_processes == n
    ds = json.loads((REPO / cfg.deepspeed_config["deepspeed_config_file"]).read_text())
    assert ds["zero_optimization"]["stage"] == 3 and ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"]
    assert ds["train_micro_batch_size_per_gpu"] == "auto"  # filled in from the trainer config by transformers


def _sft(*overrides):
    return load_config(SFTRunConfig, REPO / "recipes/tiny_cpu/sft.yaml", ["data.path=x.jsonl", *overrides])


def test_trainer_values_take_the_type_of_their_trl_field():
    cfg = _sft("trainer.learning_rate=1e-5", "trainer.per_device_train_batch_size=2", "trainer.bf16=no",
               "trainer.report_to=none", "trainer.gradient_checkpointing_kwargs={use_reentrant: false}")
    assert cfg.trainer["learning_rate"] == 1e-5 and isinstance(cfg.trainer["learning_rate"], float)  # YAML: "1e-5"
    assert cfg.trainer["per_device_train_batch_size"] == 2 and isinstance(cfg.trainer["per_device_train_batch_size"], int)
    assert cfg.trainer["bf16"] is False and cfg.trainer["report_to"] == "none"
    assert cfg.trainer["gradient_checkpointing_kwargs"] == {"use_reentrant": False}
    stage = load_config(GRPORunConfig, REPO / "recipes/tiny_cpu/grpo.yaml", ["ptst.stages.1.trainer.temperature=7e-1"])
    assert stage.ptst.stages[1].trainer == {"temperature": 0.7}


@pytest.mark.parametrize("override,match", [
    ("trainer.num_train_epochs=abc", r"trainer\.num_train_epochs='abc': expected a number \(trl\.SFTConfig\.num_train_epochs is float\)"),
    ("trainer.per_device_train_batch_size=abc", r"per_device_train_batch_size='abc': expected an integer"),
    ("trainer.per_device_train_batch_size=2.5", r"per_device_train_batch_size=2\.5: expected an integer"),
    ("trainer.bf16=maybe", r"trainer\.bf16='maybe': expected true or false"),
])
def test_a_trainer_value_of_the_wrong_type_names_key_value_and_type(override, match):
    with pytest.raises(ConfigError, match=match):
        _sft(override)


def test_stage_settings_are_overridden_by_index():
    cfg = load_config(GRPORunConfig, REPO / "recipes/tiny_cpu/grpo.yaml", ["ptst.stages.0.steps=2", "ptst.stages[1].num_generations=8"])
    assert [(s.steps, s.num_generations) for s in cfg.ptst.stages] == [(2, 4), (3, 8)]


def test_the_tiny_cpu_readme_makes_every_file_it_uses():
    """Each path a command in recipes/tiny_cpu/README.md reads (data.path, model.path, --input, --data, --model and
    the recipes' own defaults) is written by a command above it (--out, run_dir, a run's final/)."""
    import re
    import shlex

    import yaml

    text = (REPO / "recipes/tiny_cpu/README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).replace("\\\n", " ")
    made: list[str] = []
    for line in block.splitlines():
        args = shlex.split(line.split("#", 1)[0]) if line.strip() and not line.startswith("#") else []
        if "visionr1" not in args:
            continue
        args = args[args.index("visionr1") + 1:]
        opts = dict(zip(args, args[1:]))
        sets = dict(a.split("=", 1) for a in args if "=" in a and not a.startswith("-"))
        reads = [opts[o] for o in ("--input", "--data", "--model") if o in opts]
        if args[0] in ("sft", "grpo"):
            recipe = yaml.safe_load((REPO / opts["--config"]).read_text())
            reads += [sets.get("data.path", recipe["data"]["path"]), sets.get("model.path", recipe["model"]["path"])]
            made += [sets.get("run_dir", recipe["run_dir"])]
        if args[0] == "eval" and "--config" in opts:  # the eval.yaml's settings, the flags over them
            recipe = yaml.safe_load((REPO / opts["--config"]).read_text())
            opts = {**{f"--{k}": str(v) for k, v in recipe.items() if k in ("data", "model", "out")}, **opts}
            reads += [opts[o] for o in ("--data", "--model")]
        reads += [a for a in args[1:] if args[0] == "report" and not a.startswith("-") and a.startswith("runs/")
                  and not a.endswith(".png")]
        for path in reads:
            assert any(path == m or path.startswith(m + "/") for m in made), f"`visionr1 {args[0]}` reads {path}, " \
                f"which no command above it writes"
        made += [opts["--out"]] if "--out" in opts else []
    assert "runs/bridge" in made


def test_reward_kind_hard_is_the_default_and_additive_takes_weights():
    from visionr1.train.grpo import stage_args

    cpu = {"use_cpu": True, "per_device_train_batch_size": 16}
    assert _grpo().reward.kind == "hard" and stage_args(_grpo(trainer=cpu), 0).reward_weights == [1.0, 0.0, 0.0]
    zero = _grpo(reward={"kind": "additive"}, trainer=cpu)
    assert (zero.reward.format_weight, zero.reward.accuracy_weight) == (1.0, 1.0)  # the paper's 1:1
    assert stage_args(zero, 0).reward_weights == [0.0, 1.0, 1.0]
    assert _grpo(reward={"kind": "additive", "accuracy_weight": 2}).reward.trl_weights() == [0.0, 1.0, 2.0]
    with pytest.raises(ConfigError, match="reward.format_weight applies to reward.kind: additive"):
        _grpo(reward={"format_weight": 0.5})
    with pytest.raises(ConfigError, match="reward.kind must be one of hard, additive, not 'soft'"):
        _grpo(reward={"kind": "soft"})
    with pytest.raises(ConfigError, match="not both 0"):
        _grpo(reward={"kind": "additive", "format_weight": 0, "accuracy_weight": 0})
    # TRL's own key is refused with where the setting lives now
    with pytest.raises(ConfigError, match=r"trainer.reward_weights is set by visionr1; use reward.kind"):
        _grpo(trainer={"reward_weights": [1, 1, 1]})


def test_optional_stages_run_only_when_asked():
    stages = [{"steps": 1}, {"steps": 2, "max_completion_length": 8192, "num_generations": 8, "optional": True}]
    cfg = _grpo(ptst={"stages": stages})
    assert cfg.plan.total_steps == 1 and cfg.ptst.skipped == [1]
    on = _grpo(ptst={"stages": stages, "run_optional": True})
    assert on.plan.total_steps == 3 and on.ptst.skipped == [] and [s.end_step for s in on.plan.stages] == [1, 3]


@pytest.mark.parametrize("text,sft,grpo", [
    ("run_dir: r\nptst: {stages: []}\n", False, True),
    ("run_dir: r\nvision_windows: true\n", True, False),
    ("", True, True),  # cut short by a kill before a byte was written
    ("run_dir: [r\n", True, True),  # cut short mid-line
    ("- 1\n", True, True),
])
def test_a_run_folder_is_told_by_its_config_yaml(tmp_path, text, sft, grpo):
    from visionr1.train.common import looks_like_run

    (tmp_path / "metrics.jsonl").write_text("")
    (tmp_path / "config.yaml").write_text(text)
    assert (looks_like_run("sft")(tmp_path), looks_like_run("grpo")(tmp_path)) == (sft, grpo)


def test_grpo_validation_takes_the_training_system_prompt_unless_it_has_its_own():
    """A policy trained with a system prompt (recipes/vision_r1_zero) is validated with it."""
    base = ["validation.data=val.jsonl", "data.system_prompt=Think first."]
    cfg = load_config(GRPORunConfig, REPO / "recipes/tiny_cpu/grpo.yaml", base)
    assert cfg.validation.system_prompt == "Think first."
    own = load_config(GRPORunConfig, REPO / "recipes/tiny_cpu/grpo.yaml", [*base, "validation.system_prompt=Be brief."])
    assert own.validation.system_prompt == "Be brief."
    plain = load_config(GRPORunConfig, REPO / "recipes/tiny_cpu/grpo.yaml", ["validation.data=val.jsonl"])
    assert plain.validation.system_prompt is None
