"""``demo.yaml`` typed (:mod:`visionr1.demo.config`): read by the config engine, unknown keys refused."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from visionr1.config import load_yaml
from visionr1.demo.config import (
    STAGE_RECIPES,
    DemoConfig,
    DemoData,
    DemoEval,
    DemoModel,
    DemoQuick,
    load_demo_config,
)
from visionr1.errors import ConfigError

RECIPES = Path(__file__).resolve().parents[1] / "src" / "visionr1" / "demo" / "recipes"


def _untyped(recipes: Path, quick: bool) -> dict:
    """demo.yaml read as a plain mapping, as the demo read it before it was typed (quick merged into the sections,
    stage overrides listed)."""
    cfg = load_yaml(recipes / "demo.yaml")
    q = cfg.pop("quick", {}) or {}
    cfg["overrides"] = {s: [] for s in STAGE_RECIPES}
    if quick:
        for section in ("data", "eval", "model"):
            cfg.setdefault(section, {}).update(q.get(section) or {})
        for stage in cfg["overrides"]:
            cfg["overrides"][stage] = list(q.get(stage) or [])
    return cfg


@pytest.mark.parametrize("quick", [False, True])
def test_the_shipped_demo_yaml_reads_as_the_same_settings(quick):
    cfg = load_demo_config(RECIPES, quick)
    assert json.dumps(cfg.as_dict()) == json.dumps(_untyped(RECIPES, quick))  # same keys, order, values and types


def test_quick_replaces_section_keys_and_puts_its_stage_overrides_in_effect():
    full, quick = load_demo_config(RECIPES, False), load_demo_config(RECIPES, True)
    assert quick.data.n_train < full.data.n_train and quick.data.tasks == full.data.tasks
    assert quick.eval.max_tokens < full.eval.max_tokens
    assert quick.overrides["grpo"] == full.quick.grpo and quick.overrides["grpo"]
    assert full.overrides == {s: [] for s in STAGE_RECIPES}


def test_the_model_section_builds_the_tiny_model_spec():
    from visionr1.models.tiny import TinyModelSpec

    cfg = load_demo_config(RECIPES, False)
    spec = cfg.model.spec(cfg.data.image_size)
    assert (spec.hidden_size, spec.min_pixels, spec.max_pixels) == (cfg.model.hidden_size, 112 ** 2, 112 ** 2)
    assert spec.num_attention_heads == TinyModelSpec().num_attention_heads  # not set: the spec's default


def _with(tmp_path: Path, edit) -> Path:
    shutil.copy(RECIPES / "demo.yaml", tmp_path / "demo.yaml")
    data = load_yaml(tmp_path / "demo.yaml")
    edit(data)
    import yaml

    (tmp_path / "demo.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


@pytest.mark.parametrize("edit,match", [
    (lambda d: d["data"].update(n_trian=5), r"unknown config key\(s\) data\.n_trian; did you mean data\.n_train\?"),
    (lambda d: d.update(evl={}), r"unknown config key\(s\) evl; did you mean eval\?"),
    (lambda d: d["model"].update(hiden_size=8), r"model\.hiden_size; did you mean model\.hidden_size\?"),
    (lambda d: d["quick"]["data"].update(n_tset=5), r"quick\.data\.n_tset; did you mean quick\.data\.n_test\?"),
    (lambda d: d["quick"].update(grpo_zeor=[]), r"quick\.grpo_zeor; did you mean quick\.grpo_zero\?"),
    (lambda d: d["quick"].update(overrides={}), r"unknown config key\(s\) quick\.overrides"),
    (lambda d: d.update(overrides={}), r"unknown config key\(s\) overrides"),  # set by load_demo_config, not a key
    (lambda d: d["data"].update(n_train="many"), r"data\.n_train='many': expected an integer"),
    (lambda d: d["quick"]["eval"].update(max_tokens=1.5), r"quick\.eval\.max_tokens=1\.5: expected an integer"),
    (lambda d: d["data"].update(warmup_skills={"add": "x"}), r"data\.warmup_skills\.add='x': expected an integer"),
    (lambda d: d["quick"].update(sft="trainer.max_steps=4"), r"quick\.sft='trainer\.max_steps=4': expected a list"),
    (lambda d: d["data"].pop("n_train"), r"missing config key\(s\) data\.n_train"),
    (lambda d: d["data"].update(n_test=0), r"data\.n_test must be >= 1"),
])
def test_a_wrong_key_or_value_is_named(tmp_path, edit, match):
    recipes = _with(tmp_path, edit)
    with pytest.raises(ConfigError, match=match):
        load_demo_config(recipes, quick=True)


def test_every_setting_has_a_line_of_help():
    for cls in (DemoConfig, DemoData, DemoModel, DemoEval, DemoQuick):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
