"""Run the full `visionr1 demo` on several seeds, one after another, and print the table the README shows.

    .venv/bin/python benchmarks/demo_seeds.py                        # seeds 0-4 into runs/demo-seeds/seed-N
    .venv/bin/python benchmarks/demo_seeds.py --seeds 3 --out /tmp/seeds
    .venv/bin/python benchmarks/demo_seeds.py --repeat 0             # also rerun seed 0 and compare the tables
    .venv/bin/python benchmarks/demo_seeds.py --jobs 2               # two seeds at a time, one thread each
    .venv/bin/python benchmarks/demo_seeds.py --reuse                # read seeds already finished in --out
    .venv/bin/python benchmarks/demo_seeds.py --recipes MY_RECIPES   # a copy of recipes/demo/ you changed
    .venv/bin/python benchmarks/demo_seeds.py --ablation --seeds 0 1 2   # also Zero and Long (demo --ablation)

Each seed is a fresh subprocess (its own peak RSS); the numbers come from each run's summary.json. The table
gives the base's direct answers on train-split questions (pairs it was trained on), then base (the
best-validating warm-up checkpoint, answering directly), cold-start SFT and RL test accuracy (held-out pairs), RL minus each, RL format, the GRPO reward rise (mean of the last 10 steps minus the first 10),
wall time and peak RSS; then the mean and the spread (min–max) over the seeds, and the machine it ran on; then each
seed's wall time per stage (summary.json's ``stages``).
``--jobs N`` runs N seeds at a time, each with ``OMP_NUM_THREADS`` = cores / N (faster in all; each seed's wall time
is then measured under contention, and the table says so). ``--ablation`` runs ``visionr1 demo --ablation`` and
also prints, per seed and variant (cold start only, PTST, Long, Zero), accuracy, format, mean tokens, truncation, the
share of wrong answers among long chains and the variant's wall seconds (summary.json's ``ablation``), then each
variant's mean and min–max over the seeds. ``--repeat S`` reruns seed S into a second folder and says whether the two tables are identical (a machine
is deterministic for a seed; two machines of the same kind need not agree). Figures only, never asserted
in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from visionr1.demo.ablation import NAMES

COLUMNS = ("seed", "base (trained pairs) %", "base %", "cold-start %", "RL %", "RL − base", "RL − cold", "RL format %", "reward rise",
           "wall s", "peak RSS MB")


def machine() -> str:
    """CPU model, cores and memory of this machine, for the table's caption."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem = float("nan")
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}"


