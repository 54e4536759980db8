"""What every benchmark module shares: the item type, table readers for the layouts users have,
image-cell decoding, and the accuracy/breakdown arithmetic of the official score files.

Layouts read by :func:`read_table`:

* a Hugging Face dataset saved locally: a folder of ``*.parquet`` files (``data/testmini-00000-of-00001.parquet``,
  as ``huggingface-cli download`` leaves them) or a ``save_to_disk`` folder (``dataset_info.json`` /
  ``state.json``, or a ``DatasetDict`` with ``dataset_dict.json``); a split is picked by name;
* a single ``.parquet`` file;
* VLMEvalKit's ``.tsv`` (one row per item, ``image`` holding base64, or the ``index`` of another
  row whose image it shares);
* ``.json`` (a list, or a dict of id → record) and ``.jsonl``, with image paths relative to the file.

A benchmark module turns rows into :class:`EvalItem` and owns everything benchmark-specific.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionr1.data.images import resolve_image_path
from visionr1.data.io import reading
from visionr1.errors import DataError, ImageError
from visionr1.r1 import answer_tags, choice_letter, final_answer, r1_instruction, render_user_prompt

PROMPT_MODES = ("official", "r1", "raw")


@dataclass
class EvalItem:
    """One benchmark question, ready to ask.

    ``id`` is the benchmark's own id (MathVista ``pid``, VLMEvalKit ``index``…), unique in a run;
    ``query`` the official prompt text; ``images`` the raw encoded image files (PNG/JPEG bytes);
    ``gold`` the reference answer; ``row`` every original field, kept for the official result file;
    ``raw`` the bare question with its choices (``--prompt raw``; the query when a loader sets none).
    """

    id: str
    query: str
    images: list[bytes]
    gold: str
    choices: list[str] | None = None
    answer_type: str | None = None
    precision: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None


def apply_prompt_mode(item: EvalItem | str, mode: str, multiple_choice: bool | None = None) -> str:
    """The text sent for ``item`` under ``--prompt``: ``official`` the query as the benchmark builds it; ``r1``
    that query plus the ``r1`` form's think/answer instruction (what our SFT and GRPO taught); ``raw`` the bare
    question and its choices (:attr:`EvalItem.raw`: the paper's form, what the authors' eval sends).

    ``item`` may be a bare query string (``raw`` then sends it as it is).
    """
    query = item if isinstance(item, str) else item.query
    if multiple_choice is None:
        multiple_choice = False if isinstance(item, str) else is_multiple_choice(item)
    if mode == "official":
        return query
    if mode == "r1":
        return f"{query.rstrip()}\n{r1_instruction(multiple_choice)}"
    if mode == "raw":
        raw = query if isinstance(item, str) else (item.raw or item.query)
        return raw.strip()
    raise DataError("--prompt", f"unknown prompt mode {mode!r}; valid: {', '.join(PROMPT_MODES)}")


def raw_question(question: str, choices: list[str] | None = None, *, listed: bool = False) -> str:
    """The ``raw`` form of a benchmark question: the question, then its choices as the ``raw`` user template
    lays them out, unless the question text already lists them (``listed``).

    >>> raw_question("Which is larger?", ["3/11", "8/11"])
    'Which is larger?\\nChoices:\\n(A) 3/11\\n(B) 8/11'
    """
    return render_user_prompt(question, None if listed else choices, "raw")


def is_multiple_choice(item: EvalItem) -> bool:
    qtype = str(item.meta.get("question_type") or "")
    return bool(item.choices) or item.answer_type == "multiple choice" or qtype.startswith("multi")


# ----------------------------------------------------------------------------- tables


def _split_matches(name: str, split: str, exact: bool = False) -> bool:
    stem = name.split(".")[0]
    if stem == split or stem.startswith(f"{split}-"):
        return True
    return not exact and stem.startswith(f"{split}_")


def _parquet_files(folder: Path, split: str | None) -> list[Path]:
    files = sorted(p for p in folder.rglob("*.parquet") if not any(part.startswith(".") for part in p.parts))
    if split:  # exact names first: "testmini" must not pick up "testmini_text_only"
        for match in (lambda p: _split_matches(p.name, split, exact=True) or p.parent.name == split,
                      lambda p: _split_matches(p.name, split)):
            chosen = [p for p in files if match(p)]
            if chosen:
                return chosen
    return files


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
        elif len(names) == 1:
            ds = ds[names[0]]
        else:
            raise DataError(str(folder), f"has splits {names}; choose one with --split")
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
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
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
        files = _parquet_files(path, split)
        if files:
            return _read_parquet(files), path, "parquet"
        for pattern in ("*.tsv", "*.json", "*.jsonl"):
            found = sorted(path.glob(pattern))
            if split:
                found = [p for p in found if _split_matches(p.name, split)] or found
            if found:
                return read_table(found[0], split)[0], path, pattern[2:]
        raise DataError(str(path), "holds no .parquet, .tsv, .json or .jsonl file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet([path]), path.parent, "parquet"
    if suffix == ".tsv":
        with reading(path, "a tab-separated table (VLMEvalKit .tsv)"):
            return _read_tsv(path), path.parent, "tsv"
    if suffix in (".json", ".jsonl"):
        with reading(path, "JSON" if suffix == ".json" else "JSONL"):
            return _read_json(path), path.parent, "json"
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


def unique_ids(items: list[EvalItem], source: str) -> None:
    """Every item has an id of its own; an item without one means the file lacks the benchmark's id column."""
    seen: set[str] = set()
    for i, it in enumerate(items):
        if not str(it.id).strip():
            raise DataError(f"item {i + 1}", "has no id: the file lacks this benchmark's id column (is --data a file "
                                             "of the benchmark given with --benchmark?)", source)
        if it.id in seen:
            raise DataError(it.id, "duplicate item id; each benchmark item needs its own id", source)
        seen.add(it.id)


