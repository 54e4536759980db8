"""``visionr1 demo``: Vision-R1 in miniature, end to end on the embedded default (offline, CPU).

The stages, each through the same function its own subcommand calls (only the configs are small):

1. ``synth``   train, validation and test splits of ``colour_count`` ("What is the value of the shape's colour
               plus 3?", solved by counting up); validation and test ask only (colour, offset) pairs the train split
               never asks, so a direct answer needs every step composed in one forward pass and a chain of thought
               does not;
2. ``bridge``  the cold-start CoTs: template teacher → the real stage-4 filters → ``cold.jsonl`` (with
               ``data.brief_cots`` the teacher writes its short form, which a ~4M-parameter student can imitate);
3. ``warm-up`` the random-weight tiny Qwen2.5-VL learns to see and answer directly (``run_sft`` on direct-answer
               rows and on each reasoning step asked on its own, ``data.warmup_skills``, from the train split; it
               plays the role of the base model's pre-training), validating every 50 steps; the best-validating
               checkpoint is the base;
4. ``sft``     cold-start SFT on the teacher's CoTs plus replayed step rows (``data.sft_replay``; the sums that
               conclude written as R1 answers with ``data.sft_replay_r1``);
5. ``grpo``    GRPO with the hard formatting result reward in two PTST stages, validating as it trains;
6. ``eval``    base, cold-start and RL models on the test split (``visionr1 eval``'s ``run_eval``, records
               benchmark, transformers backend, greedy, one completion budget for all three), and the base on
               train-split questions (what it learned from what it was shown);
7. ``report``  ``RUN_DIR/report.md``, PNG plots and ``summary.json``.

With ``--ablation`` two more GRPO runs and their evals come before the report (:mod:`visionr1.demo.ablation`):
Zero (RL from the warmed-up base) and Long (one stage at the longest budget), from the same checkpoints and with
the same sampled tokens as PTST; the report and ``summary.json`` gain the ablation table.

The configs live in ``visionr1/demo/recipes/`` (package data; ``recipes/demo/`` in the repository links to it) (``demo.yaml`` for data/model/eval, one YAML per training stage).
Top-level imports are stdlib and typer only, so ``visionr1 --help`` stays fast.

Example:
    >>> summary = run_demo(Path("runs/demo"), seed=0, quick=True)      # doctest: +SKIP
    >>> sorted(summary["eval"])                                          # doctest: +SKIP
    ['base', 'cold_start', 'rl']
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable

import typer

from visionr1.demo.config import DemoConfig, load_demo_config

RECIPES = Path(__file__).resolve().parent / "recipes"
"""demo.yaml and the stage recipes, shipped in the package (a wheel's ``visionr1 demo`` finds them);
``recipes/demo`` in the repository is a link to this folder."""
RECORDS_BENCHMARK = "visionr1.eval.benchmarks.records"
MODELS = (("base", "base (warm-up)"), ("cold_start", "cold-start SFT"), ("rl", "RL (PTST GRPO)"))
STAGES = ("synth", "bridge", "warm-up", "sft", "grpo", "eval", "report")
DESCRIBE_PROMPT = "Describe the image."


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Run folder (data, models, eval runs, report.md, plots).")] = Path("runs/demo"),
    seed: Annotated[int, typer.Option("--seed", help="Seed for data, model weights and training.")] = 0,
    quick: Annotated[bool, typer.Option("--quick", help="CI smoke run (a few minutes on a CPU; summary.json gives each stage's seconds): every stage runs, tiny sizes; shows no learning.")] = False,
    recipes: Annotated[Path, typer.Option("--recipes", help="Folder with demo.yaml, warmup.yaml, sft.yaml, grpo.yaml (and with --ablation grpo_zero.yaml, grpo_long.yaml).")] = RECIPES,
    ablation: Annotated[bool, typer.Option("--ablation", help="Also run the paper's ablations in miniature from the same checkpoints: Zero (RL from the base) and Long (one stage at the longest budget), each sampling as many tokens as PTST, evaluated alike; report.md and summary.json gain the table.")] = False,
) -> None:
    """Run the whole method on the embedded default and show that it works (report.md + plots)."""
    from rich.console import Console

    from visionr1.errors import cli_errors
    from visionr1.train.command import hide_log_lines, quiet_libraries

    quiet_libraries()  # as sft and grpo do: no DeepSpeed accelerator notice, no library loading bars
    # the demo runs on the CPU by design: torch's note that it found no CUDA runtime (logged when vLLM is imported)
    # says nothing to act on here, though it may elsewhere
    hide_log_lines([("torch.utils.cpp_extension", "No CUDA runtime is found")])
    console = Console()
    with cli_errors(console, resumable=False):
        run_demo(out, seed=seed, quick=quick, recipes=recipes, console=console, ablation=ablation)


# ----------------------------------------------------------------------------- configuration


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ----------------------------------------------------------------------------- stages


def write_warmup_data(train_jsonl: Path, out: Path, describe: bool = False,
                      skills: bool | dict[str, int] = True) -> dict[str, int]:
    """Warm-up rows (TRL messages format, images relative to ``out``'s folder) from the train split; returns the
    number of rows of each kind.

    Per record: the shared R1 user prompt → ``The answer is X.`` (a direct answer: the base model does not know
    the R1 format), with ``skills`` the steps of the record's ``metadata.subskills`` (each step asked on its own
    and answered as the chain of thought states it: the base gets every skill the reasoning uses; a dict gives
    the copies of each skill's row, e.g. ``{"add": 3}``: a ~4M model learns one-digit sums slowest), and with
    ``describe`` ``Describe the image.`` → the record's description.
    """
    from visionr1.data import read_records
    from visionr1.r1 import render_user_prompt

    res = read_records(train_jsonl)
    rows, kinds = [], {"answer": 0}
    copies = skills if isinstance(skills, dict) else None

    def add(rid: str, images: list[str], question: str, answer: str, kind: str) -> None:
        rows.append({"id": rid, "images": images, "messages": [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]},
            {"role": "assistant", "content": [{"type": "text", "text": answer}]}]})
        kinds[kind] = kinds.get(kind, 0) + 1

    for r in res.records:
        answer = r.answer if not r.choices else f"({r.answer_letter}) {r.answer}"
        add(f"{r.id}-answer", r.images, render_user_prompt(r.question, r.choices), f"The answer is {answer}.", "answer")
        for step in (r.metadata.get("subskills") or []) if skills else []:
            for k in range(copies.get(step["skill"], 1) if copies else 1):
                add(f"{r.id}-{step['skill']}" + (f"-{k + 1}" if k else ""), r.images, step["question"],
                    step["answer"], step["skill"])
        if describe:
            add(f"{r.id}-describe", r.images, DESCRIBE_PROMPT, r.metadata["description"], "describe")
    out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return kinds


def write_cold_start_mix(cold_jsonl: Path, warmup_jsonl: Path, out: Path, replay: dict[str, int],
                         seed: int = 0, r1_form: str | None = None) -> dict[str, int]:
    """The cold-start SFT set: the bridge's CoTs plus ``replay[skill]`` warm-up rows of each skill, shuffled
    (image paths rewritten relative to ``out``'s folder, which must hold both inputs' images); returns the rows
    of each kind.

    Why: SFT on a few hundred CoTs alone teaches the tiny model to write the chain but overwrites the skills
    it uses (it memorises the sums of the (colour, offset) pairs it saw in the CoTs and gets held-out pairs
    wrong); replaying each step asked on its own keeps the chain's steps general. Rows are drawn from the
    first copy of each warm-up row only.

    ``r1_form`` (an answer form of :func:`visionr1.r1.format_r1`, the one the CoTs use): a replayed row whose
    answer ends on a conclusion ("... 5+6=11. So the final answer is 11.") is written as an R1 answer in that form,
    e.g. ``<think>…</think><answer>11</answer>``, so the copy of the conclusion into the answer tag is learned on
    every pair, as the conclusion itself is in the warm-up. Without it the student
    learns that copy only from CoTs of train-split pairs, and after ``<answer>`` it recalled a trained pair's
    sum instead (colour_count, seed 1: the chain's conclusion right in 93 of 150 RL test answers, the answer tag
    in 34).
    """
    import os
    import random

    def rows(path: Path) -> list[dict[str, Any]]:
        items = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        for r in items:
            r["images"] = [os.path.relpath(path.parent / i, out.parent) for i in r.get("images") or []]
        return items

    cold = rows(cold_jsonl)
    pool: dict[str, list[dict[str, Any]]] = {}
    for r in rows(warmup_jsonl):
        head, _, tail = r["id"].rpartition("-")
        if not tail.isdigit():  # the first copy of each row
            pool.setdefault(tail, []).append(r)
    rng = random.Random(seed)
    mix, kinds = list(cold), {"cot": len(cold)}
    for skill, n in replay.items():
        picked = rng.sample(pool.get(skill, []), min(n, len(pool.get(skill, []))))
        if r1_form:
            picked = [_as_r1_answer(r, r1_form) for r in picked]
        mix += picked
        kinds[skill] = len(picked)
    rng.shuffle(mix)
    out.write_text("".join(json.dumps(r) + "\n" for r in mix), encoding="utf-8")
    return kinds


def _as_r1_answer(row: dict[str, Any], form: str) -> dict[str, Any]:
    """``row`` with its assistant text ``T`` ending on a conclusion ("So the final answer is X.",
    :func:`visionr1.r1.conclusion`) rewritten as ``format_r1(T, X, form)``; any other row unchanged."""
    from visionr1.r1 import concluded_answer, format_r1

    *head, last = row["messages"]
    text = last["content"][0]["text"] if isinstance(last["content"], list) else last["content"]
    answer = concluded_answer(text)
    if last["role"] != "assistant" or answer is None:
        return row
    r1 = format_r1(text, answer, form)
    return {**row, "messages": [*head, {"role": "assistant", "content": [{"type": "text", "text": r1}]}]}


def _stage_config(cls, name: str, recipes: Path, overrides: list[str]):
    from visionr1.config import load_config

    return load_config(cls, Path(recipes) / f"{name}.yaml", overrides)


def _quiet_transformers() -> None:
    import logging

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("visionr1").setLevel(logging.WARNING)


@dataclass
class DemoRun:
    """One ``visionr1 demo`` invocation: where it writes, its settings, and the summary its stages fill in."""

    out: Path
    seed: int
    quick: bool
    recipes: Path
    cfg: DemoConfig
    console: Any
    stages: tuple[str, ...] = STAGES
    summary: dict[str, Any] = field(default_factory=dict)
    t_start: float = field(default_factory=time.perf_counter)

    @property
    def data_dir(self) -> Path:
        return self.out / "data"

    def recipe(self, name: str) -> dict[str, Any]:
        """A stage recipe as YAML data (``name``.yaml in the recipes folder), before any override."""
        from visionr1.config import load_yaml

        return load_yaml(Path(self.recipes) / f"{name}.yaml")

    def stage(self, name: str, what: str, fn: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        """Run one stage: a numbered rule, then ``fn``, then its seconds and peak RSS in ``summary["stages"]``."""
        i = list(self.stages).index(name) + 1
        self.console.rule(f"[bold cyan][{i}/{len(self.stages)}] {name}[/] — {what}")
        t0 = time.perf_counter()
        result = fn() or {}
        seconds = round(time.perf_counter() - t0, 1)
        self.summary["stages"][name] = {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), **result}
        self.console.print(f"[green]✓[/] {name} done in {seconds:.1f}s (elapsed {time.perf_counter() - self.t_start:.0f}s, "
                           f"peak RSS {_peak_rss_mb():.0f} MB)")
        return result


def run_demo(out: Path, seed: int = 0, quick: bool = False, recipes: Path = RECIPES, console=None,
             ablation: bool = False) -> dict[str, Any]:
    """Run all seven stages into ``out`` (with ``ablation``, the two extra GRPO variants of
    :mod:`visionr1.demo.ablation` and their evals before the report); returns (and writes) ``out/summary.json``."""
    import torch
    from rich.console import Console

    from visionr1.outdir import claim_output_dir

    console = console or Console()
    cfg = load_demo_config(recipes, quick)
    if ablation:
        from visionr1.demo.ablation import check_recipes, stage_names

        check_recipes(recipes)
    out = claim_output_dir(Path(out), "visionr1 demo", looks_ours=looks_like_demo, flag="a new --out")
    _quiet_transformers()
    torch.manual_seed(seed)
    stages = (*STAGES[:-1], *stage_names(), STAGES[-1]) if ablation else STAGES
    run = DemoRun(out, seed, quick, Path(recipes), cfg, console, stages,
                  {"seed": seed, "quick": quick, "out": str(out), "config": cfg.as_dict(), "stages": {}})
    train_stages(run)
    evaluate_stage(run)
    if ablation:
        ablation_stages(run)
    run.stage("report", "report.md, plots, summary.json", lambda: _report(run))
    summary = run.summary
    summary["total_seconds"] = round(time.perf_counter() - run.t_start, 1)
    summary["peak_rss_mb"] = _peak_rss_mb()
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    print_summary(summary, console)
    return summary


def train_stages(run: DemoRun) -> None:
    """Stages 1-5: synth, bridge, warm-up, cold-start SFT and PTST GRPO."""
    d = run.cfg.data
    run.stage("synth", f"{d.n_train} train / {d.n_val} validation / {d.n_test} test records of {', '.join(d.tasks)}",
              lambda: _synth(run))
    run.stage("bridge", "template teacher → filters → cold.jsonl", lambda: _bridge(run))
    run.stage("warm-up", "random tiny Qwen2.5-VL learns to see, the facts and the sums, and to answer directly "
                         "(no R1 format), until its validation accuracy stops rising", lambda: _warmup(run))
    run.stage("sft", "cold-start SFT on the teacher's R1-style CoTs", lambda: _sft(run))
    run.stage("grpo", "PTST GRPO with the hard formatting result reward",
              lambda: grpo_run(run, "grpo", run.out / "grpo", run.out / "sft" / "final"))


def _synth(run: DemoRun) -> dict[str, Any]:
    from visionr1.data.synth import synthesize

    d = run.cfg.data
    return {"splits": synthesize(run.data_dir, n=d.n_train, seed=run.seed, tasks=d.tasks, split_test=d.n_test,
                                 split_val=d.n_val, image_size=d.image_size, difficulty=d.difficulty)["splits"]}


def _bridge(run: DemoRun) -> dict[str, Any]:
    from visionr1.bridge.config import BridgeConfig
    from visionr1.bridge.run import run_bridge
    from visionr1.config import from_dict

    d = run.cfg.data
    bcfg = from_dict(BridgeConfig, {"input": str(run.data_dir / "train.jsonl"), "out": str(run.out / "bridge"),
                                    "teacher": "template", "limit": d.cold_start,
                                    "template": {"seed": run.seed, "brief": d.brief_cots},
                                    "filters": {"min_reasoning_words": d.min_reasoning_words},
                                    "progress": False, "images": "link"})
    st = run_bridge(bcfg)
    run.console.print(f"kept {st['kept']} of {st['records']} CoTs; rejected {st['rejected_by_reason']}; "
                      f"reasoning words p50 {st['reasoning_length_words']['p50']}")
    return {"kept": st["kept"], "records": st["records"], "rejected_by_reason": st["rejected_by_reason"],
            "reasoning_words_p50": st["reasoning_length_words"]["p50"], "answer_form": st["answer_form"]}


def _warmup(run: DemoRun) -> dict[str, Any]:
    from visionr1.models.tiny import build_tiny_model
    from visionr1.train import SFTRunConfig, run_sft

    d, out = run.cfg.data, run.out
    model_dir = build_tiny_model(out / "tiny-model", seed=run.seed, spec=run.cfg.model.spec(d.image_size))
    rows = write_warmup_data(run.data_dir / "train.jsonl", run.data_dir / "warmup.jsonl",
                             describe=d.warmup_describe, skills=d.warmup_skills)
    wcfg = _stage_config(SFTRunConfig, "warmup", run.recipes, [
        f"run_dir={out / 'base'}", f"model.path={model_dir}", f"data.path={run.data_dir / 'warmup.jsonl'}",
        f"trainer.seed={run.seed}", "resume=false", *_validation(run.recipe("warmup"), run.data_dir, run.seed),
        *run.cfg.overrides["warmup"]])
    _rerun(out / "base", "sft")
    res = run_sft(wcfg)
    return {"rows": rows, "steps": res["global_step"], "train_loss": round(res["train_loss"], 4),
            "params_m": round(_param_count(model_dir) / 1e6, 2), "best": _best(out / "base"),
            "stopped_early": (out / "base" / "stopped_early.json").is_file()}


def _sft(run: DemoRun) -> dict[str, Any]:
    from visionr1.train import SFTRunConfig, run_sft

    d, out = run.cfg.data, run.out
    cold = out / "bridge" / "cold.jsonl"
    rows = {"cot": None}
    if d.sft_replay:
        # at the run folder's top: its images live in bridge/ and data/, and a data file's images must
        # lie under its own folder
        r1_form = run.summary["stages"]["bridge"]["answer_form"] if d.sft_replay_r1 else None
        rows = write_cold_start_mix(cold, run.data_dir / "warmup.jsonl", out / "cold_start.jsonl",
                                    d.sft_replay, seed=run.seed, r1_form=r1_form)
        cold = out / "cold_start.jsonl"
        run.console.print(f"cold-start set: {rows}")
    scfg = _stage_config(SFTRunConfig, "sft", run.recipes, [
        f"run_dir={out / 'sft'}", f"model.path={out / 'base' / 'final'}", f"data.path={cold}",
        f"trainer.seed={run.seed}", "resume=false", *run.cfg.overrides["sft"]])
    _rerun(out / "sft", "sft")
    res = run_sft(scfg)
    return {"examples": res["examples"], "steps": res["global_step"], "train_loss": round(res["train_loss"], 4),
            "rows": rows}


def grpo_run(run: DemoRun, recipe: str, run_dir: Path, model: Path) -> dict[str, Any]:
    """One GRPO run of the demo: the stage recipe ``recipe``.yaml (with the demo's ``overrides[recipe]``) from
    the checkpoint ``model`` on the train split into ``run_dir``, validating on the validation split as the
    recipe asks; returns its steps, PTST stages, best-validating step and the prompt it was validated with
    (``prompted``: the eval's ``prompt`` and ``system_prompt``; r1 and the data's system prompt without validation)."""
    from visionr1.train import GRPORunConfig, run_grpo

    gcfg = _stage_config(GRPORunConfig, recipe, run.recipes, [
        f"run_dir={run_dir}", f"model.path={model}", f"data.path={run.data_dir / 'train.jsonl'}",
        f"trainer.seed={run.seed}", "resume=false", *_validation(run.recipe(recipe), run.data_dir, run.seed),
        *run.cfg.overrides.get(recipe, [])])
    _rerun(run_dir, "grpo")
    res = run_grpo(gcfg)
    v = gcfg.validation
    prompted = ({"prompt": v.prompt, "system_prompt": v.system_prompt} if v is not None
                else {"prompt": "r1", "system_prompt": gcfg.data.system_prompt})
    return {"steps": res["global_step"], "stages": res["stages"], "best": _best(run_dir), "prompted": prompted}


def kept_model(run_dir: Path) -> Path:
    """The model a training run keeps: its best-validating ``best/`` when there is one, else ``final/``."""
    return run_dir / ("best" if (run_dir / "best" / "config.json").is_file() else "final")


def eval_model(run: DemoRun, key: str, model: Path, seen: bool = False, prompt: str = "r1",
               system_prompt: str | None = None) -> dict[str, Any]:
    """Evaluate ``model`` into ``eval/<key>`` through ``visionr1 eval``'s ``run_eval`` (records benchmark,
    transformers, greedy, the eval budget): on the test split, or with ``seen`` on as many train-split items;
    ``prompt`` and ``system_prompt`` as the model was trained (the r1 prompt, no system message, unless the GRPO
    recipe says otherwise); returns the figures the summary keeps."""
    from visionr1.eval.run import EvalConfig, run_eval

    d, e, out = run.cfg.data, run.cfg.eval, run.out
    ecfg = EvalConfig(benchmark=RECORDS_BENCHMARK, data=run.data_dir / ("train.jsonl" if seen else "test.jsonl"),
                      out=out / "eval" / key, model=str(model), prompt=prompt,
                      system_prompt=system_prompt, temperature=e.temperature,
                      top_p=1.0, max_tokens=e.max_tokens, seed=run.seed, batch_size=e.batch_size,
                      device="cpu", dtype="float32", limit=d.n_test if seen else None)
    _rerun(out / "eval" / key, "eval")
    scores = run_eval(ecfg)
    comp = scores["completion"]
    n = max(1, comp["completions"])
    result = {"accuracy": scores["headline"]["accuracy"], "format": scores["headline"]["format"],
              "items": scores["items"], "mean_tokens": comp["length"]["mean"],
              "truncated": round(100 * comp["truncated"] / n, 1),
              "reflective_per_completion": comp["reflective_words"]["per_completion"],
              "by_task": {t: v["accuracy"] for t, v in scores["breakdowns"]["task"].items()},
              "model": str(model.relative_to(out))}
    run.console.print(f"  accuracy {result['accuracy']:.1f}%  format {result['format']:.1f}%  "
                      f"mean {comp['length']['mean']} tokens  truncated {result['truncated']}%")
    return result


def evaluate_stage(run: DemoRun) -> None:
    """Stage 6: base, cold-start and RL models on the test split, and the warmed-up base on train-split items."""
    out, d, e = run.out, run.cfg.data, run.cfg.eval
    # base_seen: the fully warmed-up model (the one cold-start SFT starts from) on train-split questions,
    # i.e. what the warm-up taught it from what it was shown
    paths = {"base": kept_model(out / "base"), "cold_start": out / "sft" / "final", "rl": kept_model(out / "grpo"),
             "base_seen": out / "base" / "final"}

    def evaluate() -> dict[str, Any]:
        results = {}
        for key, label in (*MODELS, ("base_seen", "warmed-up base on train-split questions")):
            run.console.print(f"[bold]{label}[/]: {paths[key]}")
            results[key] = eval_model(run, key, paths[key], seen=key == "base_seen")
        return results

    run.summary["eval"] = run.stage("eval", f"3 models on {d.n_test} test records, greedy, {e.max_tokens} new "
                                            "tokens", evaluate)
    run.summary["stages"]["eval"] = {k: v for k, v in run.summary["stages"]["eval"].items()
                                     if k not in {*dict(MODELS), "base_seen"}}


def ablation_stages(run: DemoRun) -> None:
    """``--ablation``: each variant of :mod:`visionr1.demo.ablation` (a GRPO run from the demo's checkpoints and
    its eval), then ``summary["ablation"]``."""
    from visionr1.demo.ablation import VARIANTS, ablation_summary

    for key, (recipe, start, label) in VARIANTS.items():
        run.stage(f"grpo-{key}", f"{label}: GRPO from {start} ({recipe}.yaml, the same sampled tokens as PTST), "
                                 "then its eval", lambda key=key: _variant(run, key))
    run.summary["ablation"] = ablation_summary(run)


def _variant(run: DemoRun, key: str) -> dict[str, Any]:
    """One ablation variant: its GRPO run (``grpo_<key>/``) from the demo's checkpoint, then its eval
    (``eval/<key>``) of the best-validating policy. Returns the stage's record (steps, best, seconds of each part)."""
    from visionr1.demo.ablation import VARIANTS

    recipe, start, label = VARIANTS[key]
    t0 = time.perf_counter()
    res = grpo_run(run, recipe, run.out / f"grpo_{key}", run.out / start)
    grpo_seconds = round(time.perf_counter() - t0, 1)
    run.console.print(f"[bold]{label}[/]")
    result = eval_model(run, key, kept_model(run.out / f"grpo_{key}"), **res["prompted"])  # as it was validated
    run.summary.setdefault("ablation", {}).setdefault("eval", {})[key] = result
    return {**res, "grpo_seconds": grpo_seconds, "eval_seconds": round(time.perf_counter() - t0 - grpo_seconds, 1)}


def _report(run: DemoRun) -> dict[str, Any]:
    from visionr1.demo.report import write_demo_report

    run.summary["total_seconds"] = round(time.perf_counter() - run.t_start, 1)
    run.summary["peak_rss_mb"] = _peak_rss_mb()
    files = write_demo_report(run.out, run.summary)
    return {"files": [str(f.relative_to(run.out)) for f in files]}


def _rerun(path: Path, kind: str) -> None:
    """Remove a stage's previous output (the demo reruns each stage from scratch), but only a folder that stage
    made: anything else in its place is refused (:mod:`visionr1.outdir`)."""
    from visionr1.outdir import remove_output_dir

    if kind == "eval":
        from visionr1.eval.run import looks_like_eval_run as looks
    else:
        from visionr1.train.common import looks_like_run

        looks = looks_like_run(kind)
    remove_output_dir(path, f"visionr1 {kind}", looks_ours=looks)


def _validation(recipe: dict[str, Any], data_dir: Path, seed: int) -> list[str]:
    """The overrides that point a stage recipe's ``validation:`` section at the demo's validation split."""
    if not recipe.get("validation"):
        return []
    return [f"validation.data={data_dir / 'val.jsonl'}", f"validation.seed={seed}"]


def _best(run: Path) -> dict[str, Any] | None:
    """``best.json`` of a run that kept its best-validating model (step, stage, accuracy), or None."""
    try:
        return json.loads((run / "best" / "best.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def looks_like_demo(path: Path) -> bool:
    """A folder ``visionr1 demo`` wrote before output folders were marked: its summary.json and data/."""
    return (Path(path) / "summary.json").is_file() and (Path(path) / "data" / "train.jsonl").is_file()


def _param_count(model_dir: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        return sum(f.get_tensor(k).numel() for k in f.keys())


def print_summary(summary: dict[str, Any], console) -> None:
    """The one-screen summary: the three models' test accuracy and format, and wall time per stage."""
    from rich.panel import Panel
    from rich.table import Table

    t = Table(title=f"Vision-R1 in miniature — test split, seed {summary['seed']}" + (" (--quick)" if summary["quick"] else ""))
    for col in ("model", "accuracy %", "format %", "mean tokens", "truncated %"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for key, label in MODELS:
        r = summary["eval"][key]
        t.add_row(label, f"{r['accuracy']:.1f}", f"{r['format']:.1f}", f"{r['mean_tokens']}", f"{r['truncated']}")
    s = Table(title="wall time per stage")
    s.add_column("stage")
    s.add_column("seconds", justify="right")
    for name, v in summary["stages"].items():
        s.add_row(name, f"{v['seconds']:.1f}")
    s.add_row("[bold]total", f"[bold]{summary['total_seconds']:.1f}")
    gain = summary["eval"]["rl"]["accuracy"] - summary["eval"]["cold_start"]["accuracy"]
    console.print(t)
    if summary.get("ablation"):
        console.print(_ablation_table(summary["ablation"]))
    console.print(s)
    console.print(Panel(f"RL − cold-start: [bold]{gain:+.1f}[/] points; RL format {summary['eval']['rl']['format']:.1f}%; "
                        f"peak RSS {summary['peak_rss_mb']:.0f} MB\nreport: {Path(summary['out']) / 'report.md'}"))


def _ablation_table(ablation: dict[str, Any]):
    """``summary["ablation"]`` as a rich table: one row per variant."""
    from rich.table import Table

    t = Table(title="ablations in miniature — the same checkpoints, as many sampled tokens (test split)")
    for col in ("variant", "accuracy %", "format %", "mean tokens", "truncated %", "wrong among long %", "wall s"):
        t.add_column(col, justify="left" if col == "variant" else "right")
    for r in ablation["rows"].values():
        t.add_row(r.get("name", r["label"]), f"{r['accuracy']:.1f}", f"{r['format']:.1f}", f"{r['mean_tokens']}", f"{r['truncated']}",
                  "–" if r["wrong_among_long"] is None else f"{r['wrong_among_long']:.1f}",
                  "–" if r["seconds"] is None else f"{r['seconds']:.0f}")
    return t
