"""The bridge's typed configuration: one YAML (``--config bridge.yaml``), flags override it.

Example ``bridge.yaml``::

    mllm: {base_url: http://localhost:8000/v1, model: Qwen2.5-VL-72B-Instruct, api_key_env: MLLM_KEY}
    reasoner: {base_url: https://api.deepseek.com/v1, model: deepseek-reasoner, api_key_env: DEEPSEEK_API_KEY,
               concurrency: 32}
    generation: {reasoner_max_tokens: 16384}
    prices: {reasoner_input: 0.55, reasoner_output: 2.19}
    filters: {max_reasoning_words: 6000}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from visionr1.config import EndpointConfig
from visionr1.errors import ConfigError

TEACHERS = ("endpoints", "template")
ANSWER_FORMS = ("auto", "final_answer", "short")


@dataclass
class PromptFiles:
    """Template files (``string.Template``: ``$question``, ``$choices``, ...); None = the shipped default."""

    pseudo_cot: Path | None = field(default=None, metadata={"help": "Stage 1 (MLLM): image + question + answer -> pseudo-CoT."})
    description: Path | None = field(default=None, metadata={"help": "Stage 2 (MLLM): image + question + pseudo-CoT -> description."})
    reasoner: Path | None = field(default=None, metadata={"help": "Stage 3 (reasoner): description + question -> long CoT. A file, or a shipped one by name: ours (the default: asks for a 'Final answer:' line) or paper (Figure 2's words: think step by step and answer directly)."})
    user: Path | None = field(default=None, metadata={"help": "User-turn form of the exported SFT data: r1 (the default when null: question, choices, think/answer instruction), raw (question and choices only, the paper's), or a template file (visionr1.r1 format). GRPO's data.user_template should name the same form."})


@dataclass
class GenerationConfig:
    """Request parameters per role."""

    mllm_max_tokens: int = field(default=2048, metadata={"help": "max_tokens for stages 1 and 2."})
    mllm_temperature: float = field(default=0.2, metadata={"help": "Sampling temperature for stages 1 and 2."})
    reasoner_max_tokens: int = field(default=16384, metadata={"help": "max_tokens for stage 3 (reasoning + answer)."})
    reasoner_temperature: float = field(default=0.6, metadata={"help": "Stage 3 temperature (0.6 is DeepSeek-R1's advice)."})
    answer_hint: bool = field(default=False, metadata={"help": "Show the reasoner the ground-truth answer as a hint."})
    stage_attempts: int = field(default=2, metadata={"help": "Times a stage is asked again when its output is empty."})
    reasoner_samples: int = field(default=1, metadata={"help": "Stage-3 samples tried per record until one passes the filters."})

    def __post_init__(self) -> None:
        if self.stage_attempts < 1 or self.reasoner_samples < 1:
            raise ConfigError("generation.stage_attempts and generation.reasoner_samples must be >= 1")


@dataclass
class FilterConfig:
    """Stage-4 thresholds; each rejection has a named reason (see visionr1.bridge.filters)."""

    min_reasoning_words: int = field(default=40, metadata={"help": "Shorter reasoning is rejected as too_short."})
    max_reasoning_words: int = field(default=8000, metadata={"help": "Longer reasoning is rejected as too_long."})
    max_ngram_repeats: int = field(default=6, metadata={"help": "A 10-word sequence seen more often than this is repetition."})
    max_compression_ratio: float = field(default=5.0, metadata={"help": "len(text)/len(zlib(text)) above this is degenerate."})
    max_foreign_script_ratio: float = field(default=0.01, metadata={"help": "Share of letters in another script (CJK, Cyrillic, ...) allowed."})


@dataclass
class PriceConfig:
    """US$ per million tokens; all zero = no cost figure."""

    mllm_input: float = field(default=0.0, metadata={"help": "MLLM prompt tokens, $/M."})
    mllm_output: float = field(default=0.0, metadata={"help": "MLLM completion tokens, $/M."})
    reasoner_input: float = field(default=0.0, metadata={"help": "Reasoner prompt tokens, $/M."})
    reasoner_output: float = field(default=0.0, metadata={"help": "Reasoner completion tokens, $/M."})

    @property
    def any(self) -> bool:
        return any((self.mllm_input, self.mllm_output, self.reasoner_input, self.reasoner_output))


@dataclass
class TemplateTeacherConfig:
    """The offline teacher (``teacher: template``): R1-style CoTs from synth records' programmatic solutions."""

    seed: int = field(default=0, metadata={"help": "Seed for phrasing choices (per record, deterministic)."})
    flaw_rate: float = field(default=0.1, metadata={"help": "Share of CoTs made deliberately flawed (wrong answer or truncated)."})
    brief: bool = field(default=False, metadata={"help": "Short CoTs (no opening, 0-2 self-checks) that a very small student can imitate."})

    def __post_init__(self) -> None:
        if not 0.0 <= self.flaw_rate <= 1.0:
            raise ConfigError(f"template.flaw_rate must be in [0, 1], got {self.flaw_rate}")


