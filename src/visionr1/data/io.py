"""Readers and writers for every layout the stages exchange or users already have.

Native layout (what ``visionr1 synth`` writes and every later stage reads)::

    DIR/train.jsonl      one Record per line (see visionr1.data.record)
    DIR/images/...       image files; JSONL paths are relative to DIR

Also read: our Parquet form (images embedded as bytes), Hugging Face ``datasets`` saved with
``save_to_disk``, LLaMA-Factory ShareGPT JSON (``conversations`` + ``image`` with ``from``/``value``, and
``conversations`` + ``images`` with ``role``/``content`` as in the Vision-R1-cold files), and the
geometry3k / Vision-R1-rl parquet layout (``images``, ``problem``, ``answer``).

Readers never stop at a bad item: they return a :class:`LoadResult` with the good records and one
:class:`~visionr1.errors.DataError` per bad item (naming it and the reason). ``LoadResult.raise_if_errors``
turns them into one error for callers that want all-or-nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1 import files
from visionr1.data.images import confine_image_path, image_to_png_bytes, open_image, resolve_image_path
from visionr1.data.record import Record
from visionr1.errors import DataError
from visionr1.r1 import letter_index, read_user_prompt, strip_r1_instruction, tagged_answer

IMAGE_TOKEN = "<image>"


@dataclass
class LoadResult:
    """Good records, per-item errors, and the root folder image paths are relative to."""

    records: list[Record]
    errors: list[DataError] = field(default_factory=list)
    root: Path = Path(".")
    images_checked: bool = True
    """False when the reader skipped the image checks (``check_images=False``): the caller must run
    :meth:`check_images` on each record before using its images."""

    def raise_if_errors(self) -> LoadResult:
        if self.errors:
            head = "\n  ".join(str(e) for e in self.errors[:10])
            more = f"\n  ... and {len(self.errors) - 10} more" if len(self.errors) > 10 else ""
            raise DataError(f"{len(self.errors)} item(s)", f"could not be loaded:\n  {head}{more}")
        return self

    _real_root: tuple[Path, Path] | None = field(default=None, init=False, repr=False, compare=False)

    def real_root(self) -> Path:
        """``root`` resolved (symlinks followed), once per root rather than once per image path."""
        if self._real_root is None or self._real_root[0] != self.root:
            self._real_root = (self.root, Path(self.root).resolve())
        return self._real_root[1]

    def image_paths(self, record: Record) -> list[Path]:
        """Absolute, confined paths of a record's images."""
        root = self.real_root()
        return [confine_image_path(root, p, record.id) for p in record.images]

    def check_images(self, record: Record) -> None:
        """Confine and fully decode every image of ``record`` (paths relative to ``root``, resolved once); raises
        :class:`~visionr1.errors.ImageError` naming the record and the reason."""
        _open_images(record, self.real_root())


# ----------------------------------------------------------------------------- unreadable files


@contextmanager
def reading(path: Path | str, what: str) -> Iterator[None]:
    """Turn a file that cannot be read as ``what`` (truncated Parquet, JSON that is not, a folder that is not
    a saved dataset, bytes that are not text) into a :class:`DataError` naming the file, instead of the
    library's traceback. Errors about single items (already DataErrors) pass through.

    >>> with reading("x.parquet", "Parquet"):
    ...     raise ValueError("Parquet magic bytes not found in footer")
    Traceback (most recent call last):
    ...
    visionr1.errors.DataError: x.parquet: cannot be read as Parquet: Parquet magic bytes not found in footer
    """
    try:
        yield
    except DataError:
        raise
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid and json's errors are ValueErrors, Unicode ones too
        text = " ".join(str(e).split())
        raise DataError(str(path), f"cannot be read as {what}: {text[:300]}") from None


# ----------------------------------------------------------------------------- native JSONL


def write_jsonl(path: Path, records: Iterable[Record]) -> None:
    """Write records as JSONL (atomic). Image paths are written as they are: relative to ``path``'s folder."""
    files.write_jsonl(path, [r.to_dict() for r in records])


