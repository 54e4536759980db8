"""What a Vision-R1 run records: per-step metrics, reflection statistics, sample completions.

Three pieces, all plugged into TRL rather than around it:

* :class:`TruncationAwareReward` wraps a batch reward from :mod:`visionr1.grading` and passes it the
  ``truncated`` column that TRL does not provide to reward functions (computed from ``completion_ids``,
  the EOS ids and the stage's ``max_completion_length``). The optimised reward also reports the
  reflective-word rate (Wait/Hmm/Mistake/Alternatively/Check per 1K completion tokens) through TRL's ``log_metric``
  hook, and hands a few completions to a :class:`SampleWriter`.
* :class:`SampleWriter` appends sample completions to ``RUN_DIR/samples.jsonl`` (``per_stage`` per stage).
* :class:`MetricsCallback` turns each of TRL's log events into one row of ``RUN_DIR/metrics.jsonl`` with
  stable names (stage, global_step, reward mean/std, accuracy, format rate, lengths, truncation rate,
  reflective-word rate, KL, loss, step seconds, ...), keeping TRL's raw keys under ``"trl"``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from visionr1.files import append_jsonl, read_jsonl
from visionr1.grading import completion_text
from visionr1.r1 import reflective_tally

METRICS_FILE = "metrics.jsonl"
SAMPLES_FILE = "samples.jsonl"

# metrics.jsonl name -> TRL log key (GRPOTrainer / Trainer)
TRL_KEYS = {
    "loss": "loss",
    "learning_rate": "learning_rate",
    "grad_norm": "grad_norm",
    "reward_mean": "reward",
    "reward_std": "reward_std",
    "hard_reward": "rewards/hard_format_result_reward/mean",
    "accuracy": "rewards/accuracy_reward/mean",
    "format_rate": "rewards/format_reward/mean",
    "completion_length_mean": "completions/mean_length",
    "completion_length_max": "completions/max_length",
    "truncation_rate": "completions/clipped_ratio",
    "reflective_per_1k_tokens": "reflection/words_per_1k_tokens",
    "kl": "kl",
    "entropy": "entropy",
    "frac_reward_zero_std": "frac_reward_zero_std",
}


def _user_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    for m in reversed(prompt or []):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            return "".join(p.get("text") or "" for p in c if isinstance(p, dict) and p.get("type") == "text")
    return ""


class SampleWriter:
    """Append up to ``per_stage`` sample completions per PTST stage to ``RUN_DIR/samples.jsonl``.

    Counts already written (a resumed run) are read back from the file so a rerun does not exceed them.
    """

    def __init__(self, run_dir: Path, per_stage: int) -> None:
        self.path = Path(run_dir) / SAMPLES_FILE
        self.per_stage = per_stage
        self.counts: dict[int, int] = {}
        for row in read_jsonl(self.path, missing_ok=True):
            stage = row.get("stage", 0)
            self.counts[stage] = self.counts.get(stage, 0) + 1

    def room(self, stage: int) -> int:
        return max(0, self.per_stage - self.counts.get(stage, 0))

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        append_jsonl(self.path, rows)
        for row in rows:
            self.counts[row["stage"]] = self.counts.get(row["stage"], 0) + 1


class TruncationAwareReward:
    """A grading reward with the ``truncated`` column filled in; keeps the wrapped function's ``__name__``.

    A completion is truncated when it used the whole budget (``len(ids) >= max_completion_length``) without
    ending in an EOS token; the hard formatting result reward gives it 0 even if its tags happen to close.

    Args:
        func: batch reward ``f(completions, **columns) -> list[float | None]``.
        eos_token_ids: token ids that end a completion.
        max_completion_length: the stage's completion budget.
        monitor: log reflection statistics and write samples (set on the optimised reward only).
        stage: PTST stage index (for samples).
        samples: where samples go (main process only), or None.
    """

    def __init__(self, func, eos_token_ids: list[int], max_completion_length: int, *, monitor: bool = False,
                 stage: int = 0, samples: SampleWriter | None = None) -> None:
        self.func = func
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self.eos = set(int(i) for i in eos_token_ids)
        self.max_completion_length = max_completion_length
        self.monitor = monitor
        self.stage = stage
        self.samples = samples

    def truncated(self, completion_ids: list[list[int]]) -> list[bool]:
        return [len(ids) >= self.max_completion_length and (not ids or int(ids[-1]) not in self.eos)
                for ids in completion_ids]

    def __call__(self, completions: list, completion_ids: list[list[int]] | None = None, **columns: Any) -> list:
        ids = completion_ids if completion_ids is not None else [[] for _ in completions]
        truncated = self.truncated(ids)
        columns.pop("truncated", None)
        rewards = self.func(completions, truncated=truncated, **columns)
        if self.monitor:
            self._monitor(completions, ids, truncated, rewards, columns)
        return rewards

    def _monitor(self, completions, ids, truncated, rewards, columns) -> None:
        texts = [completion_text(c) for c in completions]
        n_tokens = sum(len(i) for i in ids)
        counts = reflective_tally(texts).total
        log_metric = columns.get("log_metric")
        if log_metric is not None and n_tokens:
            log_metric("reflection/words_per_1k_tokens", 1000.0 * sum(counts.values()) / n_tokens)
            for w, n in counts.items():
                log_metric(f"reflection/{w.lower()}_per_1k_tokens", 1000.0 * n / n_tokens)
        if self.samples is None or self.samples.room(self.stage) == 0:
            return
        state = columns.get("trainer_state")
        step = (state.global_step + 1) if state is not None else None
        prompts, answers = columns.get("prompts") or [None] * len(texts), columns.get("answer") or [None] * len(texts)
        ids_col = columns.get("id") or [None] * len(texts)
        rows = []
        for i in range(min(self.samples.room(self.stage), len(texts))):
            rows.append({"stage": self.stage, "global_step": step, "id": ids_col[i], "question": _user_text(prompts[i]),
                         "answer": answers[i], "completion": texts[i], "reward": rewards[i],
                         "truncated": truncated[i], "completion_tokens": len(ids[i])})
        self.samples.write(rows)


class MetricsCallback(TrainerCallback):
    """Write one ``metrics.jsonl`` row per TRL log event (every step with ``logging_steps=1``).

    Rows carry the PTST stage and its settings, the metrics under stable names (:data:`TRL_KEYS`),
    ``step_seconds`` (wall time of the last optimizer step, generation included) and TRL's raw log
    under ``"trl"``. Only the main process writes.
    """

    def __init__(self, run_dir: Path, stage: int | None = None, stage_settings: dict[str, Any] | None = None) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.stage = stage
        self.stage_settings = stage_settings or {}
        self._t0: float | None = None
        self.step_seconds: float | None = None

    def on_step_begin(self, args, state, control, **kwargs):
        if self._t0 is None:
            self._t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self._t0 is not None:
            self.step_seconds = time.perf_counter() - self._t0
        self._t0 = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = dict(logs or {})
        if not state.is_world_process_zero or "loss" not in logs:  # skip the end-of-training summary
            return
        row: dict[str, Any] = {}
        if self.stage is not None:
            row["stage"] = self.stage
        row["global_step"] = state.global_step
        row.update(self.stage_settings)
        for name, key in TRL_KEYS.items():
            if key in logs:
                row[name] = logs[key]
        row["step_seconds"] = self.step_seconds
        row["epoch"] = logs.get("epoch")
        row["time"] = time.time()
        row["trl"] = logs
        append_jsonl(self.path, [row], default=float)


def read_metrics(run_dir: Path | str) -> list[dict[str, Any]]:
    """The rows of ``RUN_DIR/metrics.jsonl``."""
    return read_jsonl(Path(run_dir) / METRICS_FILE, missing_ok=True)


# ----------------------------------------------------------------------------- the console


PROGRESS_KEYS = (  # (TRL log key, label, format) in the order the console line shows them
    ("loss", "loss", ".4g"),
    ("reward", "reward", ".3f"),
    ("rewards/accuracy_reward/mean", "acc", ".3f"),
    ("rewards/format_reward/mean", "format", ".3f"),
    ("mean_token_accuracy", "token acc", ".3f"),
    ("completions/mean_length", "len", ".1f"),
    ("completions/clipped_ratio", "trunc", ".2f"),
    ("learning_rate", "lr", ".2e"),
)


def progress_line(logs: dict[str, Any], step: int, max_steps: int, stage: tuple[int, int] | None = None) -> str:
    """One console line for a logging step: the key metrics only (all of them are in ``metrics.jsonl``).

    >>> progress_line({"loss": 0.5, "reward": 0.25, "learning_rate": 1e-4, "kl": 0.1}, 3, 6, (0, 2))
    'step 3/6  stage 1/2  loss 0.5  reward 0.250  lr 1.00e-04'
    """
    parts = [f"step {step}/{max_steps}"]
    if stage is not None:
        parts.append(f"stage {stage[0] + 1}/{stage[1]}")
    for key, label, fmt in PROGRESS_KEYS:
        value = logs.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{label} {value:{fmt}}")
    return "  ".join(parts)


def quiet_progress(trainer: Any, stage: tuple[int, int] | None = None) -> None:
    """Swap the trainer's console logging (the whole log dict per step, printed into the progress bar) for one
    line of key metrics per logging step (:func:`progress_line`); ``metrics.jsonl`` keeps everything."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    bar = not trainer.args.disable_tqdm
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(QuietProgress(stage) if bar else QuietPrinter(stage))