@dataclass
class BridgeConfig:
    """Everything ``visionr1 bridge`` needs."""

    input: Path | None = field(default=None, metadata={"help": "Records: JSONL, Parquet, ShareGPT JSON or a data folder."})
    image_root: Path | None = field(default=None, metadata={"help": "Folder the image paths of a JSONL or ShareGPT input are relative to and must stay inside (default: the input file's folder; / for absolute paths anywhere)."})
    out: Path | None = field(default=None, metadata={"help": "Run folder (store, outputs, copied images)."})
    teacher: str = field(default="endpoints", metadata={"help": "'endpoints' (MLLM + reasoner servers) or 'template' (offline)."})
    mllm: EndpointConfig = field(default_factory=EndpointConfig, metadata={"help": "Stages 1-2 endpoint."})
    reasoner: EndpointConfig = field(default_factory=EndpointConfig, metadata={"help": "Stage 3 endpoint."})
    generation: GenerationConfig = field(default_factory=GenerationConfig, metadata={"help": "Request parameters."})
    prompts: PromptFiles = field(default_factory=PromptFiles, metadata={"help": "Prompt template overrides."})
    filters: FilterConfig = field(default_factory=FilterConfig, metadata={"help": "Stage-4 thresholds."})
    prices: PriceConfig = field(default_factory=PriceConfig, metadata={"help": "Token prices for a cost figure."})
    template: TemplateTeacherConfig = field(default_factory=TemplateTeacherConfig, metadata={"help": "Offline teacher."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N good records (reading stops there; bad items met before then are reported)."})
    retry_backoff: float = field(default=0.5, metadata={"help": "First retry wait in seconds (doubles per try, full jitter)."})
    retry_failed: bool = field(default=True, metadata={"help": "On rerun, ask again the calls that failed for good last time."})
    store_sync: str = field(default="normal", metadata={"help": "SQLite synchronous mode: normal (process-crash safe) or full."})
    images: str = field(default="copy", metadata={"help": "How images reach RUN_DIR/images: copy or link (hard link, else copy)."})
    answer_form: str = field(default="auto", metadata={"help": "How the exported assistant turn writes its answer: final_answer (the paper's "
                                                              "'<answer> Final Answer:X </answer>', as Vision-R1-cold and the released model), short "
                                                              "('<answer>X</answer>'), or auto: final_answer, but short for the template teacher's "
                                                              "brief CoTs (template.brief, the demo's ~4M-parameter student)."})
    progress: bool = field(default=True, metadata={"help": "Show the live progress display."})
    workers: int = field(default=0, metadata={"help": "Client processes sharing the records (and each endpoint's concurrency); 0 = auto: min(2, CPUs) for endpoints, 1 for template."})

    def __post_init__(self) -> None:
        if self.teacher not in TEACHERS:
            raise ConfigError(f"teacher {self.teacher!r} is not one of {TEACHERS}")
        if self.store_sync not in ("normal", "full"):
            raise ConfigError(f"store_sync must be 'normal' or 'full', not {self.store_sync!r}")
        if self.images not in ("copy", "link"):
            raise ConfigError(f"images must be 'copy' or 'link', not {self.images!r}")
        if self.answer_form not in ANSWER_FORMS:
            raise ConfigError(f"answer_form must be one of {', '.join(ANSWER_FORMS)}, not {self.answer_form!r}")
        if self.workers < 0:
            raise ConfigError(f"workers must be >= 0 (0 = auto), got {self.workers}")
        if self.limit is not None and self.limit < 0:
            raise ConfigError(f"limit must be >= 0, got {self.limit}")

    @property
    def resolved_answer_form(self) -> str:
        """The answer form the export writes (``auto`` resolved).

        ``auto`` keeps the short form only for the template teacher's brief CoTs: they exist for the embedded
        demo's ~4M-parameter student, whose measured results (recipes/demo/demo.yaml) were made on that form.
        """
        if self.answer_form != "auto":
            return self.answer_form
        return "short" if self.teacher == "template" and self.template.brief else "final_answer"

    def check_runnable(self) -> None:
        """Raise a ConfigError naming what is missing before any work starts."""
        if self.input is None or self.out is None:
            raise ConfigError("set both --input and --out (or input/out in the YAML)")
        if self.teacher == "endpoints":
            for role in ("mllm", "reasoner"):
                ep: EndpointConfig = getattr(self, role)
                if not ep.base_url or not ep.model:
                    raise ConfigError(f"the {role} endpoint needs a base URL and a model: --{role}-url and --{role}-model")