def read_jsonl(path: Path, *, check_images: bool = True, limit: int | None = None,
               image_root: Path | str | None = None) -> LoadResult:
    """Read native JSONL; image paths resolve against the file's folder (or ``image_root``) and must stay inside it.

    ``limit``: stop reading once that many good records are in (bad items met before then are still
    reported; lines after it are not read).
    """
    path = Path(path)
    out = LoadResult(records=[], root=image_root_of(path, image_root), images_checked=check_images)
    if limit is not None and limit <= 0:
        return out
    for item in iter_jsonl(path):
        if isinstance(item, DataError):
            out.errors.append(item)
            continue
        if check_images:
            try:
                out.check_images(item)
            except DataError as e:
                out.errors.append(e)
                continue
        out.records.append(item)
        if limit is not None and len(out.records) >= limit:
            break
    return out


def image_root_of(data_file: Path | str, image_root: Path | str | None = None) -> Path:
    """The folder a data file's image paths are relative to and must stay inside: ``image_root`` when given (the
    ``data.image_root`` setting, for images kept apart from the data file, as LLaMA-Factory's ``media_dir``; ``/``
    accepts any absolute path), else the file's own folder. Absolute paths inside it are accepted either way."""
    return Path(image_root) if image_root else Path(data_file).parent


def iter_jsonl(path: Path) -> Iterator[Record | DataError]:
    """The records of a native JSONL file, in line order, each parsed and checked but its images not
    opened, and one :class:`DataError` in place of each bad line (invalid JSON, bad fields, duplicate id).

    Lazy: a caller that stops early reads no further line. A record whose images later turn out bad
    still counts for the duplicate-id check (as in :func:`read_jsonl`)."""
    path = Path(path)
    seen: set[str] = set()
    with reading(path, "JSONL text"), open(path, encoding="utf-8") as f:
        for lineno, d in files.jsonl_values(f, str(path)):
            where = f"line {lineno}"
            try:
                if isinstance(d, DataError):
                    raise d
                if not isinstance(d, dict):
                    raise DataError(where, "a JSONL line must be a JSON object", str(path))
                rec = Record.from_dict(d, where=f"{path}:{lineno}")
                if rec.id in seen:
                    raise DataError(rec.id, f"duplicate id ({where})", str(path))
                seen.add(rec.id)
            except DataError as e:
                yield e
            else:
                yield rec


def _open_images(rec: Record, real_root: Path) -> None:
    for p in rec.images:
        open_image(confine_image_path(real_root, p, rec.id), rec.id)


# ----------------------------------------------------------------------------- image materialisation


def _materialise(blob: bytes, item: str, image_dir: Path, root: Path, hint: str | None = None) -> str:
    """Decode-check image bytes and store them as PNG under ``image_dir``; returns the path relative to root."""
    img = open_image(blob, item)
    digest = hashlib.sha1(blob).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(hint).stem if hint else item)[:60]
    target = image_dir / f"{stem}-{digest}.png"
    if not target.exists():  # a cache of decoded pictures: no fsync per picture
        files.write_bytes(target, image_to_png_bytes(img), sync=False)
    return os.path.relpath(target, root)


def _image_blobs(value: Any) -> list[tuple[bytes | None, str | None]]:
    """Normalise an image column cell (bytes, path, {'bytes','path'} dict, or a list of those)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and not isinstance(value, (bytes, str))):
        items = list(value.tolist() if hasattr(value, "tolist") else value)
    else:
        items = [value]
    out: list[tuple[bytes | None, str | None]] = []
    for v in items:
        if isinstance(v, dict):
            out.append((v.get("bytes"), v.get("path")))
        elif isinstance(v, (bytes, bytearray)):
            out.append((bytes(v), None))
        elif isinstance(v, str):
            out.append((None, v))
        elif hasattr(v, "save"):  # a PIL image (HF datasets Image feature, decoded)
            out.append((image_to_png_bytes(v), getattr(v, "filename", None) or None))
        else:
            raise TypeError(f"unsupported image cell of type {type(v).__name__}")
    return out


def _resolve_cells(value: Any, item: str, root: Path, image_dir: Path) -> list[str]:
    paths = []
    for blob, p in _image_blobs(value):
        if blob is not None:
            paths.append(_materialise(blob, item, image_dir, root, p))
        elif p is not None:
            resolve_image_path(root, p, item)
            paths.append(p)
    return paths


# ----------------------------------------------------------------------------- Parquet


def write_parquet(path: Path, result: LoadResult | Iterable[Record], root: Path | None = None) -> None:
    """Write records to Parquet with images embedded (``images`` = list of {bytes, path}), self-contained."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(result, LoadResult):
        records, root = result.records, result.root
    else:
        records = list(result)
    root = Path(root or ".")
    rows = []
    for r in records:
        d = r.to_dict()
        d["images"] = [{"bytes": resolve_image_path(root, p, r.id).read_bytes(), "path": p} for p in r.images]
        d["metadata"] = json.dumps(r.metadata, ensure_ascii=False)
        rows.append(d)
    with files.replacing_file(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)


