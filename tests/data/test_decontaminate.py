"""The contamination guard: planted copies are all caught, near misses never are, in every layout.

Benchmark data is written in MathVision's parquet layout and WeMath's JSON + images layout, with pictures
drawn here with PIL (geometry figures, bar charts, dot counts); the training sets plant copies of them
(resized, recompressed, reworded, prefixed) next to near misses (one template with other numbers, the same
question over another picture, a recoloured picture).
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from visionr1.data import Record, read_records, write_jsonl
from visionr1.data.decontaminate import (
    MARKER,
    BenchmarkSpec,
    Item,
    TextPrint,
    Thresholds,
    check_benchmark_items,
    containment,
    decontaminate,
    find_overlaps,
    image_print,
    items_from_benchmark,
    numbers_conflict,
    tokens,
)
from visionr1.errors import ConfigError, DataError
from visionr1.eval.benchmarks import get_benchmark

FONT = ImageFont.load_default(size=14)


# ----------------------------------------------------------------------------- pictures


def triangle(ab: int, bc: int, seed: int = 0, size=(240, 180)) -> Image.Image:
    """A right triangle whose legs follow ``ab``/``bc``, labelled with them (a geometry-figure template)."""
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    r = random.Random(seed)
    x0, y0 = 30 + r.randint(0, 20), 150
    w, h = 8 * bc + r.randint(0, 10), 8 * ab
    pts = [(x0, y0 - h), (x0, y0), (x0 + w, y0)]
    d.polygon(pts, outline="black", width=2)
    for p, name in zip(pts, "ABC"):
        d.text((p[0] - 14, p[1] - 8), name, fill="black", font=FONT)
    d.text((x0 - 26, y0 - h // 2), str(ab), fill="black", font=FONT)
    d.text((x0 + w // 2, y0 + 4), str(bc), fill="black", font=FONT)
    return im


def bars(heights: list[int], colour=(60, 90, 200)) -> Image.Image:
    im = Image.new("RGB", (200, 150), "white")
    d = ImageDraw.Draw(im)
    d.line([(10, 140), (190, 140)], fill="black", width=2)
    for i, h in enumerate(heights):
        d.rectangle([20 + 42 * i, 140 - h, 48 + 42 * i, 140], fill=colour)
        d.text((28 + 42 * i, 140 - h - 16), "ABCD"[i], fill="black", font=FONT)
    return im


def circle_chord(seed: int) -> Image.Image:
    im = Image.new("RGB", (220, 220), "white")
    d = ImageDraw.Draw(im)
    r = random.Random(seed)
    d.ellipse([30, 30, 190, 190], outline="black", width=2)
    a, b = (40 + r.randint(0, 30), 90 + r.randint(0, 30)), (180 - r.randint(0, 30), 80 + r.randint(0, 40))
    d.line([a, b], fill="black", width=2)
    d.line([(110, 110), ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)], fill=(200, 30, 30), width=2)
    d.text((a[0] - 14, a[1] - 6), "A", fill="black", font=FONT)
    d.text((b[0] + 4, b[1] - 6), "B", fill="black", font=FONT)
    return im


def dots(n: int, seed: int) -> Image.Image:
    im = Image.new("RGB", (180, 180), (250, 245, 230))
    d = ImageDraw.Draw(im)
    r = random.Random(seed)
    for _ in range(n):
        x, y = r.randint(15, 165), r.randint(15, 165)
        d.ellipse([x - 9, y - 9, x + 9, y + 9], fill=(30, 120, 60))
    return im


def flat(seed: int, size: int = 32) -> Image.Image:
    """tests/eval/make_fixtures.py's picture: a coloured square with a white bar (colour and width vary)."""
    img = Image.new("RGB", (size, size), (40 * seed % 255, 90, 200 - 30 * seed % 200))
    ImageDraw.Draw(img).rectangle([4, 4, 4 + 3 * seed % 20, 20], fill=(255, 255, 255))
    return img


