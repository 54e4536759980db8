from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from visionr1.config import EndpointConfig, apply_overrides, from_dict, load_config, to_dict
from visionr1.errors import ConfigError


@dataclass
class Inner:
    steps: int = 10
    names: list[str] = field(default_factory=list)


@dataclass
class Outer:
    lr: float = 1e-5
    out: Path = Path("runs")
    inner: Inner = field(default_factory=Inner)
    note: str | None = None


def test_yaml_plus_overrides_build_nested_dataclasses(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("lr: 5.0e-6\ninner:\n  steps: 3\n")
    cfg = load_config(Outer, cfg_file, ["inner.names=[a, b]", "out=/tmp/x", "note=null", "lr=1e-4"])
    assert cfg == Outer(lr=1e-4, out=Path("/tmp/x"), inner=Inner(steps=3, names=["a", "b"]), note=None)
    assert to_dict(cfg)["out"] == "/tmp/x"


def test_unknown_keys_name_the_path_and_the_valid_keys():
    with pytest.raises(ConfigError, match=r"inner\.step\b.*valid keys here: names, steps"):
        from_dict(Outer, {"inner": {"step": 3}})


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Typed:
    """One field per rule of the config engine (visionr1.config's table)."""

    flag: bool = False
    count: int = 0
    rate: float = 0.0
    name: str = ""
    out: Path = Path(".")
    mode: Literal["a", "b"] = "a"
    colour: Colour = Colour.RED
    names: list[str] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    limit: int | None = None
    size: int | str = 0
    inner: Inner = field(default_factory=Inner)


REFUSED = object()

# (rule, our dataclass field, TRL SFTConfig field (None: TRL has none of the kind), value, converted or REFUSED, words)
RULES = [
    ("bool", "flag", "use_cpu", True, True, ""),
    ("bool", "flag", "use_cpu", "yes", REFUSED, "expected true or false"),
    ("bool", "flag", "use_cpu", 1, REFUSED, "expected true or false"),
    ("int", "count", "per_device_train_batch_size", "3", 3, ""),
    ("int", "count", "per_device_train_batch_size", 2.0, REFUSED, "expected an integer"),
    ("int", "count", "per_device_train_batch_size", True, REFUSED, "expected an integer"),
    ("float", "rate", "learning_rate", 2, 2.0, ""),
    ("float", "rate", "learning_rate", "1e-5", 1e-5, ""),
    ("float", "rate", "learning_rate", True, REFUSED, "expected a number"),
    ("float", "rate", "learning_rate", "fast", REFUSED, "expected a number"),
    ("str", "name", "dataset_text_field", 3, "3", ""),
    ("str", "name", "dataset_text_field", False, REFUSED, "expected a string"),
    ("str", "name", "dataset_text_field", [1], REFUSED, "expected a string"),
    ("path", "out", None, "runs/x", Path("runs/x"), ""),
    ("path", "out", None, 3, REFUSED, r"expected a path \(a string\)"),
    ("literal", "mode", "trackio_static_space_id", "b", "b", ""),
    ("literal", "mode", "trackio_static_space_id", True, REFUSED, "one of"),
    ("enum", "colour", None, "blue", "blue", ""),
    ("enum", "colour", None, "green", REFUSED, "one of 'red', 'blue'"),
    ("list", "names", "include_for_metrics", ["a", 3], ["a", "3"], ""),
    ("list", "names", "include_for_metrics", "a", REFUSED, "expected a list"),
    ("dict", "weights", None, {"a": "2"}, {"a": 2}, ""),
    ("dict", "weights", "liger_kernel_config", "x", REFUSED, "expected a mapping"),
    ("None", "limit", "max_length", None, None, ""),
    ("None", "count", "learning_rate", None, REFUSED, "expected an? (integer|number)"),
    ("union", "limit", "max_length", "3", 3, ""),
    ("union", "size", "report_to", "none", "none", ""),
]


@pytest.mark.parametrize("rule,ours,trl_key,value,expected,words", RULES)
def test_one_rule_for_our_fields_and_trl_trainer_fields(rule, ours, trl_key, value, expected, words):
    """Each rule of the engine holds alike for a field of our dataclasses and for a ``trainer.*`` field (typed by
    TRL's SFTConfig); a refusal names the key, the value and the type expected."""
    from visionr1.train.config import check_trainer_keys

    cases = [(lambda v: getattr(from_dict(Typed, {ours: v}), ours), ours)]
    if trl_key is not None:
        cases.append((lambda v: check_trainer_keys("SFTConfig", {trl_key: v}, forbidden={})[trl_key],
                      f"trainer.{trl_key}"))
    for build, key in cases:
        if expected is REFUSED:
            with pytest.raises(ConfigError, match=rf"^{re.escape(key)}={re.escape(repr(value))}: (?:.*){words}"):
                build(value)
        else:
            got = build(value)
            assert got == expected and type(got) is type(expected)


def test_trl_literal_and_nested_values_follow_the_same_rules():
    from visionr1.train.config import check_trainer_keys

    assert check_trainer_keys("SFTConfig", {"trackio_static_space_id": False}, forbidden={}) == {
        "trackio_static_space_id": False}
    assert from_dict(Typed, {"mode": "b"}).mode == "b"
    with pytest.raises(ConfigError, match=r"^trainer\.liger_kernel_config\.rope='yes': expected true or false"):
        check_trainer_keys("SFTConfig", {"liger_kernel_config": {"rope": "yes"}}, forbidden={})
    with pytest.raises(ConfigError, match=r"^weights\.a='x': expected an integer"):
        from_dict(Typed, {"weights": {"a": "x"}})
    with pytest.raises(ConfigError, match=r"^inner=3: expected a mapping \(steps, names\)"):
        from_dict(Typed, {"inner": 3})
    with pytest.raises(ConfigError, match=r"^inner\.steps='many': expected an integer"):
        from_dict(Typed, {"inner": {"steps": "many"}})
    with pytest.raises(ConfigError, match=r"^inner\.names\[1\]=\[2\]: expected a string"):
        from_dict(Typed, {"inner": {"names": ["a", [2]]}})
    # a TRL error names the TRL field and its type too
    with pytest.raises(ConfigError, match=r"\(trl\.SFTConfig\.num_train_epochs is float\)"):
        check_trainer_keys("SFTConfig", {"num_train_epochs": "abc"}, forbidden={})


@pytest.mark.parametrize("build,match", [
    (lambda: from_dict(Typed, {"nmes": []}), r"^unknown config key\(s\) nmes; did you mean names\? valid keys here: colour,"),
    (lambda: from_dict(Typed, {"inner": {"step": 1}}), r"^unknown config key\(s\) inner\.step; did you mean inner\.steps\?"),
    (lambda: from_dict(Typed, {"zzz": 1}), r"^unknown config key\(s\) zzz; valid keys here"),  # nothing near: no guess
    (lambda: __import__("visionr1.train.config").train.config.check_trainer_keys(
        "GRPOConfig", {"num_generatons": 2}, forbidden={}),
     r"^unknown config key\(s\) trainer\.num_generatons \(not fields of trl\.GRPOConfig\); did you mean "
     r"trainer\.num_generations\?"),
    (lambda: __import__("visionr1.train.config").train.config.check_trainer_keys(
        "GRPOConfig", {"num_generations": 2}, forbidden={"num_generations": "ptst.stages[*].num_generations"}),
     r"^trainer\.num_generations is set by visionr1; use ptst\.stages\[\*\]\.num_generations instead"),
])
def test_unknown_keys_are_refused_everywhere_with_the_nearest_key(build, match):
    with pytest.raises(ConfigError, match=match):
        build()


def test_bad_override_and_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["lr"])
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Outer, tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config(Outer, tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Outer, tmp_path / "bad.yaml")


