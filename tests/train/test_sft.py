"""Cold-start SFT on the tiny model: data readers, assistant-only loss, pixel budget, loss falls, resume, LoRA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from visionr1.config import from_dict
from visionr1.train.config import ModelSettings, SFTDataSettings, SFTRunConfig
from visionr1.train.metrics import read_metrics


def _cfg(run_dir, model, data, **trainer):
    return from_dict(SFTRunConfig, {
        "run_dir": str(run_dir), "model": {"path": str(model), "max_pixels": 112 * 112}, "data": {"path": str(data)},
        "trainer": {"use_cpu": True, "bf16": False, "per_device_train_batch_size": 4, "learning_rate": 3e-3,
                    "max_steps": 8, "save_steps": 4, "seed": 0, **trainer}})


def test_cold_jsonl_and_sharegpt_give_the_same_rows(cold_path, tmp_path):
    from visionr1.data import Conversation, write_sharegpt
    from visionr1.train.data import build_sft_dataset

    cold = build_sft_dataset(SFTDataSettings(path=str(cold_path)))
    assert len(cold) == 8 and set(cold.column_names) == {"id", "messages", "images"}
    user, reply = cold[0]["messages"]
    assert [p["type"] for p in user["content"]] == ["image", "text"] and reply["role"] == "assistant"
    assert cold[0]["images"][0].size == (56, 84)  # decoded lazily from an absolute path

    rows = [json.loads(line) for line in cold_path.read_text().splitlines()]
    convs = [Conversation(id=r["id"], images=r["images"], messages=[
        {"role": m["role"], "content": m["content"][-1]["text"]} for m in r["messages"]]) for r in rows]
    write_sharegpt(cold_path.parent / "cold.sharegpt.json", convs)
    sg = build_sft_dataset(SFTDataSettings(path=str(cold_path.parent / "cold.sharegpt.json")))
    assert sg[3]["messages"] == cold[3]["messages"] and len(sg) == len(cold)


def test_bad_examples_are_all_reported_before_training(tmp_path):
    from visionr1.errors import DataError
    from visionr1.train.data import build_sft_dataset

    bad = [{"id": "a", "messages": [{"role": "user", "content": "hi"}]},
           {"id": "b", "images": ["missing.png"], "messages": [{"role": "user", "content": "<image>q"},
                                                             {"role": "assistant", "content": "x"}]}]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(x) + "\n" for x in bad))
    for skip_bad in (False, True):  # none good: --skip-bad cannot help, and the error does not suggest it
        with pytest.raises(DataError, match=r"(?s)all 2 item\(s\) are bad, so there is nothing to train on \(with "
                                            r"--skip-bad or without\); fix them:.*a.*no assistant turn.*b.*not found"):
            build_sft_dataset(SFTDataSettings(path=str(tmp_path / "c.jsonl"), skip_bad=skip_bad))


def test_pixel_budget_reaches_the_processor(tiny_model_dir):
    from PIL import Image

    from visionr1.train.common import load_processor

    img = Image.new("RGB", (224, 224))
    for max_pixels, grid in [(224 * 224, (1, 16, 16)), (112 * 112, (1, 8, 8))]:
        proc = load_processor(ModelSettings(path=str(tiny_model_dir), max_pixels=max_pixels))
        out = proc(text=["<|vision_start|><|image_pad|><|vision_end|>"], images=[img], return_tensors="pt")
        assert tuple(out["image_grid_thw"][0].tolist()) == grid


def test_loss_is_on_assistant_tokens_only(tiny_model_dir, cold_path, tmp_path):
    from visionr1.train.common import load_processor
    from visionr1.train.data import build_sft_dataset
    from visionr1.train.sft import VisionR1SFTTrainer, sft_args

    cfg = _cfg(tmp_path / "run", tiny_model_dir, cold_path)
    proc = load_processor(cfg.model)
    trainer = VisionR1SFTTrainer(model=cfg.model.path, args=sft_args(cfg), processing_class=proc,
                                 train_dataset=build_sft_dataset(cfg.data))
    batch = trainer.data_collator([build_sft_dataset(cfg.data)[0]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    learned = proc.tokenizer.decode(ids[labels != -100])
    assert learned.startswith("<think>") and "</answer>" in learned and "<|im_end|>" in learned
    assert "What colour" not in learned and "<|image_pad|>" not in learned


@pytest.mark.slow
def test_sft_loss_falls_and_a_rerun_resumes_from_the_checkpoint(tiny_model_dir, cold_path, tmp_path):
    from safetensors.torch import load_file

    from visionr1.train.sft import run_sft

    run = tmp_path / "run"
    first = run_sft(_cfg(run, tiny_model_dir, cold_path))
    losses = [r["loss"] for r in read_metrics(run)]
    assert len(losses) == 8 and sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3
    assert first["global_step"] == 8 and (run / "final" / "model.safetensors").is_file()
    # the summary says which prompt form it trained on (cold_path's user turns are the r1 form), for GRPO's dry-run
    saved = json.loads((run / "summary.json").read_text())
    assert (saved["prompt_form"], saved["prompt_forms"]) == ("r1", {"r1": 8})

    # a longer run in the same folder resumes at step 8 with the trained weights and optimizer
    second = run_sft(_cfg(run, tiny_model_dir, cold_path, max_steps=10))
    assert second["resumed_from"].endswith("checkpoint-8") and second["global_step"] == 10
    rows = read_metrics(run)
    assert [r["global_step"] for r in rows] == list(range(1, 11))
    assert rows[8]["loss"] < losses[0] * 0.8  # it did not restart from the random weights
    opt = torch.load(run / "checkpoint-10" / "optimizer.pt", map_location="cpu", weights_only=False)
    assert {int(s["step"]) for s in opt["state"].values()} == {10}
    base = load_file(Path(tiny_model_dir) / "model.safetensors")
    final = load_file(run / "final" / "model.safetensors")
    k = next(k for k in final if "embed_tokens" in k)
    assert not torch.equal(final[k], base[k])


@pytest.mark.slow
def test_lora_sft_trains_an_adapter(tiny_model_dir, cold_path, tmp_path):
    from visionr1.train.sft import run_sft

    cfg = _cfg(tmp_path / "run", tiny_model_dir, cold_path, max_steps=4)
    cfg.model.lora.enabled = True
    summary = run_sft(cfg)
    final = Path(summary["final"])
    assert (final / "adapter_model.safetensors").is_file() and not (final / "model.safetensors").exists()
    assert len(read_metrics(tmp_path / "run")) == 4


def test_batched_vision_windows_train_as_the_per_window_loop(tiny_model_dir, cold_path, tmp_path, monkeypatch):
    """224² images: 4 windows each in the windowed layer. Same training with and without; the saved model is stock.

    "Same" as visionr1.testing.numerics defines it: every step's gradients to SAME_UP_TO of their size, the losses
    likewise, and the trained weights to SAME_UP_TO of how far they moved (the runs use adam_epsilon=1 for that).
    """
    from safetensors.torch import load_file

    import visionr1.train.sft as sft
    from visionr1.testing.numerics import EQUALITY_ADAM_EPSILON, SAME_UP_TO, gradient_gap, gradient_log, weight_gap

    logs = []
    init = sft.VisionR1SFTTrainer.__init__

    def init_keeping_gradients(self, *args, **kwargs):
        init(self, *args, **kwargs)
        logs.append(gradient_log())
        self.add_callback(logs[-1])

    monkeypatch.setattr(sft.VisionR1SFTTrainer, "__init__", init_keeping_gradients)
    runs, grads = {}, {}
    for on in (True, False):
        cfg = _cfg(tmp_path / str(on), tiny_model_dir, cold_path, max_steps=3, save_steps=10,
                   adam_epsilon=EQUALITY_ADAM_EPSILON)
        cfg.model.max_pixels = 224 * 224
        cfg.vision_windows = on
        assert sft.run_sft(cfg)["vision_windows"] is on
        runs[on] = [r["loss"] for r in read_metrics(tmp_path / str(on))]
        grads[on] = logs[-1].steps
    assert len(runs[True]) == 3 and runs[True] == pytest.approx(runs[False], rel=SAME_UP_TO)
    gap, where = gradient_gap(grads[False], grads[True])
    assert gap <= SAME_UP_TO, (gap, where)
    attn = [k for k in grads[True][0] if "visual" in k and ".attn." in k]
    assert attn and all(step[k].abs().max() > 0 for step in grads[True] for k in attn)  # the windows were trained
    on, off = (load_file(tmp_path / str(v) / "final" / "model.safetensors") for v in (True, False))
    base = load_file(Path(tiny_model_dir) / "model.safetensors")
    gap, where = weight_gap(on, off, base, steps=3)
    assert gap <= SAME_UP_TO, (gap, where)
    assert "visionr1" not in (tmp_path / "True" / "final" / "config.json").read_text()


def test_a_frozen_vision_tower_keeps_its_weights_while_the_rest_trains(tiny_model_dir, cold_path, tmp_path):
    from safetensors.torch import load_file

    from visionr1.train.sft import run_sft

    cfg = _cfg(tmp_path / "run", tiny_model_dir, cold_path, max_steps=2, save_steps=2)
    cfg.model.freeze_vision_tower = True
    summary = run_sft(cfg)
    base = load_file(Path(tiny_model_dir) / "model.safetensors")
    final = load_file(Path(summary["final"]) / "model.safetensors")
    tower = [k for k in base if "visual." in k and "visual.merger." not in k]  # saved as visual.* (no model. prefix)
    merger = [k for k in base if "visual.merger." in k]
    assert tower and all(torch.equal(final[k], base[k]) for k in tower)
    assert any(not torch.equal(final[k], base[k]) for k in merger)  # the projector still trains
    assert summary["parameters"]["frozen"]["vision_tower"] == sum(base[k].numel() for k in tower)
    assert summary["parameters"]["trainable"] == sum(v.numel() for k, v in base.items() if k not in tower)

    # resuming with the tower unfrozen would hand the optimizer state to other parameters: refused, saying why
    from visionr1.errors import ConfigError

    thawed = _cfg(tmp_path / "run", tiny_model_dir, cold_path, max_steps=3, save_steps=2)
    with pytest.raises(ConfigError, match=r"checkpoint-2 was trained with .*frozen: vision_tower .*model.freeze_\* or model.lora changed"):
        run_sft(thawed)
    assert read_metrics(tmp_path / "run")[-1]["global_step"] == 2  # nothing was lost or overwritten
    assert "freeze_vision_tower: true" in (tmp_path / "run" / "config.yaml").read_text()


def test_absolute_image_paths_and_data_image_root_are_the_same_for_every_stage(tmp_path):
    """Issue 33 item 11: sft refused absolute image paths the other stages read, and no data.image_root existed.
    Every stage reads a path the same way: relative to the image root (default: the data file's folder) and inside
    it, absolute or not; data.image_root (image_root= for the bridge) points it at images kept elsewhere."""
    from PIL import Image
    from typer.testing import CliRunner

    from visionr1.cli import app
    from visionr1.data import Record, write_jsonl
    from visionr1.errors import DataError
    from visionr1.r1 import format_r1, render_user_prompt
    from visionr1.train.config import GRPODataSettings
    from visionr1.train.data import build_grpo_dataset, build_sft_dataset

    pics = tmp_path / "pictures"  # the images live apart from the data files (LLaMA-Factory's media_dir)
    pics.mkdir()
    for i in range(3):
        Image.new("RGB", (56, 56), ("red", "green", "blue")[i]).save(pics / f"{i}.png")
    data = tmp_path / "data"
    data.mkdir()
    for name, paths in (("abs", [str(pics / f"{i}.png") for i in range(3)]), ("rel", [f"{i}.png" for i in range(3)])):
        chat = [{"id": f"c{i}", "images": [p], "messages": [
            {"role": "user", "content": "<image>" + render_user_prompt("What colour?")},
            {"role": "assistant", "content": format_r1("I look.", "red")}]} for i, p in enumerate(paths)]
        (data / f"{name}.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chat))
        write_jsonl(data / f"{name}_records.jsonl", [Record(id=f"r{i}", images=[p], question="What colour?", answer="red")
                                                     for i, p in enumerate(paths)])
    for name in ("abs", "rel"):
        said = (r"escapes the data root .* set the image root: data.image_root" if name == "abs"
                else rf"image file not found: {data}/0.png")
        with pytest.raises(DataError, match=said):
            build_sft_dataset(SFTDataSettings(path=str(data / f"{name}.jsonl")))
        with pytest.raises(DataError, match=said):
            build_grpo_dataset(GRPODataSettings(path=str(data / f"{name}_records.jsonl")))
        for root in ([str(pics)] + (["/"] if name == "abs" else [])):
            sft = build_sft_dataset(SFTDataSettings(path=str(data / f"{name}.jsonl"), image_root=root))
            grpo = build_grpo_dataset(GRPODataSettings(path=str(data / f"{name}_records.jsonl"), image_root=root))
            assert len(sft) == len(grpo) == 3
            assert [im.getpixel((0, 0)) for im in sft["images"][0] + sft["images"][1]] == [(255, 0, 0), (0, 128, 0)]
    out = tmp_path / "bridge"
    res = CliRunner().invoke(app, ["bridge", "--input", str(data / "abs_records.jsonl"), "--out", str(out),
                                   "--teacher", "template", "--dry-run", f"image_root={pics}"])
    assert res.exit_code == 0 and "dry run: 3 records" in " ".join(res.output.split()), res.output


def test_the_sft_length_limit_is_not_saved_into_the_model(tiny_model_dir, cold_path, tmp_path):
    """trainer.max_length cuts SFT examples only: the final model's tokenizer neither truncates nor warns
    "`max_length` is ignored when `padding`=`True`" when GRPO or eval loads it (issue 33 polish)."""
    import warnings

    from transformers import AutoProcessor

    from visionr1.train.sft import run_sft

    run = tmp_path / "run"
    run_sft(_cfg(run, tiny_model_dir, cold_path, max_steps=1, max_length=2048))
    assert json.loads((run / "final" / "tokenizer.json").read_text())["truncation"] is None
    processor = AutoProcessor.from_pretrained(str(run / "final"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = processor.tokenizer(["one two three " * 1000, "four"], padding=True)["input_ids"]
    assert len(ids[0]) > 2048 and not [w for w in caught if "max_length" in str(w.message)]
