"""The ``visionr1`` command line: one subcommand per stage of the method.

Each command parses its options, calls that stage's ``run``-style function, and prints a short
summary. Heavy imports (torch, transformers, trl) happen inside the commands so ``--help`` is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from visionr1.errors import cli_errors

app = typer.Typer(
    name="visionr1",
    help="Vision-R1 as a toolkit: cold-start data by modality bridging, SFT, GRPO with PTST, evaluation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


@app.command("tiny-model")
def tiny_model(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the model, processor and tokenizer to.")],
    seed: Annotated[int, typer.Option(help="Seed for the random weights (the build is deterministic per seed).")] = 0,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Rebuild instead of copying a cached build.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace --out even if it holds files tiny-model did not make (they are deleted).")] = False,
) -> None:
    """Build the tiny, RANDOM-WEIGHT Qwen2.5-VL used to run every stage offline on a CPU."""
    import time

    from visionr1.models.tiny import build_tiny_model
    from visionr1.train.command import quiet_libraries

    quiet_libraries()  # no DeepSpeed accelerator notice, no weight-writing bar
    t0 = time.perf_counter()
    with cli_errors(console, resumable=False):
        path = build_tiny_model(out, seed=seed, use_cache=not no_cache, force=force)
    console.print(f"tiny Qwen2.5-VL (random weights, seed {seed}) at [bold]{path}[/] in {time.perf_counter() - t0:.1f}s")


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder for train.jsonl, test.jsonl and images/.")],
    n: Annotated[int, typer.Option("--n", help="Number of training records.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives byte-identical files.")] = 0,
    tasks: Annotated[Optional[list[str]], typer.Option("--tasks", help="Task families to use (repeatable); default all.")] = None,
    split_test: Annotated[int, typer.Option("--split-test", help="Number of test records (disjoint from train).")] = 0,
    split_val: Annotated[int, typer.Option("--split-val", help="Number of validation records (val.jsonl; disjoint from train and test).")] = 0,
    image_size: Annotated[int, typer.Option("--image-size", help="Side of the square images in pixels.")] = 224,
    force: Annotated[bool, typer.Option("--force", help="Write into --out even if it holds files synth did not make.")] = False,
) -> None:
    """Render a synthetic, verifiable multimodal math data set (images + exact answers + solutions)."""
    from visionr1.data.synth import synthesize

    with cli_errors(console, resumable=False):
        summary = synthesize(out, n=n, seed=seed, tasks=tasks, split_test=split_test, image_size=image_size,
                             split_val=split_val, force=force)
    if summary.get("replaced"):
        old = summary["replaced"]
        console.print(f"replaced the set that was in {out} ({old['train']} train / {old['test']} test records)")
    console.print_json(data=summary)


@app.command()
def score(
    benchmark: Annotated[str, typer.Argument(help="mathvista, mathverse, mmmath, dynamath, mathvision or wemath.")],
    results: Annotated[Path, typer.Argument(help="The benchmark's own released result file (MATH-V outputs/<model>.jsonl, MathVista pid -> record JSON, ...).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write the scored file (JSON keyed by item id; the scores go beside it).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="The benchmark's annotations (MATH-V data/test.jsonl, DynaMath dataset/dataset.json; optional where the result file carries them).")] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="default (the default: ours, judge-free, the right verdict; an undecided reply is never credited) or official (the benchmark's released scoring code, to compare with published numbers; a judge for its GPT steps). Both accuracies are computed and shown; the chosen one's verdicts are `correct`.")] = "default",
    judge_endpoint: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL of an LLM to extract answers.")] = None,
    judge_model: Annotated[Optional[str], typer.Option(help="Model name at the judge endpoint.")] = None,
    judge_api_key_env: Annotated[str, typer.Option(help="Environment variable holding the judge's API key.")] = "OPENAI_API_KEY",
    judge_undecided: Annotated[bool, typer.Option("--judge-undecided", help="Send only the records the rules leave undecided to the judge.")] = False,
    judge_store: Annotated[Optional[Path], typer.Option("--judge-store", help="File keeping the judge's answers (default: beside --out); reruns reuse them.")] = None,
) -> None:
    """Score a benchmark's released result file by its official protocol and ours, judge-free by default."""
    from visionr1.eval.judge import judge_config
    from visionr1.eval.score import score_command

    with cli_errors(console, resumable=False):
        score_command(benchmark, results, out, judge_config(judge_endpoint, judge_model, judge_api_key_env),
                      protocol=protocol, data=data, judge_undecided=judge_undecided, judge_store=judge_store)


data_app = typer.Typer(help="Data checks: training items that are benchmark items.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("decontaminate")
def data_decontaminate(
    train: Annotated[Path, typer.Option("--train", help="Training data: anything `read_records` reads (JSONL, Parquet, HF folder, ShareGPT).")],
    against: Annotated[list[str], typer.Option("--against", metavar="NAME=PATH", help="Benchmark data as NAME=PATH or NAME:SPLIT=PATH (repeatable), e.g. mathvision=data/MathVision.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Write a clean copy of the training set here, in its layout (a new folder).")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Folder for overlap.jsonl and summary.md (default: --out).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Processes hashing pictures (default: the CPUs, at most 8).")] = None,
    text_across_pictures: Annotated[bool, typer.Option("--text-across-pictures", help="Also count the same specific question over a different picture.")] = False,
    fail_on_overlap: Annotated[bool, typer.Option("--fail-on-overlap", help="Exit with status 1 when any training item matches (for CI).")] = False,
) -> None:
    """Find training items that are benchmark items, by picture (perceptual hash) and by question text."""
    from visionr1.data.decontaminate import Thresholds, decontaminate
    from visionr1.eval.benchmarks import get_benchmark

    def hashed(stage: str, done: int, total: int) -> None:
        if done == total:
            console.print(f"{stage}: pictures of {total} items hashed")

    with cli_errors(console, resumable=False):
        s = decontaminate(train, against, lambda name, path, split: get_benchmark(name).load(path, split=split),
                          report=report, out=out, workers=workers, on_progress=hashed,
                          thresholds=Thresholds(text_across_pictures=text_across_pictures))
    for name, b in s["benchmarks"].items():
        console.print(f"{name}: {b['benchmark_items_hit']} of {b['items']} items found in training "
                      f"({b['training_items_hit']} training items; {b['by_signal'] or 'no matches'})")
    console.print(f"[bold]{s['training_items_flagged']} of {s['training_items']}[/] training items match; "
                  f"{s['seconds']} s, {s['items_per_second']} items/s; report in {report or out}")
    if fail_on_overlap and s["training_items_flagged"]:
        raise typer.Exit(code=1)


# ----------------------------------------------------------------------------- stage commands
# Each stage keeps its typer command in `visionr1/<stage>/command.py` (top-level imports: stdlib and
# typer only, so `--help` stays fast) and is registered here, one line each.
# (registry: add `app.command("name")(module.function)` lines below, keep them sorted)
from visionr1.bridge.command import bridge_command  # noqa: E402
from visionr1.demo import demo_command  # noqa: E402
from visionr1.eval.command import eval_command  # noqa: E402
from visionr1.report.command import report_command  # noqa: E402
from visionr1.train.command import grpo_command, sft_command  # noqa: E402

app.command("bridge")(bridge_command)
app.command("demo")(demo_command)
app.command("eval")(eval_command)
app.command("grpo")(grpo_command)
app.command("report")(report_command)
app.command("sft")(sft_command)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
