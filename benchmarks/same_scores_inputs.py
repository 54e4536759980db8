"""Inputs for ``benchmarks/same_scores.sh``: canned replies and released result files that exercise every scorer.

Why: a change to the scoring code (issue 32: one scoring loop for the six benchmarks) must leave every verdict,
score file and result file byte for byte as it was. The test fixtures hold three to five replies per benchmark;
this script crosses each benchmark's fixture items with a pool of replies of every shape the extraction rules
tell apart (R1 tags closed, unclosed and empty, boxes, phrases, letters, refusals, JSON short answers, We-Math's
``<Answer>: <<C>>``, the gold itself in each form) plus real replies from the released MathVista and MATH-V
outputs when they are on this machine, and writes them in each benchmark's released layout (for ``visionr1
score``) and as canned replies (for ``visionr1 eval --canned``). Built once, read by both runs being compared.

Standard library plus pyarrow (to read the parquet fixtures). Usage::

    python benchmarks/same_scores_inputs.py OUT [--mathvista DIR] [--mathv DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

GENERIC = [
    "", "   ", "The answer is 60.", "\\boxed{B}", "\\boxed{}", "<think>x</think><answer>B</answer>",
    "<think>BC = 2\\sqrt{3}</think><answer> Final Answer: 2\\sqrt{3} </answer>", "<think>t</think><answer></answer>",
    "<think>t</think><answer> Final Answer: </answer>", "<think>never closed", "<think>t</think><answer>unclosed 5",
    "<answer>1</answer> then <answer>2</answer>", "I cannot determine the answer from the image.",
    "So L is 14, option B.", "(B) 8/11", "A", "C.", "3", "Answer: C", "There are 3 cats and 4 dogs.",
    '{"solution": "side 2", "short answer": "4.000"}', '{"solution": "", "short answer": "B"}',
    '{"solution": "x", "short answer": "It is May"}', '```json\n{"solution": "s", "short answer": "3.142"}\n```',
    "<answer>{\"solution\": \"s\", \"short answer\": \"2\"}</answer>", "<Thought process>: <<3 by 4>> <Answer>: <<C>>",
    "<Answer>: <<D>>", "The answer is \\boxed{D.", "2$\\sqrt{10}$", "x = \\boxed{3}", "The correct option is B.",
    "The final answer is $\\frac{1}{2}$.", "So the answer is 0.5", "Therefore the answer should be (A).",
    "No, Periwinkle is not the maximum.", "Yes", "The area is 4.", "The angle is 120°.", "\\boxed{120^\\circ}",
    "\\boxed{2\\pi}", "D\nBecause BC is the longest side.", "(C)\nsince", "None of the above.",
    "The answer is not provided.", "选项 B", "答案是 C", "The answer is (E) Cannot be determined.",
    "Wait, let me check. Hmm, alternatively 7. So the final answer is 7.", "\\fbox{9}", "It is 3.14159 approximately",
    "π/3", "x=2", "70^\\circ", "[1, 2, 3]", "1,200 apples", "-3.5 m", "5-2-3-4-1", "(3, -4)",
]


def _real_replies(mathvista: Path | None, mathv: Path | None) -> list[str]:
    """Every 50th reply of two MathVista outputs and every 150th of two MATH-V outputs (when present)."""
    out: list[str] = []
    if mathvista is not None:
        for name in ("output_gpt4.json", "output_llava_llama_2_13b.json"):
            path = mathvista / name
            if path.is_file():
                recs = json.loads(path.read_text(encoding="utf-8"))
                out += [str(recs[k].get("response") or "") for k in sorted(recs, key=int)[::50]]
    if mathv is not None:
        for name in ("open-source/Sphinx/SPHINX-v2.jsonl", "closed-source/Gemini/Gemini-Pro-CoT.jsonl"):
            path = mathv / "outputs" / name
            if path.is_file() and path.stat().st_size:
                rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
                out += [str(r.get("response") or "") for r in rows[::150]]
    return out


def _gold_replies(gold: str) -> list[str]:
    return [f"The answer is {gold}.", f"\\boxed{{{gold}}}", f"<think>t</think><answer>{gold}</answer>",
            f"<think>t</think><answer> Final Answer: {gold} </answer>", f'{{"solution": "s", "short answer": "{gold}"}}',
            f"<Thought process>: <<t>> <Answer>: <<{gold}>>", gold]


def _parquet_rows(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [{k: v for k, v in r.items() if k != "decoded_image" and not isinstance(v, bytes)}
            for r in pq.read_table(path).to_pylist()]


def _write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def _pool(gold: str, real: list[str]) -> list[str]:
    return GENERIC + _gold_replies(gold) + real


def mathverse(out: Path, real: list[str]) -> None:
    rows = _parquet_rows(FIXTURES / "mathverse" / "data" / "testmini-00000-of-00001.parquet")
    result = []
    for r in rows:
        for k, reply in enumerate(_pool(r["answer"], real)):
            result.append({**{c: v for c, v in r.items() if c != "image"}, "sample_index": f"{r['sample_index']}-{k}",
                           "model_answer": reply})
    _write(out / "mathverse" / "output_testmini.json", result)


def wemath(out: Path, real: list[str]) -> None:
    rows = json.loads((FIXTURES / "wemath" / "testmini.json").read_text(encoding="utf-8"))
    result = []
    for k in range(len(_pool("C", real))):
        for r in rows:
            reply = _pool(r["answer"], real)[k]
            result.append({**r, "ID": f"{r['ID']}-{k}", "question number": f"{r['question number']}-{k}",
                           "response": reply})
    _write(out / "wemath" / "result.json", result)


def mmmath(out: Path, real: list[str]) -> None:
    from re import search

    rows = json.loads((FIXTURES / "mmmath" / "MM_Math.json").read_text(encoding="utf-8"))
    result = {}
    for r in rows:
        boxed = search(r"\\boxed\{(.*)\}", r["solution"])
        gold = boxed.group(1) if boxed else ""
        for k, reply in enumerate(_pool(gold, real)):
            result[f"{Path(r['file_name']).stem}-{k}"] = {**r, "model_solution": reply}
    _write(out / "mmmath" / "result.json", result)


def dynamath(out: Path, real: list[str]) -> None:
    rows = []
    for v in (1, 2):
        rows += _parquet_rows(FIXTURES / "dynamath" / "data" / f"sample_variant{v}-00000-of-00001.parquet")
    dataset, report, n = {}, {}, 0
    for r in rows:
        for reply in _pool(r["ground_truth"], real):
            n += 1
            key = str(n)
            dataset[key] = {"question": r["question"], "answer": r["ground_truth"], "image": f"image/image{key}.png",
                            "answer_type": r["answer_type"], "subject": r["subject"], "level": r["knowledge_level"]}
            try:
                parsed = json.loads(reply)
            except ValueError:
                parsed = None
            # the repository's report keeps the parsed JSON; every other reply as written
            report[key] = {"Ground truth": r["ground_truth"],
                           "response": parsed if isinstance(parsed, dict) and n % 2 else reply}
    _write(out / "dynamath" / "dataset.json", dataset)
    _write(out / "dynamath" / "report.json", report)


def mathvision(out: Path, real: list[str]) -> None:
    rows = _parquet_rows(FIXTURES / "mathvision" / "data" / "test-00000-of-00001.parquet")
    data, outputs = [], []
    for r in rows:
        for k, reply in enumerate(_pool(r["answer"], real)):
            rid = f"{r['id']}{k:03d}"
            data.append({**r, "id": rid})
            outputs.append({"id": rid, "response": reply})
    root = out / "mathvision"
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "outputs").mkdir(parents=True, exist_ok=True)
    (root / "data" / "test.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data),
                                              encoding="utf-8")
    (root / "outputs" / "pool.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in outputs),
                                                 encoding="utf-8")


def mathvista(out: Path, real: list[str]) -> None:
    recs = json.loads((FIXTURES / "mathvista" / "results_small.json").read_text(encoding="utf-8"))
    result = {}
    for pid, rec in recs.items():
        for k, reply in enumerate(_pool(str(rec.get("answer")), real)):
            result[f"{pid}{k:03d}"] = {**rec, "pid": f"{pid}{k:03d}", "response": reply}
    _write(out / "mathvista" / "output_pool.json", result)


CANNED = {"mathvista": "mathvista_eval", "mathverse": "mathverse", "mmmath": "mmmath", "dynamath": "dynamath",
          "mathvision": "mathvision", "wemath": "wemath", "records": "records"}


def canned(out: Path, real: list[str]) -> None:
    """Two more canned reply sets per benchmark for ``eval``: the fixture items given pool replies in turn."""
    for bench, folder in CANNED.items():
        ids = list(json.loads((FIXTURES / folder / "responses.json").read_text(encoding="utf-8")))
        pool = GENERIC + real
        for round_ in (1, 2):
            _write(out / "canned" / f"{bench}-{round_}.json",
                   {rid: pool[(i * 11 + round_ * 17) % len(pool)] for i, rid in enumerate(ids)})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--mathvista", type=Path, default=None, help="MathVista outputs folder (output_*.json)")
    p.add_argument("--mathv", type=Path, default=None, help="MATH-V snapshot (data/, outputs/)")
    a = p.parse_args()
    real = _real_replies(a.mathvista, a.mathv)
    for build in (mathverse, wemath, mmmath, dynamath, mathvision, mathvista, canned):
        build(a.out, real)
    print(f"inputs in {a.out}: a pool of {len(GENERIC)} made-up and {len(real)} released replies")


if __name__ == "__main__":
    main()