class QuietProgress(TrainerCallback):
    """Transformers' progress bar, with :func:`progress_line` written above it instead of the log dict; both on
    stderr, so stdout holds only the command's JSON summary."""

    def __init__(self, stage: tuple[int, int] | None = None) -> None:
        from transformers.trainer_callback import ProgressCallback

        self.bar = ProgressCallback()
        self.stage = stage

    def on_train_begin(self, args, state, control, **kwargs):
        out = self.bar.on_train_begin(args, state, control, **kwargs)
        bar = self.bar.training_bar
        if bar is not None and state.global_step:  # a later PTST stage or a resumed run goes on from its step
            bar.n = bar.last_print_n = state.global_step  # what tqdm's `initial` sets: no burst in the rate
            bar.refresh()
            self.bar.current_step = state.global_step
        return out

    def on_step_end(self, args, state, control, **kwargs):
        return self.bar.on_step_end(args, state, control, **kwargs)

    def on_train_end(self, args, state, control, **kwargs):
        return self.bar.on_train_end(args, state, control, **kwargs)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "loss" in logs and self.bar.training_bar is not None:
            self.bar.training_bar.write(progress_line(logs, state.global_step, state.max_steps, self.stage), file=sys.stderr)


class QuietPrinter(TrainerCallback):
    """:func:`progress_line` printed per logging step, for ``disable_tqdm`` runs (no bar)."""

    def __init__(self, stage: tuple[int, int] | None = None) -> None:
        self.stage = stage

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "loss" in logs:
            print(progress_line(logs, state.global_step, state.max_steps, self.stage), file=sys.stderr, flush=True)