def choices_block(choices: list[str], style: str = "({letter}) {text}") -> str:
    return "\n".join(style.format(letter=choice_letter(i), text=c) for i, c in enumerate(choices))


NOT_COPIED = ("image", "decoded_image", "_source_file")
"""Input columns left out of the official result rows (image payloads and our own bookkeeping)."""


def row_without_images(row: Mapping[str, Any]) -> dict[str, Any]:
    """The input row as the official result files carry it: every column but :data:`NOT_COPIED`."""
    return {k: v for k, v in row.items() if k not in NOT_COPIED}


def item_result(item: EvalItem, correct: bool, extracted: Any, **extra: Any) -> dict[str, Any]:
    """One ``per_item`` row: id, verdict, extraction, gold, then ``extra`` and the item's metadata."""
    return {"id": item.id, "correct": correct, "extracted": extracted, "gold": item.gold, **extra, **item.meta}


# ----------------------------------------------------------------------------- scoring arithmetic


def acc_entry(correct: int, total: int) -> dict[str, Any]:
    """``{"accuracy": percent (2 decimals), "correct", "total"}`` as the official score files write it."""
    return {"accuracy": round(100.0 * correct / total, 2) if total else 0.0, "correct": correct, "total": total}


def breakdown(rows: Iterable[Mapping[str, Any]], key: str, ok: str = "correct") -> dict[str, dict[str, Any]]:
    """Accuracy per value of ``key`` (list values count for each element), sorted best first."""
    counts: dict[str, list[int]] = {}
    for r in rows:
        value = r.get(key)
        for v in value if isinstance(value, list) else [value]:
            if v is None or v == "":
                continue
            c = counts.setdefault(str(v), [0, 0])
            c[0] += bool(r.get(ok))
            c[1] += 1
    table = {k: acc_entry(c, t) for k, (c, t) in counts.items()}
    return dict(sorted(table.items(), key=lambda kv: (-kv[1]["accuracy"], kv[0])))