def read_parquet(path: Path, *, image_dir: Path | None = None, root: Path | None = None) -> LoadResult:
    """Read Parquet in our layout or the geometry3k / Vision-R1-rl layout (``images``, ``problem``, ``answer``).

    Embedded images are decoded, checked and stored as PNG under ``image_dir`` (default: a folder
    ``<file stem>.images`` beside the file); the returned records point at those files, relative to ``root`` (the
    file's folder unless given: a hub folder of several files is one root).
    """
    import pyarrow.parquet as pq

    path = Path(path)
    root = Path(root) if root is not None else path.parent
    image_dir = Path(image_dir) if image_dir else path.parent / f"{path.stem}.images"
    with reading(path, "Parquet"):
        table = pq.read_table(path)
    check_record_columns(table.column_names, str(path))
    rows = table.to_pylist()
    out = LoadResult(records=[], root=root)
    for i, row in enumerate(rows):
        try:
            out.records.append(_row_to_record(row, i, path, root, image_dir))
        except DataError as e:
            out.errors.append(e)
        except (TypeError, ValueError) as e:
            out.errors.append(DataError(str(row.get("id", f"row {i}")), str(e), str(path)))
    return out


RECORD_COLUMNS = {"ours": ("id", "question", "answer"), "geometry3k": ("problem", "answer")}
"""The columns a table of records needs, per layout: ours (``id``, ``question``, ``answer``; ``images``,
``choices``, ... optional) and the geometry3k / Vision-R1-rl layout (``problem``, ``answer``; ``images``)."""


def check_record_columns(columns: Iterable[str], where: str) -> None:
    """Refuse a table that lacks a column its layout needs, once, naming the file, the missing columns and the
    columns it has (not one error per row, nor a ``KeyError``)."""
    cols = list(columns)
    layout = "geometry3k" if "problem" in cols and "question" not in cols else "ours"
    missing = [c for c in RECORD_COLUMNS[layout] if c not in cols]
    if missing:
        named = "the geometry3k / Vision-R1-rl layout" if layout == "geometry3k" else "our record layout"
        raise DataError(where, f"has no {', '.join(map(repr, missing))} column (its columns: "
                               f"{', '.join(cols) or 'none'}); as {named} it needs {', '.join(RECORD_COLUMNS[layout])}"
                               + ("" if layout == "geometry3k" else " (or problem and answer, the geometry3k layout)"))


def _row_to_record(row: dict[str, Any], i: int, path: Path, root: Path, image_dir: Path) -> Record:
    if "problem" in row and "question" not in row:  # geometry3k / Vision-R1-rl layout
        item = str(row.get("id", f"{path.stem}-{i}"))
        images = _resolve_cells(row.get("images", row.get("image")), item, root, image_dir)
        question = strip_image_tokens(str(row["problem"]))
        answer = str(row["answer"]).strip()
        return Record(id=item, images=images, question=question, answer=answer,
                      answer_type=infer_answer_type(answer), source=path.stem)
    item = str(row.get("id", f"row {i}"))
    d = dict(row)
    d["images"] = _resolve_cells(row.get("images"), item, root, image_dir)
    meta = d.get("metadata")
    if isinstance(meta, str):
        d["metadata"] = json.loads(meta) if meta else {}
    for k in ("decoded_image", "image"):
        d.pop(k, None)
    return Record.from_dict(d, where=str(path))


def infer_answer_type(answer: str) -> str:
    """``integer`` / ``float`` for plain numbers, ``list`` for bracketed lists, else ``text``."""
    a = answer.strip()
    if re.fullmatch(r"[-+]?\d+", a):
        return "integer"
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?", a):
        return "float"
    if a.startswith("[") and a.endswith("]"):
        return "list"
    return "text"


def strip_image_tokens(text: str) -> str:
    """Remove ``<image>`` placeholders (the chat template inserts images itself)."""
    return re.sub(r"\s*<image>\s*", " ", text).strip()


# ----------------------------------------------------------------------------- Hugging Face datasets


