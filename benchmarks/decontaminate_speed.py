"""``visionr1 data decontaminate`` throughput: 10K training items against 6K benchmark items.

Synthetic data at realistic sizes: benchmark pictures are figures drawn with PIL (polygons, circles,
bars, labels; 300-640 px, PNG, embedded in a MathVision-layout parquet as the HF release ships them),
questions from a dozen templates with random numbers and words; the training set is native JSONL with
PNG files, 5% of it planted copies (resized ×1.5, JPEG quality 80, a prefix added to the question). The
data is generated once into ``--workdir`` and reused.

Prints the run's items/s (training + benchmark items over the whole call: reading both sets, hashing
every picture, text and picture matching, writing the report), the reading part alone, the CPU seconds,
and whether every planted copy was found (and nothing else).

Usage::

    .venv/bin/python benchmarks/decontaminate_speed.py [--train 10000] [--bench 6000] [--workers 2] [--workdir /tmp/decontam-speed]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

WORDS = ("apple", "ladder", "river", "tower", "garden", "bridge", "candle", "window", "marble", "pencil", "forest",
         "rocket", "island", "mirror", "basket", "castle", "circle", "square", "prism", "pyramid", "clock", "coin")
TEMPLATES = (
    "In triangle {A}{B}{C}, {A}{B} = {n1} and {B}{C} = {n2}, and the angle at {B} is {n3} degrees. Find the length of {A}{C}.",
    "A {w1} stands {n1} metres from a {w2} that is {n2} metres tall. What is the angle of elevation from the {w1}?",
    "The bar chart shows how many {w1}s were sold on {n1} days. On how many days were more than {n2} {w1}s sold?",
    "Circle O has radius {n1} and chord {A}{B} has length {n2}. What is the distance from O to the chord {A}{B}?",
    "The {w1} in the figure is made of {n1} small cubes of side {n2} cm. What is the total volume of the {w1}?",
    "A {w1} and a {w2} cost {n1} dollars together; the {w1} costs {n2} dollars more. How much does the {w2} cost?",
    "Lines {A}{B} and {C}{A} meet at an angle of {n1} degrees and {B}{C} = {n2}. Find the area of the triangle shown.",
    "How many {w1}s in the picture are to the left of the {w2} if there are {n1} {w1}s and {n2} are on the right?",
    "The rectangle has length {n1} cm and width {n2} cm, and a {w1} of area {n3} cm² is cut out. What area is left?",
    "A regular polygon drawn next to the {w1} has interior angles of {n1} degrees. How many sides does it have?",
    "The graph of f passes through ({n1}, {n2}) and ({n3}, {n1}). What is the slope of the line through the {w1}?",
    "Each {w1} weighs {n1} grams and each {w2} weighs {n2} grams. What do {n3} {w1}s and one {w2} weigh together?",
)


def question(rng: random.Random) -> str:
    letters = rng.sample("ABCDEFGHKLMNPQRST", 3)
    return rng.choice(TEMPLATES).format(A=letters[0], B=letters[1], C=letters[2], w1=rng.choice(WORDS),
                                        w2=rng.choice(WORDS), n1=rng.randint(2, 99), n2=rng.randint(2, 99),
                                        n3=rng.randint(2, 179))


def picture(seed: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    w, h = rng.randint(300, 640), rng.randint(240, 520)
    im = Image.new("RGB", (w, h), rng.choice([(255, 255, 255), (250, 248, 240), (240, 245, 255)]))
    d = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=rng.randint(12, 20))
    for _ in range(rng.randint(2, 6)):
        kind = rng.choice(("poly", "circle", "bar", "line"))
        colour = tuple(rng.randint(0, 200) for _ in range(3))
        if kind == "poly":
            d.polygon([(rng.randint(0, w), rng.randint(0, h)) for _ in range(rng.randint(3, 5))], outline=colour, width=2)
        elif kind == "circle":
            x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(20, 120)
            d.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=2)
        elif kind == "bar":
            x = rng.randint(0, w - 40)
            d.rectangle([x, rng.randint(h // 3, h - 20), x + 30, h - 10], fill=colour)
        else:
            d.line([(rng.randint(0, w), rng.randint(0, h)), (rng.randint(0, w), rng.randint(0, h))], fill=colour, width=2)
    for _ in range(rng.randint(2, 5)):
        d.text((rng.randint(0, w - 30), rng.randint(0, h - 20)), rng.choice(("A", "B", "C", "x", str(rng.randint(1, 99)))),
               fill=(0, 0, 0), font=font)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def planted(png: bytes) -> bytes:
    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB")
    im = im.resize((round(im.width * 1.5), round(im.height * 1.5)), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _train_picture(job: tuple[int, str, int | None]) -> None:
    i, path, copy_of = job
    Path(path).write_bytes(planted(picture(copy_of)) if copy_of is not None else picture(10_000_000 + i))


def generate(workdir: Path, n_train: int, n_bench: int, workers: int) -> tuple[Path, Path, set[str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from visionr1.data import Record, write_jsonl

    bench_dir, train_dir = workdir / f"bench-{n_bench}", workdir / f"train-{n_train}-{n_bench}"
    marker = workdir / f"ready-{n_train}-{n_bench}.json"
    rng = random.Random(0)
    bench_q = [question(rng) for _ in range(n_bench)]
    n_copies = n_train // 20
    copies = {f"t{i}": rng.randrange(n_bench) for i in rng.sample(range(n_train), n_copies)}
    if marker.exists():
        return bench_dir, train_dir, set(copies)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        pics = list(pool.map(picture, range(n_bench), chunksize=64))
        image_t = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        schema = pa.schema([("id", pa.string()), ("question", pa.string()), ("options", pa.list_(pa.string())),
                            ("image", pa.string()), ("decoded_image", image_t), ("answer", pa.string())])
        rows = [{"id": str(j), "question": f"<image1>\n{q}", "options": [], "image": f"images/{j}.png",
                 "decoded_image": {"bytes": p, "path": f"{j}.png"}, "answer": "1"} for j, (q, p) in enumerate(zip(bench_q, pics))]
        (bench_dir / "data").mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), bench_dir / "data" / "test-00000-of-00001.parquet")
        (train_dir / "images").mkdir(parents=True, exist_ok=True)
        jobs, records = [], []
        for i in range(n_train):
            tid = f"t{i}"
            j = copies.get(tid)
            jobs.append((i, str(train_dir / "images" / f"{tid}.png"), j))
            q = f"Answer the question. {bench_q[j]}" if j is not None else question(rng)
            records.append(Record(id=tid, question=q, answer="1", images=[f"images/{tid}.png"]))
        list(pool.map(_train_picture, jobs, chunksize=64))
    write_jsonl(train_dir / "train.jsonl", records)
    marker.write_text(json.dumps({"seconds": round(time.perf_counter() - t0, 1)}))
    print(f"generated {n_train} training and {n_bench} benchmark items in {time.perf_counter() - t0:.0f} s under {workdir}")
    return bench_dir, train_dir, set(copies)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=int, default=10_000)
    ap.add_argument("--bench", type=int, default=6_000)
    ap.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 8))
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-speed"))
    args = ap.parse_args()

    from visionr1.data.decontaminate import decontaminate
    from visionr1.eval.benchmarks import get_benchmark

    bench_dir, train_dir, copies = generate(args.workdir, args.train, args.bench, args.workers)
    report = args.workdir / "report"
    usage0 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    t0 = time.perf_counter()
    s = decontaminate(train_dir, [f"mathvision:test={bench_dir}"],
                      lambda name, path, split: get_benchmark(name).load(path, split=split),
                      report=report, workers=args.workers)
    wall = time.perf_counter() - t0
    usage1 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(usage0, usage1))
    found = {json.loads(line)["train_id"] for line in (report / "overlap.jsonl").read_text().splitlines()}
    n = args.train + args.bench
    print(json.dumps({
        "training_items": args.train, "benchmark_items": args.bench, "workers": args.workers, "cpus": os.cpu_count(),
        "wall_s": round(wall, 1), "items_per_s": round(n / wall, 1), "reading_s": s["seconds_reading"],
        "cpu_s": round(cpu, 1), "planted": len(copies), "planted_found": len(copies & found),
        "other_flagged": len(found - copies),
    }, indent=1))


if __name__ == "__main__":
    main()