def encode(img: Image.Image, fmt: str = "PNG", quality: int = 80, scale: float = 1.0) -> bytes:
    if scale != 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()


def resized_jpeg(img: Image.Image) -> bytes:
    """The other check's planted copy: resized ×1.5 and saved as JPEG quality 80."""
    return encode(img, "JPEG", 80, 1.5)


# ----------------------------------------------------------------------------- benchmark data

MV_QUESTIONS = {
    "mv1": ("<image1>\nIn the right triangle ABC, AB = 6 and BC = 8 and the angle at B is 90 degrees. "
            "What is the length of AC?", triangle(6, 8, seed=1)),
    "mv2": ("<image1>\nWhich bar is the tallest?", bars([40, 110, 70, 90])),
    "mv3": ("<image1>\nThe circle has radius 5 and the chord AB is 8 units long. How far is the centre "
            "from the chord AB?", circle_chord(3)),
    "mv4": ("<image1>\nHow many dots are there in total?", dots(7, seed=4)),
    "mv5": ("<image1>\nWhich bar is the tallest?", bars([100, 30, 60, 20])),
}
WM_QUESTIONS = {
    101: ("The rectangle ABCD has length 9 cm and width 4 cm. What is the area of the rectangle?", flat(11)),
    102: ("What is the area of the shaded triangle?", flat(12)),
}
IMAGE_T = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> dict[str, Path]:
    """MathVision (HF parquet folder) and WeMath (testmini.json + images/) in their real layouts."""
    root = tmp_path_factory.mktemp("bench")
    schema = pa.schema([("id", pa.string()), ("question", pa.string()), ("options", pa.list_(pa.string())),
                        ("image", pa.string()), ("decoded_image", IMAGE_T), ("answer", pa.string()),
                        ("level", pa.int64()), ("subject", pa.string())])
    rows = [{"id": k, "question": q, "options": [], "image": f"images/{k}.jpg", "decoded_image": {"bytes": encode(im), "path": f"{k}.jpg"},
             "answer": "1", "level": 1, "subject": "metric geometry"} for k, (q, im) in MV_QUESTIONS.items()]
    mv = root / "MathVision"
    (mv / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), mv / "data" / "testmini-00000-of-00001.parquet")
    wm = root / "WeMath"
    (wm / "images").mkdir(parents=True)
    wm_rows = []
    for qn, (q, im) in WM_QUESTIONS.items():
        (wm / "images" / f"w{qn}.png").write_bytes(encode(im))
        wm_rows.append({"ID": "2steps_1", "split": "testmini", "knowledge concept": "Area", "question": q,
                        "option": "A. 36 cm²; B. 13 cm²", "answer": "A", "image_path": f"images/w{qn}.png",
                        "key": f"2steps_{qn - 100}", "question number": qn})
    (wm / "testmini.json").write_text(json.dumps(wm_rows, ensure_ascii=False), encoding="utf-8")
    return {"mathvision": mv, "wemath": wm / "testmini.json"}


def load_benchmark(name: str, path: Path, split: str | None):
    return get_benchmark(name).load(path, split=split)


# ----------------------------------------------------------------------------- training data