def from_hf_dataset(ds, root: Path, *, image_dir: Path | None = None) -> LoadResult:
    """``datasets.Dataset`` (our columns, or geometry3k's) → records, images materialised under ``image_dir``."""
    import datasets

    root = Path(root)
    image_dir = Path(image_dir) if image_dir else root / "images"
    # Keep images as bytes: decoding happens in open_image, where a bad one becomes a per-item error.
    for name, feat in ds.features.items():
        if isinstance(feat, datasets.Image):
            ds = ds.cast_column(name, datasets.Image(decode=False))
        elif isinstance(feat, (datasets.Sequence, datasets.List)) and isinstance(getattr(feat, "feature", None), datasets.Image):
            ds = ds.cast_column(name, datasets.Sequence(datasets.Image(decode=False)))
    names = list(ds.column_names)
    check_record_columns(names + (["images"] if "decoded_image" in names else []), str(root))
    out = LoadResult(records=[], root=root)
    for i, row in enumerate(ds):
        try:
            if "decoded_image" in row and "images" not in row:
                row = dict(row, images=[row["decoded_image"]])
            out.records.append(_row_to_record(row, i, Path(f"hf-{i}"), root, image_dir))
        except DataError as e:
            out.errors.append(e)
        except (TypeError, ValueError) as e:
            out.errors.append(DataError(str(row.get("id", f"row {i}")), str(e)))
    return out


# ----------------------------------------------------------------------------- ShareGPT (LLaMA-Factory)

SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system", "observation": "tool", "function_call": "assistant"}
"""ShareGPT speaker names (LLaMA-Factory's ``from`` and the OpenAI ``role`` spelling) -> chat roles; the one map,
used by :func:`read_sharegpt`, the one reader of chat files (:mod:`visionr1.train.data` reads through it too)."""


@dataclass
class Conversation:
    """A chat example for SFT: messages (role/content) and the images the ``<image>`` placeholders refer to."""

    id: str
    messages: list[dict[str, str]]
    images: list[str] = field(default_factory=list)

    def to_record(self) -> Record:
        """The (question, answer) view: the first user turn's question, and the answer of the last assistant turn.

        Both are read through :mod:`visionr1.r1`, the home of the R1 form and the user prompt, so an example in
        the paper's form (``<answer> Final Answer:29 </answer>``, as Vision-R1-cold and our bridge write it)
        gives the bare answer ``29``, and a user turn we rendered gives back its question and choices without
        the think/answer instruction (GRPO and eval add it again). A choice letter answer becomes the choice's
        text, as :class:`Record` keeps multiple-choice answers. A reply without a closed ``<answer>`` tag is the
        answer as it is.
        """
        user = next((m["content"] for m in self.messages if m["role"] == "user"), "")
        reply = next((m["content"] for m in reversed(self.messages) if m["role"] == "assistant"), "")
        tagged = tagged_answer(reply)
        answer = tagged.text if tagged and tagged.closed else reply.strip()
        prompt = read_user_prompt(strip_image_tokens(user))
        question, choices = prompt.question, prompt.choices
        if choices is not None:
            i = letter_index(answer, len(choices))
            if i is not None:
                answer = choices[i]
            elif answer not in choices:  # not a question we rendered: keep its text whole
                question, choices = strip_r1_instruction(strip_image_tokens(user)), None
        return Record(id=self.id, images=list(self.images), question=question, answer=answer, choices=choices,
                      answer_type=infer_answer_type(answer), source="sharegpt", metadata={"response": reply})


