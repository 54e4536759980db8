"""Evaluation: benchmark loaders and backends, official-protocol scoring, optional LLM judge.

>>> from visionr1.config import EndpointConfig
>>> from visionr1.eval import EvalConfig, run_eval                     # doctest: +SKIP
>>> ep = EndpointConfig(base_url="http://localhost:8000/v1", model="vision-r1-7b")
>>> run_eval(EvalConfig(benchmark="mathvista", data="data/MathVista", out="runs/x", endpoint=ep))  # doctest: +SKIP
"""

from visionr1.eval.benchmarks import BENCHMARKS, get_benchmark
from visionr1.eval.run import EvalConfig, run_eval

__all__ = ["BENCHMARKS", "EvalConfig", "get_benchmark", "run_eval"]
