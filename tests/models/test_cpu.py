"""tune_cpu: when it acts (a CPU run on a non-Intel CPU, once), what it changes (page faults), what it must not
change (a training step's loss and gradients, up to float32 rounding)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from visionr1.models import cpu
from visionr1.testing.numerics import SAME_UP_TO, relative_gap

WORKER = Path(__file__).with_name("cpu_worker.py")
GLIBC = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning is glibc malloc's (mallopt)")


@pytest.fixture
def fresh(monkeypatch):
    """tune_cpu as in a new process on an AMD CPU, with the mallopt call counted instead of made."""
    calls = []
    monkeypatch.setattr(cpu, "_done", None)
    monkeypatch.setattr(cpu, "cpu_vendor", lambda: "AuthenticAMD")
    monkeypatch.setattr(cpu, "_keep_freed_memory", lambda: calls.append(1) or ["malloc keeps freed memory"])
    monkeypatch.delenv(cpu.ENV, raising=False)
    return calls


def test_tunes_once_and_repeats_its_answer(fresh):
    assert cpu.tune_cpu("cpu") == ["malloc keeps freed memory"]
    assert cpu.tune_cpu(torch.device("cpu")) == ["malloc keeps freed memory"]
    assert len(fresh) == 1


@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda", 1), "mps"])
def test_a_run_on_another_device_changes_nothing(fresh, device):
    assert cpu.tune_cpu(device) == []
    assert fresh == [] and cpu._done is None  # nothing decided: a later CPU stage in the process still tunes
    assert cpu.tune_cpu("cpu") == ["malloc keeps freed memory"]


def test_the_environment_variable_turns_it_off(fresh, monkeypatch):
    monkeypatch.setenv(cpu.ENV, "0")
    assert cpu.tune_cpu("cpu") == []
    assert fresh == []


def test_an_intel_cpu_keeps_todays_path(fresh, monkeypatch):
    monkeypatch.setattr(cpu, "cpu_vendor", lambda: "GenuineIntel")
    assert cpu.tune_cpu("cpu") == []
    assert fresh == []


def test_cpu_vendor_reads_proc_cpuinfo():
    vendor = cpu.cpu_vendor()
    if Path("/proc/cpuinfo").is_file() and platform.machine() == "x86_64":
        assert vendor and vendor == vendor.strip() and vendor in Path("/proc/cpuinfo").read_text()
    else:
        assert vendor == ""


def _worker(tmp_path: Path, tuning: str, *args: str) -> dict:
    out = tmp_path / f"out-{tuning}"
    # glibc's malloc, which the tuning sets: building a vLLM engine on a CPU puts LD_PRELOAD in this process's
    # environment (torch's libgomp, and tcmalloc where vLLM's build bundles one: vllm/platforms/cpu.py)
    env = {**{k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}, cpu.ENV: tuning}
    res = subprocess.run([sys.executable, str(WORKER), args[0], *args[1:], str(out)], env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(out.read_text()) if args[0] == "faults" else torch.load(out)


@GLIBC
def test_freed_memory_is_reused_instead_of_faulted_in_again(tmp_path):
    """Three 20 MB temporaries made and freed per round, 10 rounds (144,000 pages of 4 KiB touched): glibc's
    defaults usually unmap two of them and fault them in again each round (95,680 faults), but not in every
    process (where the heap lands decides it: 0 or 23,936 now and then); tuned, the heap keeps them (0 or 4,800)."""
    offs = []
    while len(offs) < 4 and max(offs, default=0) <= 10 * 4000:  # the default really faults in one of a few processes
        off = _worker(tmp_path, "0", "faults")
        assert off["done"] == []
        offs.append(off["faults"])
    assert max(offs) > 10 * 4000, offs  # otherwise this test shows nothing
    on = _worker(tmp_path, "1", "faults")
    assert on["done"] and on["faults"] < max(offs) / 10, (on, offs)


@GLIBC
def test_loss_and_gradients_are_the_same_with_tuning(tmp_path, tiny_model_dir):
    """Where memory comes from changes no arithmetic: a tiny model's loss and gradients (two passes, the second on
    memory the first freed) agree within float32 rounding (testing/numerics.py)."""
    off, on = (_worker(tmp_path, t, "grads", str(tiny_model_dir)) for t in ("0", "1"))
    assert off["done"] == [] and on["done"]
    for a, b in zip(on["losses"], off["losses"]):
        assert relative_gap(a, b) <= SAME_UP_TO
    assert on["grads"].keys() == off["grads"].keys() and any("visual" in k for k in on["grads"])
    for k in on["grads"]:
        assert relative_gap(on["grads"][k], off["grads"][k]) <= SAME_UP_TO, k