def reward_rise(run: Path, n: int = 10) -> float | None:
    """Mean GRPO reward over the last ``n`` steps minus the mean over the first ``n`` (grpo/metrics.jsonl)."""
    path = run / "grpo" / "metrics.jsonl"
    if not path.is_file():
        return None
    rewards = [r["reward_mean"] for r in map(json.loads, path.read_text().splitlines()) if r.get("reward_mean") is not None]
    if len(rewards) < 2:
        return None
    k = min(n, len(rewards) // 2)
    return sum(rewards[-k:]) / k - sum(rewards[:k]) / k


def grpo_stages(run: Path) -> str:
    """Per PTST stage: mean reward and truncation (grpo/metrics.jsonl), then held-out validation accuracy at step 0
    and at the kept checkpoint (grpo/validation.jsonl, grpo/summary.json): the reward rise mixes learning with the
    stage boundary's longer budget; validation is at one budget throughout."""
    path = run / "grpo" / "metrics.jsonl"
    if not path.is_file():
        return "–"
    rows = [r for r in map(json.loads, path.read_text().splitlines()) if r.get("reward_mean") is not None]
    cells = []
    for stage in dict.fromkeys(r.get("stage") for r in rows):
        part = [r for r in rows if r.get("stage") == stage]
        cut = [r["truncation_rate"] for r in part if r.get("truncation_rate") is not None]
        cells.append(f"{sum(r['reward_mean'] for r in part) / len(part):.2f} / "
                     + (f"{100 * sum(cut) / len(cut):.0f}%" if cut else "–"))
    vals, summary = run / "grpo" / "validation.jsonl", run / "grpo" / "summary.json"
    kept = json.loads(summary.read_text()).get("validation", {}) if summary.is_file() else {}
    first = next(map(json.loads, vals.read_text().splitlines()), None) if vals.is_file() else None
    if first is not None and kept.get("best_accuracy") is not None:
        cells.append(f"{first['accuracy']:.0f} → {kept['best_accuracy']:.0f} (step {kept.get('best_step')})")
    else:
        cells.append("–")
    return " | ".join(cells)


STAGES = ("synth", "bridge", "warm-up", "sft", "grpo", "eval", "report")


def stage_seconds(out: Path) -> list[float | None]:
    """Seconds per demo stage, from the run's summary.json (None for a stage it did not record)."""
    stages = json.loads((out / "summary.json").read_text()).get("stages", {})
    return [stages.get(name, {}).get("seconds") for name in STAGES]


def run_seed(cli: Path, out: Path, seed: int, quick: bool, threads: int | None = None, reuse: bool = False,
             recipes: Path | None = None, ablation: bool = False) -> tuple:
    done = out / "summary.json"
    if reuse and done.is_file():
        s = json.loads(done.read_text())
        if s.get("seed") != seed or bool(s.get("quick")) != quick:
            raise SystemExit(f"{done}: a run of seed {s.get('seed')} (quick={s.get('quick')}), not of seed {seed} "
                             f"(quick={quick}); move it away or choose another --out")
        if ablation and not s.get("ablation"):
            raise SystemExit(f"{done}: a run without --ablation; move it away or choose another --out")
        wall = s["total_seconds"]
        print(f"== seed {seed}: read the finished run in {out} (its own total_seconds {wall:.0f}s)", flush=True)
    else:
        cmd = ([str(cli), "demo", "--out", str(out), "--seed", str(seed)] + (["--quick"] if quick else [])
               + (["--recipes", str(recipes)] if recipes else []) + (["--ablation"] if ablation else []))
        env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
        print(f"== seed {seed}: {' '.join(cmd)}" + (f" (OMP_NUM_THREADS={threads})" if threads else ""), flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        wall = time.perf_counter() - t0
        s = json.loads(done.read_text())
    ev = s["eval"]
    base, cold, rl = ev["base"]["accuracy"], ev["cold_start"]["accuracy"], ev["rl"]["accuracy"]
    print(f"   done in {wall:.0f}s", flush=True)
    seen = ev.get("base_seen", {}).get("accuracy")
    return (seed, seen, base, cold, rl, rl - base, rl - cold, ev["rl"]["format"], reward_rise(out), wall, s["peak_rss_mb"])


def fmt(row: tuple) -> str:
    seed, seen, base, cold, rl, d_base, d_cold, form, rise, wall, rss = row
    rise_s = "–" if rise is None else f"{rise:+.2f}"
    seen_s = "–" if seen is None else f"{seen:.1f}"
    return (f"| {seed} | {seen_s} | {base:.1f} | {cold:.1f} | {rl:.1f} | {d_base:+.1f} | {d_cold:+.1f} | {form:.1f} | {rise_s} | "
            f"{wall:.0f} | {rss:.0f} |")


ABLATION_COLUMNS = ("accuracy", "format", "mean_tokens", "truncated", "wrong_among_long", "seconds")
ABLATION_HEADER = "accuracy % | format % | mean tokens | truncated % | wrong among long % | wall s"


def ablation_rows(out: Path) -> dict[str, dict]:
    """summary.json's ``ablation`` rows of one seed's run (variant -> figures), empty without one."""
    return (json.loads((out / "summary.json").read_text()).get("ablation") or {}).get("rows", {})


def _cells(values: list, spread: bool = False) -> str:
    def one(c: str, v) -> str:
        return "–" if v is None else format(v, ".0f" if c == "seconds" else ".1f")

    if spread:
        return " | ".join("–" if not v else f"{one(c, min(v))} to {one(c, max(v))}" for c, v in zip(ABLATION_COLUMNS, values))
    return " | ".join(one(c, v) for c, v in zip(ABLATION_COLUMNS, values))


def print_ablation(out: Path, seeds: list[int]) -> None:
    """Per seed and variant the ablation figures, then each variant's mean and min–max over the seeds."""
    per_seed = {seed: ablation_rows(out / f"seed-{seed}") for seed in seeds}
    print("\nablations (demo --ablation): from the same checkpoints, as many sampled tokens as PTST (to the nearest step); "
          "long chains = longer than the median length of that model's test completions; wall s = the variant's GRPO "
          "run and its eval (PTST: the demo's GRPO stage; cold start: none of its own)\n")
    print(f"| seed | variant | {ABLATION_HEADER} |\n|---:|---|" + "---:|" * len(ABLATION_COLUMNS))
    for seed, rows in per_seed.items():
        for key, r in rows.items():
            print(f"| {seed} | {NAMES.get(key, key)} | {_cells([r.get(c) for c in ABLATION_COLUMNS])} |")
    if len(seeds) < 2:
        return
    print(f"\nover seeds {' '.join(map(str, seeds))}: mean, then min–max (wrong among long: over the seeds with long "
          f"chains)\n\n| variant | | {ABLATION_HEADER} |\n|---|---|" + "---:|" * len(ABLATION_COLUMNS))
    for key in NAMES:
        cols = [[rows[key][c] for rows in per_seed.values() if rows.get(key, {}).get(c) is not None]
                for c in ABLATION_COLUMNS]
        mean = [sum(v) / len(v) if v else None for v in cols]
        print(f"| {NAMES[key]} | mean | {_cells(mean)} |\n| | min–max | {_cells(cols, spread=True)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--out", type=Path, default=Path("runs/demo-seeds"))
    ap.add_argument("--repeat", type=int, default=None, help="Rerun this seed and check the table is identical.")
    ap.add_argument("--quick", action="store_true", help="Run the --quick demo (smoke test of this script).")
    ap.add_argument("--jobs", type=int, default=1, help="Seeds run at a time (each with cores/jobs threads).")
    ap.add_argument("--reuse", action="store_true",
                    help="Read a seed whose folder already holds a finished run (summary.json) instead of rerunning it "
                         "(to finish an interrupted benchmark); its wall time is the run's own total_seconds.")
    ap.add_argument("--ablation", action="store_true",
                    help="Run `visionr1 demo --ablation` (Zero and Long beside PTST) and print the ablation table.")
    ap.add_argument("--recipes", type=Path, default=None,
                    help="Demo recipes folder (demo.yaml and the stage recipes) instead of the package's.")
    args = ap.parse_args()
    if args.recipes is not None and not (args.recipes / "demo.yaml").is_file():
        raise SystemExit(f"--recipes {args.recipes}: no demo.yaml there (copy recipes/demo/ and change the copy)")
    cli = Path(sys.executable).with_name("visionr1")
    jobs = max(1, args.jobs)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    if jobs == 1:
        rows = [run_seed(cli, args.out / f"seed-{seed}", seed, args.quick, reuse=args.reuse, recipes=args.recipes,
                         ablation=args.ablation) for seed in args.seeds]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(jobs) as pool:
            rows = list(pool.map(lambda seed: run_seed(cli, args.out / f"seed-{seed}", seed, args.quick, threads,
                                                       args.reuse, args.recipes, args.ablation), args.seeds))
    together = f"; {jobs} seeds at a time, {threads} thread(s) each (wall times under contention)" if jobs > 1 else ""
    recipes = f" --recipes {args.recipes}" if args.recipes else ""
    print(f"\nmachine: {machine()}; `visionr1 demo{recipes}`{' --quick' if args.quick else ''}"
          f"{' --ablation' if args.ablation else ''}{together}\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---:|" * len(COLUMNS))
    for r in rows:
        print(fmt(r))
    if len(rows) > 1:
        cols = list(zip(*rows))
        stats = []
        for i in range(1, len(COLUMNS)):
            vals = [v for v in cols[i] if v is not None]
            stats.append((sum(vals) / len(vals), min(vals), max(vals)) if vals else None)
        # each column as its rows write it: signed differences, the reward rise to two places, seconds and MB whole
        spec = {5: "+.1f", 6: "+.1f", 8: "+.2f", 9: ".0f", 10: ".0f"}

        def cell(i: int, v: float) -> str:
            return format(v, spec.get(i + 1, ".1f"))

        print("| mean | " + " | ".join("–" if s is None else cell(i, s[0]) for i, s in enumerate(stats)) + " |")
        print("| min–max | " + " | ".join("–" if s is None else f"{cell(i, s[1])} to {cell(i, s[2])}"
                                         for i, s in enumerate(stats)) + " |")
    print("\nwall time per stage, seconds\n\n| seed | " + " | ".join(STAGES) + " |\n|" + "---:|" * (len(STAGES) + 1))
    for seed in args.seeds:
        print(f"| {seed} | " + " | ".join("–" if v is None else f"{v:.1f}" for v in stage_seconds(args.out / f"seed-{seed}"))
              + " |")
    print("\nGRPO per PTST stage: mean reward / share of samples cut; held-out validation accuracy %, step 0 → kept"
          "\n\n| seed | stage 1 | stage 2 | validation |\n|---:|---:|---:|---:|")
    for seed in args.seeds:
        print(f"| {seed} | {grpo_stages(args.out / f'seed-{seed}')} |")
    if args.ablation:
        print_ablation(args.out, args.seeds)
    if args.repeat is not None:
        first = next((r for r in rows if r[0] == args.repeat), None) or run_seed(
            cli, args.out / f"seed-{args.repeat}", args.repeat, args.quick, recipes=args.recipes)
        again = run_seed(cli, args.out / f"seed-{args.repeat}-repeat", args.repeat, args.quick, recipes=args.recipes)
        same = first[1:9] == again[1:9]
        print(f"\nseed {args.repeat} run twice: {'identical' if same else 'DIFFERENT'} accuracy, format and reward "
              f"columns\n{fmt(first)}\n{fmt(again)}")


if __name__ == "__main__":
    main()
