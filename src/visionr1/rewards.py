"""Reward functions for GRPO, re-exported from :mod:`visionr1.grading` (where they live, as a pure leaf).

>>> from visionr1.rewards import hard_format_result_reward
>>> hard_format_result_reward("<think>2+2</think><answer>4</answer>", "4")
1.0
"""

from visionr1.grading.rewards import (
    accuracy_reward,
    format_reward,
    get_hard_format_result_reward,
    hard_format_result_reward,
)

__all__ = ["accuracy_reward", "format_reward", "get_hard_format_result_reward", "hard_format_result_reward"]
