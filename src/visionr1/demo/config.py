"""``demo.yaml`` typed: the demo's data, model and eval settings, and the ``quick:`` section ``--quick`` applies.

Read through the config engine every stage uses (:func:`visionr1.config.from_dict`), so a misspelt key is refused
with the nearest one suggested, and a value of the wrong type is named with the type it should have. The stage
recipes beside ``demo.yaml`` (``warmup.yaml``, ``sft.yaml``, ``grpo.yaml``, ...) are ordinary ``visionr1 sft`` /
``visionr1 grpo`` configs and are read as such; ``quick:`` holds ``key=value`` overrides for them.

Example:
    >>> from visionr1.demo import RECIPES
    >>> cfg = load_demo_config(RECIPES, quick=True)
    >>> cfg.data.n_train < load_demo_config(RECIPES, quick=False).data.n_train
    True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from visionr1.config import convert_fields, from_dict, load_yaml
from visionr1.errors import ConfigError

STAGE_RECIPES = ("warmup", "sft", "grpo", "grpo_zero", "grpo_long")
"""The stage recipes ``quick:`` may hold overrides for (``grpo_zero``/``grpo_long``: ``--ablation``'s)."""


@dataclass(kw_only=True)
class DemoData:
    """The synthetic task, its splits, and how the cold-start and warm-up sets are made from them."""

    tasks: list[str] = field(metadata={"help": "visionr1.data.synth task names to generate (e.g. [colour_count])."})
    difficulty: int | None = field(default=None, metadata={"help": "Task difficulty (null: the task's default)."})
    image_size: int = field(metadata={"help": "Image side in pixels; also the tiny model's min and max pixels."})
    n_train: int = field(metadata={"help": "Train-split records (warm-up, cold start and GRPO draw on them)."})
    n_val: int = field(default=0, metadata={"help": "Validation-split records (held-out pairs): warm-up and GRPO validate on them."})
    n_test: int = field(metadata={"help": "Test-split records: the eval of base, cold-start and RL models."})
    cold_start: int = field(metadata={"help": "Train records the template teacher turns into CoTs (the bridge's limit)."})
    brief_cots: bool = field(default=False, metadata={"help": "The template teacher writes its short CoTs (template_cot brief=True)."})
    min_reasoning_words: int = field(default=40, metadata={"help": "The bridge filter's least words of reasoning in a CoT."})
    warmup_describe: bool = field(default=False, metadata={"help": "Add 'Describe the image.' rows to the warm-up set."})
    warmup_skills: bool | dict[str, int] = field(default=True, metadata={"help": "Warm-up rows of each reasoning step asked on its own: true (one each), false (none) or copies per skill ({add: 3})."})
    sft_replay: dict[str, int] | None = field(default=None, metadata={"help": "Warm-up step rows of each skill mixed into the cold-start SFT set (null: the CoTs alone)."})
    sft_replay_r1: bool = field(default=False, metadata={"help": "Write the replayed sums as R1 answers (<think>...</think><answer>...</answer>)."})

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ConfigError("data.tasks is empty; name a visionr1 synth task (e.g. [colour_count])")
        for name in ("image_size", "n_train", "n_test", "cold_start"):
            if getattr(self, name) < 1:
                raise ConfigError(f"data.{name} must be >= 1, got {getattr(self, name)}")
        if self.n_val < 0:
            raise ConfigError(f"data.n_val must be >= 0, got {self.n_val}")


@dataclass
class DemoModel:
    """The tiny random-weight Qwen2.5-VL the demo trains (:class:`visionr1.models.tiny.TinyModelSpec`); null: the
    spec's default. Its image size is ``data.image_size``."""

    hidden_size: int | None = field(default=None, metadata={"help": "Language model width."})
    num_hidden_layers: int | None = field(default=None, metadata={"help": "Language model layers."})
    intermediate_size: int | None = field(default=None, metadata={"help": "Language model MLP width."})
    vision_hidden_size: int | None = field(default=None, metadata={"help": "Vision tower width."})
    vision_depth: int | None = field(default=None, metadata={"help": "Vision tower blocks."})
    vision_intermediate_size: int | None = field(default=None, metadata={"help": "Vision tower MLP width."})
    num_attention_heads: int | None = field(default=None, metadata={"help": "Language model attention heads."})
    num_key_value_heads: int | None = field(default=None, metadata={"help": "Language model key/value heads."})
    vision_heads: int | None = field(default=None, metadata={"help": "Vision tower attention heads."})
    vocab_size: int | None = field(default=None, metadata={"help": "Tokenizer vocabulary size."})
    max_position_embeddings: int | None = field(default=None, metadata={"help": "Longest sequence the model takes."})

    def given(self) -> dict[str, int]:
        """The sizes set (not null), as demo.yaml writes them."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def spec(self, image_size: int):
        """The :class:`~visionr1.models.tiny.TinyModelSpec` of these sizes, for ``image_size`` square images."""
        from visionr1.models.tiny import TinyModelSpec

        return TinyModelSpec(**self.given(), min_pixels=image_size ** 2, max_pixels=image_size ** 2)


@dataclass
class DemoEval:
    """How base, cold-start and RL models are evaluated on the test split (one budget for all three)."""

    max_tokens: int = field(default=192, metadata={"help": "Most new tokens per answer."})
    temperature: float = field(default=0.0, metadata={"help": "Sampling temperature (0 = greedy)."})
    batch_size: int = field(default=50, metadata={"help": "Prompts per generate() call."})

    def __post_init__(self) -> None:
        if self.max_tokens < 1 or self.batch_size < 1:
            raise ConfigError("eval.max_tokens and eval.batch_size must be >= 1")
        if self.temperature < 0:
            raise ConfigError(f"eval.temperature must be >= 0, got {self.temperature}")


@dataclass
class DemoQuick:
    """What ``--quick`` changes: keys of the data/model/eval sections, and ``key=value`` overrides per stage recipe."""

    data: dict[str, Any] = field(default_factory=dict, metadata={"help": "data keys replaced with --quick."})
    model: dict[str, Any] = field(default_factory=dict, metadata={"help": "model keys replaced with --quick."})
    eval: dict[str, Any] = field(default_factory=dict, metadata={"help": "eval keys replaced with --quick."})
    warmup: list[str] = field(default_factory=list, metadata={"help": "Overrides of warmup.yaml with --quick."})
    sft: list[str] = field(default_factory=list, metadata={"help": "Overrides of sft.yaml with --quick."})
    grpo: list[str] = field(default_factory=list, metadata={"help": "Overrides of grpo.yaml with --quick."})
    grpo_zero: list[str] = field(default_factory=list, metadata={"help": "Overrides of grpo_zero.yaml with --quick (--ablation)."})
    grpo_long: list[str] = field(default_factory=list, metadata={"help": "Overrides of grpo_long.yaml with --quick (--ablation)."})

    def __post_init__(self) -> None:  # each section's keys and values by the rules of the section it changes
        self.data = convert_fields(DemoData, self.data, where="quick.data")
        self.model = convert_fields(DemoModel, self.model, where="quick.model")
        self.eval = convert_fields(DemoEval, self.eval, where="quick.eval")


@dataclass(kw_only=True)
class DemoConfig:
    """``demo.yaml``: the data, model and eval settings of ``visionr1 demo``, and its ``quick:`` section."""

    data: DemoData = field(metadata={"help": "The synthetic task, its splits, the cold-start and warm-up sets."})
    model: DemoModel = field(default_factory=DemoModel, metadata={"help": "The tiny model's sizes."})
    eval: DemoEval = field(default_factory=DemoEval, metadata={"help": "The eval of base, cold-start and RL models."})
    quick: DemoQuick = field(default_factory=DemoQuick, metadata={"help": "What --quick changes (a CI smoke run)."})
    overrides: dict[str, list[str]] = field(init=False, default_factory=lambda: {s: [] for s in STAGE_RECIPES},
                                            metadata={"help": "The stage recipes' key=value overrides in effect: "
                                                              "quick's once applied (not a demo.yaml key)."})

    def with_quick(self) -> DemoConfig:
        """These settings with ``quick:`` applied: its data/model/eval keys replaced, its stage overrides in effect."""
        q = self.quick
        cfg = replace(self, data=replace(self.data, **q.data), model=replace(self.model, **q.model),
                      eval=replace(self.eval, **q.eval))
        cfg.overrides = {s: list(getattr(q, s)) for s in STAGE_RECIPES}
        return cfg

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain mapping (what ``summary.json`` records): data, model (the sizes set), eval and
        the stage overrides in effect; for the shipped demo.yaml the mapping the demo read before it was typed."""
        return {"data": dataclasses.asdict(self.data), "model": self.model.given(),
                "eval": dataclasses.asdict(self.eval), "overrides": {k: list(v) for k, v in self.overrides.items()}}


def load_demo_config(recipes: Path | str, quick: bool) -> DemoConfig:
    """``RECIPES/demo.yaml`` as a :class:`DemoConfig`, with its ``quick:`` section applied when ``quick``; an unknown
    key or a value of the wrong type is a ConfigError naming it (and the nearest key)."""
    cfg = from_dict(DemoConfig, load_yaml(Path(recipes) / "demo.yaml"))
    return cfg.with_quick() if quick else cfg
