"""The demo works from a built wheel, outside the checkout: its recipes and templates ship as package data.

Builds the wheel (no build isolation: offline), installs it without dependencies into a folder put first on
``PYTHONPATH`` (the environment's torch/transformers/trl serve it), and runs ``visionr1 demo --quick`` from a
temporary folder with no ``recipes/`` next to it. ~60 s on 2 CPU cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from visionr1.testing.processes import run_patiently

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_quick_runs_from_the_wheel_outside_the_repo(tmp_path):
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    source = tmp_path / "source"  # a copy: setuptools writes build/ and *.egg-info next to the sources
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "build", "*.egg-info",
                                                                "__pycache__", ".pytest_cache"), symlinks=True)
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, cwd=tmp_path, capture_output=True)
    wheel = next((tmp_path / "dist").glob("visionr1-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(tmp_path / "site"), str(wheel)], check=True,
                   capture_output=True)
    assert (tmp_path / "site" / "visionr1" / "demo" / "recipes" / "demo.yaml").is_file()
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    code = ("import sys, visionr1; print('FROM', visionr1.__file__); from visionr1.cli import app; "
            "sys.argv = ['visionr1', 'demo', '--quick', '--out', 'run']; app()")
    res = run_patiently([sys.executable, "-c", code], cwd=work, env=env, watch=[work / "run"])  # a stall limit, no clock
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert f"FROM {tmp_path / 'site'}" in res.stdout
    summary = json.loads((work / "run" / "summary.json").read_text())
    assert set(summary["eval"]) >= {"base", "cold_start", "rl"}
    assert not (work / "recipes").exists()