@dataclass
class WithEndpoint:
    name: str = "x"
    endpoint: EndpointConfig | None = None


def test_an_optional_nested_block_absent_from_the_file_is_filled_by_overrides_and_flags(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("name: y\n")
    assert load_config(WithEndpoint, cfg_file).endpoint is None
    cfg = load_config(WithEndpoint, cfg_file, ["endpoint.base_url=http://h/v1", "endpoint.concurrency=2"])
    assert cfg.endpoint == EndpointConfig(base_url="http://h/v1", concurrency=2)
    cfg = load_config(WithEndpoint, cfg_file, ["endpoint.model=m"], flags={"endpoint.base_url": "http://f/v1"})
    assert cfg.endpoint == EndpointConfig(base_url="http://f/v1", model="m")
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) endpoint\.bse_url; did you mean endpoint\.base_url\? valid keys here: api_key_env"):
        load_config(WithEndpoint, cfg_file, ["endpoint.bse_url=x"])


def test_endpoint_validation_and_key_from_env(monkeypatch):
    with pytest.raises(ConfigError, match="concurrency must be >= 1"):
        EndpointConfig(concurrency=0)
    monkeypatch.setenv("MY_KEY", "sk-secret")
    assert EndpointConfig(api_key_env="MY_KEY").api_key() == "sk-secret"
    monkeypatch.delenv("MY_KEY")
    assert EndpointConfig(api_key_env="MY_KEY").api_key() == "EMPTY"
    assert "sk-secret" not in repr(EndpointConfig(api_key_env="MY_KEY"))


@dataclass
class Stage:
    steps: int = 1
    budget: int = 16


@dataclass
class WithList:
    stages: list[Stage] = field(default_factory=list)


@pytest.mark.parametrize("override", ["stages.1.steps=9", "stages[1].steps=9"])
def test_one_list_item_is_overridden_by_its_index(override):
    data = {"stages": [{"steps": 3}, {"steps": 4, "budget": 32}]}
    cfg = from_dict(WithList, apply_overrides(data, [override]))
    assert cfg.stages == [Stage(steps=3), Stage(steps=9, budget=32)]
    assert data["stages"][1]["steps"] == 4  # the loaded YAML is left as it was


@pytest.mark.parametrize("override,match", [
    ("stages.2.steps=9", r"stages has 2 item\(s\) \(indices 0–1\), no item 2"),
    ("stages.first.steps=9", r"stages is a list; address its items by index"),
    ("other.0.steps=9", r"other is not a list in the config, so it has no item 0; set the whole list"),
    ("stages..steps=9", "empty part"),
])
def test_a_list_index_that_is_not_there_is_named(override, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides({"stages": [{"steps": 3}, {"steps": 4}]}, [override])


def test_a_yaml_error_names_the_file_and_its_line(tmp_path):
    """Issue 33 polish: YAML errors named ``<unicode string>`` instead of the file."""
    from visionr1.config import load_yaml

    bad = tmp_path / "sft.yaml"
    bad.write_text("run_dir: x\nmodel: {path: [a\n")
    with pytest.raises(ConfigError, match=rf'{bad} is not valid YAML: (?s:.*)in "{bad}", line 2') as e:
        load_yaml(bad)
    assert "<unicode string>" not in str(e.value)
