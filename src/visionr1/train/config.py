"""Typed configs for the two training stages: ``visionr1 sft`` and ``visionr1 grpo``.

One YAML per run plus ``key=value`` overrides (:func:`visionr1.config.load_config`). Our own settings
(model, data, PTST stages, run folder) are dataclasses; the ``trainer`` mapping is passed to TRL's
``SFTConfig`` / ``GRPOConfig``, after its keys are checked against those classes' fields (a typo is an error
that lists the valid keys rather than a silently ignored setting) and each value is converted to its field's
type (:func:`check_trainer_keys`): ``trainer.learning_rate=1e-5``, which YAML reads as a string, becomes the
float TRL compares against, and ``trainer.num_train_epochs=abc`` is an error naming the key, the value and
the type, when the config is loaded (``--dry-run`` included) rather than a traceback mid-run.

Example:
    >>> cfg = from_dict(GRPORunConfig, {"model": {"path": "m"}, "data": {"path": "d.jsonl"},
    ...     "ptst": {"stages": [{"max_completion_length": 16, "num_generations": 4, "steps": 3}]}})
    >>> cfg.plan.total_steps
    3
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.config import convert_fields, from_dict  # noqa: F401  (from_dict re-exported for the doctest and callers)
from visionr1.errors import ConfigError

DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass
class LoraSettings:
    """LoRA adapter settings (PEFT ``LoraConfig``); ``enabled: false`` trains the full model."""

    enabled: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of all weights."})
    r: int = field(default=16, metadata={"help": "LoRA rank."})
    alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (lora_alpha)."})
    dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={"help": "Module names to adapt, matched anywhere in the model: the defaults also match the vision tower's MLP layers unless model.freeze_vision_tower."},
    )

    def __post_init__(self) -> None:
        if self.enabled and self.r < 1:
            raise ConfigError(f"model.lora.r must be >= 1, got {self.r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.lora.dropout must be in [0, 1), got {self.dropout}")
        if self.enabled and not self.target_modules:
            raise ConfigError("model.lora.target_modules is empty; list module names such as q_proj, v_proj")

    def to_peft(self, exclude_modules: str | None = None):
        """The PEFT ``LoraConfig``, or ``None`` when disabled; ``exclude_modules`` (a regex) keeps adapters out of frozen parts."""
        if not self.enabled:
            return None
        from peft import LoraConfig

        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=list(self.target_modules),
                          exclude_modules=exclude_modules, task_type="CAUSAL_LM")


@dataclass
class ModelSettings:
    """Which model to train and how its images are sized."""

    path: str = field(default="", metadata={"help": "Local folder or hub id of a Qwen2.5-VL-style model."})
    dtype: str = field(default="auto", metadata={"help": f"Weights dtype when loading: one of {DTYPES}."})
    attn_implementation: str | None = field(default=None, metadata={"help": "e.g. flash_attention_2, sdpa; None = library default."})
    min_pixels: int | None = field(default=None, metadata={"help": "Smallest image area after resizing (processor default if None)."})
    max_pixels: int | None = field(default=None, metadata={"help": "Largest image area after resizing (processor default if None)."})
    lora: LoraSettings = field(default_factory=LoraSettings, metadata={"help": "LoRA adapter (disabled = full fine-tuning)."})
    freeze_vision_tower: bool = field(default=False, metadata={"help": "Keep the vision encoder fixed (Qwen-VL: visual.* but the merger), LoRA adapters included (LLaMA-Factory's setting of the same name)."})
    freeze_multi_modal_projector: bool = field(default=False, metadata={"help": "Keep the vision-language projector fixed (Qwen-VL: visual.merger) (LLaMA-Factory's setting of the same name)."})

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("model.path is empty; set it to a model folder (e.g. from `visionr1 tiny-model`) or a hub id")
        if self.dtype not in DTYPES:
            raise ConfigError(f"model.dtype {self.dtype!r} is not one of {DTYPES}")
        if self.min_pixels is not None and self.min_pixels < 28 * 28:
            raise ConfigError(f"model.min_pixels must be >= {28 * 28} (one merged patch), got {self.min_pixels}")
        if self.min_pixels and self.max_pixels and self.max_pixels < self.min_pixels:
            raise ConfigError(f"model.max_pixels ({self.max_pixels}) must be >= model.min_pixels ({self.min_pixels})")

    def frozen_parts(self) -> list[str]:
        """The parts :func:`visionr1.models.freeze.freeze_parts` keeps fixed."""
        from visionr1.models.freeze import frozen_parts

        return frozen_parts(self.freeze_vision_tower, self.freeze_multi_modal_projector)

    def peft_config(self):
        """PEFT ``LoraConfig`` with no adapters in the frozen parts, or None for full fine-tuning."""
        from visionr1.models.freeze import lora_exclude

        return self.lora.to_peft(exclude_modules=lora_exclude(self.frozen_parts()))

    def init_kwargs(self) -> dict[str, Any]:
        """``from_pretrained`` keyword arguments (TRL's ``model_init_kwargs``)."""
        kw: dict[str, Any] = {"dtype": self.dtype}
        if self.attn_implementation:
            kw["attn_implementation"] = self.attn_implementation
        return kw


IMAGE_ROOT_HELP = ("Folder the image paths of a JSONL or ShareGPT data file are relative to and must stay inside "
                   "(default: the file's folder); set it where the images are kept apart from the data (LLaMA-Factory's "
                   "media_dir), or to / for absolute paths anywhere.")


@dataclass
class SFTDataSettings:
    """Cold-start SFT data: the bridge's ``cold.jsonl`` or a LLaMA-Factory ShareGPT file."""

    path: str = field(default="", metadata={"help": "cold.jsonl (messages + images) or ShareGPT .json/.jsonl; image paths relative to its folder."})
    image_root: str | None = field(default=None, metadata={"help": IMAGE_ROOT_HELP})
    max_samples: int | None = field(default=None, metadata={"help": "Use only the first N examples (smoke runs)."})
    skip_bad: bool = field(default=False, metadata={"help": "Train on the good examples and log the bad ones (default: refuse a file with any bad example, naming them all); --skip-bad."})

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("data.path is empty; point it at cold.jsonl or a ShareGPT file")
        if self.max_samples is not None and self.max_samples < 1:
            raise ConfigError(f"data.max_samples must be >= 1 or null, got {self.max_samples}")


@dataclass
class GRPODataSettings:
    """RL data: (image, question, answer[, choices]) records, and the prompt built from them."""

    path: str = field(default="", metadata={"help": "Records file or folder (`visionr1 synth` output, JSONL, parquet, HF dataset)."})
    image_root: str | None = field(default=None, metadata={"help": IMAGE_ROOT_HELP})
    system_prompt: str | None = field(default=None, metadata={"help": "System message; None keeps the chat template's default (as in SFT)."})
    user_template: str | None = field(default=None, metadata={"help": "User-prompt form: r1 (the default when null: question, choices and a think/answer instruction), raw (question and choices only: the paper's RL prompt), or a template file's path."})
    max_samples: int | None = field(default=None, metadata={"help": "Use only the first N records (smoke runs)."})
    skip_bad: bool = field(default=False, metadata={"help": "Train on the good records and log the bad ones (default: refuse a file with any bad record, naming them all); --skip-bad."})

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("data.path is empty; point it at a records file (e.g. `visionr1 synth` output)")
        if self.max_samples is not None and self.max_samples < 1:
            raise ConfigError(f"data.max_samples must be >= 1 or null, got {self.max_samples}")


@dataclass
class PTSTStage:
    """One stage of progressive thinking suppression: a completion budget, a group size, a step count."""

    max_completion_length: int = field(default=4096, metadata={"help": "Token budget per completion in this stage."})
    num_generations: int = field(default=16, metadata={"help": "Group size G (completions per prompt) in this stage."})
    steps: int = field(default=100, metadata={"help": "Optimizer steps in this stage (a whole number of rollout batches: see --dry-run's updates per rollout batch)."})
    trainer: dict[str, Any] = field(default_factory=dict, metadata={"help": "Extra GRPOConfig overrides for this stage only (e.g. temperature)."})
    optional: bool = field(default=False, metadata={"help": "Run this stage only with ptst.run_optional: true (the paper's optional third "
                                                            "stage); turn that on after the others ran and rerun: the run continues "
                                                            "(a decaying LR schedule was laid over the stages that ran; the 7B recipe's is constant)."})

    def __post_init__(self) -> None:
        for name in ("max_completion_length", "steps"):
            if getattr(self, name) < 1:
                raise ConfigError(f"a ptst stage's {name} must be >= 1, got {getattr(self, name)}")
        if self.num_generations < 2:
            raise ConfigError(f"a ptst stage's num_generations must be >= 2 (GRPO needs a group), got {self.num_generations}")


@dataclass
class PTSTSettings:
    """Progressive thinking suppression: stages run back to back in one invocation."""

    stages: list[PTSTStage] = field(
        default_factory=lambda: [PTSTStage(4096, 16, 100), PTSTStage(8192, 8, 100)],
        metadata={"help": "Stages in order; the paper uses 4K/G16 then 8K/G8, 100 steps each."},
    )
    matched_compute: bool = field(default=False, metadata={"help": "Keep the prompts per optimizer step (and per rollout batch) of the first stage in every "
                                                                   "stage: each stage's per-device batch (and generation_batch_size, if set) scales "
                                                                   "with its group size G. With G x max_completion_length equal in all stages (the "
                                                                   "paper's 16 x 4K = 8 x 8K = 4 x 16K) every stage then samples the same tokens per step."})

    run_optional: bool = field(default=False, metadata={"help": "Also run the stages marked optional: true."})

    def __post_init__(self) -> None:
        self.skipped = [i for i, s in enumerate(self.stages) if s.optional and not self.run_optional]
        """Indices (in the YAML's list) of the optional stages left out (``ptst.run_optional: false``)."""
        self.stages = [s for i, s in enumerate(self.stages) if i not in self.skipped]
        if not self.stages:
            raise ConfigError("ptst.stages has no stage to run; give at least one {max_completion_length, num_generations, steps}"
                              " (optional ones run only with ptst.run_optional: true)")
        # matched compute is checked and applied with the rest of PTST's arithmetic (visionr1.train.ptst_plan),
        # when the run's config is complete (GRPORunConfig.plan)


REWARD_KINDS = ("hard", "additive")


@dataclass
class RewardSettings:
    """What GRPO optimises. All three rewards (the hard formatting result reward, format, accuracy) are computed
    and logged every step whatever is chosen; ``kind`` sets the weights TRL sums them with."""

    kind: str = field(default="hard", metadata={"help": "hard: the hard formatting result reward alone, 1 only when the format and the answer are both "
                                                        "right (paper §3.4, Vision-R1); additive: format_weight x format + accuracy_weight x accuracy "
                                                        "(paper §3.1, Vision-R1-Zero, 1:1)."})
    format_weight: float | None = field(default=None, metadata={"help": "additive only: weight of the format reward (well-formed <think>/<answer>, not truncated); default 1."})
    accuracy_weight: float | None = field(default=None, metadata={"help": "additive only: weight of the accuracy reward (the answer is right, format aside); default 1."})

    def __post_init__(self) -> None:
        if self.kind not in REWARD_KINDS:
            raise ConfigError(f"reward.kind must be one of {', '.join(REWARD_KINDS)}, not {self.kind!r}")
        if self.kind == "hard":
            for name in ("format_weight", "accuracy_weight"):
                if getattr(self, name) is not None:
                    raise ConfigError(f"reward.{name} applies to reward.kind: additive; reward.kind: hard optimises the hard "
                                      f"formatting result reward alone (remove reward.{name}, or set reward.kind: additive)")
        else:
            self.format_weight = 1.0 if self.format_weight is None else self.format_weight
            self.accuracy_weight = 1.0 if self.accuracy_weight is None else self.accuracy_weight
            if self.format_weight < 0 or self.accuracy_weight < 0 or self.format_weight + self.accuracy_weight == 0:
                raise ConfigError("reward.format_weight and reward.accuracy_weight must be >= 0 and not both 0")

    def trl_weights(self) -> list[float]:
        """TRL's ``reward_weights`` for the reward functions in their fixed order: [hard, format, accuracy].

        >>> RewardSettings().trl_weights(), RewardSettings("additive").trl_weights()
        ([1.0, 0.0, 0.0], [0.0, 1.0, 1.0])
        """
        if self.kind == "hard":
            return [1.0, 0.0, 0.0]
        return [0.0, float(self.format_weight), float(self.accuracy_weight)]


@dataclass
class SamplesSettings:
    """Sample completions written to ``RUN_DIR/samples.jsonl``."""

    per_stage: int = field(default=8, metadata={"help": "Completions to keep per PTST stage (from its first steps)."})

    def __post_init__(self) -> None:
        if self.per_stage < 0:
            raise ConfigError(f"samples.per_stage must be >= 0, got {self.per_stage}")


@dataclass
class SpeedSettings:
    """Exact speed-ups for multimodal GRPO (applied by :mod:`visionr1.train.speedups`)."""

    shared_vision: bool = field(default=True, metadata={"help": "Encode each distinct image once per batch (exact)."})
    shared_prefill: bool = field(default=True, metadata={"help": "Prefill each distinct prompt once in HF generation (exact; not with vLLM)."})
    shared_prefix: bool = field(default=True, metadata={"help": "Run each group's shared prompt once in the log-prob passes, training forward included; completions attend to its keys/values (exact; gradient passes under reentrant checkpointing do not share)."})
    pixel_store: bool = field(default=True, metadata={"help": "Process and hold each distinct image's pixels once; batches carry small handles in place of G copies (exact; works through shared_vision, so it is off when that is)."})
    vision_windows: bool = field(default=True, metadata={"help": "Windowed vision attention in one batched call per window length, not one per window (exact; only where the vision tower uses sdpa, the default without flash-attention)."})
    decode: str = field(default="auto", metadata={"help": "HF decoding after the shared prefill: auto (compiled on CUDA, dynamic elsewhere), dynamic, static (fixed-shape KV cache) or compiled (static + CUDA graphs via torch.compile)."})
    cache_bucket: int = field(default=256, metadata={"help": "Smallest static KV cache length; lengths are rounded up to powers of two so steps reuse one compiled shape."})

    def __post_init__(self) -> None:
        from visionr1.models.shared_prefill import DECODE_MODES

        if self.decode not in DECODE_MODES:
            raise ConfigError(f"speed.decode={self.decode!r}: expected one of {', '.join(DECODE_MODES)}")
        if self.cache_bucket < 1:
            raise ConfigError(f"speed.cache_bucket={self.cache_bucket}: must be >= 1")


@dataclass
class ValidationSettings:
    """Held-out evaluation while training, through ``visionr1 eval``'s code path on the policy in memory.

    Runs before the first step, every ``every_steps`` steps, at each PTST stage boundary and at the end;
    writes ``RUN_DIR/validation.jsonl`` (step, stage, accuracy, format rate, mean length, truncation) and
    each validation's eval run under ``RUN_DIR/validation/step-N/``. With ``checkpoint_selection:
    best_validation`` the best-scoring policy is kept as ``RUN_DIR/best`` (the paper picked its checkpoint
    by evaluating every 5th step over the last 50).
    """

    data: str = field(default="", metadata={"help": "Held-out data: a records file/folder (benchmark records) or a benchmark's data."})
    benchmark: str = field(default="records", metadata={"help": "Eval benchmark that reads and scores data (records = our own JSONL sets; or mathvista, mathverse, ...)."})
    split: str | None = field(default=None, metadata={"help": "Split to read (the benchmark's default when null)."})
    every_steps: int = field(default=50, metadata={"help": "Validate every N optimizer steps (also at the start, at stage ends and at the end)."})
    max_items: int | None = field(default=200, metadata={"help": "Validate on the first N items (null = all)."})
    prompt: str = field(default="r1", metadata={"help": "Eval prompt mode: r1 (the r1 training prompt), raw (the question and choices only, for a model trained on the raw form) or official."})
    system_prompt: str | None = field(default=None, metadata={"help": "System message before each prompt (null: GRPO's data.system_prompt, so the policy is validated as it is prompted in training; else the chat template's default)."})
    temperature: float = field(default=0.0, metadata={"help": "Sampling temperature (0 = greedy)."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass."})
    max_tokens: int = field(default=1024, metadata={"help": "Most new tokens per answer."})
    batch_size: int = field(default=16, metadata={"help": "Prompts per generate() call."})
    seed: int = field(default=0, metadata={"help": "Sampling seed."})
    stop_after_no_gain: int | None = field(default=None, metadata={"help": "Stop training after this many validations in a row without a new best accuracy (null = never): train until held-out accuracy stops rising."})
    min_gain: float = field(default=0.0, metadata={"help": "Accuracy points a validation must beat the best by to count as a gain."})

    def __post_init__(self) -> None:
        if not self.data:
            raise ConfigError("validation.data is empty; point it at held-out records (e.g. a `visionr1 synth` test split)")
        if self.every_steps < 1:
            raise ConfigError(f"validation.every_steps must be >= 1, got {self.every_steps}")
        if self.max_items is not None and self.max_items < 1:
            raise ConfigError(f"validation.max_items must be >= 1 or null, got {self.max_items}")
        if self.prompt not in ("r1", "raw", "official"):
            raise ConfigError(f"validation.prompt must be r1, raw or official, not {self.prompt!r}")
        if self.stop_after_no_gain is not None and self.stop_after_no_gain < 1:
            raise ConfigError(f"validation.stop_after_no_gain must be >= 1 or null, got {self.stop_after_no_gain}")
        if self.batch_size < 1 or self.max_tokens < 1:
            raise ConfigError("validation.batch_size and validation.max_tokens must be >= 1")


CHECKPOINT_SELECTION = ("last", "best_validation")


def _check_selection(cfg: Any) -> None:
    if cfg.checkpoint_selection not in CHECKPOINT_SELECTION:
        raise ConfigError(f"checkpoint_selection must be one of {', '.join(CHECKPOINT_SELECTION)}, not {cfg.checkpoint_selection!r}")
    if cfg.checkpoint_selection == "best_validation" and cfg.validation is None:
        raise ConfigError("checkpoint_selection: best_validation needs a validation: {data: ...} section")


@dataclass
class SFTRunConfig:
    """``visionr1 sft``: cold-start supervised fine-tuning."""

    run_dir: str = field(default="runs/sft", metadata={"help": "Run folder: checkpoints, metrics.jsonl, config.yaml, final/."})
    model: ModelSettings | None = field(default=None, metadata={"help": "Model to train (required)."})
    data: SFTDataSettings | None = field(default=None, metadata={"help": "SFT data (required)."})
    trainer: dict[str, Any] = field(default_factory=dict, metadata={"help": "trl.SFTConfig fields (learning_rate, num_train_epochs, max_length, ...)."})
    vision_windows: bool = field(default=True, metadata={"help": "Windowed vision attention in one batched call per window length, not one per window (exact; only where the vision tower uses sdpa; as speed.vision_windows in GRPO)."})
    validation: ValidationSettings | None = field(default=None, metadata={"help": "Held-out evaluation while training (null = none)."})
    checkpoint_selection: str = field(default="last", metadata={"help": "last, or best_validation: also keep the best-validating model as RUN_DIR/best."})
    resume: bool = field(default=True, metadata={"help": "Continue from the newest checkpoint in run_dir when there is one."})

    def __post_init__(self) -> None:
        _require(self, "model.path", "data.path")
        self.trainer = check_trainer_keys("SFTConfig", self.trainer, forbidden=SFT_FORBIDDEN)
        _check_selection(self)


@dataclass
class GRPORunConfig:
    """``visionr1 grpo``: GRPO with the hard formatting result reward and PTST stages."""

    run_dir: str = field(default="runs/grpo", metadata={"help": "Run folder: checkpoints, metrics.jsonl, samples.jsonl, config.yaml, final/."})
    model: ModelSettings | None = field(default=None, metadata={"help": "Policy (and reference) model (required)."})
    data: GRPODataSettings | None = field(default=None, metadata={"help": "RL records and prompt format (required)."})
    ptst: PTSTSettings = field(default_factory=PTSTSettings, metadata={"help": "PTST stages."})
    reward: RewardSettings = field(default_factory=RewardSettings, metadata={"help": "The optimised reward: hard (Vision-R1) or additive format + accuracy (Vision-R1-Zero)."})
    trainer: dict[str, Any] = field(default_factory=dict, metadata={"help": "trl.GRPOConfig fields shared by all stages (learning_rate, beta, epsilon, use_vllm, ...)."})
    samples: SamplesSettings = field(default_factory=SamplesSettings, metadata={"help": "Sample completions to keep."})
    speed: SpeedSettings = field(default_factory=SpeedSettings, metadata={"help": "Exact speed-ups (docs/speed.md): shared vision encoding, prefill and prefix, pixel store, batched vision windows, decoding."})
    validation: ValidationSettings | None = field(default=None, metadata={"help": "Held-out evaluation while training, also at each PTST stage boundary (null = none)."})
    checkpoint_selection: str = field(default="last", metadata={"help": "last, or best_validation: also keep the best-validating policy as RUN_DIR/best."})
    resume: bool = field(default=True, metadata={"help": "Continue from the newest checkpoint in run_dir (right stage, right step)."})

    def __post_init__(self) -> None:
        import trl

        from visionr1.train.ptst_plan import MATCHED_KEYS, plan_ptst

        _require(self, "model.path", "data.path")
        self.trainer = check_trainer_keys("GRPOConfig", self.trainer, forbidden=GRPO_FORBIDDEN)
        _check_selection(self)
        for i, s in enumerate(self.ptst.stages):
            s.trainer = check_trainer_keys("GRPOConfig", s.trainer, forbidden={**GRPO_FORBIDDEN, **STAGE_FORBIDDEN},
                                           where=f"ptst.stages[{i}].trainer")
        base = {k: self.trainer.get(k, trl.GRPOConfig.__dataclass_fields__[k].default) for k in MATCHED_KEYS}
        self.plan = plan_ptst(self.ptst.stages, matched_compute=self.ptst.matched_compute, base=base)
        """PTST's stage arithmetic, computed once (:mod:`visionr1.train.ptst_plan`): step ranges, matched compute."""
        if self.validation is not None and self.validation.system_prompt is None and self.data.system_prompt:
            self.validation.system_prompt = self.data.system_prompt  # validated as it is prompted in training


SFT_FORBIDDEN = {"output_dir": "run_dir"}
GRPO_FORBIDDEN = {
    "output_dir": "run_dir",
    "max_steps": "ptst.stages[*].steps",
    "num_generations": "ptst.stages[*].num_generations",
    "max_completion_length": "ptst.stages[*].max_completion_length",
    "reward_weights": "reward.kind (hard | additive) and reward.format_weight / reward.accuracy_weight",
}
STAGE_FORBIDDEN = {
    # The optimizer and LR schedule carry across stages: one schedule over all stages' steps.
    "learning_rate": "trainer.learning_rate (one LR schedule spans all stages)",
    "lr_scheduler_type": "trainer.lr_scheduler_type (one LR schedule spans all stages)",
    "warmup_steps": "trainer.warmup_steps",
    "optim": "trainer.optim (the optimizer state carries across stages)",
    "save_steps": "trainer.save_steps", "seed": "trainer.seed",
}


def check_config_kind(kind: str, data: dict[str, Any], path: Path | str) -> None:
    """Name a YAML of the other training stage in one line, rather than as unknown keys: ``ptst`` is GRPO's
    alone, a top-level ``vision_windows`` SFT's alone (GRPO has it under ``speed``)."""
    if kind == "sft" and "ptst" in data:
        raise ConfigError(f"{path} is a GRPO config (it has ptst stages); run it with `visionr1 grpo --config {path}`")
    if kind == "grpo" and "ptst" not in data and "vision_windows" in data:
        raise ConfigError(f"{path} is an SFT config (no ptst stages, a top-level vision_windows); run it with "
                          f"`visionr1 sft --config {path}`")


def _require(cfg: Any, *keys: str) -> None:
    for key in keys:
        if getattr(cfg, key.split(".")[0]) is None:
            raise ConfigError(f"{key} is required; set it in the YAML or as an override ({key}=...)")


def check_trainer_keys(cls_name: str, values: dict[str, Any], *, forbidden: dict[str, str],
                       where: str = "trainer") -> dict[str, Any]:
    """The ``trainer:`` mapping checked against TRL's ``cls_name`` (``SFTConfig``/``GRPOConfig``) by the config
    engine (:func:`visionr1.config.convert_fields`): keys that are not its fields, or that our config sets elsewhere
    (``forbidden``: where they live instead), are refused, and each value is converted to its field's type by the
    same rules as every other setting.

    >>> check_trainer_keys("SFTConfig", {"learning_rate": "1e-5", "num_train_epochs": 2}, forbidden={})
    {'learning_rate': 1e-05, 'num_train_epochs': 2.0}
    """
    import trl

    return convert_fields(getattr(trl, cls_name), values, where=where, owner=f"trl.{cls_name}", refused=forbidden)


def resolved_yaml(cfg: Any) -> str:
    """The resolved config as YAML, written to ``RUN_DIR/config.yaml``."""
    import yaml

    from visionr1.config import to_dict

    return yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True)

