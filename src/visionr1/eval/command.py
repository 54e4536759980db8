"""``visionr1 eval``: the typer command. Top-level imports are stdlib + typer only (fast ``--help``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def eval_command(
    benchmark: Annotated[Optional[str], typer.Option("--benchmark", help="mathvista, mathverse, mmmath, dynamath, mathvision, wemath, or records (alias synth: our own JSONL records, e.g. synth's test.jsonl).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Benchmark data: HF parquet folder / save_to_disk folder, .parquet, VLMEvalKit .tsv, .json.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Run folder (rerun the same command to resume).")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Local checkpoint (transformers backend).")] = None,
    endpoint: Annotated[Optional[str], typer.Option("--endpoint", help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1.")] = None,
    model_name: Annotated[Optional[str], typer.Option("--model-name", help="Model name at --endpoint.")] = None,
    canned: Annotated[Optional[Path], typer.Option("--canned", help="JSON of item id -> response: score existing outputs, no generation.")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="Split (default: the benchmark's, e.g. testmini).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Only the first N items.")] = None,
    prompt: Annotated[Optional[str], typer.Option("--prompt", help="official (the benchmark's query), r1 (plus our <think>/<answer> instruction) or raw (the question and choices only: the paper's and the authors' eval).")] = None,
    protocol: Annotated[Optional[str], typer.Option("--protocol", help="Scoring protocol where a benchmark has several: mmmath official = the released sympy scorer (raw question) the paper's numbers come from.")] = None,
    temperature: Annotated[Optional[float], typer.Option(help="Sampling temperature (default and paper: 0.6).")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Nucleus mass (default and paper: 0.95).")] = None,
    max_tokens: Annotated[Optional[int], typer.Option("--max-tokens", help="Most new tokens (default and paper: 16000).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Sampling seed (default 0).")] = None,
    regenerate_missing_answer: Annotated[Optional[int], typer.Option("--regenerate-missing-answer", help="Re-ask up to N times when </answer> is missing (the authors' eval: 4, i.e. 5 calls at most).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="transformers: prompts per generate call (default 8).")] = None,
    device: Annotated[Optional[str], typer.Option(help="transformers: cpu / cuda / cuda:N.")] = None,
    dtype: Annotated[Optional[str], typer.Option(help="transformers: auto (default), bfloat16, float16, float32.")] = None,
    concurrency: Annotated[Optional[int], typer.Option(help="endpoint: requests in flight (default 64).")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="endpoint: seconds per request (default 600).")] = None,
    max_retries: Annotated[Optional[int], typer.Option("--max-retries", help="endpoint: retries per request (default 6).")] = None,
    api_key_env: Annotated[Optional[str], typer.Option("--api-key-env", help="endpoint: env variable holding the key (default OPENAI_API_KEY).")] = None,
    judge_endpoint: Annotated[Optional[str], typer.Option("--judge-endpoint", help="OpenAI-compatible URL of an LLM for answer extraction.")] = None,
    judge_model: Annotated[Optional[str], typer.Option("--judge-model", help="Model name at --judge-endpoint.")] = None,
    judge_api_key_env: Annotated[Optional[str], typer.Option("--judge-api-key-env", help="Env variable holding the judge's key (default OPENAI_API_KEY).")] = None,
    judge_undecided: Annotated[bool, typer.Option("--judge-undecided", help="Judge only the items the rules leave undecided.")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bars.")] = False,
    train_data: Annotated[Optional[Path], typer.Option("--train-data", help="Training data to check the items against (writes contamination/ in the run folder).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Use --out even if it holds files eval did not make (files of the same names are overwritten).")] = False,
    allow_failed: Annotated[bool, typer.Option("--allow-failed", help="Exit 0 even when items got no generation (an endpoint error, an image the model refuses); they are left out of the scores either way.")] = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="records benchmark: evaluate the good records and log the bad ones (default: refuse the file, naming them).")] = False,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="eval.yaml (keys: visionr1 eval's settings, e.g. recipes/vision_r1_7b/eval.yaml); the flags above override it.")] = None,
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value overrides, applied last (e.g. temperature=0).", show_default=False)] = None,
) -> None:
    """Evaluate a VLM on a benchmark with its official query and scoring protocol (judge-free by default)."""
    from rich.console import Console

    from visionr1.errors import cli_errors
    from visionr1.eval.run import load_eval_config, run_eval

    err = Console(stderr=True)
    with cli_errors(err):
        flags = {
            "benchmark": benchmark, "data": data, "out": out, "model": model, "canned": canned, "split": split,
            "limit": limit, "prompt": prompt, "protocol": protocol, "temperature": temperature, "top_p": top_p,
            "max_tokens": max_tokens, "seed": seed, "regenerate_missing_answer": regenerate_missing_answer,
            "batch_size": batch_size, "device": device, "dtype": dtype, "train_data": train_data,
            # the endpoint and the judge are nested in the config (endpoint: {base_url, model, ...}, judge: {...})
            "endpoint.base_url": endpoint, "endpoint.model": model_name, "endpoint.concurrency": concurrency,
            "endpoint.timeout": timeout, "endpoint.max_retries": max_retries, "endpoint.api_key_env": api_key_env,
            "judge.base_url": judge_endpoint, "judge.model": judge_model, "judge.api_key_env": judge_api_key_env,
            # switches: only an explicit one overrides the config file
            "judge_undecided": judge_undecided or None, "progress": False if no_progress else None,
            "force": force or None, "skip_bad": skip_bad or None, "allow_failed": allow_failed or None,
        }
        cfg = load_eval_config(config, overrides or [], flags)
        scores = run_eval(cfg)
    head = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in list(scores["headline"].items())[:6])
    comp = scores["completion"]
    err.print(f"[bold]{scores['benchmark']}[/] ({scores['items']} items): {head}")
    ext = scores["extraction"]
    err.print(f"completions: mean {comp['length']['mean']} {comp['length']['unit']}, {comp['missing_answer_tag']} without "
              f"</answer>, {comp['failed']} failed (left out of the scores); decided by rules: {ext['decided_by_rules']}/{ext['items']} "
              f"({100 * ext['decided_share']:.1f}%); judge calls: {scores['judge']['calls']}")
    err.print(f"run folder: {cfg.out} (report.md, scores.json, {scores['result_file']})")