def answer_span(response: str) -> str:
    """The part of a response the official rules should see: the ``<answer>`` content (the paper's
    ``Final Answer:`` label dropped) when an R1 completion closed one, else the whole response."""
    if not isinstance(response, str):
        return ""
    tags = answer_tags(response)
    if tags and tags[-1].strip():
        return final_answer(tags[-1]) or tags[-1].strip()  # the paper's "Final Answer: X" → X
    return response


@dataclass
class Scored:
    """What a benchmark's ``score`` returns.

    ``official``: the result file in the benchmark's own format (written as ``result_filename``);
    ``per_item``: one dict per item with at least ``id``, ``correct``, ``extracted`` and
    ``decided`` (the benchmark's rules found an answer the response states, no fallback, no judge);
    ``headline``: metric name → percent, first entry is the number leaderboards quote;
    ``breakdowns``: name → value → ``acc_entry``; ``official_scores``: the official score structure.
    """

    official: Any
    per_item: list[dict[str, Any]]
    headline: dict[str, float]
    breakdowns: dict[str, dict[str, dict[str, Any]]]
    official_scores: dict[str, Any] = field(default_factory=dict)
    judge_calls: int = 0
    judge: dict[str, Any] | None = None
    """The judge's counters when one was used (:meth:`visionr1.eval.judge.Judge.summary`)."""


# ----------------------------------------------------------------------------- optional LLM judge


class LLMExtractor:
    """Answer extraction by an OpenAI-compatible LLM, for the protocols whose official step is GPT.

    A thin adapter over :class:`visionr1.eval.judge.Judge` (few-shot extraction through the
    endpoints client, answers kept in a durable store). ``judge`` is ``{"endpoint", "model",
    "api_key_env", "store", "undecided_only"}``; the :class:`Judge` it opens is kept in
    ``judge["client"]``, so the caller can send what a first scoring pass queued
    (``client.flush()``) and score again with every answer in hand. Returns ``None`` when the
    judge has no answer yet, says there is none, or (with ``undecided_only``) when the rules
    decide the response themselves: the benchmark's rules then decide.
    """

    rule = "judge"

    def __init__(self, judge: dict[str, Any]):
        from visionr1.eval.judge import Judge

        client = judge.get("client")
        if client is None:
            if not judge.get("store"):
                raise DataError("--judge-endpoint", "the judge needs a file to keep its answers in (judge['store'])")
            client = Judge(judge.get("endpoint"), judge.get("model"), store_path=judge["store"],
                           api_key_env=judge.get("api_key_env") or "OPENAI_API_KEY")
            judge["client"] = client
        self._judge = client
        self.undecided_only = bool(judge.get("undecided_only"))

    @property
    def calls(self) -> int:
        return self._judge.calls

    def __call__(self, response: str, item: EvalItem) -> str | None:
        from visionr1.eval.judge import NO_ANSWER, build_prompt
        from visionr1.grading import extract_answer

        if not response or not response.strip():
            return None
        if self.undecided_only and extract_answer(response, choices=item.choices).decided:
            return None
        record = {"response": response, "query": item.query, "question": item.query, "choices": item.choices,
                  "answer_type": item.answer_type or "text", "precision": item.precision,
                  "question_type": "multi_choice" if item.choices else "free_form"}
        out = self._judge.answer(item.id, build_prompt(response, record))
        if not isinstance(out, str) or out.strip().upper() in NO_ANSWER:
            return None
        return out.strip()


def make_extractor(judge: dict[str, Any] | None) -> LLMExtractor | None:
    """An :class:`LLMExtractor` when a judge endpoint is configured, else ``None`` (judge-free)."""
    if not judge or not judge.get("endpoint"):
        return None
    return LLMExtractor(judge)
