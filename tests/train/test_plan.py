"""``--dry-run``: config, TRL arguments and data checked, batch/step arithmetic printed, no model loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.config import load_config
from visionr1.errors import ConfigError, DataError
from visionr1.train.config import GRPORunConfig, SFTRunConfig

REPO = Path(__file__).resolve().parents[2]
NO_MODEL = "model.path=Qwen/Qwen2.5-VL-7B-Instruct"  # a hub id not downloaded here: a plan warns, never opens it


def _7b(kind, tmp_path, data, *more):
    cls = SFTRunConfig if kind == "sft" else GRPORunConfig
    return load_config(cls, REPO / f"recipes/vision_r1_7b/{kind}.yaml",
                       [NO_MODEL, f"data.path={data}", f"run_dir={tmp_path / 'run'}", *more])


def _besides_vllm(warnings: list[str]) -> list[str]:
    """The warnings less "needs vLLM, which is not installed", which the 7B recipe (use_vllm) gives where vLLM is not
    installed (a venv made with `make CONSTRAINTS= setup`); `make test` installs it here, so there it is not given."""
    from visionr1.models.vllm_engine import is_vllm_available

    return [w for w in warnings if is_vllm_available() or not w.startswith("trainer.use_vllm=true")]


def _besides_setup(warnings: list[str]) -> list[str]:
    """The warnings less those about this machine's setup: vLLM (above) and model.path (the hub id may or may not
    be cached)."""
    return [w for w in _besides_vllm(warnings) if not w.startswith("model.path")]


def test_grpo_plan_of_the_7b_recipe_on_8_processes(records_path, tmp_path):
    from visionr1.train.grpo import plan_grpo

    plan = plan_grpo(_7b("grpo", tmp_path, records_path), world_size=8)
    # EasyR1's batch: 512 prompts per rollout batch, 4 updates of 128 prompts; 100 rollout batches per stage.
    # Matched compute: prompts per step stay 128, so stage 2 takes half the completions at twice the budget.
    assert [(s["completions_per_step"], s["prompts_per_step"], s["updates_per_rollout_batch"], s["rollout_batches"],
             s["prompts_per_rollout_batch"], s["prompts"]) for s in plan["stages"]] == [
        (2048, 128, 4, 100, 512, 51200), (1024, 128, 4, 100, 512, 51200)]
    assert [s["tokens_sampled_per_step"] for s in plan["stages"]] == [128 * 16 * 4096] * 2 == [128 * 8 * 8192] * 2
    assert [s["tokens_sampled"] for s in plan["stages"]] == [512 * 16 * 4096 * 100] * 2
    assert plan["tokens_sampled_per_step_match"] and plan["matched_compute"] and plan["skipped_stages"] == [2]
    assert plan["records"] == 8 and plan["stages"][-1]["data_passes_so_far"] == 2 * 51200 / 8
    assert plan["prompt_form"] == "raw" and plan["reward"] == "hard"
    assert _besides_setup(plan["warnings"]) == []
    assert plan["stages"][0]["objective"]["name"] == "grpo" and plan["stages"][0]["objective"]["epsilon"] == 0.2
    assert plan["resume"] is None and not (tmp_path / "run").exists()  # nothing written
    # with num_iterations=2 each rollout batch is optimised on twice: 8 updates, half the new prompts per step
    twice = plan_grpo(_7b("grpo", tmp_path, records_path, "trainer.num_iterations=2", "ptst.run_optional=true",
                          "ptst.stages=[{max_completion_length: 4096, num_generations: 16, steps: 800}]"), world_size=8)
    assert [(s["completions_per_step"], s["prompts_per_step"], s["updates_per_rollout_batch"], s["prompts"])
            for s in twice["stages"]] == [(2048, 64, 8, 51200)]


def test_grpo_plan_without_matched_compute_keeps_completions_per_step(records_path, tmp_path):
    from visionr1.train.grpo import plan_grpo

    plan = plan_grpo(_7b("grpo", tmp_path, records_path, "ptst.matched_compute=false"), world_size=8)
    assert [(s["completions_per_step"], s["prompts_per_step"]) for s in plan["stages"]] == [(2048, 128), (2048, 256)]
    assert not plan["tokens_sampled_per_step_match"]
    assert plan["stages"][1]["tokens_sampled_per_step"] == 2 * plan["stages"][0]["tokens_sampled_per_step"]


def test_optional_third_stage_matches_too(records_path, tmp_path):
    from visionr1.train.grpo import plan_grpo, stage_args

    cfg = _7b("grpo", tmp_path, records_path, "ptst.run_optional=true")
    plan = plan_grpo(cfg, world_size=8)
    assert [(s["num_generations"], s["max_completion_length"], s["completions_per_step"]) for s in plan["stages"]] == [
        (16, 4096, 2048), (8, 8192, 1024), (4, 16384, 512)]
    assert plan["tokens_sampled_per_step_match"] and plan["skipped_stages"] == []
    # per-device batches 4, 2, 1: every micro-batch holds the same 16K completion tokens
    assert [stage_args(cfg, i, host_only=True, world_size=8).per_device_train_batch_size for i in range(3)] == [4, 2, 1]


def test_matched_compute_refuses_what_it_cannot_match(records_path, tmp_path):
    with pytest.raises(ConfigError, match=r"num_generations x max_completion_length equal in every stage.*stage 1: 8 x 4096"):
        _7b("grpo", tmp_path, records_path, "ptst.stages=[{max_completion_length: 4096, num_generations: 16, steps: 400}, "
            "{max_completion_length: 4096, num_generations: 8, steps: 400}]")
    with pytest.raises(ConfigError, match=r"stages\[1\].trainer.per_device_train_batch_size is derived by ptst.matched_compute"):
        _7b("grpo", tmp_path, records_path, "ptst.stages=[{max_completion_length: 4096, num_generations: 16, steps: 400}, "
            "{max_completion_length: 8192, num_generations: 8, steps: 400, trainer: {per_device_train_batch_size: 8}}]")
    with pytest.raises(ConfigError, match=r"stage 1 \(num_generations=8\) needs per_device_train_batch_size = 1 x 8 / 16 = 0.5"):
        _7b("grpo", tmp_path, records_path, "trainer.per_device_train_batch_size=1")  # when loaded, before any plan


def test_a_stage_must_be_whole_rollout_batches(records_path, tmp_path):
    from visionr1.train.grpo import plan_grpo

    cfg = _7b("grpo", tmp_path, records_path, "ptst.stages=[{max_completion_length: 4096, num_generations: 16, steps: 402}]")
    with pytest.raises(ConfigError, match=r"steps=402 is not a whole number of rollout batches \(4 optimizer steps each"):
        plan_grpo(cfg, world_size=8)


def test_grpo_plan_checks_whole_groups_at_the_planned_world_size(records_path, tmp_path):
    from visionr1.train.grpo import plan_grpo

    # 2 completions per device x 4 generation steps (1 update per rollout batch): 8 per generation on one
    # process (not a group of 16), 64 on eight (four groups)
    cfg = _7b("grpo", tmp_path, records_path, "trainer.per_device_train_batch_size=2", "trainer.gradient_accumulation_steps=4",
              "trainer.steps_per_generation=4", "ptst.stages=[{max_completion_length: 4096, num_generations: 16, steps: 100}]")
    with pytest.raises(ConfigError, match=r"ptst\.stages\[0\].*generation_batch_size \(8\) must be divisible by num_generations \(16\)"):
        plan_grpo(cfg, world_size=1)
    assert plan_grpo(cfg, world_size=8)["stages"][0]["prompts_per_step"] == 4


def test_grpo_plan_reports_bad_records_and_a_checkpoint_it_cannot_resume(records_path, tmp_path):
    from visionr1.train.grpo import plan_grpo
    from visionr1.train.ptst import STATE_FILE

    import shutil

    shutil.copytree(records_path.parent, tmp_path / "data")
    bad = tmp_path / "data" / "train.jsonl"
    rows = [json.loads(line) for line in bad.read_text().splitlines()]
    rows[3]["images"] = ["images/missing.png"]
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match="r3"):
        plan_grpo(_7b("grpo", tmp_path, bad), world_size=8)

    cfg = _7b("grpo", tmp_path, records_path)
    ckpt = tmp_path / "run" / "checkpoint-100"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 100}))
    plan = cfg.plan.rows()
    (ckpt / STATE_FILE).write_text(json.dumps({"global_step": 100, "stage": 0, "plan": plan}))
    assert plan_grpo(cfg, world_size=8)["resume"] == {"checkpoint": str(ckpt), "global_step": 100, "stage": 0}
    (ckpt.parent / "checkpoint-400").mkdir()
    (ckpt.parent / "checkpoint-400" / "trainer_state.json").write_text(json.dumps({"global_step": 400}))
    (ckpt.parent / "checkpoint-400" / STATE_FILE).write_text(json.dumps({"global_step": 400, "stage": 0, "plan": plan}))
    ckpt = ckpt.parent / "checkpoint-400"
    assert plan_grpo(cfg, world_size=8)["resume"] == {"checkpoint": str(ckpt), "global_step": 400, "stage": 1}
    changed = _7b("grpo", tmp_path, records_path, "ptst.stages=[{max_completion_length: 2048, num_generations: 32, steps: 400}, "
                  "{max_completion_length: 8192, num_generations: 8, steps: 400}]")
    with pytest.raises(ConfigError, match="ptst stage 0"):
        plan_grpo(changed, world_size=8)


def test_sft_plan_counts_steps_like_the_trainer(tiny_model_dir, cold_path, tmp_path):
    from visionr1.train.sft import plan_sft

    plan = plan_sft(_7b("sft", tmp_path, cold_path), world_size=8)
    # 8 examples, global batch 1 x 4 x 8 = 32: one step per epoch, 2 epochs
    assert (plan["examples"], plan["global_batch"], plan["steps_per_epoch"], plan["total_steps"]) == (8, 32, 1, 2)
    assert plan["frozen"] == ["vision_tower", "multi_modal_projector"] and plan["max_length"] == 16384
    one = plan_sft(_7b("sft", tmp_path, cold_path, "trainer.gradient_accumulation_steps=1"), world_size=1)
    assert (one["global_batch"], one["steps_per_epoch"], one["total_steps"]) == (1, 8, 16)


def test_dry_run_from_the_command_line(records_path, tmp_path):
    args = ["grpo", "--config", str(REPO / "recipes/vision_r1_7b/grpo.yaml"), "--dry-run", "--world-size", "8",
            NO_MODEL, f"data.path={records_path}", f"run_dir={tmp_path / 'run'}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["world_size"] == 8 and [s["num_generations"] for s in plan["stages"]] == [16, 8]
    zero = CliRunner().invoke(app, [a if a != "8" else "0" for a in args])
    assert zero.exit_code != 0 and "world-size" in zero.output


def test_dry_run_of_the_7b_recipe_as_shipped_prints_the_compute_per_stage():
    """``visionr1 grpo --config recipes/vision_r1_7b/grpo.yaml --dry-run``: no data yet, no GPU, no model."""
    result = CliRunner().invoke(app, ["grpo", "--config", str(REPO / "recipes/vision_r1_7b/grpo.yaml"), "--dry-run"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    # the SFT run that makes model.path has not run, and the RL data is not made: both warnings, the plan still prints
    assert plan["records"] is None and [w.split(" ")[0] for w in _besides_vllm(plan["warnings"])] == ["model.path", "data.path"]
    assert "does not exist yet (it is the model a training run writes into runs/vision_r1_7b/sft)" in _besides_vllm(plan["warnings"])[0]
    # per stage: prompts, completions, tokens sampled, updates per rollout batch (one process: 1/8 of the 8-GPU batch)
    assert [(s["prompts_per_step"], s["completions_per_step"], s["tokens_sampled_per_step"], s["updates_per_rollout_batch"])
            for s in plan["stages"]] == [(16, 256, 256 * 4096, 4), (16, 128, 128 * 8192, 4)]
    table = result.stderr
    for line in ("updates per rollout batch", "prompts per step", "completions per step", "tokens sampled per step",
                 "tokens sampled per step match across stages (ptst.matched_compute: true)"):
        assert line in table, line
    assert "1.049M" in table and "optional stages left out" in table


def test_dry_run_warns_when_sft_and_grpo_prompt_forms_differ(records_path, cold_path, tmp_path):
    from visionr1.train.grpo import plan_grpo

    # cold_path's user turns are in the r1 form (conftest.write_cold); the 7B recipe asks in the raw form
    cfg = _7b("grpo", tmp_path, records_path)
    plan = plan_grpo(cfg, world_size=8, sft=cold_path)
    assert plan["sft_prompt_form"]["form"] == "r1" and plan["sft_prompt_form"]["forms"] == {"r1": 8}
    assert any("SFT trained on the r1 prompt form" in w and "set data.user_template=r1" in w for w in plan["warnings"])
    assert not _besides_setup(plan_grpo(_7b("grpo", tmp_path, records_path, "data.user_template=r1"), world_size=8,
                                        sft=cold_path)["warnings"])
    # an SFT run folder says it in summary.json; model.path = that run's final/ is found without --sft
    run = tmp_path / "sft"
    (run / "final").mkdir(parents=True)
    (run / "final" / "config.json").write_text("{}")
    (run / "summary.json").write_text(json.dumps({"prompt_form": "raw", "prompt_forms": {"raw": 5}}))
    found = plan_grpo(_7b("grpo", tmp_path, records_path, f"model.path={run / 'final'}", "data.user_template=null"), world_size=8)
    assert found["sft_prompt_form"]["form"] == "raw" and any("GRPO asks in the r1 form" in w for w in found["warnings"])
    # an SFT config: its data file's user turns are read
    sft_yaml = tmp_path / "sft.yaml"
    sft_yaml.write_text(f"data: {{path: {cold_path}}}\n")
    assert plan_grpo(cfg, world_size=8, sft=sft_yaml)["sft_prompt_form"]["form"] == "r1"
    with pytest.raises(ConfigError, match="not an SFT run folder"):
        plan_grpo(cfg, world_size=8, sft=tmp_path)
    cli = CliRunner().invoke(app, ["grpo", "--config", str(REPO / "recipes/vision_r1_7b/grpo.yaml"), "--dry-run",
                                   "--world-size", "8", "--sft", str(cold_path), NO_MODEL, f"data.path={records_path}",
                                   f"run_dir={tmp_path / 'run'}"])
    assert cli.exit_code == 0 and "warning:" in cli.stderr and "SFT trained on the r1 prompt form" in cli.stderr


def test_counted_tokens_are_what_the_trainers_feed_the_model(tiny_model_dir, cold_path, records_path, tmp_path):
    from visionr1.train.common import load_processor
    from visionr1.train.data import build_grpo_dataset, build_sft_dataset, length_summary, token_lengths
    from visionr1.train.sft import VisionR1SFTTrainer, sft_args

    cfg = load_config(SFTRunConfig, REPO / "recipes/tiny_cpu/sft.yaml",
                      [f"model.path={tiny_model_dir}", f"data.path={cold_path}", f"run_dir={tmp_path / 'sft'}"])
    processor = load_processor(cfg.model)
    dataset = build_sft_dataset(cfg.data)
    counted = token_lengths(dataset, processor, "messages")
    trainer = VisionR1SFTTrainer(model=cfg.model.path, args=sft_args(cfg), processing_class=processor, train_dataset=dataset)
    fed = [int(trainer.data_collator([row])["attention_mask"].sum()) for row in dataset]
    assert [n for _, n in counted] == fed and len(set(fed)) > 1  # images of three sizes
    summary = length_summary(counted, limit=sorted(fed)[-2])
    assert summary["max"] == max(fed) and summary["over_limit"] == fed.count(max(fed))

    grpo = load_config(GRPORunConfig, REPO / "recipes/tiny_cpu/grpo.yaml",
                       [f"model.path={tiny_model_dir}", f"data.path={records_path}", f"run_dir={tmp_path / 'grpo'}"])
    left = load_processor(grpo.model, padding_side="left")
    prompts = build_grpo_dataset(grpo.data)
    from trl.data_utils import prepare_multimodal_messages

    for (rid, n), row in zip(token_lengths(prompts, left, "prompt", generation_prompt=True), prompts):
        text = left.apply_chat_template(prepare_multimodal_messages(row["prompt"], images=row["images"]),
                                        tokenize=False, add_generation_prompt=True)
        assert n == left(text=[text], images=row["images"], return_tensors="pt")["input_ids"].shape[1], rid


def test_dry_run_counts_tokens_only_when_asked(tiny_model_dir, records_path, tmp_path):
    args = ["grpo", "--config", str(REPO / "recipes/tiny_cpu/grpo.yaml"), "--dry-run", f"model.path={tiny_model_dir}",
            f"data.path={records_path}", f"run_dir={tmp_path / 'run'}"]
    plan = json.loads(CliRunner().invoke(app, [*args[:4], "--count-tokens", *args[4:]]).stdout)
    assert plan["prompt_tokens"]["max"] > 0
    assert [s["longest_sequence"] for s in plan["stages"]] == [plan["prompt_tokens"]["max"] + s["max_completion_length"]
                                                              for s in plan["stages"]]
    assert "prompt_tokens" not in json.loads(CliRunner().invoke(app, args).stdout)
    alone = CliRunner().invoke(app, [a for a in args if a != "--dry-run"] + ["--count-tokens"])
    assert alone.exit_code != 0 and "--count-tokens goes with --dry-run" in alone.output


def test_image_sizes_from_headers_follow_the_exif_orientation(tmp_path):
    from datasets import Dataset as HFDataset
    from datasets import Features, Image, List
    from PIL import Image as PILImage

    from visionr1.train.data import _image_size

    img = PILImage.new("RGB", (60, 20))
    exif = img.getexif()
    exif[PILImage.ExifTags.Base.Orientation] = 6  # stored 60 wide, shown rotated: 20 wide, 60 high
    img.save(tmp_path / "r.jpg", exif=exif)
    ds = HFDataset.from_list([{"images": [str(tmp_path / "r.jpg")]}], features=Features({"images": List(Image())}))
    decoded = ds[0]["images"][0]
    header = ds.cast_column("images", List(Image(decode=False)))[0]["images"][0]
    assert _image_size(header) == (decoded.height, decoded.width) == (60, 20)


# ----------------------------------------------------------------------------- what a new user hits (issue 22)


def _dry(kind, *args):
    res = CliRunner().invoke(app, [kind, "--config", str(REPO / f"recipes/tiny_cpu/{kind}.yaml"), "--dry-run", *args])
    return res, " ".join(res.output.split())


@pytest.mark.parametrize("override,said", [
    ("trainer.num_train_epochs=abc", "trainer.num_train_epochs='abc': expected a number"),
    ("trainer.per_device_train_batch_size=abc", "trainer.per_device_train_batch_size='abc': expected an integer"),
])
def test_dry_run_refuses_a_trainer_value_the_run_would_crash_on(cold_path, tiny_model_dir, tmp_path, override, said):
    res, text = _dry("sft", f"model.path={tiny_model_dir}", f"data.path={cold_path}", f"run_dir={tmp_path / 'r'}", override)
    assert res.exit_code == 2 and said in text and "Traceback" not in text


def test_dry_run_checks_the_model_path(cold_path, tiny_model_dir, tmp_path):
    common = [f"data.path={cold_path}", f"run_dir={tmp_path / 'r'}"]
    res, text = _dry("sft", f"model.path={tmp_path / 'nope' / 'model'}", *common)
    assert res.exit_code == 2 and f"model.path {tmp_path / 'nope' / 'model'} does not exist" in text
    (tmp_path / "runs" / "tiny-model").mkdir(parents=True)
    res, text = _dry("sft", f"model.path={tmp_path / 'runs' / 'tiny-modle'}", *common)  # a typo, not a hub id
    assert res.exit_code == 2 and "does not exist" in text and "holds: tiny-model" in text
    res, text = _dry("sft", "model.path=some-org/not-downloaded-vl", *common)
    assert res.exit_code == 0 and "warning: model.path 'some-org/not-downloaded-vl' is not a local folder" in text
    assert "nothing can be downloaded" in text
    # a recipe's next stage names the model an earlier run will write: its plan prints with a warning
    res, text = _dry("sft", f"model.path={tmp_path / 'runs' / 'sft' / 'final'}", *common)
    assert res.exit_code == 0 and "does not exist yet (it is the model a training run writes into" in text
    (tmp_path / "runs" / "notes").mkdir()
    res, text = _dry("sft", f"model.path={tmp_path / 'runs' / 'notes' / 'final'}", *common)  # not a run: a typo
    assert res.exit_code == 2 and "does not exist" in text
    res, text = _dry("sft", f"model.path={tiny_model_dir}", *common)
    assert res.exit_code == 0 and "warning:" not in text and json.loads(res.stdout)["warnings"] == []


def test_dry_run_refuses_a_run_dir_that_holds_something_else(records_path, tiny_model_dir, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("x")
    args = [f"model.path={tiny_model_dir}", f"data.path={records_path}", f"run_dir={mine}"]
    res, text = _dry("grpo", *args)
    assert res.exit_code == 2 and "notes.txt" in text and "--force" in text
    assert _dry("grpo", *args, "--force")[0].exit_code == 0
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]  # a plan writes nothing


def test_dry_run_takes_a_stage_override_by_index(records_path, tiny_model_dir, tmp_path):
    res = CliRunner().invoke(app, ["grpo", "--config", str(REPO / "recipes/tiny_cpu/grpo.yaml"), "--dry-run",
                                   f"model.path={tiny_model_dir}", f"data.path={records_path}", f"run_dir={tmp_path / 'r'}",
                                   "ptst.stages.0.steps=2", "ptst.stages[1].steps=5"])
    assert res.exit_code == 0, res.output
    assert [s["steps"] for s in json.loads(res.stdout)["stages"]] == [2, 5]


def test_bad_items_are_refused_unless_skip_bad(tmp_path, tiny_model_dir, cold_path, records_path):
    import shutil

    shutil.copytree(cold_path.parent, tmp_path / "cold")
    cold = tmp_path / "cold" / "cold.jsonl"
    cold.write_text(cold.read_text() + '{"id": "broken", "messages": []}\n')
    args = [f"model.path={tiny_model_dir}", f"data.path={cold}", f"run_dir={tmp_path / 'r'}"]
    res, text = _dry("sft", *args)
    assert res.exit_code == 2 and "1 bad item(s) (8 good)" in text and "broken" in text and "--skip-bad" in text
    res, text = _dry("sft", *args, "--skip-bad")
    assert res.exit_code == 0 and json.loads(res.stdout)["examples"] == 8


def test_sft_plan_counts_prompt_forms(cold_path, tmp_path):
    from visionr1.train.data import sft_prompt_forms
    from visionr1.train.sft import plan_sft

    assert plan_sft(_7b("sft", tmp_path, cold_path), world_size=8)["prompt_forms"] == {"r1": 8}
    # a ShareGPT file in Vision-R1-cold's layout: the source questions, no format instruction
    share = tmp_path / "cold.json"
    share.write_text(json.dumps([{"conversations": [{"from": "human", "value": "<image>Find x.\nChoices:\nA: 2\nB: 3"},
                                                    {"from": "gpt", "value": "<think>x</think><answer> Final Answer:A </answer>"}],
                                  "image": "a.png"}] * 3))
    assert sft_prompt_forms(share) == {"raw": 3}


def test_dry_runs_name_a_question_no_benchmark_has_and_examples_cut_at_max_length(tmp_path, tiny_model_dir):
    """Issue 33 item 14: a 10 MB question passed bridge and grpo --dry-run with no warning, and sft --count-tokens
    counted it over the limit but said nothing in its warnings."""
    from visionr1.data import Record, write_jsonl
    from visionr1.r1 import render_user_prompt

    from .conftest import write_cold, write_records

    data = write_records(tmp_path / "rec", n=4)
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    rows[1]["question"] = "Read this. " + "word " * 8_000  # 40,011 characters
    write_jsonl(data, [Record.from_dict(r) for r in rows])
    grpo = CliRunner().invoke(app, ["grpo", "--config", str(REPO / "recipes/tiny_cpu/grpo.yaml"), "--dry-run",
                                    f"model.path={tiny_model_dir}", f"data.path={data}", f"run_dir={tmp_path / 'g'}"])
    assert grpo.exit_code == 0, grpo.output
    (warning,) = json.loads(grpo.stdout)["warnings"]
    assert warning.startswith("1 item(s) have a question over 16,000 characters") and "r1 (40,1" in warning
    bridge = CliRunner().invoke(app, ["bridge", "--input", str(data), "--out", str(tmp_path / "b"), "--teacher",
                                      "template", "--dry-run"])
    assert bridge.exit_code == 0 and "1 item(s) have a question over 16,000 characters" in " ".join(bridge.output.split())

    cold = write_cold(tmp_path / "cold", n=3)
    lines = [json.loads(line) for line in cold.read_text().splitlines()]
    lines[2]["messages"][0]["content"][1]["text"] = render_user_prompt("Read this. " + "word " * 8_000)
    cold.write_text("".join(json.dumps(x) + "\n" for x in lines))
    sft = CliRunner().invoke(app, ["sft", "--config", str(REPO / "recipes/tiny_cpu/sft.yaml"), "--dry-run", "--count-tokens",
                                   f"model.path={tiny_model_dir}", f"data.path={cold}", f"run_dir={tmp_path / 's'}",
                                   "trainer.max_length=512"])
    assert sft.exit_code == 0, sft.output
    plan = json.loads(sft.stdout)
    assert plan["tokens"]["over_limit"] == 1
    long, cut = plan["warnings"]
    assert "c2 (40," in long
    assert cut.startswith("1 example(s) are longer than trainer.max_length=512 tokens and would be cut") and "c2" in cut
