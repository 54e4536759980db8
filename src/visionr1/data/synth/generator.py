"""The task registry and the two entry points: :func:`generate` (one item) and :func:`synthesize` (a data set).

Each item gets its own ``random.Random`` seeded from ``(seed, split, task, k, attempt)``, so an
item does not depend on how many others were made before it or in what order, and the same
arguments give byte-identical JSONL and PNG files. Train and test are kept disjoint by content,
not only by id: the test split is made first, and a train item whose (task, question, answer,
choices, facts) matches a test item is drawn again with the next attempt number.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from visionr1.data.io import write_jsonl
from visionr1.data.record import Record
from visionr1.data.synth import (
    bar_read,
    bigger_side,
    colour_count,
    colour_value,
    compare_length,
    count,
    digit_sum,
    majority_colour,
    shape_colour,
    shape_count,
    triangle_angle,
)
from visionr1.data.synth._spec import DIFFICULTIES, Item, TaskSpec
from visionr1.errors import ConfigError

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        count.SPEC,
        majority_colour.SPEC,
        bar_read.SPEC,
        digit_sum.SPEC,
        triangle_angle.SPEC,
        compare_length.SPEC,
    )
}
"""Task families by name, in the round-robin order :func:`synthesize` uses."""

EASY_TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (shape_colour.SPEC, colour_value.SPEC, colour_count.SPEC, shape_count.SPEC, bigger_side.SPEC)
}
"""Easy, strongly visual families made for the embedded demo (a tiny model learns them in CPU-minutes).
Asked for by name only (``tasks=[...]``); :func:`synthesize` with no ``tasks`` uses :data:`TASKS`."""

MAX_ATTEMPTS = 200
"""Draws per item before giving up on finding one that is not already in the test split."""

_LEVEL_NAMES = {"easy": 1, "medium": 2, "hard": 3}


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` called ``name``; a :class:`ConfigError` listing the valid names otherwise."""
    spec = TASKS.get(name) or EASY_TASKS.get(name)
    if spec is None:
        raise ConfigError(f"unknown synth task {name!r}; valid tasks: {', '.join([*TASKS, *EASY_TASKS])}")
    return spec


def parse_difficulty(value: str | int | None) -> int | None:
    """``None`` (sample 1–3 per item), ``1``/``2``/``3`` or ``easy``/``medium``/``hard`` -> a level or None."""
    if value is None or value == "" or value == "mixed":
        return None
    text = str(value).strip().lower()
    if text in _LEVEL_NAMES:
        return _LEVEL_NAMES[text]
    if text.isdigit() and int(text) in DIFFICULTIES:
        return int(text)
    raise ConfigError(f"difficulty {value!r} is not one of 1, 2, 3, easy, medium, hard (or unset for a mix)")


