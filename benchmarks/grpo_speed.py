"""GRPO speed: vanilla TRL GRPOTrainer vs visionr1's GRPO (shared vision encoding + shared prefill).

Same model, data, seed and settings; the two variants alternate, each run in its own subprocess (so peak
memory is per variant), and the first ``--warmup`` steps of every run are discarded. Prints, per
variant: median seconds/step, generated tokens/s, median non-generation seconds/step, peak memory, and
the ratios ours/vanilla.

    .venv/bin/python benchmarks/grpo_speed.py                      # tiny model, CPU
    python benchmarks/grpo_speed.py --shape 3b --image-size 448 --num-generations 8 --completion-length 256 \
        --steps 8 --rounds 2                                       # GPU, 3B-shaped random Qwen2.5-VL
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path

SHAPES = {
    "tiny": {},
    # the 3B's vocabulary and image sizes with tiny layers: checks the large-shape path end to end on CPU
    "smoke": dict(vocab_size=151936, hidden_size=256, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  intermediate_size=512, vision_depth=2, vision_hidden_size=128, vision_heads=2,
                  vision_intermediate_size=256, min_pixels=3136, max_pixels=1003520),
    # Qwen2.5-VL-3B-Instruct's published dimensions (random weights here).
    "3b": dict(vocab_size=151936, hidden_size=2048, num_hidden_layers=36, num_attention_heads=16, num_key_value_heads=2,
               intermediate_size=11008, vision_depth=32, vision_hidden_size=1280, vision_heads=16,
               vision_intermediate_size=3420, min_pixels=3136, max_pixels=1003520),
}


def _one_run(args) -> dict:
    import torch
    from datasets import Dataset
    from PIL import Image
    from transformers import AutoProcessor, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from visionr1.data import read_jsonl
    from visionr1.grading import get_hard_format_result_reward
    from visionr1.models.shared_prefill import find_generator
    from visionr1.models.shared_vision import find_vision_owner
    from visionr1.train.speedups import SpeedSettings, apply_speedups

    cuda = torch.cuda.is_available()
    profiling = bool(args.profile_out) and (args.variant == "ours" or args.profile_vanilla)
    work = Path(args.work)
    model_dir = work / f"model-{args.shape}"
    data = read_jsonl(work / "data" / "train.jsonl").raise_if_errors()
    rows = []
    for rec in data.records:
        rows.append({"prompt": [{"role": "user", "content": rec.question}], "answer": rec.answer,
                     "images": [Image.open(p).convert("RGB") for p in data.image_paths(rec)]})
    ds = Dataset.from_list(rows)
    processor = AutoProcessor.from_pretrained(model_dir, padding_side="left")  # TRL left-pads prompts
    cfg = GRPOConfig(
        output_dir=str(work / f"out-{args.variant}"), max_steps=args.steps + profiling, per_device_train_batch_size=args.prompts * args.num_generations,
        num_generations=args.num_generations, max_completion_length=args.completion_length, learning_rate=1e-6,
        beta=0.01, logging_steps=1, save_strategy="no", report_to="none", use_cpu=not cuda, bf16=cuda,
        seed=args.seed, temperature=1.0, gradient_checkpointing=args.gradient_checkpointing,
        model_init_kwargs={"dtype": "bfloat16" if cuda else "float32"},
    )
    trainer = GRPOTrainer(model=str(model_dir), reward_funcs=get_hard_format_result_reward(), args=cfg,
                          train_dataset=ds, processing_class=processor)
    off = {name: False for name in (args.speed_off or "").split(",") if name}
    handles = apply_speedups(trainer, SpeedSettings(decode=args.decode, **off)) if args.variant == "ours" else {}

    timing = {"gen": 0.0, "tokens": 0}
    module = find_generator(trainer.model)
    inner_generate = module.__dict__.get("generate") or type(module).generate.__get__(module)
    pad = processor.tokenizer.pad_token_id

    def timed_generate(*a, **kw):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = inner_generate(*a, **kw)
        if cuda:
            torch.cuda.synchronize()
        timing["gen"] += time.perf_counter() - t0
        start_profile()  # in the profiled step: everything after generation (a decode loop is ~10^5 events)
        seqs = out if torch.is_tensor(out) else out.sequences
        timing["tokens"] += int((seqs[:, kw["input_ids"].shape[1]:] != pad).sum())
        timing["prompt_len"] = kw["input_ids"].shape[1]
        return out

    module.generate = timed_generate

    # where the non-generation time goes (synchronised wall time per step; the same probes in both variants)
    def probe(owner, name, key):
        inner = getattr(owner, name)

        def timed(*a, **kw):
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                if cuda:
                    torch.cuda.synchronize()
                timing[key] = timing.get(key, 0.0) + time.perf_counter() - t0

        setattr(owner, name, timed)

    probe(trainer, "_generate_and_score_completions", "rollout")  # generation + processor + reference log-probs + rewards
    probe(trainer, "_get_per_token_logps_and_entropies", "logps")  # every log-prob forward (reference and policy)
    probe(trainer, "compute_loss", "loss")  # policy forward + loss
    probe(trainer.accelerator, "backward", "backward")
    steps = []

    profile_at = args.steps if profiling else -1  # one more step after the timed ones, not timed itself
    prof = None

    # in the profile, the vision tower's and the language model's calls as labelled ranges (both variants)
    def label(module: torch.nn.Module, name: str) -> None:
        ranges = []

        def enter(*_):
            if prof is not None:
                ranges.append(torch.profiler.record_function(name))
                ranges[-1].__enter__()

        def leave(*_):
            if ranges:
                ranges.pop().__exit__(None, None, None)

        module.register_forward_pre_hook(enter)
        module.register_forward_hook(leave)

    if profiling:
        for tag, model in (("policy", trainer.model), ("reference", getattr(trainer, "ref_model", None))):
            if model is not None:
                owner = find_vision_owner(model)
                label(owner.visual, f"{tag}.vision_tower")
                label(owner.language_model, f"{tag}.language_model")

    def start_profile() -> None:
        nonlocal prof
        if prof is None and len(steps) == profile_at:
            acts = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
            prof = torch.profiler.profile(activities=acts)
            prof.__enter__()

    class StepTimer(TrainerCallback):
        def on_step_begin(self, *_, **__):
            timing.clear()
            timing.update(gen=0.0, tokens=0)
            if cuda:
                torch.cuda.synchronize()
            self.t0 = time.perf_counter()

        def on_step_end(self, *_, **__):
            if cuda:
                torch.cuda.synchronize()
            if prof is not None and len(steps) == profile_at:
                prof.__exit__(None, None, None)
                sort = "cuda_time_total" if cuda else "cpu_time_total"
                events = prof.key_averages()
                kernels = [e for e in events if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA]
                busy = sum(getattr(e, "self_device_time_total", 0) for e in kernels) / 1e6
                head = (f"{args.variant}, G={args.num_generations}: profiled from the end of generation to the end of the step, "
                        f"{time.perf_counter() - self.t0 - timing['gen']:.3f} s wall (profiler on); GPU kernels: {sum(e.count for e in kernels)} "
                        f"launches, {busy:.3f} s busy\n")
                table = head + events.table(sort_by=sort, row_limit=60, max_name_column_width=70)
                Path(args.profile_out).mkdir(parents=True, exist_ok=True)
                (Path(args.profile_out) / f"profile-{args.variant}-g{args.num_generations}.txt").write_text(table)
                return
            steps.append({"step_s": time.perf_counter() - self.t0, "gen_s": timing["gen"], "tokens": timing["tokens"],
                          "prompt_len": timing.get("prompt_len"),
                          "parts_s": {k: v for k, v in timing.items() if k not in ("gen", "tokens", "prompt_len")}})

    trainer.add_callback(StepTimer())
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    import resource

    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"variant": args.variant, "steps": steps[args.warmup:], "speedups": {k: dict(h.stats) for k, h in handles.items()}, "peak_gib": peak, "device": torch.cuda.get_device_name() if cuda else "cpu"}


def _build(args) -> None:
    """Build the random model once for all runs. Large shapes: initialised on the GPU in bf16, not cached."""
    from contextlib import nullcontext

    import torch

    from visionr1.models.tiny import TinyModelSpec, build_tiny_model

    big = args.shape != "tiny"
    if big:
        torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda") if big and torch.cuda.is_available() else nullcontext():
        build_tiny_model(Path(args.work) / f"model-{args.shape}", seed=0, spec=TinyModelSpec(**SHAPES[args.shape]),
                         use_cache=not big)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--num-generations", type=int, default=8)
    ap.add_argument("--prompts", type=int, default=2, help="distinct prompts per step")
    ap.add_argument("--completion-length", type=int, default=32)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="alternating vanilla/ours runs per variant")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--decode", default="auto", help="visionr1's decoding: auto (compiled on CUDA), dynamic, static, compiled")
    ap.add_argument("--gradient-checkpointing", action="store_true", help="both variants with gradient checkpointing (TRL's default; off here by default)")
    ap.add_argument("--json-summary", help="also write the figures and every timed step here")
    ap.add_argument("--profile-out", help="visionr1's run: profile one more step after the timed ones, from the end of its generation (torch.profiler; not timed), and write its table into this folder")
    ap.add_argument("--profile-vanilla", action="store_true", help="with --profile-out, profile vanilla's run too (its vision tower makes ~10^6 events)")
    ap.add_argument("--speed-off", help="visionr1 speed-ups to turn off, comma-separated (e.g. shared_prefix,pixel_store)")
    ap.add_argument("--variant", choices=["build", "vanilla", "ours"], help=argparse.SUPPRESS)
    ap.add_argument("--work", help="work folder (data, built model) kept between invocations; default: a temporary one")
    ap.add_argument("--json-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.speed_off:  # checked here, not after vanilla's run has spent its time
        from dataclasses import fields

        from visionr1.train.config import SpeedSettings

        known = {f.name for f in fields(SpeedSettings) if f.type in (bool, "bool")}
        unknown = [name for name in args.speed_off.split(",") if name and name not in known]
        if unknown:
            ap.error(f"--speed-off: unknown speed-up {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    if args.variant == "build":
        _build(args)
        return
    if args.variant:
        Path(args.json_out).write_text(json.dumps(_one_run(args)))
        return

    from visionr1.data.synth import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp  # --work DIR keeps the built model for the next invocation
        data = Path(work) / "data"
        if data.exists():
            shutil.rmtree(data)
        synthesize(data, n=max(8, args.prompts * (args.steps + 1)), seed=args.seed, image_size=args.image_size)
        if not (Path(work) / f"model-{args.shape}" / "config.json").exists():
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--variant", "build", "--work", work, "--shape", args.shape],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if proc.returncode != 0:
                sys.exit(f"model build failed:\n{proc.stderr[-4000:]}")
            print(f"model ({args.shape}) built in {time.perf_counter() - t0:.0f}s", flush=True)
        results: dict[str, list[dict]] = {"vanilla": [], "ours": []}
        peaks: dict[str, list[float]] = {"vanilla": [], "ours": []}
        recompiles: dict[str, list[str]] = {"vanilla": [], "ours": []}
        for r in range(args.rounds):
            for variant in ("vanilla", "ours"):
                out = Path(work) / f"{variant}-{r}.json"
                cmd = [sys.executable, __file__, "--variant", variant, "--work", work, "--json-out", str(out)]
                for k in ("shape", "image_size", "num_generations", "prompts", "completion_length", "steps", "warmup", "seed", "decode",
                          "profile_out", "speed_off"):
                    if getattr(args, k) is not None:
                        cmd += [f"--{k.replace('_', '-')}", str(getattr(args, k))]
                cmd += [f"--{flag.replace('_', '-')}" for flag in ("gradient_checkpointing", "profile_vanilla") if getattr(args, flag)]
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, env={**os.environ, "TOKENIZERS_PARALLELISM": "false", "TORCH_LOGS": "recompiles"},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if proc.returncode != 0:
                    sys.exit(f"{variant} run {r} failed:\n{proc.stderr[-4000:]}")
                res = json.loads(out.read_text())
                recompiles[variant] += [line for line in proc.stderr.splitlines() if "ecompil" in line][:20]
                if res["speedups"]:
                    print(f"  speed-up counters: {res['speedups']}", flush=True)
                results[variant] += res["steps"]
                peaks[variant].append(res["peak_gib"])
                device = res["device"]
                print(f"round {r} {variant:7s}: {len(res['steps'])} timed steps in {time.perf_counter() - t0:.0f}s ({device}); "
                      f"step s {[round(x['step_s'], 2) for x in res['steps']]}, generation s {[round(x['gen_s'], 2) for x in res['steps']]}, "
                      f"prompt tokens {[x['prompt_len'] for x in res['steps']]}",
                      flush=True)

    def summary(v: str) -> dict[str, float]:
        s = results[v]
        return {"step_s": statistics.median(x["step_s"] for x in s),
                "nongen_s": statistics.median(x["step_s"] - x["gen_s"] for x in s),
                "gen_tok_s": sum(x["tokens"] for x in s) / max(sum(x["gen_s"] for x in s), 1e-9),
                "peak_gib": max(peaks[v]),
                **{f"{k}_s": statistics.median(x["parts_s"].get(k, 0.0) for x in s) for k in ("rollout", "logps", "loss", "backward")}}

    van, ours = summary("vanilla"), summary("ours")
    print(f"\nGRPO speed, shape={args.shape}, {args.image_size}px, G={args.num_generations}, {args.prompts} prompts/step, "
          f"{args.completion_length}-token completions, {args.steps} steps x {args.rounds} rounds (first {args.warmup} dropped), decode={args.decode}"
          f"{', gradient checkpointing' if args.gradient_checkpointing else ''}"
          f"{f', visionr1 without {args.speed_off}' if args.speed_off else ''}")
    print(f"{'':22s}{'vanilla TRL':>14s}{'visionr1':>14s}{'ratio':>10s}")
    rows = [("s/step (median)", "step_s", True), ("non-gen s/step", "nongen_s", True),
            ("generated tok/s", "gen_tok_s", False), ("peak mem (GiB)", "peak_gib", True),
            ("  rollout s (incl. gen)", "rollout_s", True), ("  log-prob passes s", "logps_s", True),
            ("  loss s (policy fwd)", "loss_s", True), ("  backward s", "backward_s", True)]
    for label, key, lower_better in rows:
        ratio = van[key] / ours[key] if lower_better else ours[key] / van[key]
        print(f"{label:22s}{van[key]:14.3f}{ours[key]:14.3f}{ratio:9.2f}x")
    print("(ratio > 1 means visionr1 is better; peak memory is the process RSS on CPU, allocated GPU memory on CUDA)")
    if args.json_summary:
        Path(args.json_summary).write_text(json.dumps({"args": vars(args), "device": device, "vanilla": van, "ours": ours,
                                                       "steps": results, "recompiles": recompiles}, indent=1))
    for v in ("vanilla", "ours"):
        if recompiles[v]:
            print(f"{v}: torch.compile recompiled:", *recompiles[v][:5], sep="\n  ")


if __name__ == "__main__":
    main()
