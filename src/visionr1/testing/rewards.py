"""A stand-in for the hard reward in training tests: rewards with spread, so a random model's GRPO step moves.

A randomly initialised model scores 0 on the hard formatting result reward everywhere, so every group's
advantages are 0 and nothing would be trained. Tests patch ``visionr1.train.grpo.get_hard_format_result_reward``
with :func:`get_spread_reward` (same name and signature as the real reward's factory).
"""

from __future__ import annotations


def get_spread_reward():
    """A TRL reward function giving completions different rewards (their length modulo 5)."""

    def hard_format_result_reward(completions, truncated=None, **kw):
        return [float(len(c[0]["content"]) % 5) for c in completions]

    return hard_format_result_reward
