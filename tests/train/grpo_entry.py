"""Entry point of ``test_sharded.py`` under ``accelerate launch``: ``visionr1 grpo`` with a reward that has spread.

Usage: ``accelerate launch ... grpo_entry.py CONFIG.yaml``. The hard reward is 0 everywhere for a
random model, so it is swapped for :func:`visionr1.testing.rewards.get_spread_reward` (nothing would move);
everything else is the ``visionr1 grpo`` command itself.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(config: str) -> None:
    import visionr1.train.grpo as grpo
    from visionr1.testing.rewards import get_spread_reward
    from visionr1.train.command import grpo_command

    grpo.get_hard_format_result_reward = get_spread_reward
    grpo_command(config=Path(config), overrides=None)


if __name__ == "__main__":
    main(sys.argv[1])
