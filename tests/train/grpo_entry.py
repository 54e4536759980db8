"""Entry point of ``test_sharded.py`` under ``accelerate launch``: ``visionr1 grpo`` with a reward that has spread.

Usage: ``accelerate launch ... grpo_entry.py CONFIG.yaml``. The hard reward is 0 everywhere for a
random model, so it is swapped for :func:`visionr1.testing.rewards.get_spread_reward` (nothing would move).
"""

from __future__ import annotations

import json
import sys


def main(config: str) -> None:
    import visionr1.train.grpo as grpo
    from visionr1.config import load_config
    from visionr1.testing.rewards import get_spread_reward
    from visionr1.train.common import end_distributed, is_main_process
    from visionr1.train.config import GRPORunConfig

    grpo.get_hard_format_result_reward = get_spread_reward
    summary = grpo.run_grpo(load_config(GRPORunConfig, config))
    if is_main_process():
        print(json.dumps(summary, default=str))
    end_distributed()


if __name__ == "__main__":
    main(sys.argv[1])
