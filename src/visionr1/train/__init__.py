"""Training: cold-start SFT and GRPO with progressive thinking suppression (PTST), on TRL's trainers.

>>> from visionr1.train import GRPORunConfig, run_grpo          # doctest: +SKIP
>>> run_grpo(load_config(GRPORunConfig, "recipes/tiny_cpu/grpo.yaml"))  # doctest: +SKIP
"""

from visionr1.train.config import GRPORunConfig, PTSTSettings, PTSTStage, SFTRunConfig
from visionr1.r1 import render_user_prompt

__all__ = ["GRPORunConfig", "PTSTSettings", "PTSTStage", "SFTRunConfig", "render_user_prompt", "run_grpo", "run_sft"]


def __getattr__(name: str):  # the runners import torch/trl: load them only when asked for
    if name == "run_grpo":
        from visionr1.train.grpo import run_grpo

        return run_grpo
    if name == "run_sft":
        from visionr1.train.sft import run_sft

        return run_sft
    raise AttributeError(name)
