"""Run the full `visionr1 demo` on several seeds, one after another, and print the table.

    .venv/bin/python benchmarks/demo_seeds.py                 # seeds 0 1 2 into runs/demo-seeds/seed-N
    .venv/bin/python benchmarks/demo_seeds.py --seeds 3 --out /tmp/seeds

Each seed is a fresh subprocess (its own peak RSS); the numbers come from each run's summary.json.
Figures only, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=Path("runs/demo-seeds"))
    ap.add_argument("--quick", action="store_true", help="Run the --quick demo (smoke test of this script).")
    args = ap.parse_args()
    cli = Path(sys.executable).with_name("visionr1")
    rows = []
    for seed in args.seeds:
        out = args.out / f"seed-{seed}"
        cmd = [str(cli), "demo", "--out", str(out), "--seed", str(seed)] + (["--quick"] if args.quick else [])
        print(f"== seed {seed}: {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        s = json.loads((out / "summary.json").read_text())
        ev = s["eval"]
        rows.append((seed, ev["base"]["accuracy"], ev["cold_start"]["accuracy"], ev["rl"]["accuracy"],
                     ev["rl"]["accuracy"] - ev["cold_start"]["accuracy"], ev["rl"]["format"], wall, s["peak_rss_mb"]))
        print(f"   done in {wall:.0f}s", flush=True)
    head = ("seed", "base acc %", "cold-start acc %", "RL acc %", "RL - cold", "RL format %", "wall s", "peak RSS MB")
    print("| " + " | ".join(head) + " |")
    print("|" + "---:|" * len(head))
    for r in rows:
        print(f"| {r[0]} | {r[1]:.1f} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:+.1f} | {r[5]:.1f} | {r[6]:.0f} | {r[7]:.0f} |")
    if len(rows) > 1:
        mean = [sum(r[i] for r in rows) / len(rows) for i in range(1, 6)]
        print(f"| mean | {mean[0]:.1f} | {mean[1]:.1f} | {mean[2]:.1f} | {mean[3]:+.1f} | {mean[4]:.1f} | | |")


if __name__ == "__main__":
    main()
