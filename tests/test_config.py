from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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


@pytest.mark.parametrize("data,match", [
    ({"lr": "fast"}, "lr must be a number"),
    ({"inner": {"steps": "many"}}, "inner.steps must be an integer"),
    ({"inner": {"names": "a"}}, "inner.names must be a list"),
    ({"inner": 3}, "inner must be a mapping"),
])
def test_type_errors_say_what_to_change(data, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(Outer, data)


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
