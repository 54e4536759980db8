"""The demo's ``report.md`` and PNG plots, read from the run folder only (eval runs, GRPO metrics, samples).

* ``accuracy.png``   test accuracy and R1 format compliance of base, cold-start and RL models (Table 4 in
                     miniature);
* ``training.png``   GRPO per step: reward, accuracy, completion length, truncation rate and reflective-word
                     rate, with the PTST stage boundaries marked, and held-out validation accuracy;
* ``warmup.png``     the base's warm-up: loss and direct-answer validation accuracy per step (the base evaluated is
                     the best-validating checkpoint, so the reader can see it is not held down by a short warm-up);
* ``ablation.png``   (``--ablation``) hard reward, format and completion length per GRPO step of PTST, Long and
                     Zero;
* ``report.md``      the table, RL − base and RL − cold start, the base's direct answers on trained and held-out
                     pairs, one item the base misses and RL gets (its chain right at every step where one is:
                     :mod:`visionr1.demo.chains`), how often each model's answer tag disagrees with its chain's
                     conclusion, the ablation table (``--ablation``), what GRPO did to the reflective words, wall
                     time per stage, the plots, and sample completions of each model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from visionr1.report.plots import PNG_SOFTWARE
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
    from visionr1.demo.chains import scored_items

    return scored_items(out, key)[:n]


def _fence(text: str, limit: int = 1500) -> str:
    text = text if len(text) <= limit else text[:limit] + " …"
    return "```text\n" + text.replace("```", "'''") + "\n```"


def _grpo_trainer_settings(path: Path) -> dict[str, Any]:
    """The GRPO run's ``trainer:`` section (temperature, learning rate, beta), or {} when it is missing."""
    from visionr1.config import load_yaml

    if not path.is_file():
        return {}
    return load_yaml(path).get("trainer") or {}


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
    """One test item the base answers wrong directly and the RL model answers right by reasoning, its chain
    right at every step where one is (:func:`visionr1.demo.chains.pick_example`)."""
    from visionr1.demo.chains import STEPS, pick_example, read_test_records

    picked = pick_example(_samples(out, "base", None), _samples(out, "rl", None), read_test_records(out))
    if picked is None:
        return ["(No test item that the base gets wrong and the RL model right.)", ""]
    b, s, checks = picked
    if checks is None:
        why = ("Chosen among the items whose RL chain is right at every step (the colour, its value, the count, the "
               "sum, the conclusion, and the answer tag a copy of the conclusion).")
    else:
        wrong = [k for k in STEPS if checks.get(k) is False] or ["no step that can be checked"]
        why = (f"No such item's RL chain is right at every step; in this one the chain gets wrong: {', '.join(wrong)}"
               + (" (the answer tag does not copy the conclusion)" if "tag" in wrong else "") + ".")
    return ["### One item: the base answers directly and wrong, the RL model reasons and is right", "", why, "",
            f"**{s['id']}** — {s['question']} gold `{s['answer']}`", "",
            f"base (extracted `{b.get('extracted')}`):", "", _fence(b.get("response") or ""), "",
            f"RL (extracted `{s.get('extracted')}`):", "", _fence(s.get("response") or ""), ""]


def _disagreement_section(out: Path, models: dict[str, str]) -> list[str]:
    """How often each model's chain concludes one answer and its answer tag gives another."""
    from visionr1.demo.chains import disagreement

    lines = ["### Does the answer tag say what the chain concluded?", "",
             "Of the test completions that end their reasoning on \"So the final answer is X.\" and close an answer "
             "tag, how many put another answer in the tag (a right chain can end in a wrong answer this way).", "",
             "| model | completions with both | tag ≠ conclusion | % |", "|---|---:|---:|---:|"]
    for key, label in models.items():
        items = _samples(out, key, None)
        if not items:
            continue
        d = disagreement([s.get("response") or "" for s in items])
        pct = "–" if d["percent"] is None else f"{d['percent']:.1f}"
        lines.append(f"| {label} | {d['both']} of {len(items)} | {d['differ']} | {pct} |")
    return lines + [""]


