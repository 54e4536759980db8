"""Benchmark tables as users have them on disk: the readers behind ``visionr1 eval --data`` (one per layout).

Layouts read by :func:`read_table`:

* a Hugging Face dataset saved locally: a folder of ``*.parquet`` files (``data/testmini-00000-of-00001.parquet``,
  as ``huggingface-cli download`` leaves them) or a ``save_to_disk`` folder (``dataset_info.json`` /
  ``state.json``, or a ``DatasetDict`` with ``dataset_dict.json``); a split is picked by name;
* a single ``.parquet`` file;
* VLMEvalKit's ``.tsv`` (one row per item, ``image`` holding base64, or the ``index`` of another
  row whose image it shares);
* ``.json`` (a list, or a dict of id → record) and ``.jsonl``, with image paths relative to the file, its
  ``images/`` or its repository (:func:`image_root`); a benchmark repository's root (the file in its ``data/`` or
  ``dataset/`` folder: :data:`RELEASE_FOLDERS`).

Also the cell readers benchmark modules share (:func:`image_bytes`, :func:`first_image`, :func:`as_list`,
:func:`as_dict`, :func:`clean_str`, :func:`optional_int`). They live in ``data/`` beside the readers of our own
formats (:mod:`visionr1.data.io`); a benchmark module (``visionr1/eval/benchmarks/``) turns rows into items
and owns everything benchmark-specific.
"""

from __future__ import annotations

import ast
import base64
import binascii
import csv
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from visionr1.data.images import resolve_image_path
from visionr1.data.io import reading
from visionr1.data.splits import check_file_split, parquet_files, pick_split
from visionr1.errors import DataError, ImageError
from visionr1.files import read_jsonl


# ----------------------------------------------------------------------------- tables


def _read_parquet(paths: Iterable[Path]) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for p in paths:
        with reading(p, "Parquet"):
            table = pq.read_table(p)
        for r in table.to_pylist():
            r.setdefault("_source_file", p.name)
            rows.append(r)
    return rows


def _read_saved_dataset(folder: Path, split: str | None) -> list[dict[str, Any]]:
    import datasets

    ds = datasets.load_from_disk(str(folder))
    if isinstance(ds, datasets.DatasetDict):
        names = list(ds.keys())
        if split and split in ds:
            ds = ds[split]
        elif split:
            raise DataError(str(folder), f"holds no split {split!r}; the splits there are {', '.join(names)} "
                                         f"(give one of them as the split, e.g. --split {names[0]})")
        elif len(names) == 1:
            ds = ds[names[0]]
        else:
            raise DataError(str(folder), f"has splits {', '.join(names)}; choose one with --split")
    for name, feature in ds.features.items():
        if isinstance(feature, datasets.Image):
            ds = ds.cast_column(name, datasets.Image(decode=False))
    return ds.to_list()


