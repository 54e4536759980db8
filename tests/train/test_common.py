"""Pieces both trainers share (train/common.py)."""

from __future__ import annotations

import warnings

import pytest

from visionr1.train.common import make_trl_args


def _future_warnings(values: dict) -> list[str]:
    from trl import SFTConfig

    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        make_trl_args(SFTConfig, {"use_cpu": True, "report_to": "none", **values})
        inner = list(warnings.filters)
    assert warnings.filters == before
    assert inner[0] == ("always", None, Warning, None, 0)  # the call's own filter went away with it
    return [str(w.message) for w in seen if issubclass(w.category, FutureWarning)]


@pytest.mark.parametrize("key", [None, "activation_checkpointing"])
def test_trl_s_default_of_a_deprecated_field_does_not_warn(key, tmp_path):
    """TRL 1.16 defaults transformers 5's deprecated ``gradient_checkpointing``: not the recipe's doing."""
    values = {"output_dir": str(tmp_path)} | ({key: False} if key else {})
    assert _future_warnings(values) == []


def test_a_recipe_that_names_the_deprecated_key_hears_about_it(tmp_path):
    found = _future_warnings({"output_dir": str(tmp_path), "gradient_checkpointing": False})
    assert any("`gradient_checkpointing` is deprecated" in m for m in found), found