def reflective_fall(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The reflective-word rate over GRPO's steps (``reflective_per_1k_tokens`` of ``metrics.jsonl`` rows): its
    first value, the step from which it stays 0 to the end (None when it does not end at 0), and the last step.

    >>> reflective_fall([{"global_step": s, "reflective_per_1k_tokens": r} for s, r in [(1, 3.0), (2, 0.0), (3, 1.0),
    ...                                                                                    (4, 0.0), (5, 0.0)]])
    {'first': 3.0, 'zero_from': 4, 'steps': 5}
    """
    rates = [(r["global_step"], r["reflective_per_1k_tokens"]) for r in rows
             if r.get("reflective_per_1k_tokens") is not None and "global_step" in r]
    if not rates:
        return None
    zero_from = None
    for step, rate in reversed(rates):
        if rate != 0:
            break
        zero_from = step
    return {"first": rates[0][1], "zero_from": zero_from, "steps": rates[-1][0]}


def _reflective_note(out: Path, evals: dict[str, Any]) -> list[str]:
    """What this run's GRPO did to the reflective words, beside the paper's claim that RL keeps them."""
    fall = reflective_fall(_read_jsonl(out / "grpo" / "metrics.jsonl"))
    if fall is None:
        return []
    test = (f"on the test split, {evals['cold_start']['reflective_per_completion']} per cold-start completion and "
            f"{evals['rl']['reflective_per_completion']} per RL completion")
    if fall["first"] == 0 and fall["zero_from"] is not None and fall["zero_from"] <= 1:
        return ["", f"Reflective words (Wait, Hmm, Mistake, Alternatively, Check) in GRPO's samples: none at any step; "
                f"{test}."]
    if fall["zero_from"] is None:
        return ["", f"Reflective words (Wait, Hmm, Mistake, Alternatively, Check) in GRPO's samples: {fall['first']:.3g} "
                f"per 1K tokens at the first step, still above 0 at the last ({fall['steps']}); {test}. The paper "
                "reports that its RL model keeps them too."]
    return ["", f"Reflective words (Wait, Hmm, Mistake, Alternatively, Check) in GRPO's samples: {fall['first']:.3g} per "
            f"1K tokens at the first step, **0 from step {fall['zero_from']} on** (of {fall['steps']}); {test}. The "
            "paper reports the opposite at 7B: its RL model keeps questioning and checking its own steps. A likely "
            "reason here: the cold-start chains' self-checks only restate the last step (the template teacher's), so "
            "they never change an answer, while each costs tokens of a budget that gives a cut chain 0 reward."]


ABLATION_CURVES = (("hard_reward", "hard formatting result reward"), ("format_rate", "format reward (R1 form)"),
                   ("completion_length_mean", "completion length (tokens)"))
"""The ablation figure's panels (``metrics.jsonl`` keys): the hard reward is logged in every run whatever it
optimises (Zero optimises format + accuracy), so the runs compare on one scale."""


def ablation_plot(runs: list[tuple[str, Path]], out: Path) -> Path:
    """One panel per :data:`ABLATION_CURVES` entry, one line per GRPO run (label, run folder) against its step;
    a run's PTST stage boundaries dashed in its colour."""
    from matplotlib.ticker import MaxNLocator

    plt = _plt()
    fig, axes = plt.subplots(1, len(ABLATION_CURVES), figsize=(4 * len(ABLATION_CURVES), 3.4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, path) in enumerate(runs):
        rows = [r for r in _read_jsonl(path / "metrics.jsonl") if r.get("reward_mean") is not None]
        cuts = [b["global_step"] - 0.5 for a, b in zip(rows, rows[1:]) if a.get("stage") != b.get("stage")]
        for ax, (key, title) in zip(axes[0], ABLATION_CURVES):
            pts = [(r["global_step"], r[key]) for r in rows if r.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts), marker=".", ms=3, color=colours[k % len(colours)], label=label)
            for c in cuts:
                ax.axvline(c, color=colours[k % len(colours)], ls="--", lw=0.8)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("GRPO step", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100, metadata={"Software": PNG_SOFTWARE})
    plt.close(fig)
    return out


def _ablation_section(out: Path, summary: dict[str, Any]) -> list[str]:
    """The paper's ablation table in miniature (``summary["ablation"]``) and its GRPO curves."""
    ab = summary["ablation"]
    rows, tokens = ab["rows"], ab["tokens_sampled"]
    lines = ["## Ablations in miniature: cold start only, PTST, Long, Zero", "",
             "From the same warm-up and cold-start checkpoints as the table above; each RL run samples as many tokens, "
             f"to the nearest whole step ({ab['budget']}): PTST {tokens['ptst']:,}, Long {tokens['long']:,}, Zero "
             f"{tokens['zero']:,}. Every model is evaluated alike (test split, greedy, the same budget), with the prompt it "
             "trained on (Zero: DeepSeek-R1-Zero's system prompt and the raw question; the others: the r1 user prompt); "
             f"an RL run's model is its best-validating step. Long chains: {ab['long_chain']}.", "",
             "| variant | model | accuracy % | format % | mean tokens | truncated % | wrong among long chains % (long) | wall s |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows.values():
        wrong = "–" if r["wrong_among_long"] is None else f"{r['wrong_among_long']:.1f}"
        secs = "–" if r["seconds"] is None else f"{r['seconds']:.0f}"
        lines.append(f"| {r['label']} | `{r['model']}` | {r['accuracy']:.1f} | {r['format']:.1f} | {r['mean_tokens']} | "
                     f"{r['truncated']} | {wrong} ({r['long_chains']}) | {secs} |")
    ptst = rows["ptst"]["accuracy"]
    lines += ["", f"PTST − Long: **{ptst - rows['long']['accuracy']:+.1f} points**; PTST − Zero: "
              f"**{ptst - rows['zero']['accuracy']:+.1f} points**; PTST − cold start: "
              f"**{ptst - rows['cold_start']['accuracy']:+.1f} points** (one seed; `benchmarks/demo_seeds.py --ablation` "
              "gives the spread over seeds). Wall s: the variant's GRPO run and eval (PTST: the demo's GRPO stage; the "
              "cold start's SFT is every variant's).", ""]
    lines += _zero_note(out, ab)
    files = [(label, out / run) for label, run in (("PTST", "grpo"), ("Long", "grpo_long"), ("Zero", "grpo_zero"))
             if (out / run / "metrics.jsonl").is_file()]
    if files:
        ablation_plot(files, out / "ablation.png")
        lines += ["![ablation](ablation.png)", ""]
    return lines


def _zero_note(out: Path, ab: dict[str, Any]) -> list[str]:
    """What Zero's GRPO reached on its own prompt over its last steps (sampled), beside its greedy eval."""
    rows = [r for r in _read_jsonl(out / "grpo_zero" / "metrics.jsonl") if r.get("reward_mean") is not None][-5:]
    if not rows:
        return []
    mean = {k: sum(r.get(k) or 0 for r in rows) / len(rows) for k in ("format_rate", "accuracy", "completion_length_mean")}
    return [f"Zero trains, validates and is evaluated on DeepSeek-R1-Zero's system prompt and the raw question "
            f"(recipes/demo/grpo_zero.yaml). Over its last {len(rows)} GRPO steps: format {100 * mean['format_rate']:.0f}%, accuracy "
            f"{100 * mean['accuracy']:.0f}%, {mean['completion_length_mean']:.0f} tokens (sampled at its temperature).", ""]


def _header(summary: dict[str, Any]) -> list[str]:
    """The title, what the test split is, and the three models' table (Table 4 in miniature)."""
    evals, d, e = summary["eval"], summary["config"]["data"], summary["config"]["eval"]
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
    gain = evals["rl"]["accuracy"] - evals["cold_start"]["accuracy"]
    over_base = evals["rl"]["accuracy"] - evals["base"]["accuracy"]
    lines += ["", f"RL − base: **{over_base:+.1f} points**; RL − cold-start: **{gain:+.1f} points**; RL format compliance "
              f"**{evals['rl']['format']:.1f}%**.", ""]
    rl_best = summary["stages"].get("grpo", {}).get("best")
    if rl_best:
        lines += [f"The RL model is `{evals['rl'].get('model')}`: the GRPO step with the best validation accuracy "
                  f"(step {rl_best.get('step')}, PTST stage {(rl_best.get('stage') or 0) + 1}, {rl_best.get('accuracy')}% "
                  "on the validation split, which is disjoint from the test split).", ""]
    return lines + ["![accuracy](accuracy.png)", ""]


def _grpo_section(out: Path, summary: dict[str, Any]) -> list[str]:
    """PTST's stages and settings, the training figure and what happened to the reflective words."""
    lines = ["## GRPO training (PTST)", "",
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
    lines += _reflective_note(out, summary["eval"])
    return lines + ["", "![training](training.png)", ""]


def _tail(out: Path, summary: dict[str, Any], samples_per_model: int) -> list[str]:
    """Wall time and memory per stage, sample completions of each model and of GRPO, the files."""
    lines = ["## Wall time and memory", "", "| stage | seconds | peak RSS so far (MB) |", "|---|---:|---:|"]
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
    return lines + ["Files: `summary.json` (all numbers above), `eval/<model>/` (scores.json, verdicts, generations), "
                    "`grpo/metrics.jsonl`, `grpo/samples.jsonl`, `bridge/` (cold.jsonl, rejected, stats).", ""]


def write_demo_report(out: Path, summary: dict[str, Any], samples_per_model: int = 2) -> list[Path]:
    """Write ``accuracy.png``, ``training.png``, ``warmup.png`` (and with ``summary["ablation"]``
    ``ablation.png``) and ``report.md`` into ``out``; returns the paths."""
    out = Path(out)
    evals = summary["eval"]
    files = [accuracy_plot(evals, out / "accuracy.png"),
             training_plot([load_training_run(out / "grpo", "rl")], out / "training.png"),
             training_plot([load_training_run(out / "base", "warm-up")], out / "warmup.png")]
    models = {**LABELS, **({"zero": "Zero", "long": "Long"} if summary.get("ablation") else {})}
    lines = [*_header(summary), *_base_section(evals, summary["stages"].get("warm-up", {})),
             *_base_wrong_rl_right(out), *_disagreement_section(out, models)]
    if summary.get("ablation"):
        lines += _ablation_section(out, summary)
        files += [out / "ablation.png"] if (out / "ablation.png").is_file() else []
    lines += [*_grpo_section(out, summary), *_tail(out, summary, samples_per_model)]
    report = out / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return [*files, report]