def _read_tsv(path: Path) -> list[dict[str, Any]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(path, encoding="utf-8", newline="") as f:
        rows = [dict(r) for r in csv.DictReader(f, delimiter="\t")]
    # VLMEvalKit stores an image once; later rows may hold the `index` of the row that has it.
    by_index = {str(r.get("index")): r.get("image") for r in rows}
    for r in rows:
        img = r.get("image")
        if isinstance(img, str) and len(img) < 64 and img in by_index and by_index[img] and len(by_index[img]) >= 64:
            r["image"] = by_index[img]
    return rows


def _read_json(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            if isinstance(value, dict):
                value = dict(value)
                value.setdefault("_key", key)
                out.append(value)
        return out
    if isinstance(data, list):
        return [dict(r) for r in data if isinstance(r, dict)]
    raise DataError(str(path), "JSON must hold a list of records or a dict of id -> record")


RELEASE_FOLDERS = ("data", "dataset")
"""Where a benchmark's own repository keeps its annotation files (MATH-V, We-Math and MathVerse ``data/``,
DynaMath ``dataset/``): a folder given as ``--data`` is searched there when it holds none itself."""
IMAGE_FIELDS = ("image", "image_path", "file_name")
"""Row fields that hold an image's relative path in the JSON releases."""


def image_root(rows: list[dict[str, Any]], folder: Path) -> Path:
    """The folder the image paths of a JSON release are relative to: the file's own folder (DynaMath
    ``dataset/``), its ``images/`` (MathVerse ``data/images/images_version_1-4/…``) or, for a file in its
    repository's ``data/`` folder, the repository root (MATH-V writes ``images/1.jpg`` beside ``data/``). Decided
    by the first row whose image path resolves; the file's folder when none does."""
    candidates = (folder, folder / "images", folder.parent, folder.parent / "images")
    for row in rows[:50]:
        for name in IMAGE_FIELDS:
            rel = row.get(name)
            if isinstance(rel, str) and rel.strip() and len(rel) < 1024 and not Path(rel).is_absolute():
                for root in candidates:
                    if (root / rel.strip()).is_file():
                        return root
    return folder


def read_table(path: Path, split: str | None = None) -> tuple[list[dict[str, Any]], Path, str]:
    """Rows of a benchmark file in any supported layout; returns ``(rows, root, layout)``.

    ``root`` is the folder image paths are relative to; ``layout`` is one of ``parquet``,
    ``hf_saved``, ``tsv``, ``json``.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(str(path), "benchmark data not found (give a parquet folder, .parquet, .tsv, .json or .jsonl)")
    if path.is_dir():
        if any((path / n).exists() for n in ("dataset_info.json", "state.json", "dataset_dict.json")):
            with reading(path, "a Hugging Face dataset saved with save_to_disk"):
                return _read_saved_dataset(path, split), path, "hf_saved"
        files = parquet_files(path, split)
        if files:
            return _read_parquet(files), path, "parquet"
        for folder in (path, *(path / sub for sub in RELEASE_FOLDERS if (path / sub).is_dir())):
            for pattern in ("*.tsv", "*.json", "*.jsonl"):
                found = pick_split(sorted(folder.glob(pattern)), split, folder)
                if found:
                    rows, root, _ = read_table(found[0], split)
                    return rows, root, pattern[2:]
        raise DataError(str(path), "holds no .parquet, .tsv, .json or .jsonl file (nor its data/ or dataset/ folder)")
    suffix = path.suffix.lower()
    check_file_split(path, split)
    if suffix == ".parquet":
        return _read_parquet([path]), path.parent, "parquet"
    if suffix == ".tsv":
        with reading(path, "a tab-separated table (VLMEvalKit .tsv)"):
            return _read_tsv(path), path.parent, "tsv"
    if suffix in (".json", ".jsonl"):
        with reading(path, "JSON" if suffix == ".json" else "JSONL"):
            rows = _read_json(path)
        return rows, image_root(rows, path.parent), "json"
    raise DataError(str(path), f"unsupported file type {suffix!r} (use .parquet, .tsv, .json, .jsonl or a folder)")


# ----------------------------------------------------------------------------- cells


_B64_RE = re.compile(r"^[A-Za-z0-9+/=\s]+$")


def image_bytes(cell: Any, root: Path, item: str) -> list[bytes]:
    """Decode an image cell into encoded image files.

    Accepts ``{"bytes", "path"}`` dicts (HF Image feature), raw bytes, PIL images, a base64 string
    (VLMEvalKit), a string holding a list of base64 strings, or a path relative to ``root``
    (confined to it). ``None`` → no image.
    """
    if cell is None or (isinstance(cell, float) and cell != cell):
        return []
    if isinstance(cell, (list, tuple)):
        return [b for c in cell for b in image_bytes(c, root, item)]
    if isinstance(cell, dict):
        if cell.get("bytes"):
            return [bytes(cell["bytes"])]
        if cell.get("path"):
            return image_bytes(str(cell["path"]), root, item)
        return []
    if isinstance(cell, (bytes, bytearray)):
        return [bytes(cell)]
    if hasattr(cell, "save"):
        import io

        buf = io.BytesIO()
        cell.save(buf, format="PNG")
        return [buf.getvalue()]
    if isinstance(cell, str):
        text = cell.strip()
        if not text:
            return []
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = ast.literal_eval(text)
                if isinstance(parsed, list):
                    return image_bytes(parsed, root, item)
            except (ValueError, SyntaxError):
                pass
        looks_b64 = len(text) >= 64 and bool(_B64_RE.match(text[:4096]))
        if len(text) < 1024:
            try:
                path = resolve_image_path(root, text, item)
                if path.is_file():
                    return [path.read_bytes()]
            except (ImageError, OSError):
                if not looks_b64:
                    raise
            if not looks_b64:
                raise ImageError(item, f"image file not found: {root / text}")
        try:
            return [base64.b64decode(text, validate=False)]
        except (binascii.Error, ValueError):
            raise ImageError(item, "image cell is neither a file under the data root nor valid base64") from None
    raise ImageError(item, f"unsupported image cell of type {type(cell).__name__}")


def first_image(row: Mapping[str, Any], root: Path, item: str, columns: Iterable[str]) -> list[bytes]:
    """The images of the first non-empty column among ``columns`` (e.g. ``decoded_image`` then ``image``)."""
    for col in columns:
        if col in row and row[col] not in (None, "", [], {}):
            found = image_bytes(row[col], root, item)
            if found:
                return found
    return []


def as_list(value: Any) -> list[str] | None:
    """A list cell as a list of strings: real lists, numpy arrays, ``"['a', 'b']"`` strings; empty → ``None``."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, str):
        text = value.strip()
        if not text or text in ("None", "nan", "[]"):
            return None
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return [text]
    if isinstance(value, (list, tuple)):
        out = [str(v) for v in value]
        return out or None
    return [str(value)]


def as_dict(value: Any) -> dict[str, Any]:
    """A struct cell as a dict: real dicts, JSON strings, Python-literal strings; anything else → ``{}``."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str) and value.strip().startswith("{"):
        for parse in (json.loads, ast.literal_eval):
            try:
                out = parse(value)
                if isinstance(out, dict):
                    return out
            except (ValueError, SyntaxError):
                continue
    return {}


def clean_str(value: Any) -> str:
    """A cell as text; ``None``/NaN → ``""``; integral floats as integers (TSV round-trips)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def optional_int(value: Any) -> int | None:
    try:
        if value is None or value == "" or (isinstance(value, float) and value != value):
            return None
        return int(float(value))
    except (TypeError, ValueError):
        return None