def content_key(task: str, item: Item) -> str:
    """A hash of what the item asks and shows (facts, not pixels): equal keys are the same problem."""
    blob = json.dumps(
        [task, item.question, item.answer, item.choices, item.facts], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def item_rng(seed: int, split: str, task: str, k: int, attempt: int = 0) -> random.Random:
    """The generator for item ``k`` of ``split``; string seeds hash the same on every run and platform."""
    return random.Random(f"visionr1.synth/{seed}/{split}/{task}/{k}/{attempt}")


def _to_record(task: str, item: Item, level: int, split: str, idx: int, image_dir: Path, root: Path) -> Record:
    rid = f"{task}-{split}-{idx:05d}"
    path = Path(image_dir) / f"{rid}.png"
    try:
        rel = path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        raise ConfigError(f"image_dir {image_dir} is not inside the data root {root}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    item.image.save(path, format="PNG")
    metadata: dict[str, Any] = {
        "task": task,
        "difficulty": level,
        "solution": item.solution,
        "description": item.description,
        "facts": item.facts,
    }
    if item.precision is not None:
        metadata["precision"] = item.precision
    metadata.update(item.extra)
    return Record(
        id=rid,
        question=item.question,
        answer=item.answer,
        images=[rel],
        choices=item.choices,
        answer_type=item.answer_type,
        source=f"synth/{task}",
        metadata=metadata,
    )


def generate(
    task: str,
    rng: random.Random,
    idx: int,
    image_dir: Path,
    root: Path,
    *,
    split: str = "train",
    difficulty: int | str | None = None,
    image_size: int = 224,
) -> Record:
    """Draw one item of ``task`` with ``rng``, save its PNG under ``image_dir`` and return its record.

    The record's id is ``{task}-{split}-{idx:05d}`` and its image path is relative to ``root``.
    ``difficulty`` None samples a level from ``rng``.

    Example:
        >>> import random, tempfile; from pathlib import Path
        >>> root = Path(tempfile.mkdtemp())
        >>> r = generate("count", random.Random(0), 3, root / "images", root)
        >>> r.id, r.images, r.source
        ('count-train-00003', ['images/count-train-00003.png'], 'synth/count')
    """
    spec = get_task(task)
    level = parse_difficulty(difficulty) or rng.choice(DIFFICULTIES)
    return _to_record(task, spec.build(rng, level, image_size), level, split, idx, image_dir, root)


def _make_split(
    split: str,
    n: int,
    seed: int,
    names: list[str],
    level: int | None,
    image_size: int,
    out: Path,
    blocked: set[str],
    unique: bool,
) -> tuple[list[Record], set[str], int]:
    """Items ``0..n-1`` of a split, avoiding ``blocked`` content (and repeats within it if ``unique``)."""
    records, keys, redraws = [], set(), 0
    for k in range(n):
        task = names[k % len(names)]
        spec = get_task(task)
        for attempt in range(MAX_ATTEMPTS):
            rng = item_rng(seed, split, task, k, attempt)
            lvl = level or rng.choice(DIFFICULTIES)
            item = spec.build(rng, lvl, image_size)
            key = content_key(task, item)
            in_split = spec.held_out is None or spec.held_out(item.facts) == (split != "train")
            if in_split and key not in blocked and not (unique and key in keys):
                break
            redraws += 1
        else:
            raise ConfigError(
                f"could not draw {split} item {k} of task {task!r} unlike the test split after {MAX_ATTEMPTS} "
                f"tries: too few distinct problems at this difficulty; use a smaller --split-test or a mixed difficulty"
            )
        keys.add(key)
        records.append(_to_record(task, item, lvl, split, k, out / "images", out))
    return records, keys, redraws


def synthesize(
    out: Path,
    n: int,
    seed: int,
    tasks: list[str] | None = None,
    split_test: int = 0,
    image_size: int = 224,
    difficulty: int | str | None = None,
    split_val: int = 0,
    force: bool = False,
) -> dict[str, Any]:
    """Write a synthetic data set: ``out/train.jsonl`` (``n`` items), ``out/test.jsonl`` (``split_test``
    items, only when > 0; a stale one is removed otherwise), ``out/val.jsonl`` (``split_val`` items, for
    validation during training; likewise) and the PNGs under ``out/images/``.

    ``out`` must be new, empty or a set this function wrote (:mod:`visionr1.outdir`; ``force`` takes any
    folder). A set already there is replaced whole: its images that the new set does not use are removed,
    and the summary's ``replaced`` says how many records it had.

    Tasks are taken round-robin from ``tasks`` (all of :data:`TASKS` by default); ``difficulty`` pins
    the level (1–3 or easy/medium/hard), else it is sampled per item. Test items are distinct from one
    another, validation items from each other and from the test items, and no train item repeats a test or
    validation item's content; a family with ``held_out`` pairs asks those only in test and validation, the
    rest only in train (:class:`~visionr1.data.synth._spec.TaskSpec`). Returns a summary with counts per split,
    task and difficulty.

    Example:
        >>> import tempfile; from pathlib import Path
        >>> s = synthesize(Path(tempfile.mkdtemp()), n=6, seed=0, split_test=2)
        >>> s["splits"]["train"]["n"], s["splits"]["test"]["n"]
        (6, 2)
    """
    names = list(TASKS) if not tasks else list(dict.fromkeys(tasks))
    for name in names:
        get_task(name)
    level = parse_difficulty(difficulty)
    if n < 0 or split_test < 0 or split_val < 0:
        raise ConfigError(f"n ({n}), split_test ({split_test}) and split_val ({split_val}) must be >= 0")
    if not 32 <= image_size <= 2048:
        raise ConfigError(f"image_size {image_size} must be between 32 and 2048 pixels")
    out = Path(out)
    from visionr1.outdir import check_output_dir, mark_output_dir

    status = check_output_dir(out, MADE_BY, force=force, looks_ours=looks_like_synth, what="--out folder")
    replaced = {split: _count_lines(out / f"{split}.jsonl") for split in ("train", "test", "val")}
    (out / "images").mkdir(parents=True, exist_ok=True)
    mark_output_dir(out, MADE_BY)

    test, test_keys, test_redraws = _make_split("test", split_test, seed, names, level, image_size, out, set(), True)
    val, val_keys, val_redraws = _make_split("val", split_val, seed, names, level, image_size, out, test_keys, True)
    train, _, train_redraws = _make_split("train", n, seed, names, level, image_size, out, test_keys | val_keys, False)

    files = _write_splits(out, {"train": (train, n), "test": (test, split_test), "val": (val, split_val)})
    if status == "ours":  # a set rebuilt in place: its images the new set does not use would linger
        _remove_unused_images(out, (*train, *test, *val))

    splits = {"train": _split_stats(train, train_redraws)}
    if split_test > 0:
        splits["test"] = _split_stats(test, test_redraws)
    if split_val > 0:
        splits["val"] = _split_stats(val, val_redraws)
    summary: dict[str, Any] = {"out": str(out), "seed": seed, "image_size": image_size, "files": files, "splits": splits}
    if any(v is not None for v in replaced.values()):
        summary["replaced"] = {k: v or 0 for k, v in replaced.items()}
    return summary


def _write_splits(out: Path, splits: dict[str, tuple[list[Record], int]]) -> list[str]:
    """Write each split asked for (``train`` always; ``test``/``val`` when more than 0 were asked, a stale file of
    theirs removed otherwise); the names of the files written."""
    files = []
    for name, (records, wanted) in splits.items():
        if name == "train" or wanted > 0:
            write_jsonl(out / f"{name}.jsonl", records)
            files.append(f"{name}.jsonl")
        elif (out / f"{name}.jsonl").exists():
            (out / f"{name}.jsonl").unlink()
    return files


def _remove_unused_images(out: Path, records: tuple[Record, ...]) -> None:
    used = {Path(p).name for r in records for p in r.images}
    for png in (out / "images").iterdir():
        if png.name not in used and _OUR_IMAGE.fullmatch(png.name):
            png.unlink()


def _split_stats(records: list[Record], redraws: int) -> dict[str, Any]:
    return {
        "n": len(records),
        "tasks": dict(Counter(r.metadata["task"] for r in records)),
        "difficulty": dict(sorted(Counter(r.metadata["difficulty"] for r in records).items())),
        "redraws": redraws,
    }


MADE_BY = "visionr1 synth"
_OUR_IMAGE = re.compile(r"[a-z0-9_]+-(train|test|val)-\d{5}\.png")
"""The names :func:`_to_record` gives images (only these are removed when a set is rebuilt)."""


def looks_like_synth(path: Path) -> bool:
    """A folder :func:`synthesize` wrote before output folders were marked: a ``train.jsonl`` of synth records."""
    try:
        with open(Path(path) / "train.jsonl", encoding="utf-8") as f:
            first = json.loads(f.readline() or "{}")
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and str(first.get("source", "")).startswith("synth/")


def _count_lines(path: Path) -> int | None:
    """Non-empty lines of ``path``; None when there is no such file."""
    try:
        with open(path, encoding="utf-8") as f:
            return sum(1 for line in f if line.strip())
    except (OSError, UnicodeDecodeError):
        return None
