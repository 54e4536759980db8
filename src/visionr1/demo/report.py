"""The demo's ``report.md`` and PNG plots, read from the run folder only (eval runs, GRPO metrics, samples).

* ``accuracy.png``   test accuracy and R1 format compliance of base, cold-start and RL models (Table 4 in
                     miniature);
* ``training.png``   GRPO per step: reward, accuracy, completion length, truncation rate and reflective-word
                     rate, with the PTST stage boundaries marked, and held-out validation accuracy;
* ``warmup.png``     the base's warm-up: loss and direct-answer validation accuracy per step (the base evaluated is
                     the best-validating checkpoint, so the reader can see it is not held down by a short warm-up);
* ``report.md``      the table, RL − base and RL − cold start, the base's direct answers on trained and held-out
                     pairs, one item the base misses and RL gets, wall time per stage, the plots, and sample
                     completions of each model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from visionr1.report.training import load_training_run, training_plot

LABELS = {"base": "base (warm-up)", "cold_start": "cold-start SFT", "rl": "RL (PTST GRPO)"}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy_plot(evals: dict[str, dict[str, Any]], out: Path) -> Path:
    """Grouped bars: accuracy and format % per model."""
    plt = _plt()
    keys = [k for k in LABELS if k in evals]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    width = 0.38
    for j, (metric, colour) in enumerate((("accuracy", "#2563eb"), ("format", "#9ca3af"))):
        xs = [i + (j - 0.5) * width for i in range(len(keys))]
        vals = [evals[k][metric] for k in keys]
        bars = ax.bar(xs, vals, width, label=f"{metric} %", color=colour)
        for b, v in zip(bars, vals):
            ax.annotate(f"{v:.1f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([LABELS[k] for k in keys])
    ax.set_ylim(0, 109)
    ax.set_ylabel("% of test items")
    ax.set_title("Test accuracy and R1 format (greedy, same token budget)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _samples(out: Path, key: str, n: int | None) -> list[dict[str, Any]]:
    """The first ``n`` (None: all) scored test items of one model (question, gold, response, verdict)."""
    path = out / "eval" / key / "results_records.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))[:n]


def _fence(text: str, limit: int = 1500) -> str:
    text = text if len(text) <= limit else text[:limit] + " …"
    return "```text\n" + text.replace("```", "'''") + "\n```"


def _grpo_trainer_settings(path: Path) -> dict[str, Any]:
    """The GRPO run's ``trainer:`` section (temperature, learning rate, beta), or {} when it is missing."""
    import yaml

    if not path.is_file():
        return {}
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("trainer") or {}


def _base_section(evals: dict[str, Any], warm: dict[str, Any]) -> list[str]:
    """Why reasoning is needed: the base's direct answers on questions it was trained on and on held-out ones,
    and its warm-up validation curve (the base is the best-validating checkpoint, not a short warm-up)."""
    lines = ["## The base: its best-validating warm-up checkpoint", ""]
    best = warm.get("best") or {}
    seen = evals.get("base_seen")
    text = (f"The warm-up trained {warm.get('steps')} steps"
            + (" and stopped because validation accuracy had stopped rising" if warm.get("stopped_early") else "")
            + (f"; its best validation accuracy, {best.get('accuracy')}%, was at step {best.get('step')}, and that "
               f"checkpoint (`{evals['base'].get('model')}`) is the base evaluated here." if best else "."))
    lines += [text, ""]
    if seen:
        lines += [f"Answering directly, the fully warmed-up model (`{seen.get('model')}`, where cold-start SFT starts) "
                  f"gets **{seen['accuracy']:.1f}%** of train-split questions (pairs it was trained on), and the base "
                  f"(`{evals['base'].get('model')}`) **{evals['base']['accuracy']:.1f}%** of test questions (pairs it "
                  "was never asked)."]
        if seen["accuracy"] - evals["base"]["accuracy"] >= 10:
            lines += ["It learned the pairs it was shown but does not compose the steps for a new pair in one forward "
                      "pass; a model that writes the steps down uses each one on its own."]
        lines += [""]
    return lines + ["![warm-up](warmup.png)", ""]


def _base_wrong_rl_right(out: Path) -> list[str]:
    """One test item the base answers wrong directly and the RL model answers right by reasoning."""
    base = {s["id"]: s for s in _samples(out, "base", None)}
    for s in _samples(out, "rl", None):
        b = base.get(s["id"])
        if b and s.get("correct") and not b.get("correct"):
            return ["### One item: the base answers directly and wrong, the RL model reasons and is right", "",
                    f"**{s['id']}** — {s['question']} gold `{s['answer']}`", "",
                    f"base (extracted `{b.get('extracted')}`):", "", _fence(b.get("response") or ""), "",
                    f"RL (extracted `{s.get('extracted')}`):", "", _fence(s.get("response") or ""), ""]
    return ["(No test item that the base gets wrong and the RL model right.)", ""]