PLANTED = {  # training id -> (question, picture bytes or None, the benchmark item it copies)
    "copy-resized-prefixed": ("Answer the following question. " + MV_QUESTIONS["mv1"][0].split("\n", 1)[1],
                              resized_jpeg(MV_QUESTIONS["mv1"][1]), ("mathvision", "mv1")),
    "copy-half-size-png": (MV_QUESTIONS["mv3"][0].split("\n", 1)[1], encode(MV_QUESTIONS["mv3"][1], scale=0.5),
                           ("mathvision", "mv3")),
    "copy-recaptioned": ("Count all the green dots in the picture and give the number.",
                         encode(MV_QUESTIONS["mv4"][1], "JPEG", 60, 0.7), ("mathvision", "mv4")),
    "copy-generic-question": ("Which bar is the tallest?", resized_jpeg(MV_QUESTIONS["mv2"][1]), ("mathvision", "mv2")),
    "copy-tiny-picture": ("Question 7: " + WM_QUESTIONS[101][0], resized_jpeg(WM_QUESTIONS[101][1]), ("wemath", "101")),
    "copy-text-only": ("Solve: " + WM_QUESTIONS[101][0] + " Give the answer in cm².", None, ("wemath", "101")),
    "copy-translated": ("这个阴影三角形的面积是多少？", encode(WM_QUESTIONS[102][1], "JPEG", 80), ("wemath", "102")),
}
NEAR_MISSES = {  # training id -> (question, picture bytes or None, why it is another item)
    "same-template-other-numbers": (
        "In the right triangle ABC, AB = 5 and BC = 12 and the angle at B is 90 degrees. What is the length of AC?",
        encode(triangle(5, 12, seed=7)), "one template, other numbers and another figure"),
    "same-figure-other-numbers": (
        "In the right triangle ABC, AB = 7 and BC = 8 and the angle at B is 90 degrees. What is the length of AC?",
        encode(triangle(7, 8, seed=1)), "the template's figure with another label, and other numbers"),
    "same-question-other-picture": ("Which bar is the tallest?", encode(bars([90, 40, 120, 60])),
                                    "a generic question over another chart"),
    "same-text-other-picture": (MV_QUESTIONS["mv3"][0].split("\n", 1)[1], encode(dots(5, seed=9)),
                                "the same question over an unrelated picture"),
    "other-chord-other-numbers": ("The circle has radius 13 and the chord AB is 10 units long. How far is the centre "
                                  "from the chord AB?", encode(circle_chord(8)), "one template, other numbers"),
    "other-dots": ("How many dots are there in total?", encode(dots(9, seed=5)), "same question, another count"),
    "recoloured-chart": ("Which bar is the tallest?", encode(bars([40, 110, 70, 90], colour=(220, 40, 40))),
                         "the same chart in another colour"),
    "other-flat-picture": ("What is the area of the shaded triangle?", encode(flat(13)), "another flat picture"),
    "generic-text-only": ("Which bar is the tallest?", None, "a generic question names no item"),
    "template-text-only": ("The rectangle ABCD has length 6 cm and width 5 cm. What is the area of the rectangle?", None,
                           "one template, other numbers"),
}


def write_training_jsonl(folder: Path, planted=PLANTED, near=NEAR_MISSES) -> Path:
    (folder / "images").mkdir(parents=True, exist_ok=True)
    records = []
    for rid, (question, pic, _) in {**planted, **near}.items():
        images = []
        if pic is not None:
            ext = "jpg" if pic[:2] == b"\xff\xd8" else "png"
            (folder / "images" / f"{rid}.{ext}").write_bytes(pic)
            images = [f"images/{rid}.{ext}"]
        records.append(Record(id=rid, question=question, answer="1", images=images))
    write_jsonl(folder / "train.jsonl", records)
    return folder


@pytest.fixture
def train_dir(tmp_path) -> Path:
    return write_training_jsonl(tmp_path / "train")


# ----------------------------------------------------------------------------- the fixture test


def test_every_planted_copy_is_caught_and_no_near_miss(bench, train_dir, tmp_path):
    summary = decontaminate(train_dir, [f"{k}={v}" for k, v in bench.items()], load_benchmark,
                            report=tmp_path / "report", workers=1)
    rows = [json.loads(line) for line in (tmp_path / "report" / "overlap.jsonl").read_text().splitlines()]
    found = {(r["train_id"], r["benchmark"], r["benchmark_id"]) for r in rows}
    for rid, (_, _, (name, bid)) in PLANTED.items():
        assert (rid, name, bid) in found, f"planted copy {rid} of {name}/{bid} not caught"
    flagged = {r["train_id"] for r in rows}
    assert not flagged & set(NEAR_MISSES), {r["train_id"]: r for r in rows if r["train_id"] in NEAR_MISSES}
    assert flagged == set(PLANTED)
    signals = {r["train_id"]: r["signal"] for r in rows}
    assert signals["copy-text-only"] == "text"
    assert signals["copy-recaptioned"] == signals["copy-translated"] == "image"
    assert signals["copy-resized-prefixed"] == "image+text"
    assert set(rows[0]) == {"train_id", "benchmark", "benchmark_id", "signal", "score", "phash_bits", "text_containment"}
    assert summary["training_items_flagged"] == len(PLANTED)
    assert summary["benchmarks"]["mathvision"]["benchmark_items_hit"] == 4
    md = (tmp_path / "report" / "summary.md").read_text()
    assert f"{len(PLANTED)} of {len(PLANTED) + len(NEAR_MISSES)} items" in md and "| wemath |" in md


