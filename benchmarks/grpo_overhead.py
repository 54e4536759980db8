"""GRPO seconds/step: `visionr1 grpo` (tiny recipe shape) vs vanilla TRL GRPOTrainer, same model, data, settings.

Both runs use the tiny random-weight Qwen2.5-VL, the same records and prompts (`build_grpo_dataset`), the same
GRPOConfig values, and the same hard formatting result reward; ours adds the PTST stage callback, the metrics
callback, the truncation wrapper, and the format/accuracy rewards logged at weight 0. Step time is measured the
same way for both (MetricsCallback.step_seconds: optimizer-step wall time, generation included); the first
step (warm-up) is dropped. Figures are printed, never asserted.

    .venv/bin/python benchmarks/grpo_overhead.py [--steps 8] [--max-completion-length 32] [--num-generations 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--max-completion-length", type=int, default=32)
    ap.add_argument("--num-generations", type=int, default=4)
    ap.add_argument("--batch", type=int, default=8, help="per_device_train_batch_size (completions per step)")
    ap.add_argument("--records", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved vanilla/ours rounds (the machine may be shared)")
    args = ap.parse_args()

    import transformers
    from trl import GRPOTrainer

    transformers.logging.set_verbosity_error()
    from visionr1.config import from_dict
    from visionr1.data.synth import synthesize
    from visionr1.grading import get_hard_format_result_reward
    from visionr1.models.tiny import build_tiny_model
    from visionr1.train.common import load_processor
    from visionr1.train.config import GRPORunConfig
    from visionr1.train.data import build_grpo_dataset
    from visionr1.train.grpo import run_grpo, stage_args
    from visionr1.train.metrics import MetricsCallback, read_metrics

    tmp = Path(tempfile.mkdtemp(prefix="visionr1-bench-"))
    model = build_tiny_model(tmp / "model", seed=0)
    synthesize(tmp / "data", n=args.records, seed=0, image_size=112)
    trainer_cfg = {"use_cpu": True, "bf16": False, "per_device_train_batch_size": args.batch, "learning_rate": 1e-4,
                   "lr_scheduler_type": "constant", "save_steps": 10_000, "seed": 0, "beta": 0.01, "epsilon": 0.2,
                   "temperature": 1.0, "disable_tqdm": True}

    def cfg(run_dir):
        return from_dict(GRPORunConfig, {
            "run_dir": str(run_dir), "model": {"path": str(model)}, "data": {"path": str(tmp / "data" / "train.jsonl")},
            "ptst": {"stages": [{"max_completion_length": args.max_completion_length,
                                 "num_generations": args.num_generations, "steps": args.steps}]},
            "trainer": trainer_cfg, "samples": {"per_stage": 4}})

    def vanilla(run_dir):
        c = cfg(run_dir)
        targs = stage_args(c, 0)  # the identical GRPOConfig values
        targs.reward_weights = None
        trainer = GRPOTrainer(model=c.model.path, reward_funcs=get_hard_format_result_reward(), args=targs,
                              train_dataset=build_grpo_dataset(c.data), processing_class=load_processor(c.model, padding_side="left"),
                              callbacks=[MetricsCallback(run_dir)])
        trainer.train()

    def ours(run_dir):
        run_grpo(cfg(run_dir))

    results = {}
    for k in range(args.rounds):
        for name, fn in [("vanilla TRL GRPOTrainer", vanilla), ("visionr1 grpo", ours)]:
            name = f"{name} #{k + 1}"
            run_dir = tmp / name.replace(" ", "_").replace("#", "")
            t0 = time.perf_counter()
            fn(run_dir)
            wall = time.perf_counter() - t0
            secs = [r["step_seconds"] for r in read_metrics(run_dir)][1:]
            results[name] = (statistics.median(secs), statistics.mean(secs), wall)
    print(f"\ntiny Qwen2.5-VL, CPU threads={os.cpu_count()}, steps={args.steps} (first dropped), "
          f"G={args.num_generations}, max_completion_length={args.max_completion_length}, batch={args.batch}")
    print(f"{'run':34s} {'median s/step':>14s} {'mean s/step':>12s} {'wall s':>8s}")
    for name, (med, mean, wall) in results.items():
        print(f"{name:34s} {med:14.3f} {mean:12.3f} {wall:8.1f}")
    v = statistics.median([results[k][0] for k in results if k.startswith("vanilla")])
    o = statistics.median([results[k][0] for k in results if k.startswith("visionr1")])
    print(f"vanilla {v:.3f} s/step, ours {o:.3f} s/step (median over rounds of the per-run median); "
          f"overhead {o - v:+.3f} s/step ({100 * (o - v) / v:+.1f}%)")


if __name__ == "__main__":
    main()
