from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from visionr1.grading import get_hard_format_result_reward
from visionr1.train.metrics import MetricsCallback, SampleWriter, TruncationAwareReward, read_metrics
from visionr1.r1 import render_user_prompt

EOS = 7
GOOD = "<think>2 and 2. Wait, Hmm, check.</think><answer>4</answer>"


@pytest.mark.parametrize("ids,expected", [
    ([1, 2, 3, 4], True),   # used the whole budget of 4, no EOS: truncated
    ([1, 2, 3, EOS], False),  # ended on EOS exactly at the budget
    ([1, EOS], False),
    ([1, 2], False),  # stopped early (a server that strips EOS): not truncated
])
def test_truncation_from_completion_ids(ids, expected):
    r = TruncationAwareReward(get_hard_format_result_reward(), [EOS], max_completion_length=4)
    assert r.truncated([ids]) == [expected]


def test_truncated_completion_earns_zero_even_when_well_formed_and_right():
    logged = {}
    r = TruncationAwareReward(get_hard_format_result_reward(), [EOS], 4, monitor=True)
    assert r.__name__ == "hard_format_result_reward"
    out = r([[{"role": "assistant", "content": GOOD}]] * 2, completion_ids=[[1, 2, 3, 4], [1, 2, EOS]],
            answer=["4", "4"], log_metric=lambda k, v: logged.__setitem__(k, v))
    assert out == [0.0, 1.0]
    assert logged["reflection/words_per_1k_tokens"] == pytest.approx(1000 * 6 / 7)  # 2x(Wait, Hmm, check) over 7 tokens
    assert logged["reflection/check_per_1k_tokens"] == pytest.approx(1000 * 2 / 7)
    assert logged["reflection/wait_per_1k_tokens"] == pytest.approx(1000 * 2 / 7)


def test_samples_are_capped_per_stage_and_survive_a_restart(tmp_path):
    w = SampleWriter(tmp_path, per_stage=3)
    r = TruncationAwareReward(get_hard_format_result_reward(), [EOS], 8, monitor=True, stage=1, samples=w)
    state = SimpleNamespace(global_step=4)
    prompts = [[{"role": "user", "content": render_user_prompt("2+2?")}]] * 2
    for _ in range(2):
        r([GOOD, "junk"], completion_ids=[[1, EOS], [2, EOS]], answer=["4", "4"], prompts=prompts,
          trainer_state=state, id=["a", "b"])
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and rows[0] | {"question": None} == {
        "stage": 1, "global_step": 5, "id": "a", "question": None, "answer": "4", "completion": GOOD, "reward": 1.0,
        "truncated": False, "completion_tokens": 2}
    assert rows[0]["question"].startswith("2+2?")
    assert SampleWriter(tmp_path, per_stage=3).room(1) == 0


def test_metrics_rows_use_stable_names(tmp_path):
    cb = MetricsCallback(tmp_path, stage=1, stage_settings={"num_generations": 8, "max_completion_length": 8192})
    state = SimpleNamespace(global_step=7, is_world_process_zero=True)
    cb.on_step_begin(None, state, None)
    cb.on_step_end(None, state, None)
    logs = {"loss": 0.1, "reward": 0.5, "reward_std": 0.2, "rewards/accuracy_reward/mean": 0.6,
            "rewards/format_reward/mean": 0.9, "completions/mean_length": 100.0, "completions/max_length": 8192.0,
            "completions/clipped_ratio": 0.05, "reflection/words_per_1k_tokens": 3.0, "kl": 0.001}
    cb.on_log(None, state, None, logs=logs)
    cb.on_log(None, state, None, logs={"train_runtime": 1.0})  # end-of-training summary: not a step row
    (row,) = read_metrics(tmp_path)
    assert row["stage"] == 1 and row["global_step"] == 7 and row["num_generations"] == 8
    assert (row["reward_mean"], row["accuracy"], row["format_rate"], row["truncation_rate"], row["kl"]) == (
        0.5, 0.6, 0.9, 0.05, 0.001)
    assert row["completion_length_max"] == 8192.0 and row["reflective_per_1k_tokens"] == 3.0
    assert row["step_seconds"] >= 0 and row["trl"] == logs


def test_user_prompt_shape():
    mc = render_user_prompt("Which is larger?", ["3/11", "8/11"])
    assert mc.splitlines()[:4] == ["Which is larger?", "Choices:", "(A) 3/11", "(B) 8/11"]
    assert "<think></think>" in mc and "<answer></answer>" in mc and "letter" in mc
    assert "Choices" not in render_user_prompt("How many?") and "final answer" in render_user_prompt("How many?")


def test_custom_template_errors_say_what_is_wrong(tmp_path):
    from visionr1.errors import ConfigError

    (tmp_path / "t.txt").write_text("no question here {oops}")
    with pytest.raises(ConfigError, match="no {question}"):
        render_user_prompt("q", template=tmp_path / "t.txt")
    (tmp_path / "u.txt").write_text("{question} {oops}")
    with pytest.raises(ConfigError, match="bad placeholder"):
        render_user_prompt("q", template=tmp_path / "u.txt")


def test_grpo_rows_carry_prompt_images_answer_choices(records_path):
    from visionr1.train.config import GRPODataSettings
    from visionr1.train.data import build_grpo_dataset

    ds = build_grpo_dataset(GRPODataSettings(path=str(records_path), system_prompt="Be brief."))
    row = ds[1]
    assert row["choices"] == ["red", "blue", "green", "yellow"] and row["answer"] == "blue"
    assert [m["role"] for m in row["prompt"]] == ["system", "user"] and "(B) blue" in row["prompt"][1]["content"]
    assert ds[0]["choices"] is None and row["images"][0].size == (112, 112)


def test_grpo_processor_pads_left_so_token_types_line_up(tiny_model_dir):
    """Regression: a right-padded processor misaligns mm_token_type_ids with TRL's left-padded prompt ids."""
    from PIL import Image

    from visionr1.train.common import load_processor
    from visionr1.train.config import ModelSettings

    proc = load_processor(ModelSettings(path=str(tiny_model_dir)), padding_side="left")
    texts = ["<|vision_start|><|image_pad|><|vision_end|>a", "<|vision_start|><|image_pad|><|vision_end|>a b c d e f"]
    out = proc(images=[[Image.new("RGB", (112, 112))]] * 2, text=texts, padding=True, return_tensors="pt")
    image_pad = proc.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert out["attention_mask"][0, 0] == 0  # left padding
    assert ((out["input_ids"] == image_pad).int() == out["mm_token_type_ids"]).all()


def test_the_progress_bar_of_a_later_stage_goes_on_from_its_step():
    """Issue 33 polish: the GRPO bar restarted at 0 at PTST stage 2 (each stage is a trainer.train call that begins
    at the stage boundary's step) and jumped on its first step."""
    from types import SimpleNamespace

    from visionr1.train.metrics import QuietProgress

    args = SimpleNamespace(disable_tqdm=False)
    cb = QuietProgress((1, 2))
    state = SimpleNamespace(is_world_process_zero=True, global_step=2, max_steps=4)
    cb.on_train_begin(args, state, None)
    assert cb.bar.training_bar.n == 2
    state.global_step = 3
    cb.on_step_end(args, state, None)
    assert cb.bar.training_bar.n == 3
    cb.bar.training_bar.close()