def test_text_across_pictures_counts_a_specific_question_over_another_picture(bench, train_dir):
    train = read_records(train_dir)
    from visionr1.data.decontaminate import items_from_records

    benches = {k: items_from_benchmark(load_benchmark(k, v, None)) for k, v in bench.items()}
    loose = find_overlaps(items_from_records(train), benches, Thresholds(text_across_pictures=True), workers=1)
    extra = {o.train_id for o in loose} - set(PLANTED)
    # the specific question (with its numbers) over an unrelated picture now counts; generic ones never do
    assert extra == {"same-text-other-picture"}


# ----------------------------------------------------------------------------- the thresholds, measured


def _synth_pictures(per_family: int = 4) -> list[tuple[str, Image.Image]]:
    from visionr1.data.synth.generator import EASY_TASKS, TASKS

    out = []
    for name, spec in {**TASKS, **EASY_TASKS}.items():
        for k in range(per_family):
            rng = random.Random(f"{name}/{k}")
            out.append((name, spec.build(rng, rng.choice([1, 2, 3]), 224).image.convert("RGB")))
    return out + [("flat", flat(s)) for s in range(1, 9)] + [("sparse", sparse_figure(s)) for s in range(40)]


def sparse_figure(seed: int) -> Image.Image:
    """A few strokes and labels on white, like a geometry problem's figure (pHash alone confuses these)."""
    r = random.Random(seed)
    w, h = r.randint(200, 420), r.randint(160, 340)
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    for _ in range(r.randint(2, 5)):
        colour = tuple(r.randint(0, 200) for _ in range(3))
        kind = r.choice(("poly", "circle", "bar", "line"))
        if kind == "poly":
            d.polygon([(r.randint(0, w), r.randint(0, h)) for _ in range(3)], outline=colour, width=2)
        elif kind == "circle":
            x, y, rad = r.randint(0, w), r.randint(0, h), r.randint(15, 80)
            d.ellipse([x - rad, y - rad, x + rad, y + rad], outline=colour, width=2)
        elif kind == "bar":
            x = r.randint(0, w - 30)
            d.rectangle([x, r.randint(h // 3, h - 20), x + 20, h - 8], fill=colour)
        else:
            d.line([(r.randint(0, w), r.randint(0, h)), (r.randint(0, w), r.randint(0, h))], fill=colour, width=2)
        d.text((r.randint(0, w - 20), r.randint(0, h - 20)), r.choice("ABCx"), fill="black", font=FONT)
    return im


ATTACKS = {
    "x1.5 jpeg80": lambda im: encode(im, "JPEG", 80, 1.5),
    "x0.5 png": lambda im: encode(im, scale=0.5),
    "x2 jpeg90": lambda im: encode(im, "JPEG", 90, 2.0),
    "jpeg50": lambda im: encode(im, "JPEG", 50),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_resized_and_recompressed_pictures_are_the_same_picture(attack):
    th = Thresholds()
    for fam, im in _synth_pictures():
        a, b = image_print(encode(im), fam), image_print(ATTACKS[attack](im), fam)
        items = find_overlaps([Item("copy", "", [ATTACKS[attack](im)])], {"b": [Item("orig", "", [encode(im)])]}, th, workers=1)
        assert [o.signal for o in items] == ["image"], (fam, bin(a.phash ^ b.phash).count("1"))


def test_distinct_pictures_of_one_template_are_not_the_same_picture():
    pics = _synth_pictures()
    bench = {"b": [Item(f"{fam}-{i}", "", [encode(im)]) for i, (fam, im) in enumerate(pics)]}
    train = [Item(f"{fam}-{i}", "", [encode(im)]) for i, (fam, im) in enumerate(pics)]
    pairs = {(o.train_id, o.benchmark_id) for o in find_overlaps(train, bench, workers=1)}
    assert pairs == {(it.id, it.id) for it in train}  # each picture is itself, and nothing else


def _bar_figure(seed: int) -> Image.Image:
    """One dominant bar, always in the same place, and three thin strokes that differ with ``seed``."""
    r = random.Random(seed)
    im = Image.new("RGB", (400, 320), (250, 248, 240))
    d = ImageDraw.Draw(im)
    d.rectangle([250, 110, 280, 300], fill=(70, 120, 110))
    for _ in range(3):
        d.line([(r.randint(0, 400), r.randint(0, 320)), (r.randint(0, 400), r.randint(0, 320))], fill=(60, 60, 20), width=2)
    d.text((r.randint(0, 380), r.randint(0, 300)), "C", fill="black", font=FONT)
    return im


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_figures_sharing_a_dominant_block_are_told_apart_by_the_dhash(seed):
    """pHash and thumbnails see the bar and little else; the dHash's gradients see the strokes."""
    a, b = encode(_bar_figure(0)), encode(_bar_figure(seed))
    pa_, pb = image_print(a, "a"), image_print(b, "b")
    th = Thresholds()
    assert bin(pa_.phash ^ pb.phash).count("1") <= th.phash_bits
    assert abs(pa_.luma.astype(int) - pb.luma).max() <= th.luma_16
    assert bin(pa_.dhash ^ pb.dhash).count("1") > th.dhash_bits
    assert find_overlaps([Item("t", "", [b])], {"b": [Item("b", "", [a])]}, th, workers=1) == []
    copy = resized_jpeg(_bar_figure(0))
    assert [o.signal for o in find_overlaps([Item("t", "", [copy])], {"b": [Item("b", "", [a])]}, th, workers=1)] == ["image"]


def test_blank_pictures_are_not_matched():
    blank = Image.new("RGB", (100, 100), "white")
    assert image_print(encode(blank), "x") is None
    found = find_overlaps([Item("t", "", [encode(blank, "JPEG")])], {"b": [Item("b", "", [encode(blank)])]}, workers=1)
    assert found == []


# ----------------------------------------------------------------------------- text


def test_tokens_and_numbers():
    assert tokens("AB = 30.0 cm; 007 and 2.50") == ["ab", "30", "cm", "7", "and", "2.5"]
    assert tokens("如图，∠A=40°") == ["如", "图", "a", "40"]
    a = TextPrint.of("In triangle ABC, AC = 8 and AB = 10. Find sin B.")
    b = TextPrint.of("Question 4: in triangle abc, AC = 8.0 and AB = 10. Find sin B, to two decimals.")
    c = TextPrint.of("In triangle ABC, AC = 4 and AB = 5. Find sin B.")
    assert containment(a, b) == 1.0 and a.numbers <= b.numbers
    assert containment(a, c) == 1.0 and numbers_conflict(a, c)  # one template, other numbers
    assert not numbers_conflict(a, TextPrint.of("Find sin B in the triangle."))


def test_text_needs_a_specific_question():
    long_q = "In the right triangle ABC, AB = 6 and BC = 8 and the angle at B is 90 degrees. What is AC?"
    bench = {"b": [Item("b1", long_q), Item("b2", "What is the value of x?"),
                   Item("b3", "What is the age gap between these two people in image?"),
                   Item("b4", "What is the age gap between these two people in image?")]}
    train = [Item("t1", "Please solve. " + long_q), Item("t2", "What is the value of x?"),
             Item("t3", "What is the age gap between these two people in image?")]
    found = find_overlaps(train, bench, workers=1)
    assert [(o.train_id, o.benchmark_id, o.signal) for o in found] == [("t1", "b1", "text")]


# ----------------------------------------------------------------------------- layouts and clean copies


def _to_geometry3k_parquet(train_dir: Path, path: Path) -> None:
    rows = []
    for r in read_records(train_dir).records:
        imgs = [{"bytes": (train_dir / p).read_bytes(), "path": None} for p in r.images]
        rows.append({"images": imgs, "problem": "<image>" * len(imgs) + r.question, "answer": r.answer})
    pq.write_table(pa.Table.from_pylist(rows), path)


def _to_sharegpt(train_dir: Path, path: Path) -> None:
    items = [{"messages": [{"role": "user", "content": "<image>" * len(r.images) + r.question},
                           {"role": "assistant", "content": "<think>…</think><answer>1</answer>"}],
              "images": r.images} for r in read_records(train_dir).records]
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("layout", ["jsonl", "geometry3k", "sharegpt", "hf"])
def test_clean_copy_in_the_same_layout(bench, train_dir, tmp_path, layout, save_hf_dataset):
    source = {"jsonl": lambda: train_dir,
              "geometry3k": lambda: (_to_geometry3k_parquet(train_dir, tmp_path / "rl.parquet"), tmp_path / "rl.parquet")[1],
              "sharegpt": lambda: (_to_sharegpt(train_dir, train_dir / "cold.json"), train_dir / "cold.json")[1],
              "hf": lambda: save_hf_dataset(read_records(train_dir), tmp_path / "hf")}[layout]()
    before = read_records(source, image_dir=tmp_path / "scratch")
    out = tmp_path / "clean"
    summary = decontaminate(source, [f"{k}={v}" for k, v in bench.items()], load_benchmark, out=out, workers=1)
    copy = summary["clean_copy"]
    assert copy["layout"] == {"jsonl": "jsonl", "geometry3k": "parquet", "sharegpt": "sharegpt", "hf": "hf_saved"}[layout]
    assert (copy["kept"], copy["dropped"]) == (len(NEAR_MISSES), len(PLANTED))
    after = read_records(Path(copy["path"]), image_dir=tmp_path / "scratch2").raise_if_errors()
    kept_questions = {r.question for r in after.records}
    assert kept_questions == {r.question for r in before.records if r.question in {q for q, _, _ in NEAR_MISSES.values()}}
    assert (out / "overlap.jsonl").is_file() and (out / "summary.md").is_file() and (out / MARKER).is_file()
    # the copy is clean: checking it again finds nothing
    again = decontaminate(Path(copy["path"]), [f"{k}={v}" for k, v in bench.items()], load_benchmark,
                          report=tmp_path / "again", workers=1)
    assert again["training_items_flagged"] == 0


def test_clean_copy_never_overwrites_a_folder_it_did_not_make(bench, train_dir, tmp_path):
    against = [f"{k}={v}" for k, v in bench.items()]
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not written by"):
        decontaminate(train_dir, against, load_benchmark, out=theirs, workers=1)
    assert [p.name for p in theirs.iterdir()] == ["notes.txt"]
    with pytest.raises(ConfigError, match="overlap"):
        decontaminate(train_dir, against, load_benchmark, out=train_dir / "clean", workers=1)
    ours = tmp_path / "ours"
    decontaminate(train_dir, against, load_benchmark, out=ours, workers=1)
    (ours / "stale.txt").write_text("from the first run")
    decontaminate(train_dir, against, load_benchmark, out=ours, workers=1)  # a rerun replaces its own folder
    assert not (ours / "stale.txt").exists() and (ours / "train.jsonl").is_file()


# ----------------------------------------------------------------------------- bad input


def test_bad_input_is_a_clear_error(bench, train_dir, tmp_path):
    with pytest.raises(ConfigError, match="NAME=PATH"):
        BenchmarkSpec.parse("mathvision")
    with pytest.raises(ConfigError, match="unknown benchmark 'mathvisoin'"):
        decontaminate(train_dir, ["mathvisoin=x"], load_benchmark, report=tmp_path / "r", workers=1)
    with pytest.raises(DataError, match="benchmark data not found"):
        decontaminate(train_dir, [f"mathvision={tmp_path / 'nowhere'}"], load_benchmark, report=tmp_path / "r", workers=1)
    with pytest.raises(ConfigError, match="--report DIR"):
        decontaminate(train_dir, [f"mathvision={bench['mathvision']}"], load_benchmark, workers=1)
    (train_dir / "images" / "copy-half-size-png.png").write_bytes(b"not a picture")
    with pytest.raises(DataError, match="copy-half-size-png"):
        decontaminate(train_dir, [f"mathvision={bench['mathvision']}"], load_benchmark, report=tmp_path / "r", workers=1)


def test_cli(bench, train_dir, tmp_path):
    from visionr1.cli import app

    runner = CliRunner()
    args = ["data", "decontaminate", "--train", str(train_dir), "--against", f"mathvision={bench['mathvision']}",
            "--against", f"wemath={bench['wemath']}", "--report", str(tmp_path / "r"), "--workers", "1"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert f"{len(PLANTED)} of {len(PLANTED) + len(NEAR_MISSES)}" in res.output
    assert runner.invoke(app, [*args, "--fail-on-overlap"]).exit_code == 1
    bad = runner.invoke(app, ["data", "decontaminate", "--train", str(train_dir), "--against", "mathvista",
                              "--report", str(tmp_path / "r")])
    assert bad.exit_code == 2 and "NAME=PATH" in bad.output and "Traceback" not in bad.output


def test_process_pool_gives_the_same_answer(bench, tmp_path):
    """Enough pictures for the worker pool (64+); the answer must not depend on it."""
    planted = {f"{k}-{i}": v for k, v in PLANTED.items() for i in range(11)}
    assert sum(pic is not None for _, pic, _ in planted.values()) >= 64
    folder = write_training_jsonl(tmp_path / "many", planted, NEAR_MISSES)
    against = [f"{k}={v}" for k, v in bench.items()]
    one = decontaminate(folder, against, load_benchmark, report=tmp_path / "one", workers=1)
    two = decontaminate(folder, against, load_benchmark, report=tmp_path / "two", workers=2)
    assert (tmp_path / "one" / "overlap.jsonl").read_text() == (tmp_path / "two" / "overlap.jsonl").read_text()
    assert one["training_items_flagged"] == two["training_items_flagged"] == len(planted)


# ----------------------------------------------------------------------------- eval --train-data


def test_eval_train_data_writes_the_overlap_into_the_run(bench, train_dir, tmp_path, caplog):
    from visionr1.eval.run import EvalConfig, run_eval

    canned = tmp_path / "responses.json"
    canned.write_text(json.dumps({k: "\\boxed{1}" for k in MV_QUESTIONS}))
    cfg = EvalConfig(benchmark="mathvision", data=bench["mathvision"], out=tmp_path / "run", canned=canned,
                     progress=False, train_data=train_dir)
    with caplog.at_level("WARNING"):
        scores = run_eval(cfg)
    assert scores["contamination"]["items_in_training"] == 4
    assert "4 of 5 mathvision items are in the training data" in caplog.text
    rows = (tmp_path / "run" / "contamination" / "overlap.jsonl").read_text().splitlines()
    assert {json.loads(r)["benchmark_id"] for r in rows} == {"mv1", "mv2", "mv3", "mv4"}
    direct = check_benchmark_items(train_dir, "mathvision", load_benchmark("mathvision", bench["mathvision"], None),
                                   tmp_path / "direct")
    assert direct["benchmarks"]["mathvision"]["benchmark_items_hit"] == 4
