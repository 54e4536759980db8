"""What fitting a demo seed into 10 minutes on a slower CPU costs: the demo at about half its training, on seeds.

Issue 35 asks for a demo seed in 10 minutes on every 2-core machine of our kind. On the AMD EPYC (AVX2, no
AVX-512) a seed takes ~1,020 s with the shipped recipes, bound by float32 matrix products (``demo_step_profile.py``),
so only less training fits. This script writes a copy of the shipped recipes (``visionr1/demo/recipes``) with every
training stage at about half its work, then runs ``demo_seeds.py`` on it, so the cost is measured the same way as the
shipped demo's table:

* warm-up: 150 steps instead of 300 (warm-up steps of the schedule 10 instead of 20);
* cold-start SFT: 200 teacher records instead of 400, the replayed warm-up rows halved (still 2 epochs);
* GRPO: PTST's stages of 15 and 10 steps instead of 30 and 20 (same budgets, groups and batch);
* ``--ablation``'s Zero and Long: the steps that sample as many tokens as the halved PTST (29 and 21).

    .venv/bin/python benchmarks/demo_half.py --seeds 0 1 2 --out runs/half      # then compare with demo_seeds.py's table
    .venv/bin/python benchmarks/demo_half.py --recipes-out /tmp/half --write-only  # the recipes only

Any other argument goes to ``demo_seeds.py`` as is. Figures only, never asserted in tests.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

CHANGES = {  # file: [(shipped text, halved text)], each found exactly once
    "demo.yaml": [("cold_start: 400", "cold_start: 200"),
                  ("sft_replay: {add: 400, perception: 200, fact: 50, read: 50}",
                   "sft_replay: {add: 200, perception: 100, fact: 25, read: 25}")],
    "warmup.yaml": [("max_steps: 300", "max_steps: 150"), ("warmup_steps: 20", "warmup_steps: 10")],
    "grpo.yaml": [("num_generations: 8, steps: 30}", "num_generations: 8, steps: 15}"),
                  ("num_generations: 4, steps: 20}", "num_generations: 4, steps: 10}")],
    "grpo_zero.yaml": [("steps: 58}   # grpo.yaml's first budget and group; 58 x 32 x 136 = 252,416 tokens (grpo.yaml: 253,440)",
                        "steps: 29}   # grpo.yaml's first budget and group; 29 x 32 x 136 = 126,208 tokens (grpo.yaml: 126,720)")],
    "grpo_long.yaml": [("steps: 41}   # grpo.yaml's last budget and group; 41 x 32 x 192 = 251,904 tokens (grpo.yaml: 253,440)",
                        "steps: 21}   # grpo.yaml's last budget and group; 21 x 32 x 192 = 129,024 tokens (grpo.yaml: 126,720)")],
}


def write_half(out: Path) -> Path:
    """The shipped demo recipes with :data:`CHANGES` applied, in ``out`` (made here; refused if it exists)."""
    from visionr1.demo import RECIPES

    if out.exists():
        raise SystemExit(f"{out} exists; give --recipes-out a new folder")
    shutil.copytree(RECIPES, out)
    for name, pairs in CHANGES.items():
        path = out / name
        text = path.read_text()
        for old, new in pairs:
            if text.count(old) != 1:
                raise SystemExit(f"{RECIPES / name}: expected '{old}' once (the shipped recipes changed: update "
                                 f"CHANGES in {Path(__file__).name})")
            text = text.replace(old, new)
        path.write_text(text)
    check_matched(out)
    return out


def check_matched(recipes: Path) -> None:
    """Zero and Long still sample PTST's tokens to the nearest step, as ``--ablation`` promises."""
    from visionr1.config import load_config
    from visionr1.demo.ablation import sampled_tokens
    from visionr1.train import GRPORunConfig

    def tokens(name: str) -> tuple[int, int]:
        cfg = load_config(GRPORunConfig, recipes / f"{name}.yaml", ["validation.data=val.jsonl"])
        return sampled_tokens(cfg), cfg.plan.total_steps

    ptst, _ = tokens("grpo")
    for name in ("grpo_zero", "grpo_long"):
        have, steps = tokens(name)
        if abs(have - ptst) > have / steps / 2:
            raise SystemExit(f"{name}: {have} tokens against PTST's {ptst}: not the nearest whole step")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes-out", type=Path, default=Path("runs/half-recipes"),
                    help="Where to write the halved recipes (a new folder).")
    ap.add_argument("--write-only", action="store_true", help="Write the recipes and stop.")
    args, rest = ap.parse_known_args()
    recipes = write_half(args.recipes_out)
    print(f"halved recipes: {recipes}", flush=True)
    if not args.write_only:
        subprocess.run([sys.executable, str(Path(__file__).with_name("demo_seeds.py")), "--recipes", str(recipes),
                        *rest], check=True)


if __name__ == "__main__":
    main()