def write_demo_report(out: Path, summary: dict[str, Any], samples_per_model: int = 2) -> list[Path]:
    """Write ``accuracy.png``, ``training.png`` and ``report.md`` into ``out``; returns the paths."""
    out = Path(out)
    evals = summary["eval"]
    files = [accuracy_plot(evals, out / "accuracy.png"),
             training_plot([load_training_run(out / "grpo", "rl")], out / "training.png"),
             training_plot([load_training_run(out / "base", "warm-up")], out / "warmup.png")]
    d, e = summary["config"]["data"], summary["config"]["eval"]
    gain = evals["rl"]["accuracy"] - evals["cold_start"]["accuracy"]
    over_base = evals["rl"]["accuracy"] - evals["base"]["accuracy"]
    warm = summary["stages"].get("warm-up", {})
    lines = [f"# Vision-R1 in miniature — seed {summary['seed']}" + (" (`--quick`: no learning expected)" if summary["quick"] else ""),
             "",
             f"Test split: {d['n_test']} held-out records of {', '.join(d['tasks'])} (difficulty {d.get('difficulty')}, "
             f"{d['image_size']} px), disjoint from the {d['n_train']} train records. Every model is evaluated through "
             f"`visionr1 eval` (records benchmark, transformers backend, R1 prompt), greedy, at most {e['max_tokens']} "
             "new tokens; a truncated completion has no closed answer and usually counts as wrong.",
             "", "## Table 4 in miniature", "",
             "| model | accuracy % | format % | mean tokens | truncated % | reflective words / completion | by task (accuracy %) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for key, label in LABELS.items():
        r = evals[key]
        tasks = ", ".join(f"{t.split('/')[-1]} {v:.0f}" for t, v in r["by_task"].items())
        lines.append(f"| {label} | {r['accuracy']:.1f} | {r['format']:.1f} | {r['mean_tokens']} | {r['truncated']} | "
                     f"{r['reflective_per_completion']} | {tasks} |")
    lines += ["", f"RL − base: **{over_base:+.1f} points**; RL − cold-start: **{gain:+.1f} points**; RL format compliance "
              f"**{evals['rl']['format']:.1f}%**.", ""]
    rl_best = summary["stages"].get("grpo", {}).get("best")
    if rl_best:
        lines += [f"The RL model is `{evals['rl'].get('model')}`: the GRPO step with the best validation accuracy "
                  f"(step {rl_best.get('step')}, PTST stage {(rl_best.get('stage') or 0) + 1}, {rl_best.get('accuracy')}% "
                  "on the validation split, which is disjoint from the test split).", ""]
    lines += ["![accuracy](accuracy.png)", ""]
    lines += _base_section(evals, warm)
    lines += _base_wrong_rl_right(out)
    lines += ["## GRPO training (PTST)", "",
              "Per GRPO step: mean hard formatting result reward, accuracy of the sampled completions, mean completion "
              "length, share truncated at the stage's budget, and reflective words (Wait, Hmm, Mistake, Alternatively, Check) per 1K "
              "tokens. Dashed lines: PTST stage boundaries.", "",
              "| stage | steps | max completion length | group size G |", "|---|---:|---:|---:|"]
    for s in summary["stages"]["grpo"].get("stages", []):
        lines.append(f"| {s['stage'] + 1} | {s['start_step']}–{s['end_step']} | {s['max_completion_length']} | {s['num_generations']} |")
    tr = _grpo_trainer_settings(out / "grpo" / "config.yaml")
    if tr:
        lines += ["", f"Sampling temperature {tr.get('temperature')}, learning rate {tr.get('learning_rate')}, "
                  f"KL coefficient β {tr.get('beta')}, {tr.get('per_device_train_batch_size')} completions per step "
                  "(from `grpo/config.yaml`)."]
    lines += ["", "![training](training.png)", "", "## Wall time and memory", "", "| stage | seconds | peak RSS so far (MB) |",
              "|---|---:|---:|"]
    for name, v in summary["stages"].items():
        lines.append(f"| {name} | {v['seconds']:.1f} | {v.get('peak_rss_mb', '')} |")
    lines += [f"| **total** | **{summary.get('total_seconds', 0):.1f}** | **{summary.get('peak_rss_mb', '')}** |", "",
              "## Sample completions (first test items)", ""]
    for key, label in LABELS.items():
        lines += [f"### {label}", ""]
        for s in _samples(out, key, samples_per_model):
            verdict = "correct" if s.get("correct") else "wrong"
            lines += [f"**{s['id']}** — {s['question']} gold `{s['answer']}`, extracted `{s.get('extracted')}` ({verdict}, "
                      f"{'well-formed' if s.get('well_formed') else 'not R1-formed'})", "", _fence(s.get("response") or ""), ""]
    grpo_samples = _read_jsonl(out / "grpo" / "samples.jsonl")
    if grpo_samples:
        lines += ["### during GRPO (first steps of each PTST stage)", ""]
        seen: set[int] = set()
        for s in grpo_samples:
            if s.get("stage") in seen:
                continue
            seen.add(s.get("stage"))
            lines += [f"stage {s.get('stage', 0) + 1}, step {s.get('global_step')}, reward {s.get('reward')}", "",
                      _fence(str(s.get("completion", ""))), ""]
    lines += ["Files: `summary.json` (all numbers above), `eval/<model>/` (scores.json, verdicts, generations), "
              "`grpo/metrics.jsonl`, `grpo/samples.jsonl`, `bridge/` (cold.jsonl, rejected, stats).", ""]
    report = out / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return [*files, report]
