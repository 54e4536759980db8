"""The contamination guard: which training items are copies of benchmark items.

Public RL sets carry benchmark items (the authors' Vision-R1-rl holds MathVision and WeMath problems),
and a model trained on them reports inflated scores. :func:`find_overlaps` matches every training item
against every benchmark item by its picture and by its question, and :func:`decontaminate` writes the
evidence (``overlap.jsonl``, ``summary.md``) and, on request, a clean copy of the training set.

What "the same item" means here
-------------------------------
A benchmark item is a question about a picture. A training item is a copy of it when it shows **the
same picture**, or, where a picture is missing on either side, asks **the same specific question**:

* *Same picture* (signal ``image``): two perceptual hashes (``imagehash`` pHash and dHash, 64 bits
  each) are within ``phash_bits`` / ``dhash_bits`` and the coarse pixels agree (16×16 luminance and
  8×8 colour thumbnails within ``luma_16`` / ``colour_8`` levels per cell). A resized or recompressed copy passes; so does a copy
  whose question was reworded, translated or given a prefix: the picture is the distinctive part.
  Near-blank pictures carry nothing to match and are skipped.
* *Same question* (signal ``text``): the benchmark question's word 3-grams, numbers masked, are at
  least ``text`` (a share) contained in the training question, **and** every number of the benchmark
  question appears in the training question. The numbers rule is what separates a copy from another
  instance of the same template ("AC = 8, AB = 10" vs "AC = 4, AB = 5"). Only a *specific* question
  counts: at least ``min_words`` words, and matching no other item of its benchmark the same way.
  Generic questions ("What is the age gap between these two people in image?" appears 44 times in
  MathVista testmini) name no item.
* When both items have pictures, **the pictures decide**: the same question over a clearly different
  picture is a different item (171 of MathVista testmini's 1,000 questions repeat another item's text
  word for word, over another picture), unless ``text_across_pictures`` is set (for sets known to redraw their figures).
  When the text agrees too, the signal is ``image+text``.
* The same picture with the same question template but *other numbers* (both questions hold numbers
  and neither set contains the other) is a different problem drawn on a near-identical figure — a
  near miss, not a copy.

Blind spots, by construction: a crop or a border added to the picture moves the perceptual hash out
of range; two figures that share one dominant block (a bar in the same place) and differ only in a few
thin strokes can pass every picture check (47 of the 9,500 non-copies, 0.5%, in ``benchmarks/decontaminate_speed.py``'s
random sparse figures were flagged this way: review ``overlap.jsonl`` before dropping items); a change confined to a small label or a small recoloured region of an otherwise identical
picture is below what 16×16 thumbnails see (the question's numbers catch the label case when the
question states them); a reworded question over another rendering of the figure is not found.

Thresholds (``Thresholds``) were chosen from measurements: see the field docs and
``benchmarks/decontaminate_speed.py``.

Example:
    >>> t = Item("t1", "Question 3: In Rt△ABC, ∠C = 90, AC = 8, AB = 10. Find sin B.")
    >>> b = Item("b1", "In Rt△ABC, ∠C = 90, AC = 8, AB = 10. Find sin B.")
    >>> [o.signal for o in find_overlaps([t], {"bench": [b]}, workers=1)]
    ['text']
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
import unicodedata
from decimal import Decimal
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visionr1 import files
from visionr1.errors import ConfigError, DataError

MARKER = ".visionr1-decontaminate.json"
"""Written into every clean copy; a folder without it is never overwritten."""

# ----------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Thresholds:
    """When two items count as the same; every default comes from a measurement (see the module doc).

    Pictures: planted copies (resized ×0.5, ×1.5 + JPEG q80, ×2 + JPEG q90, JPEG q50) of 691 pictures
    (the nine synth families at 224 px, 500 random sparse figures of 300-640 px as in
    ``benchmarks/decontaminate_speed.py``, eleven 32 px fixture pictures), 2,764 copies, against the
    238,395 pairs of distinct pictures among them (609 of which are within 14 pHash bits):

    ====================  ==================  ===================================  ======
    measure               planted, worst      distinct pairs passing the other     chosen
                                              three checks, best
    ====================  ==================  ===================================  ======
    pHash bits (of 64)    10                  none                                 12
    dHash bits (of 64)    8                   17                                   10
    luma 16×16, max cell  33 (32 px images)   38 (two triangle figures)            36
    colour 8×8, max cell  35                  none                                 48
    ====================  ==================  ===================================  ======

    All four: every planted copy caught, no distinct pair matched; ×0.7 + JPEG q60 is caught too for
    679 of 680 pictures of 120 px and more. pHash alone is not enough: sparse figures (a few strokes on
    white, like geometry problems) collide at 8-12 bits, and the dHash (gradients, not the DCT) does not
    follow them. A recoloured small shape (2 of 38 recolourings in the same measurement) is not told apart.

    Text: on MathVista testmini, distinct questions with containment ≥ 0.9 whose numbers agree are either
    the same generic text repeated (excluded as not specific) or one template with a different last word
    ("It is (_) after eight." / "past six."), excluded the same way. Uniqueness within the benchmark does
    not make a short question specific ("What is the area of the shaded triangle?", 8 words, may be unique
    in a small benchmark yet asked of any figure): 10 words at least; 591 of MathVista testmini's 1,000
    questions are specific by both rules.
    """

    phash_bits: int = field(default=12, metadata={"help": "Most differing pHash bits (of 64) for the same picture."})
    dhash_bits: int = field(default=10, metadata={"help": "Most differing dHash bits (of 64) for the same picture."})
    luma_16: float = field(default=36.0, metadata={"help": "Most luminance difference (0-255) in any cell of 16x16 thumbnails."})
    colour_8: float = field(default=48.0, metadata={"help": "Most colour difference (0-255) in any cell of 8x8 RGB thumbnails."})
    text: float = field(default=0.9, metadata={"help": "Least share of the benchmark question's 3-grams found in the training question."})
    min_words: int = field(default=10, metadata={"help": "Fewest words for a question to identify an item by its text alone."})
    text_across_pictures: bool = field(default=False, metadata={"help": "Count the same specific question over a different picture."})

    def __post_init__(self) -> None:
        for name in ("phash_bits", "dhash_bits"):
            if not 0 <= getattr(self, name) <= 64:
                raise ConfigError(f"{name} must be within 0..64, not {getattr(self, name)}")
        if not 0 < self.text <= 1:
            raise ConfigError(f"the text threshold is a share in (0, 1], not {self.text}")
        if self.min_words < 1:
            raise ConfigError(f"min_words must be >= 1, not {self.min_words}")


# ----------------------------------------------------------------------------- items and results


@dataclass
class Item:
    """One question to compare: its id, its question text and its pictures (encoded bytes or paths)."""

    id: str
    text: str
    images: list[bytes | Path] = field(default_factory=list)


@dataclass
class Overlap:
    """A training item found to be a benchmark item.

    ``signal``: ``image``, ``image+text`` or ``text``; ``score``: the similarity of the deciding signal
    in [0, 1] (pictures: 1 − pHash bits / 64; text: the share of the benchmark question's 3-grams found);
    ``phash_bits`` and ``text_containment``: the raw measures (``None`` where not measured).
    """

    train_id: str
    benchmark: str
    benchmark_id: str
    signal: str
    score: float
    phash_bits: int | None = None
    text_containment: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------- text


_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?|[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\W\d_]+")
"""Numbers (with decimals), single CJK characters (Chinese text has no spaces), and runs of letters."""
_NUM = "<num>"
_PLACEHOLDER_RE = re.compile(r"<image\s*\d*>", re.IGNORECASE)
"""Image placeholders (``<image>``, MathVision's ``<image1>``): not words of the question."""


def tokens(text: str) -> list[str]:
    """Lower-cased NFKC word tokens; numbers canonical (``30.0`` → ``30``); punctuation, LaTeX markup
    and image placeholders dropped.

    >>> tokens("<image1> AB = 30.0 cm, find ∠C.")
    ['ab', '30', 'cm', 'find', 'c']
    """
    out = []
    for t in _TOKEN_RE.findall(_PLACEHOLDER_RE.sub(" ", unicodedata.normalize("NFKC", text or "")).lower()):
        if t[0].isdigit():
            t = format(Decimal(t).normalize(), "f")
        out.append(t)
    return out


@dataclass(frozen=True)
class TextPrint:
    """A question reduced to what matching needs: 3-grams with numbers masked, the numbers, the length."""

    grams: frozenset[tuple[str, ...]]
    numbers: frozenset[str]
    words: int

    @classmethod
    def of(cls, text: str, n: int = 3) -> TextPrint:
        toks = tokens(text)
        masked = [_NUM if t[0].isdigit() else t for t in toks]
        grams = {tuple(masked[i:i + n]) for i in range(len(masked) - n + 1)} or ({tuple(masked)} if masked else set())
        return cls(frozenset(grams), frozenset(t for t in toks if t[0].isdigit()), len(toks))


def containment(bench: TextPrint, train: TextPrint) -> float:
    """Share of the benchmark question's 3-grams found in the training question (a prefix or added
    instructions on the training side cost nothing, which Jaccard or MinHash would charge for)."""
    if not bench.grams:
        return 0.0
    return len(bench.grams & train.grams) / len(bench.grams)


def numbers_conflict(a: TextPrint, b: TextPrint) -> bool:
    """Both questions state numbers and neither's are all in the other: another instance of a template."""
    return bool(a.numbers) and bool(b.numbers) and not (a.numbers <= b.numbers or b.numbers <= a.numbers)


class _TextIndex:
    """Exact search for benchmark questions contained (≥ ``threshold``) in a query text.

    Plain set arithmetic with prefix filtering instead of MinHash LSH (``datasketch``): a benchmark
    question needing ``r`` of its ``g`` grams is indexed under its ``g − r + 1`` rarest grams only, and
    a text holding ``r`` of them holds at least one of those; each candidate is then verified exactly.
    It is exact (no LSH misses), measures containment (LSH estimates Jaccard), and on 10K × 6K
    questions it takes seconds (``benchmarks/decontaminate_speed.py``).
    """

    def __init__(self, prints: Sequence[TextPrint], threshold: float):
        self.prints = prints
        self.threshold = threshold
        df: dict[tuple[str, ...], int] = defaultdict(int)
        for p in prints:
            for g in p.grams:
                df[g] += 1
        self.postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, p in enumerate(prints):
            if not p.grams:
                continue
            need = math.ceil(threshold * len(p.grams) - 1e-9)
            for g in sorted(p.grams, key=lambda g: (df[g], g))[: len(p.grams) - need + 1]:
                self.postings[g].append(i)

    def query(self, text: TextPrint) -> list[tuple[int, float]]:
        """``(index, containment)`` of every indexed question ≥ threshold contained in ``text`` with its numbers."""
        seen: set[int] = set()
        for g in text.grams:
            seen.update(self.postings.get(g, ()))
        out = []
        for i in seen:
            p = self.prints[i]
            c = containment(p, text)
            if c >= self.threshold and p.numbers <= text.numbers:
                out.append((i, c))
        return out


# ----------------------------------------------------------------------------- pictures


@dataclass
class ImagePrint:
    """A picture reduced to its 64-bit pHash and dHash and two coarse thumbnails (16×16 luma, 8×8 RGB, uint8)."""

    phash: int
    dhash: int
    luma: np.ndarray
    colour: np.ndarray


_BLANK_STD = 2.0
"""A picture whose 16×16 luminance thumbnail varies less than this (0-255) is blank: nothing to match."""


def image_print(source: bytes | Path, item: str) -> ImagePrint | None:
    """Fingerprint one picture (``None`` when it is blank). Opens it through
    :func:`visionr1.data.images.open_image`, so a broken file is an ``ImageError`` naming ``item``.

    Why more than one pHash: ``imagehash``'s pHash thresholds each low DCT coefficient of the luminance
    at their median, so two drawings from one template (other bar heights, a recoloured background) or
    two sparse figures whose main stroke sits in the same place can hash within a few bits. The dHash
    (signs of neighbouring-pixel gradients) fails on other pairs than the pHash, and the thumbnails
    compare the coarse pixels themselves, in colour. Each check is a few numpy operations on prints
    computed once per picture.
    """
    import imagehash
    from PIL import Image

    from visionr1.data.images import open_image

    img = open_image(source, item, model_rules=False)  # any picture can be compared, whatever a model takes
    factor = max(1, max(img.size) // 256)  # big pictures: box-reduce first (fast, and the hash resizes to 32 px anyway)
    if factor > 1:
        img = img.reduce(factor)
    luma = np.asarray(img.convert("L").resize((16, 16), Image.Resampling.BOX), dtype=np.uint8)
    if luma.std() < _BLANK_STD:
        return None
    colour = np.asarray(img.resize((8, 8), Image.Resampling.BOX), dtype=np.uint8)
    return ImagePrint(_as_int(imagehash.phash(img)), _as_int(imagehash.dhash(img)), luma, colour)


def _as_int(h) -> int:
    return int.from_bytes(np.packbits(h.hash.flatten()).tobytes(), "big")


def _prints_of(job: tuple[str, list[bytes | Path]]) -> tuple[list[ImagePrint | None], str | None]:
    """Worker: the prints of one item's pictures, or the error (a string: exceptions pickle poorly)."""
    item, sources = job
    try:
        return [image_print(s, item) for s in sources], None
    except DataError as e:
        return [], str(e)


def _fingerprint(items: Sequence[Item], workers: int, what: str,
                 on_progress: Callable[[str, int, int], None] | None) -> list[list[ImagePrint]]:
    """Every item's non-blank picture prints, in item order; all broken pictures reported at once."""
    jobs = [(it.id, list(it.images)) for it in items]
    results: list[tuple[list[ImagePrint | None], str | None]] = []
    if workers > 1 and sum(len(j[1]) for j in jobs) >= 64:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: the caller may hold torch threads (eval), which fork would copy half-locked
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for r in pool.map(_prints_of, jobs, chunksize=32):
                results.append(r)
                if on_progress and len(results) % 256 == 0:
                    on_progress(what, len(results), len(jobs))
    else:
        for j in jobs:
            results.append(_prints_of(j))
            if on_progress and len(results) % 256 == 0:
                on_progress(what, len(results), len(jobs))
    if on_progress:
        on_progress(what, len(jobs), len(jobs))
    errors = [e for _, e in results if e]
    if errors:
        head = "\n  ".join(errors[:10])
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise DataError(f"{len(errors)} {what} item(s)", f"have pictures that cannot be read:\n  {head}{more}")
    return [[p for p in prints if p is not None] for prints, _ in results]


class _PictureTable:
    """All prints of one side as arrays, with the owning item of each."""

    def __init__(self, prints: Sequence[Sequence[ImagePrint]]):
        flat = [(i, p) for i, ps in enumerate(prints) for p in ps]
        self.owner = np.array([i for i, _ in flat], dtype=np.int64)
        self.hash = np.array([p.phash for _, p in flat], dtype=np.uint64)
        self.dhash = np.array([p.dhash for _, p in flat], dtype=np.uint64)
        self.luma = np.stack([p.luma for _, p in flat]).astype(np.int16) if flat else np.zeros((0, 16, 16), np.int16)
        self.colour = np.stack([p.colour for _, p in flat]).astype(np.int16) if flat else np.zeros((0, 8, 8, 3), np.int16)


def _same_pictures(train: _PictureTable, bench: _PictureTable, th: Thresholds,
                   chunk: int = 512) -> dict[tuple[int, int], int]:
    """``{(train item, bench item): fewest pHash bits}`` over picture pairs that pass all three tests.

    Brute force over 64-bit hashes (XOR + popcount in numpy): 10K × 6K pictures is 60M comparisons,
    well under a second, so no BK-tree or multi-index hashing is needed.
    """
    found: dict[tuple[int, int], int] = {}
    if not len(train.hash) or not len(bench.hash):
        return found
    for start in range(0, len(train.hash), chunk):
        block = train.hash[start:start + chunk]
        dist = np.bitwise_count(block[:, None] ^ bench.hash[None, :])
        ti, bi = np.nonzero(dist <= th.phash_bits)
        if not len(ti):
            continue
        gi = ti + start
        dd = np.bitwise_count(train.dhash[gi] ^ bench.dhash[bi])
        luma = np.abs(train.luma[gi] - bench.luma[bi]).reshape(len(gi), -1).max(axis=1)
        colour = np.abs(train.colour[gi] - bench.colour[bi]).reshape(len(gi), -1).max(axis=1)
        ok = (dd <= th.dhash_bits) & (luma <= th.luma_16) & (colour <= th.colour_8)
        for t, b, d in zip(train.owner[gi[ok]], bench.owner[bi[ok]], dist[ti[ok], bi[ok]]):
            key = (int(t), int(b))
            found[key] = min(found.get(key, 64), int(d))
    return found


# ----------------------------------------------------------------------------- matching


def find_overlaps(train: Sequence[Item], benchmarks: Mapping[str, Sequence[Item]],
                  thresholds: Thresholds | None = None, *, workers: int | None = None,
                  on_progress: Callable[[str, int, int], None] | None = None) -> list[Overlap]:
    """Every (training item, benchmark item) pair that is the same item, in training order.

    Args:
        train: the training items (question text, pictures as paths or bytes).
        benchmarks: benchmark name → its items.
        thresholds: see :class:`Thresholds`.
        workers: processes that decode and hash pictures (default: the CPUs, at most 8).
        on_progress: called as ``(stage, done, total)`` while pictures are hashed.
    """
    th = thresholds or Thresholds()
    workers = workers or min(os.cpu_count() or 1, 8)
    names = list(benchmarks)
    bench_items = [(name, it) for name in names for it in benchmarks[name]]
    b_text = [TextPrint.of(it.text) for _, it in bench_items]
    t_text = [TextPrint.of(it.text) for it in train]

    # Text: which benchmark questions a training question contains; which benchmark questions are specific.
    index = _TextIndex(b_text, th.text)
    specific = [p.words >= th.min_words for p in b_text]
    for j, p in enumerate(b_text):
        for k, _ in index.query(p):
            if k != j and bench_items[k][0] == bench_items[j][0]:
                specific[k] = False  # another item of its benchmark asks the same: the text names no item
    text_hits: dict[tuple[int, int], float] = {}
    for i, p in enumerate(t_text):
        for j, c in index.query(p):
            text_hits[(i, j)] = c

    # Pictures.
    t_prints = _fingerprint(train, workers, "training", on_progress)
    b_prints = _fingerprint([it for _, it in bench_items], workers, "benchmark", on_progress)
    pictures = _same_pictures(_PictureTable(t_prints), _PictureTable(b_prints), th)

    out: list[Overlap] = []
    for i, j in sorted(set(pictures) | set(text_hits)):
        name, b = bench_items[j]
        both_pictured = bool(t_prints[i]) and bool(b_prints[j])
        c = text_hits.get((i, j))
        if (i, j) in pictures:
            contained = containment(b_text[j], t_text[i])
            if contained >= th.text and numbers_conflict(b_text[j], t_text[i]):
                continue  # one template, other numbers, near-identical figure: another problem
            bits = pictures[(i, j)]
            out.append(Overlap(train[i].id, name, b.id, "image+text" if c is not None else "image",
                               round(1 - bits / 64, 4), bits, round(contained, 4)))
        elif c is not None and specific[j] and (not both_pictured or th.text_across_pictures):
            out.append(Overlap(train[i].id, name, b.id, "text", round(c, 4), None, round(c, 4)))
    return out


# ----------------------------------------------------------------------------- inputs


def items_from_records(result, scratch: Path | None = None) -> list[Item]:
    """Training items from a :class:`visionr1.data.LoadResult` (question text, absolute picture paths).

    ``scratch``: the ``image_dir`` the reader stored embedded pictures in (Parquet, HF layouts); paths
    into it are ours and accepted, every other path stays confined to the data root.
    """
    from visionr1.data.images import confine_image_path

    real_scratch = Path(scratch).resolve() if scratch is not None else None

    def paths(rec) -> list[Path]:
        out = []
        for p in rec.images:
            full = (result.real_root() / p).resolve()
            inside = real_scratch is not None and real_scratch in full.parents
            out.append(full if inside else confine_image_path(result.real_root(), p, rec.id))
        return out

    return [Item(r.id, r.question, paths(r)) for r in result.records]


_QUESTION_TAIL_RE = re.compile(r"Question\s*:\s*", re.IGNORECASE)


def items_from_benchmark(eval_items: Iterable[Any]) -> list[Item]:
    """Items from a benchmark loader's ``EvalItem`` list (read by attribute: ``id``, ``images``, ``row``, ``query``).

    The text is the benchmark's own question column, not the official query: the query wraps it in
    instructions a training copy does not carry (and VLMEvalKit's question columns that hold a wrapped
    query are cut to what follows their last ``Question:``).
    """
    out = []
    for it in eval_items:
        text = str((getattr(it, "row", None) or {}).get("question") or "") or it.query
        parts = _QUESTION_TAIL_RE.split(text)
        out.append(Item(str(it.id), parts[-1] if len(parts) > 1 and parts[-1].strip() else text, list(it.images)))
    return out


@dataclass(frozen=True)
class BenchmarkSpec:
    """One ``--against`` value: ``NAME=PATH`` or ``NAME:SPLIT=PATH``."""

    name: str
    path: Path
    split: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}:{self.split}" if self.split else self.name

    @classmethod
    def parse(cls, spec: str) -> BenchmarkSpec:
        """
        >>> BenchmarkSpec.parse("mathvision:test=data/MathVision").label
        'mathvision:test'
        """
        name, sep, path = spec.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ConfigError(f"--against {spec!r}: write NAME=PATH or NAME:SPLIT=PATH (e.g. mathvision=data/MathVision)")
        name, _, split = name.strip().partition(":")
        return cls(name=name, path=Path(path.strip()), split=split or None)


# ----------------------------------------------------------------------------- the command


def decontaminate(train: Path, against: Sequence[str | BenchmarkSpec],
                  load_benchmark: Callable[[str, Path, str | None], list[Any]], *,
                  report: Path | None = None, out: Path | None = None, thresholds: Thresholds | None = None,
                  workers: int | None = None, on_progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Check ``train`` against benchmark data; write ``overlap.jsonl`` and ``summary.md`` to ``report``
    (default: ``out``) and, with ``out``, a clean copy of ``train`` in its own layout.

    ``load_benchmark(name, path, split)`` returns a benchmark's ``EvalItem`` list (the CLI passes the
    ``visionr1.eval.benchmarks`` loaders; this module does not import a stage). Returns the summary dict.
    """
    from visionr1.data.io import read_records

    if report is None and out is None:
        raise ConfigError("say where to write overlap.jsonl and summary.md: --report DIR, or --out CLEAN_DIR")
    specs = [a if isinstance(a, BenchmarkSpec) else BenchmarkSpec.parse(a) for a in against]
    if not specs:
        raise ConfigError("give at least one --against NAME=PATH (e.g. mathvision=data/MathVision)")
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"--against names a benchmark split twice: {labels}")
    train = Path(train)
    if out is not None:
        _check_out(Path(out), train)
    th = thresholds or Thresholds()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="visionr1-decontam-") as tmp:
        # parquet / HF layouts embed pictures: read them into a scratch folder, not beside the user's data;
        # pictures are opened once, when hashed (a broken one is an error naming its item there)
        result = read_records(train, image_dir=Path(tmp) / "images", check_images=False).raise_if_errors()
        train_items = items_from_records(result, Path(tmp))
        benches = {s.label: items_from_benchmark(load_benchmark(s.name, s.path, s.split)) for s in specs}
        t_read = time.perf_counter()
        overlaps = find_overlaps(train_items, benches, th, workers=workers, on_progress=on_progress)
    seconds = time.perf_counter() - t0
    summary = summarize(overlaps, len(train_items), {k: len(v) for k, v in benches.items()}, th)
    summary.update({"train": str(train), "against": {s.label: str(s.path) for s in specs},
                    "seconds": round(seconds, 1), "seconds_reading": round(t_read - t0, 1),
                    "items_per_second": round((len(train_items) + sum(map(len, benches.values()))) / max(seconds, 1e-9), 1)})
    if out is not None:
        flagged = {o.train_id for o in overlaps}
        summary["clean_copy"] = write_clean_copy(train, [r.id for r in result.records], flagged, Path(out), summary)
    write_report(Path(report or out), overlaps, summary)
    return summary


def check_benchmark_items(train_data: Path, benchmark: str, eval_items: Sequence[Any], report: Path,
                          thresholds: Thresholds | None = None, workers: int | None = None) -> dict[str, Any]:
    """``visionr1 eval --train-data``: the same check for the items being evaluated, written to ``report``."""
    from visionr1.data.io import read_records

    with tempfile.TemporaryDirectory(prefix="visionr1-decontam-") as tmp:
        result = read_records(Path(train_data), image_dir=Path(tmp) / "images", check_images=False).raise_if_errors()
        train_items = items_from_records(result, Path(tmp))
        bench = {benchmark: items_from_benchmark(eval_items)}
        overlaps = find_overlaps(train_items, bench, thresholds, workers=workers)
    summary = summarize(overlaps, len(train_items), {benchmark: len(bench[benchmark])}, thresholds or Thresholds())
    summary.update({"train": str(train_data), "against": {benchmark: "(the items of this run)"}})
    write_report(Path(report), overlaps, summary)
    return summary


def summarize(overlaps: Sequence[Overlap], n_train: int, n_bench: Mapping[str, int], th: Thresholds) -> dict[str, Any]:
    """Counts per benchmark and signal; the figures ``summary.md`` and the CLI show."""
    per: dict[str, dict[str, Any]] = {}
    for name, n in n_bench.items():
        mine = [o for o in overlaps if o.benchmark == name]
        signals: dict[str, int] = defaultdict(int)
        for o in mine:
            signals[o.signal] += 1
        per[name] = {"items": n, "benchmark_items_hit": len({o.benchmark_id for o in mine}),
                     "training_items_hit": len({o.train_id for o in mine}), "pairs": len(mine), "by_signal": dict(signals)}
    return {"training_items": n_train, "training_items_flagged": len({o.train_id for o in overlaps}),
            "pairs": len(overlaps), "benchmarks": per, "thresholds": asdict(th)}


# ----------------------------------------------------------------------------- outputs


def write_report(folder: Path, overlaps: Sequence[Overlap], summary: Mapping[str, Any]) -> None:
    """``overlap.jsonl`` (one pair per line) and ``summary.md`` in ``folder``."""
    files.write_jsonl(folder / "overlap.jsonl", [o.to_dict() for o in overlaps])
    files.write_text(folder / "summary.md", summary_markdown(overlaps, summary))


def summary_markdown(overlaps: Sequence[Overlap], s: Mapping[str, Any]) -> str:
    n, flagged = s["training_items"], s["training_items_flagged"]
    lines = ["# Contamination check", "",
             f"Training data `{s.get('train')}`: **{flagged} of {n} items** ({100 * flagged / max(n, 1):.2f}%) "
             f"match a benchmark item ({s['pairs']} pairs, `overlap.jsonl`).", "",
             "| benchmark | data | items | items found in training | training items | image | image+text | text |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, b in s["benchmarks"].items():
        sig = b["by_signal"]
        lines.append(f"| {name} | `{s.get('against', {}).get(name, '')}` | {b['items']} | {b['benchmark_items_hit']} | "
                     f"{b['training_items_hit']} | {sig.get('image', 0)} | {sig.get('image+text', 0)} | {sig.get('text', 0)} |")
    th = s["thresholds"]
    lines += ["", "Same item = the same picture (pHash ≤ {phash_bits} and dHash ≤ {dhash_bits} bits of 64, 16×16 luma ≤ "
              "{luma_16}, 8×8 colour ≤ "
              "{colour_8} per cell), or where a picture is missing, the same specific question (≥ {text} of its "
              "3-grams, all its numbers, ≥ {min_words} words, unique in its benchmark); the same template with other "
              "numbers is not a copy. Text over a different picture counts: {text_across_pictures}.".format(**th)]
    if "seconds" in s:
        lines += ["", f"Took {s['seconds']} s ({s['items_per_second']} items/s, reading {s['seconds_reading']} s)."]
    if s.get("clean_copy"):
        c = s["clean_copy"]
        lines += ["", f"Clean copy: `{c['path']}` ({c['kept']} kept, {c['dropped']} dropped, layout {c['layout']})."]
    if overlaps:
        lines += ["", "## First matches", "", "| training id | benchmark | benchmark id | signal | score |", "|---|---|---|---|---:|"]
        lines += [f"| {o.train_id} | {o.benchmark} | {o.benchmark_id} | {o.signal} | {o.score} |" for o in overlaps[:50]]
    return "\n".join(lines) + "\n"


def _check_out(out: Path, train: Path) -> None:
    """Refuse a clean-copy folder that holds anything this command did not write, or the input itself."""
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"--out {out} is a file; give a folder for the clean copy")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise ConfigError(f"--out {out} exists and was not written by `visionr1 data decontaminate`; "
                              "give a new folder (nothing was written)")
    real_out, real_train = out.resolve(), train.resolve()
    if real_train == real_out or real_out in real_train.parents or real_train in real_out.parents:
        raise ConfigError(f"--out {out} and the training data {train} overlap; give a folder outside the data")


def write_clean_copy(train: Path, ids: Sequence[str], drop: set[str], out: Path,
                     summary: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``train`` less the items in ``drop`` to ``out`` in the layout it came in.

    ``ids`` are the record ids in the order the reader returned them (one per source item: the caller
    read with no errors). Native JSONL (a file, or a folder's ``train.jsonl``) and ShareGPT JSON keep
    their file name, and the pictures of the kept items are copied under the same relative paths;
    Parquet keeps its schema (pictures are embedded); a saved HF dataset is saved again. Built in a
    scratch folder beside ``out`` and moved in place (:func:`visionr1.files.replacing_dir`), so a crash leaves
    no half-written copy.
    """
    keep = [i for i, rid in enumerate(ids) if rid not in drop]
    _check_out(out, train)
    with files.replacing_dir(out) as scratch:
        layout, written = _write_kept(train, ids, keep, scratch)
        manifest = {"source": str(train), "layout": layout, "kept": len(keep), "dropped": len(ids) - len(keep),
                    "path": str(out / written.relative_to(scratch)) if written != scratch else str(out)}
        files.write_json(scratch / MARKER, {**manifest, "summary": dict(summary or {})}, ensure_ascii=True, default=str)
    return manifest


def _write_kept(train: Path, ids: Sequence[str], keep: list[int], scratch: Path) -> tuple[str, Path]:
    """Write the items of ``train`` at the positions ``keep`` into ``scratch`` in ``train``'s layout; returns the
    layout's name and what was written (a file in ``scratch``, or ``scratch`` itself)."""
    from visionr1.data.io import _saved_hf_dataset, hub_parquet_files, native_jsonl

    jsonl = native_jsonl(train)
    if jsonl is not None:  # the kept lines byte for byte
        kept_ids = {ids[i] for i in keep}
        with open(jsonl, encoding="utf-8") as f:
            lines = [ln for ln in f if ln.strip()]
        rows = [(ln, row) for ln, (_, row) in zip(lines, files.jsonl_values(lines, str(jsonl)), strict=True)
                if row["id"] in kept_ids]
        files.write_text(scratch / jsonl.name, "".join(ln for ln, _ in rows))
        _copy_pictures([p for _, row in rows for p in row.get("images") or []], jsonl.parent, scratch)
        return "jsonl", scratch / jsonl.name
    if _saved_hf_dataset(train):
        import datasets

        datasets.load_from_disk(str(train)).select(keep).save_to_disk(str(scratch))
        return "hf_saved", scratch
    if train.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(pq.read_table(train).take(keep), scratch / train.name)
        return "parquet", scratch / train.name
    if train.is_dir() and hub_parquet_files(train):  # a hub download: each shard kept where it was
        import pyarrow.parquet as pq

        start, kept_rows = 0, set(keep)
        for f in hub_parquet_files(train):
            table = pq.read_table(f)
            target = scratch / f.relative_to(train)
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table.take([i - start for i in range(start, start + len(table)) if i in kept_rows]), target)
            start += len(table)
        return "parquet_folder", scratch
    if train.suffix.lower() == ".json":
        data = json.loads(train.read_text(encoding="utf-8"))
        examples = data if isinstance(data, list) else [data]
        kept = [examples[i] for i in keep]
        files.write_json(scratch / train.name, kept)
        _copy_pictures([p for ex in kept for p in _sharegpt_pictures(ex)], train.parent, scratch)
        return "sharegpt", scratch / train.name
    raise DataError(str(train), "no clean copy for this layout")  # pragma: no cover - read_records refused it already


def _sharegpt_pictures(example: Mapping[str, Any]) -> list[str]:
    pics = example.get("images", example.get("image")) or []
    return [pics] if isinstance(pics, str) else [str(p) for p in pics]


def _copy_pictures(paths: Iterable[str], root: Path, dest: Path) -> None:
    from visionr1.data.images import resolve_image_path

    real_root = root.resolve()
    for p in dict.fromkeys(paths):
        src = resolve_image_path(real_root, p, p)
        target = dest / src.relative_to(real_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


__all__ = ["BenchmarkSpec", "ImagePrint", "Item", "Overlap", "TextPrint", "Thresholds", "check_benchmark_items",
           "containment", "decontaminate", "find_overlaps", "image_print", "items_from_benchmark", "items_from_records",
           "numbers_conflict", "tokens", "write_clean_copy", "write_report"]
