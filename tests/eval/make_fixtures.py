"""Write the benchmark fixtures under tests/fixtures/ in each benchmark's real layout.

Run from the repo root: ``python tests/eval/make_fixtures.py``. Deterministic; the files are
committed, this script documents how they were made (schemas from the published datasets: see the
docstring of each ``visionr1.eval.benchmarks`` module).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1] / "fixtures"
IMAGE_T = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def png(seed: int, size: int = 32) -> bytes:
    img = Image.new("RGB", (size, size), (40 * seed % 255, 90, 200 - 30 * seed % 200))
    ImageDraw.Draw(img).rectangle([4, 4, 4 + 3 * seed % 20, 20], fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_parquet(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def write_tsv(path: Path, rows: list[dict]) -> None:
    cols = list(rows[0])
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, delimiter="\t")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def mathvista() -> None:
    d = ROOT / "mathvista_eval"
    meta_t = pa.struct([(k, pa.string()) for k in ("category", "context", "grade", "language", "source", "split", "task")]
                       + [("img_height", pa.int64()), ("img_width", pa.int64()), ("skills", pa.list_(pa.string()))])
    schema = pa.schema([("pid", pa.string()), ("question", pa.string()), ("image", pa.string()), ("decoded_image", IMAGE_T),
                        ("choices", pa.list_(pa.string())), ("unit", pa.string()), ("precision", pa.float64()),
                        ("answer", pa.string()), ("question_type", pa.string()), ("answer_type", pa.string()),
                        ("metadata", meta_t), ("query", pa.string())])
    problems = [
        dict(pid="1", question="Which bar is the tallest?", choices=["red", "green", "blue"], unit=None, precision=None,
             answer="green", question_type="multi_choice", answer_type="text",
             metadata=dict(category="math-targeted-vqa", context="bar chart", grade="elementary school", language="english",
                           source="FigureQA", split="testmini", task="figure question answering", img_height=32,
                           img_width=32, skills=["statistical reasoning"])),
        dict(pid="2", question="How many squares are there?", choices=None, unit=None, precision=None, answer="3",
             question_type="free_form", answer_type="integer",
             metadata=dict(category="math-targeted-vqa", context="synthetic scene", grade="elementary school",
                           language="english", source="CLEVR-Math", split="testmini", task="math word problem",
                           img_height=32, img_width=32, skills=["arithmetic reasoning"])),
        dict(pid="3", question="What is the length of AB?", choices=None, unit="cm", precision=1.0, answer="2.5",
             question_type="free_form", answer_type="float",
             metadata=dict(category="math-targeted-vqa", context="geometry diagram", grade="high school",
                           language="english", source="Geometry3K", split="testmini", task="geometry problem solving",
                           img_height=32, img_width=32, skills=["geometry reasoning", "algebraic reasoning"])),
    ]
    from visionr1.eval.benchmarks.mathvista import build_query

    rows = []
    for i, p in enumerate(problems, 1):
        rows.append({**p, "image": f"images/{p['pid']}.jpg", "decoded_image": {"bytes": png(i), "path": f"{p['pid']}.jpg"},
                     "query": build_query(p)})
    write_parquet(d / "data" / "testmini-00000-of-00001.parquet", rows, schema)
    tsv = []
    for i, r in enumerate(rows, 1):
        m = r["metadata"]
        tsv.append({"index": r["pid"], "image": b64(png(i)), "question": r["question"], "answer": r["answer"],
                    "task": m["task"], "grade": m["grade"], "skills": str(m["skills"]), "source": m["source"],
                    "category": m["category"], "context": m["context"], "language": m["language"],
                    "question_type": r["question_type"], "answer_type": r["answer_type"],
                    "choices": str(r["choices"]) if r["choices"] else None, "unit": r["unit"],
                    "precision": r["precision"]})
    write_tsv(d / "MathVista_MINI.tsv", tsv)
    responses = {
        "1": "<think>The green bar reaches highest.</think><answer>(B) green</answer>",
        "2": "I count the squares: there are 3 of them. So the answer is 3.",
        "3": "<think>By Pythagoras AB = 2.5</think>",  # no </answer>: a regenerate candidate
    }
    (d / "responses.json").write_text(json.dumps(responses, indent=1) + "\n", encoding="utf-8")


def mathverse() -> None:
    d = ROOT / "mathverse"
    meta_t = pa.struct([(k, pa.string()) for k in ("split", "source", "subject", "subfield")])
    schema = pa.schema([("sample_index", pa.string()), ("problem_index", pa.string()), ("problem_version", pa.string()),
                        ("question", pa.string()), ("image", IMAGE_T), ("answer", pa.string()),
                        ("question_type", pa.string()), ("metadata", meta_t), ("query_wo", pa.string()),
                        ("query_cot", pa.string()), ("question_for_eval", pa.string())])
    versions = ["Text Dominant", "Text Lite", "Vision Intensive", "Vision Dominant", "Vision Only"]
    base_q = "As shown in the figure, AB is the diameter of circle O, angle C = 30.0, then the length of BC is ()"
    choices = "Choices:\nA:1\nB:√{3}\nC:2\nD:2√{3}"
    rows = []
    for i, v in enumerate(versions, 1):
        q = "" if v == "Vision Only" else (base_q if v != "Text Lite" else "Find the length of BC.")
        q_full = f"{q}\n{choices}".strip()
        rows.append({
            "sample_index": str(i), "problem_index": "1", "problem_version": v, "question": q_full,
            "image": {"bytes": png(i), "path": f"images_version_{i}/image_1.png"}, "answer": "D",
            "question_type": "multi-choice",
            "metadata": {"split": "testmini", "source": "GeoQA", "subject": "Plane Geometry", "subfield": "Length"},
            "query_wo": f"Please directly answer the question and provide the correct option letter, e.g., A, B, C, D.\nQuestion: {q_full}",
            "query_cot": ("Please first conduct reasoning, and then answer the question and provide the correct option "
                          f"letter, e.g., A, B, C, D, at the end.\nQuestion: {q_full}"),
            "question_for_eval": f"{base_q}\n{choices}",
        })
    write_parquet(d / "data" / "testmini-00000-of-00001.parquet", rows, schema)
    write_tsv(d / "MathVerse_MINI.tsv", [
        {"index": r["sample_index"], "image": b64(r["image"]["bytes"]), "question": r["query_cot"], "answer": r["answer"],
         "question_for_eval": r["question_for_eval"], "problem_version": r["problem_version"],
         "metadata": json.dumps({**r["metadata"], "problem_version": r["problem_version"]})} for r in rows])
    responses = {"1": "<think>BC = AB·cos30</think><answer>D</answer>", "2": "The answer is B.", "3": "So BC = 2\\sqrt{3}.",
                 "4": "Answer: D", "5": "I cannot tell."}
    (d / "responses.json").write_text(json.dumps(responses, indent=1) + "\n", encoding="utf-8")


def mmmath() -> None:
    d = ROOT / "mmmath"
    (d / "images").mkdir(parents=True, exist_ok=True)
    recs = [
        dict(question="如图，在△ABC中，AB=AC，∠A=40°，求∠B的度数。", file_name="mm_1.png",
             solution="∵AB=AC，∴∠B=∠C=(180°-40°)/2=70°. 故答案为 \\boxed{70^\\circ}", year="seven", difficult="easy",
             knowledge="Shape"),
        dict(question="As shown, the line y=kx+b passes (0,2) and (1,4). Find k.", file_name="mm_2.png",
             solution="k = (4-2)/(1-0) = 2, so \\boxed{2}", year="eight", difficult="medium", knowledge="Func"),
        dict(question="Square ABCD is rotated 90° about A. Find the area swept by side AB if AB = 2.", file_name="mm_3.png",
             solution="The sector has radius 2 and angle 90°, area \\boxed{\\pi}", year="nine", difficult="hard",
             knowledge="Trans"),
    ]
    for i, r in enumerate(recs, 1):
        (d / "images" / r["file_name"]).write_bytes(png(i))
    (d / "MM_Math.json").write_text(json.dumps(recs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    responses = {"mm_1": "<think>base angles</think><answer>70°</answer>", "mm_2": "Slope is \\boxed{2}.",
                 "mm_3": "The area is 4."}
    (d / "responses.json").write_text(json.dumps(responses, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def dynamath() -> None:
    d = ROOT / "dynamath"
    schema = pa.schema([("id", pa.string()), ("question", pa.string()), ("image", pa.string()), ("decoded_image", IMAGE_T),
                        ("ground_truth", pa.string()), ("answer_type", pa.string()), ("subject", pa.string()),
                        ("knowledge_level", pa.string())])
    seeds = [
        ("1", "What is the area of the shaded square?", "float", "PG", "elementary school", ["4.0", "9.0"]),
        ("2", "Which function is increasing? Choices: (A) f (B) g (C) h (D) k", "multiple choice", "AL",
         "high school", ["B", "C"]),
    ]
    tsv = []
    for var in (1, 2):
        rows = []
        for qid, q, atype, subj, lvl, golds in seeds:
            img = png(int(qid) * 3 + var)
            rows.append({"id": qid, "question": q, "image": f"images/variant{var}/{qid}.png",
                         "decoded_image": {"bytes": img, "path": f"{qid}.png"}, "ground_truth": golds[var - 1],
                         "answer_type": atype, "subject": subj, "knowledge_level": lvl})
            tsv.append({"index": str(len(tsv)), "image": b64(img), "question": q, "answer": golds[var - 1],
                        "answer_type": atype, "subject": subj, "knowledge_level": lvl, "qid": qid, "varid": var})
        write_parquet(d / "data" / f"sample_variant{var}-00000-of-00001.parquet", rows, schema)
    write_tsv(d / "DynaMath.tsv", tsv)
    responses = {
        "1-v1": '{"solution": "side 2", "short answer": "4.000"}',
        "2-v1": '{"solution": "g rises", "short answer": "B"}',
        "1-v2": "<think>side 3</think><answer>9.000</answer>",
        "2-v2": '{"solution": "", "short answer": "A"}',
    }
    (d / "responses.json").write_text(json.dumps(responses, indent=1) + "\n", encoding="utf-8")


def mathvision() -> None:
    d = ROOT / "mathvision"
    schema = pa.schema([("id", pa.string()), ("question", pa.string()), ("options", pa.list_(pa.string())),
                        ("image", pa.string()), ("decoded_image", IMAGE_T), ("answer", pa.string()),
                        ("solution", pa.string()), ("level", pa.int64()), ("subject", pa.string())])
    probs = [
        dict(id="1", question="<image1>\nWhich shape has the most sides?", options=["A", "B", "C", "D", "E"], answer="C",
             solution=None, level=1, subject="metric geometry - length"),
        dict(id="2", question="<image1>\nHow many dots are there in total?", options=[], answer="7", solution=None,
             level=2, subject="counting"),
        dict(id="3", question="<image1>\nWhat is the value of x?", options=[], answer="\\frac{1}{2}", solution="x = 1/2",
             level=3, subject="algebra"),
    ]
    rows = [{**p, "image": f"images/{p['id']}.jpg", "decoded_image": {"bytes": png(i), "path": f"{p['id']}.jpg"}}
            for i, p in enumerate(probs, 1)]
    write_parquet(d / "data" / "testmini-00000-of-00001.parquet", rows, schema)
    write_parquet(d / "data" / "test-00000-of-00001.parquet", rows + [
        {**rows[1], "id": "4", "answer": "8", "decoded_image": {"bytes": png(9), "path": "4.jpg"}}], schema)
    write_tsv(d / "MathVision_MINI.tsv", [
        {"index": r["id"], "image": b64(r["decoded_image"]["bytes"]), "question": r["question"], "answer": r["answer"],
         "choices": str(r["options"]) if r["options"] else None, "category": r["subject"], "level": r["level"]}
        for r in rows])
    responses = {"1": "<think>count sides</think><answer>C</answer>", "2": "In total \\boxed{7} dots.",
                 "3": "So x = 0.5"}
    (d / "responses.json").write_text(json.dumps(responses, indent=1) + "\n", encoding="utf-8")


def wemath() -> None:
    d = ROOT / "wemath"
    (d / "images").mkdir(parents=True, exist_ok=True)
    rows = [
        {"ID": "3steps_7", "split": "testmini", "knowledge concept": "Area of Rectangles",
         "question": "What is the area of the rectangle?", "option": "A. 6 cm²; B. 8 cm²; C. 12 cm²; D. 24 cm²",
         "answer": "C", "image_path": "images/w1.png", "key": "2steps_1", "question number": 101,
         "knowledge concept description": "Area = length × width"},
        {"ID": "3steps_7", "split": "testmini", "knowledge concept": "Area of Triangles",
         "question": "What is the area of the shaded triangle?", "option": "A. 3 cm²; B. 6 cm²; C. 9 cm²; D. 12 cm²",
         "answer": "B", "image_path": "images/w2.png", "key": "2steps_2", "question number": 102,
         "knowledge concept description": "Area = base × height / 2"},
        {"ID": "3steps_7", "split": "testmini", "knowledge concept": "Area of Rectangles",
         "question": "What is the area of the unshaded part?", "option": "A. 3 cm²; B. 6 cm²; C. 9 cm²; D. 12 cm²",
         "answer": "B", "image_path": "images/w3.png", "key": "2steps_multi", "question number": 103,
         "knowledge concept description": "Area = length × width"},
    ]
    for i, r in enumerate(rows, 1):
        (d / r["image_path"]).write_bytes(png(i + 10))
    (d / "testmini.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_tsv(d / "WeMath.tsv", [
        {"index": str(r["question number"]), "image": b64((d / r["image_path"]).read_bytes()), "question": r["question"],
         "option": r["option"], "answer": r["answer"], "ID": r["ID"], "split": r["split"],
         "knowledge concept": r["knowledge concept"], "key": r["key"]} for r in rows])
    responses = {"101": "<Thought process>: <<3 by 4>> <Answer>: <<C>>", "102": "<think>half</think><answer>B</answer>",
                 "103": "<Thought process>: <<12 - 6>> <Answer>: <<B>>"}
    (d / "responses.json").write_text(json.dumps(responses, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    for make in (mathvista, mathverse, mmmath, dynamath, mathvision, wemath):
        make()
    print("fixtures written under", ROOT)
