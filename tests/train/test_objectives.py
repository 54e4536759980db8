"""One GRPO step on the tiny model (CPU) under each objective that passes through to TRL, read back from the
trainer's args into summary.json (docs/training.md lists them)."""

from __future__ import annotations

import math

import pytest

from visionr1.config import from_dict
from visionr1.testing.rewards import get_spread_reward
from visionr1.train.config import GRPORunConfig
from visionr1.train.objective import objective_name

BASE_LOSS = {"loss_type": "grpo", "scale_rewards": "group", "mask_truncated_completions": False,
             "importance_sampling_level": "token"}
OBJECTIVES = {  # name read back -> trainer keys
    "grpo": {},
    "dr_grpo": {"loss_type": "dr_grpo", "scale_rewards": "none"},
    "dapo": {"loss_type": "dapo"},
    "bnpo": {"loss_type": "bnpo"},
    "gspo": {"importance_sampling_level": "sequence"},
    "grpo+clip-higher": {"epsilon_high": 0.28},
    "grpo+overlong-mask": {"mask_truncated_completions": True},
}


@pytest.mark.parametrize("name", OBJECTIVES)
def test_one_cpu_step_under_each_objective(name, tiny_model_dir, records_path, tmp_path, monkeypatch):
    import visionr1.train.grpo as grpo
    from visionr1.train.metrics import read_metrics

    monkeypatch.setattr(grpo, "get_hard_format_result_reward", get_spread_reward)  # advantages that are not all 0
    trainer = {**BASE_LOSS, **OBJECTIVES[name], "use_cpu": True, "bf16": False, "per_device_train_batch_size": 4,
               "gradient_accumulation_steps": 1, "steps_per_generation": 2, "learning_rate": 1e-3, "save_steps": 2,
               "report_to": "none", "seed": 0}
    cfg = from_dict(GRPORunConfig, {
        "run_dir": str(tmp_path / "run"), "model": {"path": str(tiny_model_dir)}, "data": {"path": str(records_path)},
        "ptst": {"stages": [{"max_completion_length": 6, "num_generations": 2, "steps": 2}]}, "samples": {"per_stage": 0},
        "trainer": trainer})
    summary = grpo.run_grpo(cfg)
    obj = summary["objective"][0]
    assert obj["name"] == name and summary["global_step"] == 2
    for key, value in {**BASE_LOSS, **OBJECTIVES[name]}.items():
        assert obj[key] == value, key
    # two updates on one rollout batch: the second is off-policy, so the clip (and a sequence ratio) has work to do
    assert obj["updates_per_rollout_batch"] == 2.0 and obj["prompts_per_rollout_batch"] == 4.0
    rows = read_metrics(cfg.run_dir)
    assert [r["global_step"] for r in rows] == [1, 2] and all(math.isfinite(r["loss"]) for r in rows)
    assert "reward_mean" in rows[0] and rows[0]["reward_std"] > 0


def test_objective_names():
    from types import SimpleNamespace

    def args(**kw):
        return SimpleNamespace(**{"loss_type": "dapo", "importance_sampling_level": "token", "epsilon": 0.2,
                                  "epsilon_high": None, "mask_truncated_completions": False, **kw})

    assert objective_name(args()) == "dapo"
    assert objective_name(args(loss_type="grpo", importance_sampling_level="sequence")) == "gspo"
    assert objective_name(args(importance_sampling_level="sequence")) == "dapo+sequence-ratio"
    assert objective_name(args(epsilon_high=0.2)) == "dapo"  # equal to epsilon: no clip-higher
    assert objective_name(args(epsilon_high=0.28, mask_truncated_completions=True)) == "dapo+clip-higher+overlong-mask"