def read_sharegpt(path: Path, *, check_images: bool = True, require_assistant: bool = False,
                  image_root: Path | str | None = None) -> tuple[list[Conversation], list[DataError]]:
    """Read chat examples: LLaMA-Factory ShareGPT JSON (a list of examples, or JSONL) in either of its two
    spellings (``conversations`` with ``from``/``value``, or ``role``/``content``), and TRL's ``messages`` with
    content blocks (``{"type": "image"}`` / ``{"type": "text", "text": ...}``, what ``bridge`` writes as
    cold.jsonl). The one parser of these formats: ``sft`` reads its data through it too.

    Every message's content comes back as text with one ``<image>`` per image, in place; an example whose turns
    name no image gets its images' placeholders at the start of the first user turn (LLaMA-Factory's rule). A
    bad example (or a JSONL line that is not JSON) is reported by id with its reason; the others are returned.
    ``require_assistant``: an example with no assistant turn is bad (SFT has nothing to learn from it).
    ``image_root``: the folder image paths are relative to (:func:`image_root_of`; default the file's folder).
    """
    path = Path(path)
    what = "ShareGPT JSON (a list of examples, or JSONL)"
    with reading(path, what):
        text = path.read_text(encoding="utf-8")
    if not text.strip():  # e.g. the cold.jsonl of a bridge run that kept nothing
        raise DataError(str(path), "is empty: it holds no examples")
    try:
        items: list[Any] = json.loads(text)
    except json.JSONDecodeError as whole:
        items = [value for _, value in files.jsonl_values(text, str(path))]  # a bad line: its DataError
        if all(isinstance(x, DataError) for x in items):  # not one line of JSON: the file, not an item, is bad
            raise DataError(str(path), f"cannot be read as {what}: {whole}") from None
    if not isinstance(items, list):
        items = [items]
    convs, errors = [], []
    for i, ex in enumerate(items):
        if isinstance(ex, DataError):
            errors.append(ex)
            continue
        item = str(ex.get("id", f"{path.stem}-{i}")) if isinstance(ex, dict) else f"item {i}"
        try:
            convs.append(_parse_chat(ex, item, image_root_of(path, image_root), check_images, require_assistant))
        except DataError as e:
            errors.append(DataError(e.item, e.reason, str(path)))
    return convs, errors


