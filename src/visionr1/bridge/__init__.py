"""Modality bridging: cold-start CoT data from an MLLM and a text reasoner (``visionr1 bridge``).

Stages (see :mod:`visionr1.bridge.pipeline`): pseudo-CoT, description, long CoT, filters, assembly.
``teacher: template`` replaces the model stages with an offline teacher for synth records
(:mod:`visionr1.bridge.teacher`).
"""

from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.filters import REASONS, Candidate, Verdict, check, rewrite_description_refs
from visionr1.bridge.pipeline import STAGES
from visionr1.bridge.run import run_bridge
from visionr1.bridge.teacher import template_cot

__all__ = [
    "REASONS",
    "STAGES",
    "BridgeConfig",
    "Candidate",
    "Verdict",
    "check",
    "rewrite_description_refs",
    "run_bridge",
    "template_cot",
]
