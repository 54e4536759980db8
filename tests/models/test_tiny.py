from __future__ import annotations

import hashlib

import pytest
import torch
from PIL import Image

from visionr1.models.tiny import R1_TAGS, QWEN2_VL_SPECIAL_TOKENS, TinyModelSpec, build_tiny_model


def _digest(path) -> str:
    from safetensors.torch import load_file

    h = hashlib.sha256()
    for k, v in sorted(load_file(path / "model.safetensors").items()):
        h.update(k.encode())
        h.update(v.numpy().tobytes())
    return h.hexdigest()


def _load(path):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    return AutoProcessor.from_pretrained(path), AutoModelForImageTextToText.from_pretrained(path)


def test_reloads_with_auto_classes_and_generates_from_an_image(tiny_model_dir):
    processor, model = _load(tiny_model_dir)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(processor).__name__ == "Qwen2_5_VLProcessor"
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many red circles?"}]}]
    text = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
    assert "<|vision_start|><|image_pad|><|vision_end|>How many red circles?" in text
    inputs = processor(text=[text], images=[Image.new("RGB", (224, 224), "white")], return_tensors="pt")
    assert tuple(inputs["image_grid_thw"][0].tolist()) == (1, 16, 16)  # 224/14 patches per side
    n_image_tokens = int((inputs["input_ids"] == model.config.image_token_id).sum())
    assert n_image_tokens == 16 * 16 // 4  # 2x2 spatial merge
    torch.manual_seed(0)
    out = model.generate(**inputs, max_new_tokens=8, min_new_tokens=8, do_sample=True)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 8


def test_tokenizer_has_qwen_specials_and_r1_tags_that_survive_decoding(tiny_model_dir):
    processor, _ = _load(tiny_model_dir)
    tok = processor.tokenizer
    for t in [*QWEN2_VL_SPECIAL_TOKENS, *R1_TAGS]:
        assert tok.convert_tokens_to_ids(t) != tok.unk_token_id and len(tok.tokenize(t)) == 1, t
    s = "<think>\n3 + 4 = 7. Wait, check: yes.\n</think>\n<answer>7</answer>"
    ids = tok(s)["input_ids"]
    assert tok.decode(ids, skip_special_tokens=True) == s
    assert len(tok) <= TinyModelSpec().vocab_size


def test_build_is_deterministic_per_seed_and_cached(tmp_path):
    spec = TinyModelSpec(vocab_size=1024, hidden_size=64, intermediate_size=128, vision_hidden_size=32,
                         vision_intermediate_size=64)
    a = build_tiny_model(tmp_path / "a", seed=3, spec=spec, use_cache=False)
    b = build_tiny_model(tmp_path / "b", seed=3, spec=spec, use_cache=False)
    c = build_tiny_model(tmp_path / "c", seed=4, spec=spec, use_cache=False)
    assert _digest(a) == _digest(b) != _digest(c)
    assert (a / "tokenizer.json").read_bytes() == (b / "tokenizer.json").read_bytes()
    cache = tmp_path / "cache"
    d = build_tiny_model(tmp_path / "d", seed=3, spec=spec, cache_dir=cache)
    entry = next((cache / "tiny-model").iterdir())
    (entry / "marker").write_text("from cache")
    e = build_tiny_model(tmp_path / "e", seed=3, spec=spec, cache_dir=cache)
    assert _digest(d) == _digest(a) and (e / "marker").read_text() == "from cache"


@pytest.mark.slow
def test_two_grpo_steps_change_text_and_vision_weights(tiny_model_dir, tmp_path):
    """The whole point of the tiny model: TRL's GRPOTrainer trains it, vision tower included."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    processor, model = _load(tiny_model_dir)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    colours = ["red", "blue", "green", "white"]
    ds = Dataset.from_list(
        [
            {"prompt": [{"role": "user", "content": f"Which colour is this? ({i})"}],
             "images": [Image.new("RGB", (112, 112), colours[i % 4])]}
            for i in range(4)
        ]
    )

    def length_reward(completions, **kwargs):  # a reward with spread; a random model scores 0 on real ones
        return [float(len(c[0]["content"]) % 7) for c in completions]

    args = GRPOConfig(
        output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4, num_generations=4,
        max_completion_length=12, learning_rate=1e-3, logging_steps=1, save_strategy="no", report_to="none",
        use_cpu=True, bf16=False, seed=0, beta=0.0,
    )
    trainer = GRPOTrainer(model=model, reward_funcs=length_reward, args=args, train_dataset=ds,
                          processing_class=processor)
    trainer.train()
    changed = {k for k, v in trainer.model.named_parameters() if not torch.equal(v.detach(), before[k])}
    assert any(".visual." in k or k.startswith("model.visual") for k in changed), "vision tower not trained"
    assert any("language_model" in k for k in changed), "language model not trained"


def test_the_command_prints_its_result_without_library_noise(tmp_path):
    """Issue 33 polish: DeepSpeed's "Setting accelerator to CPU" notice and transformers' weight-writing bar."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "VISIONR1_CACHE": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "-m", "visionr1", "tiny-model", "--out", str(tmp_path / "m"), "--no-cache"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    said = res.stdout + res.stderr
    assert "Setting accelerator" not in said and "Writing model shards" not in said and "tiny Qwen2.5-VL" in said
