"""Seconds per training step of the demo's three training stages, CPU tuning on vs off, and what binds a step.

Builds the demo's inputs once (``visionr1 demo``'s data, bridge, tiny model, warm-up rows and cold-start mix, seed 0,
from ``src/visionr1/demo/recipes``), then, in a fresh subprocess per run, trains a few steps of each stage with
the demo's own recipes, one stage after the other in one process as the demo does: warm-up (``run_sft`` on
warmup.yaml), cold-start SFT (``run_sft`` on sft.yaml, from the tiny model) and GRPO (``run_grpo`` on grpo.yaml's
first PTST stage, from the tiny model: a random model's samples run to the stage's budget, so a GRPO step here is
among the demo's longest). Validation is left out (the demo's eval does that work). Per step: wall seconds
(``metrics.jsonl``'s ``step_seconds``), the process's CPU seconds and minor page faults over the same bracket; the
first step of each stage is dropped. Runs alternate tuning off / on (``VISIONR1_CPU_TUNING=0`` / ``1``,
:func:`visionr1.models.cpu.tune_cpu`), so a neighbour's load on a shared machine falls on both; on a busy machine
the CPU seconds are the steadier figure. Then a torch.profiler of one warm-up step (tuning off, after one step)
prints its top operators by self CPU time. Figures are printed, never asserted.

    .venv/bin/python benchmarks/demo_step_profile.py [--steps 3] [--rounds 2] [--threads N] [--work /tmp/demo-steps]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
STAGES = ("warm-up", "sft", "grpo")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} CPUs"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def prepare(work: Path, seed: int = 0) -> None:
    """The demo's inputs for ``seed``, as ``visionr1 demo`` makes them (synth, bridge, tiny model, warm-up rows,
    cold-start mix); kept in ``work`` and reused."""
    if (work / "ready").is_file():
        return
    from visionr1.bridge.config import BridgeConfig
    from visionr1.bridge.run import run_bridge
    from visionr1.config import from_dict
    from visionr1.data.synth import synthesize
    from visionr1.demo import RECIPES, load_demo_config, write_cold_start_mix, write_warmup_data
    from visionr1.models.tiny import build_tiny_model

    cfg = load_demo_config(RECIPES, quick=False)
    d = cfg.data
    data = work / "data"
    synthesize(data, n=d.n_train, seed=seed, tasks=d.tasks, split_test=d.n_test, split_val=d.n_val,
               image_size=d.image_size, difficulty=d.difficulty)
    bridge = run_bridge(from_dict(BridgeConfig, {
        "input": str(data / "train.jsonl"), "out": str(work / "bridge"), "teacher": "template", "limit": d.cold_start,
        "template": {"seed": seed, "brief": d.brief_cots},
        "filters": {"min_reasoning_words": d.min_reasoning_words}, "progress": False, "images": "link"}))
    build_tiny_model(work / "tiny-model", seed=seed, spec=cfg.model.spec(d.image_size))
    write_warmup_data(data / "train.jsonl", data / "warmup.jsonl", describe=d.warmup_describe, skills=d.warmup_skills)
    write_cold_start_mix(work / "bridge" / "cold.jsonl", data / "warmup.jsonl", work / "cold_start.jsonl",
                         d.sft_replay, seed=seed, r1_form=bridge["answer_form"] if d.sft_replay_r1 else None)
    (work / "ready").write_text("")


def stage_config(work: Path, stage: str, steps: int, run_dir: Path):
    """The demo recipe of ``stage`` for ``steps`` optimizer steps into ``run_dir``, without validation."""
    from visionr1.config import load_config
    from visionr1.demo import RECIPES
    from visionr1.train import GRPORunConfig, SFTRunConfig

    model = work / "tiny-model"
    common = [f"run_dir={run_dir}", f"model.path={model}", "resume=false", "validation=null",
              "checkpoint_selection=last"]
    if stage == "warm-up":
        return load_config(SFTRunConfig, RECIPES / "warmup.yaml",
                           [*common, f"data.path={work / 'data' / 'warmup.jsonl'}", f"trainer.max_steps={steps}"])
    if stage == "sft":
        return load_config(SFTRunConfig, RECIPES / "sft.yaml",
                           [*common, f"data.path={work / 'cold_start.jsonl'}", f"trainer.max_steps={steps}"])
    from visionr1.config import load_yaml

    first = load_yaml(RECIPES / "grpo.yaml")["ptst"]["stages"][0]
    return load_config(GRPORunConfig, RECIPES / "grpo.yaml", [
        *common, f"data.path={work / 'data' / 'train.jsonl'}",
        f"ptst.stages=[{{max_completion_length: {first['max_completion_length']}, "
        f"num_generations: {first['num_generations']}, steps: {steps}}}]"])


def child(work: Path, steps: int, out: Path, stages: list[str], threads: int | None) -> None:
    """Train ``steps`` steps of each stage in this process, one after the other as the demo does; write each step's
    wall and CPU seconds, the page faults and the peak RSS to ``out``."""
    import resource
    import shutil
    import time

    import torch

    from visionr1.train import grpo, run_grpo, run_sft, sft
    from visionr1.train.command import quiet_libraries
    from visionr1.train.metrics import MetricsCallback, read_metrics

    if threads:
        torch.set_num_threads(threads)
    cpu: list[float] = []
    faults: list[int] = []

    class CPUTimed(MetricsCallback):  # the same bracket as step_seconds, in process CPU time
        def on_step_begin(self, args, state, control, **kwargs):
            self._c0, self._f0 = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            return super().on_step_begin(args, state, control, **kwargs)

        def on_step_end(self, args, state, control, **kwargs):
            cpu.append(time.process_time() - self._c0)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - self._f0)
            return super().on_step_end(args, state, control, **kwargs)

    sft.MetricsCallback = grpo.MetricsCallback = CPUTimed
    quiet_libraries()
    result = {}
    for stage in stages:
        run_dir = out.parent / f"{out.stem}-{stage}"
        shutil.rmtree(run_dir, ignore_errors=True)
        cfg = stage_config(work, stage, steps, run_dir)
        cpu.clear()
        faults.clear()
        (run_grpo if stage == "grpo" else run_sft)(cfg)
        result[stage] = {"step_seconds": [r["step_seconds"] for r in read_metrics(run_dir)], "cpu_seconds": list(cpu),
                         "minor_faults": list(faults)}
        shutil.rmtree(run_dir, ignore_errors=True)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result))


def profile_child(work: Path, out: Path, rows: int) -> None:
    """torch.profiler of the second warm-up step (the first one warms up); prints its top operators."""
    import shutil

    import torch
    from torch.profiler import ProfilerActivity, profile

    from visionr1.train import run_sft
    from visionr1.train.command import quiet_libraries
    from visionr1.train.sft import VisionR1SFTTrainer

    quiet_libraries()
    calls, stock = [0], VisionR1SFTTrainer.training_step

    def training_step(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] != 2:
            return stock(self, *args, **kwargs)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            loss = stock(self, *args, **kwargs)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=44))
        return loss

    VisionR1SFTTrainer.training_step = training_step
    run_dir = out.parent / f"{out.stem}-profile"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_sft(stage_config(work, "warm-up", 2, run_dir))
    shutil.rmtree(run_dir, ignore_errors=True)
    print(f"threads: torch {torch.get_num_threads()}")


def summarize(runs: dict[str, list[dict]], stages: list[str], steps: int, rounds: int) -> None:
    """Per stage, tuning off against on: the median wall and CPU seconds per step and page faults per step."""
    print(f"\nper step: median over {steps} steps x {rounds} runs (the first step of each stage dropped), "
          "[min-max] for wall time; CPU = the process's user+system seconds; faults = minor page faults")
    print(f"{'stage':8} {'wall off':>20} {'wall on':>20} {'on/off':>6} {'CPU off':>8} {'CPU on':>8} {'on/off':>6} "
          f"{'faults off':>10} {'faults on':>10}")
    for stage in stages:
        row = {}
        for tuning in ("off", "on"):
            for key in ("step_seconds", "cpu_seconds", "minor_faults"):
                values = [v for run in runs[tuning] for v in run[stage][key][1:] if v is not None]
                row[tuning, key] = (statistics.median(values), min(values), max(values))
        wall = {t: "{:.2f} [{:.2f}-{:.2f}]".format(*row[t, "step_seconds"]) for t in ("off", "on")}
        ratio = {k: row["on", k][0] / row["off", k][0] for k in ("step_seconds", "cpu_seconds")}
        print(f"{stage:8} {wall['off']:>20} {wall['on']:>20} {ratio['step_seconds']:6.2f} "
              f"{row['off', 'cpu_seconds'][0]:8.2f} {row['on', 'cpu_seconds'][0]:8.2f} {ratio['cpu_seconds']:6.2f} "
              f"{row['off', 'minor_faults'][0]:10.0f} {row['on', 'minor_faults'][0]:10.0f}")
    rss = {t: max(run["peak_rss_mb"] for run in runs[t]) for t in ("off", "on")}
    print(f"peak RSS of a run (all its stages): off {rss['off']:.0f} MB, on {rss['on']:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4, help="timed steps per stage (one more is run and dropped)")
    ap.add_argument("--rounds", type=int, default=2, help="off/on pairs of runs")
    ap.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES), help="training stages to time")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's, one per core)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/visionr1-demo-steps"), help="inputs and run folders")
    ap.add_argument("--profile-rows", type=int, default=20, help="operators shown from the warm-up step's profile (0: no profile)")
    ap.add_argument("--child", choices=["prepare", "steps", "profile"], help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    work = args.work
    if args.child == "prepare":
        return prepare(work)
    if args.child == "steps":
        return child(work, args.steps + 1, args.out, args.stages, args.threads)
    if args.child == "profile":
        return profile_child(work, args.out, args.profile_rows)

    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, __file__, "--child", "prepare", "--work", str(work)], check=True)
    print(f"CPU: {cpu_model()}")
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for r in range(args.rounds):
        for tuning in ("off", "on"):
            out = work / f"steps-{tuning}-{r}.json"
            env = {**os.environ, "VISIONR1_CPU_TUNING": "1" if tuning == "on" else "0"}
            subprocess.run([sys.executable, __file__, "--child", "steps", "--steps", str(args.steps), "--work", str(work),
                            "--out", str(out), "--stages", *args.stages,
                            *(["--threads", str(args.threads)] if args.threads else [])], check=True, env=env)
            runs[tuning].append(json.loads(out.read_text()))
    summarize(runs, args.stages, args.steps, args.rounds)
    if args.profile_rows:
        print("\ntorch.profiler, one warm-up step (tuning off), top operators by self CPU time:")
        env = {**os.environ, "VISIONR1_CPU_TUNING": "0"}
        subprocess.run([sys.executable, __file__, "--child", "profile", "--work", str(work), "--out",
                        str(work / "profile"), "--profile-rows", str(args.profile_rows)], check=True, env=env)


if __name__ == "__main__":
    main()
