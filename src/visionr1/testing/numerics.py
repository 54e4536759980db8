"""What "the same" means when two computations of one training step are compared in float32.

The speed-ups (and a PTST stage hand-over) must give the step stock TRL gives. They reorder float32 sums (one
batched attention call instead of one per row, a group's prompt run once, images encoded once), so "the same"
means "the same up to float32 rounding", stated from the arithmetic rather than measured on one CPU:

* Gradients, logits, log-probabilities: a reordered n-term float32 sum differs by at most about n * 2**-24 of
  the sum of its terms' sizes, typically sqrt(n) * 2**-24; the model's reductions have n of a few hundred
  (hidden size, sequence length, image patches): about 1e-6 typically, at most ~2e-5 for n = 300. Measured
  against a tensor's largest entry: <= 7e-6 on an AMD EPYC. :data:`SAME_UP_TO` = 1e-4 of the largest entry
  lies above all three. A speed-up that is wrong gives more: serving the pixels rounded to bfloat16 (a 2**-9
  change of the input) moves the vision tower's gradients by 4e-3 of their size; a wrong image or position
  by O(1).
* Weights, through how far they moved: AdamW with its default eps=1e-8 turns every gradient above 1e-8 into a
  step of +-lr whatever its size, so a weight whose true gradient is ~0 gets a rounding-noise gradient and its
  step can flip sign from one CPU to the next (issue 30: 1.13e-5 for a step of 1e-3 on an AMD EPYC, under
  1e-5 on an Intel Xeon; no tolerance follows from the arithmetic). Runs whose weights are compared train with
  ``adam_epsilon`` = :data:`EQUALITY_ADAM_EPSILON` = 1 (above every gradient here): the same optimizer, state
  and checkpoints, but each step is then within lr * |dg| of the step a gradient dg away would take, so a
  weight's difference between two runs, over how far it moved, is the gradients' relative difference again,
  plus the rounding of storing each step in float32: at most one unit in the last place, 2**-23 * |w|, per step.
"""

from __future__ import annotations

from typing import Any

SAME_UP_TO = 1e-4
"""Largest relative difference two computations of the same training step may show (see above)."""
EQUALITY_ADAM_EPSILON = 1.0
"""``adam_epsilon`` for runs whose weights are compared: steps become Lipschitz in the gradient (see above)."""


def relative_gap(ours: Any, ref: Any) -> float:
    """``max|ours - ref| / max|ref|`` for two tensors: how far apart, relative to the reference's size.

    >>> import torch
    >>> relative_gap(torch.tensor([1.0, -2.0]), torch.tensor([1.0, -2.5]))
    0.2
    """
    scale = ref.abs().max().item()
    gap = (ours.double() - ref.double()).abs().max().item()
    return gap / scale if scale else (gap and float("inf"))


def gradient_log():
    """A ``TrainerCallback`` whose ``steps`` keeps a float64 copy of every gradient at each optimizer step."""
    from transformers import TrainerCallback

    class GradientLog(TrainerCallback):
        def __init__(self):
            self.steps: list[dict] = []

        def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
            self.steps.append({n: p.grad.detach().double().clone()
                               for n, p in model.named_parameters() if p.grad is not None})

    return GradientLog()


def gradient_gap(stock: list[dict], ours: list[dict]) -> tuple[float, str]:
    """The worst ``max|g_ours - g_stock| / max|g_stock|`` over steps and parameter tensors, and where."""
    assert len(stock) == len(ours) and stock, (len(stock), len(ours))
    worst, where = 0.0, ""
    for step, (a, b) in enumerate(zip(stock, ours)):
        assert a.keys() == b.keys()
        for name in a:
            gap = relative_gap(b[name], a[name])
            if gap > worst:
                worst, where = gap, f"step {step + 1}, {name}"
    return worst, where


def weight_gap(a: dict, b: dict, start: dict, steps: int) -> tuple[float, str]:
    """The worst, over parameter tensors, of ``max(|a - b| - steps * 2**-23 * |b|) / max|b - start|``: how far two
    runs' weights are apart, float32 storage rounding set aside, relative to how far the weights moved."""
    import torch

    assert a.keys() == b.keys() and set(a) <= set(start)
    ulp = torch.finfo(torch.float32).eps
    worst, where = 0.0, ""
    for name in a:
        x, y, s = a[name].double(), b[name].double(), start[name].double()
        excess = ((x - y).abs() - steps * ulp * y.abs()).clamp_min(0).max().item()
        moved = (y - s).abs().max().item()
        gap = excess / moved if moved else (excess and float("inf"))
        if gap > worst:
            worst, where = gap, name
    return worst, where