def _content_text(content: Any, item: str) -> str:
    """A turn's content as text with ``<image>`` placeholders: a string as it is, content blocks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if not isinstance(block, dict) or block.get("type") not in ("text", "image"):
                raise DataError(item, f"content blocks must be {{'type': 'text'|'image'}}, got {block!r:.80}")
            if block["type"] == "image":
                parts.append(IMAGE_TOKEN)
            elif isinstance(block.get("text"), str):
                parts.append(block["text"])
            else:
                raise DataError(item, f"a text block holds no text: {block!r:.80}")
        return "".join(parts)
    raise DataError(item, f"turn content must be text or a list of content blocks, got {type(content).__name__}")


def _parse_chat(ex: Any, item: str, root: Path, check_images: bool, require_assistant: bool = False) -> Conversation:
    if not isinstance(ex, dict):
        raise DataError(item, "each example must be a JSON object")
    turns = ex.get("conversations", ex.get("messages"))
    if not isinstance(turns, list) or not turns:
        raise DataError(item, "no 'conversations' (or 'messages') list")
    messages = []
    for t in turns:
        if not isinstance(t, dict):
            raise DataError(item, "a conversation turn must be an object")
        role = t.get("role", t.get("from"))
        if role not in SHAREGPT_ROLES:
            raise DataError(item, f"unknown role {role!r:.40}")
        messages.append({"role": SHAREGPT_ROLES[role], "content": _content_text(t.get("content", t.get("value")), item)})
    if require_assistant and not any(m["role"] == "assistant" for m in messages):
        raise DataError(item, "no assistant turn to learn from")
    if ex.get("system"):
        messages.insert(0, {"role": "system", "content": str(ex["system"])})
    imgs = ex.get("images", ex.get("image")) or []
    imgs = [imgs] if isinstance(imgs, str) else [str(p) for p in imgs]
    n_tokens = sum(m["content"].count(IMAGE_TOKEN) for m in messages)
    if imgs and n_tokens == 0:  # no placeholders: the images go before the first user text (LLaMA-Factory)
        user = next((m for m in messages if m["role"] == "user"), None)
        if user is None:
            raise DataError(item, f"{len(imgs)} image(s) but no user turn to put them in")
        user["content"] = IMAGE_TOKEN * len(imgs) + user["content"]
    elif n_tokens != len(imgs):
        raise DataError(item, f"{n_tokens} <image> placeholder(s) for {len(imgs)} image(s)")
    for p in imgs:
        full = resolve_image_path(root, p, item)
        if check_images:
            open_image(full, item)
    return Conversation(id=item, messages=messages, images=imgs)


def write_sharegpt(path: Path, conversations: Iterable[Conversation]) -> None:
    """Write the ``conversations`` + ``images`` (role/content) spelling, as LLaMA-Factory and Vision-R1-cold use."""
    items = []
    for c in conversations:
        msgs = [dict(m) for m in c.messages]
        user = next((m for m in msgs if m["role"] == "user"), None)
        if user is not None and c.images and IMAGE_TOKEN not in user["content"]:
            user["content"] = IMAGE_TOKEN * len(c.images) + user["content"]
        items.append({"id": c.id, "conversations": msgs, "images": list(c.images)})
    files.write_json(path, items, end="")


# ----------------------------------------------------------------------------- dispatch


def read_records(path: Path, *, check_images: bool = True, image_dir: Path | None = None,
                 limit: int | None = None, image_root: Path | str | None = None) -> LoadResult:
    """Read (question, answer) records from any supported layout, chosen by what ``path`` is.

    ``*.jsonl`` native JSONL; ``*.parquet`` ours or geometry3k's; ``*.json`` ShareGPT; a folder holding
    ``dataset_info.json`` a saved HF dataset; a folder holding ``train.jsonl`` its train split; a folder of parquet
    files (a hub download, ``data/train-*.parquet``) its train split (:func:`hub_parquet_files`).

    ``limit``: only the first N good records (native JSONL stops reading there; other layouts are read
    whole and cut). ``check_images=False`` skips opening the images of native JSONL and ShareGPT
    (``LoadResult.images_checked`` says so); the other layouts always check them. ``image_root``: the folder the
    image paths of JSONL and ShareGPT files are relative to (:func:`image_root_of`).
    """
    res = _read_records(Path(path), check_images, image_dir, limit, image_root)
    if limit is not None and len(res.records) > limit:
        res.records = res.records[:limit]
    return res


def _saved_hf_dataset(path: Path) -> bool:
    return path.is_dir() and ((path / "dataset_info.json").exists() or (path / "state.json").exists())


TRAIN_SPLIT = "train"


def hub_parquet_files(folder: Path) -> list[Path]:
    """The parquet files of the train split of a data set downloaded from the Hugging Face hub (``data/train-00000-of-
    00002.parquet``, ...), picked by split as ``eval --data`` picks its split (:mod:`visionr1.data.splits`): a
    folder without a train split but with others is an error naming them; one table not named for a split is read."""
    from visionr1.data.splits import parquet_files

    return parquet_files(Path(folder), TRAIN_SPLIT)


def _read_parquet_files(files: list[Path], root: Path, image_dir: Path | None) -> LoadResult:
    out = LoadResult(records=[], root=root)
    for f in files:
        part = read_parquet(f, image_dir=image_dir, root=root)
        out.records.extend(part.records)
        out.errors.extend(part.errors)
    seen: set[str] = set()
    for r in out.records:  # one id per item across the shards
        if r.id in seen:
            raise DataError(r.id, "duplicate id across the parquet files", str(root))
        seen.add(r.id)
    return out


def native_jsonl(path: Path) -> Path | None:
    """The native JSONL file that :func:`read_records` would read for ``path``, else None."""
    path = Path(path)
    if path.is_dir():
        return path / "train.jsonl" if not _saved_hf_dataset(path) and (path / "train.jsonl").exists() else None
    return path if path.suffix.lower() == ".jsonl" and path.exists() else None


def _read_records(path: Path, check_images: bool, image_dir: Path | None, limit: int | None,
                  image_root: Path | str | None = None) -> LoadResult:
    jsonl = native_jsonl(path)
    if jsonl is not None:
        return read_jsonl(jsonl, check_images=check_images, limit=limit, image_root=image_root)
    if _saved_hf_dataset(path):
        import datasets

        with reading(path, "a Hugging Face dataset saved with save_to_disk"):
            ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            raise DataError(str(path), f"is a DatasetDict (splits {', '.join(ds)}); give the folder of one split")
        return from_hf_dataset(ds, path, image_dir=image_dir)
    if path.is_dir():
        files = hub_parquet_files(path)
        if not files:
            raise DataError(str(path), "folder holds neither a saved HF dataset, train.jsonl nor parquet files")
        return _read_parquet_files(files, path, image_dir)
    if not path.exists():
        raise DataError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return read_parquet(path, image_dir=image_dir)
    if suffix == ".json":
        convs, errors = read_sharegpt(path, check_images=check_images, image_root=image_root)
        res = LoadResult(records=[], errors=errors, root=image_root_of(path, image_root), images_checked=check_images)
        for c in convs:
            try:
                res.records.append(c.to_record())
            except DataError as e:
                res.errors.append(e)
        return res
    raise DataError(str(path), f"unknown data format {suffix!r}; expected .jsonl, .parquet, .json (ShareGPT) or a folder")
