"""Quickstart on the embedded default: synthesise data, build the tiny model, generate, grade.

This is what `make demo` runs until the full Vision-R1-in-miniature demo lands. Everything is offline:
the data is rendered here, the model is a RANDOM-WEIGHT tiny Qwen2.5-VL built here, so its answers are
noise and its accuracy ~0 — the point is that the real code path (processor, chat template, generation,
R1 grading) runs end to end on a CPU.

    .venv/bin/python examples/quickstart.py --out runs/demo
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from visionr1.data import read_jsonl
from visionr1.data.images import open_image
from visionr1.data.synth import synthesize
from visionr1.grading import grade
from visionr1.models.tiny import build_tiny_model

INSTRUCTION = "Think step by step inside <think></think>, then give the final answer inside <answer></answer>."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/demo"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=8, help="test questions to answer")
    args = ap.parse_args()
    console = Console()
    from transformers import AutoModelForImageTextToText, AutoProcessor

    t0 = time.perf_counter()
    summary = synthesize(args.out / "data", n=64, seed=args.seed, split_test=args.n)
    console.print(f"[bold]synth[/] {summary['splits']['train']['n']} train / {summary['splits']['test']['n']} test records "
                  f"in {args.out / 'data'} ({time.perf_counter() - t0:.1f}s)")
    t0 = time.perf_counter()
    model_dir = build_tiny_model(args.out / "tiny-model", seed=args.seed)
    console.print(f"[bold]tiny-model[/] random-weight Qwen2.5-VL at {model_dir} ({time.perf_counter() - t0:.1f}s)")

    processor = AutoProcessor.from_pretrained(model_dir)
    model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
    test = read_jsonl(args.out / "data" / "test.jsonl").raise_if_errors()
    torch.manual_seed(args.seed)
    table = Table("id", "answer", "completion (first 60 chars)", "correct")
    rows = []
    t0 = time.perf_counter()
    for rec in test.records:
        text = rec.question
        if rec.choices:
            text += "\n" + "\n".join(f"({chr(65 + i)}) {c}" for i, c in enumerate(rec.choices))
        msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": f"{text}\n{INSTRUCTION}"}]}]
        prompt = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        images = [open_image(p, rec.id) for p in test.image_paths(rec)]
        inputs = processor(text=[prompt], images=images, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=32, do_sample=True)
        completion = processor.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        g = grade(completion, rec.answer, choices=rec.choices, answer_type=rec.answer_type, precision=rec.precision)
        rows.append({"id": rec.id, "answer": rec.answer, "completion": completion, "correct": g.correct,
                     "well_formed": g.well_formed, "extracted": g.extracted})
        table.add_row(rec.id, rec.answer, repr(completion[:60]), "yes" if g.correct else "no")
    (args.out / "generations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    console.print(table)
    acc = sum(r["correct"] for r in rows) / len(rows)
    console.print(f"[bold]generate+grade[/] {len(rows)} items in {time.perf_counter() - t0:.1f}s; accuracy {acc:.0%} "
                  f"(random weights: expect ~0). Wrote {args.out / 'generations.jsonl'}")


if __name__ == "__main__":
    main()
