"""Where vLLM is missing: what each path says (these run without vLLM; the vLLM paths themselves run in
tests/eval/test_vllm_backend.py, tests/endpoints/test_vllm_server.py and tests/train/test_grpo_vllm.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from visionr1.errors import ConfigError


@pytest.fixture
def no_vllm(monkeypatch):
    import visionr1.models.vllm_engine as engine

    monkeypatch.setattr(engine, "is_vllm_available", lambda: False)


def test_a_missing_vllm_is_a_config_error_saying_what_to_install(no_vllm):
    from visionr1.models.vllm_engine import require_vllm

    with pytest.raises(ConfigError, match=r"--backend vllm needs vLLM, which is not installed; .*pip install vllm.*make setup"):
        require_vllm("--backend vllm")


def test_use_vllm_without_vllm_refuses_a_run_and_warns_a_plan(no_vllm, monkeypatch):
    import visionr1.models.vllm_engine as engine
    from visionr1.train.colocate import check_vllm_settings

    monkeypatch.setattr(engine, "cuda_available", lambda: True)  # so server mode is not what is refused
    stages = [SimpleNamespace(use_vllm=True, vllm_mode="colocate"), SimpleNamespace(use_vllm=False, vllm_mode="colocate")]
    with pytest.raises(ConfigError, match=r"trainer.use_vllm=true \(stage\(s\) \[0\]\) needs vLLM"):
        check_vllm_settings(stages)
    warnings = check_vllm_settings(stages, planning=True)
    assert len(warnings) == 1 and "not installed here" in warnings[0]
    assert check_vllm_settings([SimpleNamespace(use_vllm=False, vllm_mode="server")]) == []


def test_the_run_engine_is_sized_for_every_stage_it_serves():
    from visionr1.train.colocate import engine_context_length, engine_max_seqs

    def stage(context, batch, per_generation):
        return SimpleNamespace(vllm_max_model_length=context, per_device_train_batch_size=batch,
                               vllm_tensor_parallel_size=1, steps_per_generation=per_generation)

    stages = [stage(6144, 4, 256), stage(10240, 2, 256)]
    assert engine_context_length(stages) == 10240 and engine_max_seqs(stages) == 1024
    assert engine_context_length([stage(6144, 4, 1), stage(None, 2, 1)]) is None  # one unset: the model's maximum
