"""Several ranks: the speed-ups make the same layer calls on every rank, whatever each rank's batch holds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from visionr1.models.ranks import several_ranks, sharded_parameters
from visionr1.testing.processes import stop, wait_until

WORKER = Path(__file__).with_name("ranks_worker.py")


def test_two_ranks_one_sharing_one_not_call_the_same_layers(tiny_model_dir, tmp_path):
    """Two processes over gloo. Under ZeRO-3/FSDP a layer call gathers its parameters from every rank, so a
    rank that ran its layers once while the other ran them twice (prefix pass, then the rest) would hang."""
    errs = [tmp_path / f"rank{r}.err" for r in (0, 1)]
    procs = []
    for r, err in enumerate(errs):
        with open(err, "wb") as f:
            procs.append(subprocess.Popen([sys.executable, str(WORKER), str(r), str(tmp_path / "rendezvous"),
                                           str(tiny_model_dir), str(tmp_path / f"rank{r}.json")],
                                          stdout=subprocess.DEVNULL, stderr=f))
    try:  # a hang (the failure this test looks for) shows as silence, not as a slow machine's long run
        wait_until(lambda: False, procs, outputs=errs, watch=[tmp_path])
    finally:
        for p in procs:
            stop(p)
    for p, err in zip(procs, errs):
        assert p.returncode == 0, err.read_text()[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    calls = ranks[0]["calls"]
    assert calls[0] == calls[1]
    assert any("visual.blocks" in c for c in calls[0]) and any("language_model.layers" in c for c in calls[0])
    # both took the speed-ups' paths: rank 0 shared its prompt, rank 1 ran each row as its own group
    s0, s1 = ranks[0]["stats"], ranks[1]["stats"]
    assert s0["prefix"]["calls"] == s1["prefix"]["calls"] == 1
    assert s0["prefix"]["groups"] == 1 and s1["prefix"]["groups"] == 2
    assert s0["prefill"]["prefilled"] == 1 and s1["prefill"]["prefilled"] == 2


def test_one_process_is_not_several_ranks_and_plain_parameters_are_not_sharded():
    assert not several_ranks()
    assert not sharded_parameters(torch.nn.Linear(2, 2))
    tagged = torch.nn.Linear(2, 2)
    tagged.weight.ds_id = 7  # how DeepSpeed ZeRO-3 marks its partitioned parameters
    assert sharded_parameters(tagged)
