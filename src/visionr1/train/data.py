"""Training data sets: files on disk → the HF ``datasets`` rows TRL's trainers read.

SFT rows are ``{"id", "messages", "images"}`` (conversational, structured content with ``{"type": "image"}``
blocks where the images go); GRPO rows are ``{"id", "prompt", "images", "answer", "choices"}`` with the
prompt rendered by :func:`visionr1.r1.render_user_prompt`. Images are stored as absolute
paths in an ``Image`` feature, so they are decoded lazily, one batch at a time, never all in memory.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from visionr1.data.images import resolve_image_path
from visionr1.data.io import IMAGE_TOKEN, image_root_of, read_sharegpt
from visionr1.errors import DataError
from visionr1.r1 import count_prompt_forms, render_user_prompt
from visionr1.train.config import GRPODataSettings, SFTDataSettings

logger = logging.getLogger(__name__)


def _features(kind: str):
    from datasets import Features, Image, List, Value

    text_part = {"type": Value("string"), "text": Value("string")}
    if kind == "sft":
        return Features({
            "id": Value("string"),
            "messages": List({"role": Value("string"), "content": List(text_part)}),
            "images": List(Image()),
        })
    return Features({
        "id": Value("string"),
        "prompt": List({"role": Value("string"), "content": Value("string")}),
        "images": List(Image()),
        "answer": Value("string"),
        "choices": List(Value("string")),
    })


def _blocks(text: str) -> list[dict[str, Any]]:
    """Text with ``<image>`` placeholders -> TRL content blocks (an image block per placeholder, in place)."""
    parts: list[dict[str, Any]] = []
    for i, chunk in enumerate(text.split(IMAGE_TOKEN)):
        if i:
            parts.append({"type": "image", "text": None})
        if chunk:
            parts.append({"type": "text", "text": chunk})
    return parts


def _sft_examples(path: Path, image_root: str | None = None) -> tuple[list[dict[str, Any]], list[DataError]]:
    """TRL rows from a chat file (cold.jsonl's ``messages`` with blocks, or ShareGPT), read by
    :func:`visionr1.data.read_sharegpt` (the one parser of these formats); every image is opened."""
    convs, errors = read_sharegpt(path, check_images=True, require_assistant=True, image_root=image_root)
    root = image_root_of(path, image_root)
    out = []
    for c in convs:
        out.append({"id": c.id, "messages": [{"role": m["role"], "content": _blocks(m["content"])} for m in c.messages],
                    "images": [str(resolve_image_path(root, p, c.id)) for p in c.images]})
    return out, errors


def _first_row(path: Path) -> dict[str, Any]:
    """The first JSON object of a JSONL file (or the first item of a JSON list); ``{}`` when there is none."""
    try:
        with open(path, encoding="utf-8") as f:
            if path.suffix.lower() == ".jsonl":
                row = json.loads(next((line for line in f if line.strip()), "{}"))
            else:
                row = json.load(f)
                row = row[0] if isinstance(row, list) and row else row
    except (OSError, ValueError, StopIteration):
        return {}
    return row if isinstance(row, dict) else {}


def _check_kind(path: Path, kind: str) -> None:
    """Name data of the other stage's kind in one line (instead of the same complaint for every item): SFT
    trains on conversations (the bridge's cold.jsonl), GRPO on records (question, answer, images)."""
    row = _first_row(path)
    conversation = "messages" in row or "conversations" in row
    record = {"question", "answer"} <= set(row) and not conversation
    if kind == "sft" and record:
        raise DataError(str(path), "holds records (question, answer, images), not SFT conversations: cold-start SFT "
                                   "trains on the CoTs `visionr1 bridge --input <records> --out <dir>` writes to "
                                   "<dir>/cold.jsonl (GRPO is the stage that trains on records)")
    if kind == "grpo" and conversation and path.suffix.lower() == ".jsonl":
        raise DataError(str(path), "holds SFT conversations (messages), not RL records: GRPO trains on records "
                                   "(question, answer, images) such as `visionr1 synth` output, e.g. the records the "
                                   "bridge made these CoTs from")


def _raise_if(errors: list[DataError], n_ok: int, path: Path, skip_bad: bool = False) -> None:
    """Refuse a file with bad items, naming them all (the first 10 in the message); with ``skip_bad`` log them
    and go on with the good ones. A file with no good item is refused either way."""
    head = "\n  ".join(str(e) for e in errors[:10]) + (f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else "")
    if errors and not n_ok:  # --skip-bad cannot help: say so, not "pass --skip-bad"
        raise DataError(str(path), f"all {len(errors)} item(s) are bad, so there is nothing to train on (with "
                                   f"--skip-bad or without); fix them:\n  {head}")
    if errors and not skip_bad:
        raise DataError(str(path), f"{len(errors)} bad item(s) ({n_ok} good); fix or drop them, or pass --skip-bad "
                                   f"(data.skip_bad=true) to train on the good ones:\n  {head}")
    if n_ok == 0:
        raise DataError(str(path), "no usable examples")
    if errors:
        logger.warning("%s: skipping %d bad item(s) of %d (data.skip_bad):\n  %s", path, len(errors),
                       len(errors) + n_ok, head)


def build_sft_dataset(data: SFTDataSettings):
    """cold.jsonl / ShareGPT → a ``datasets.Dataset`` of ``messages`` + ``images`` for ``SFTTrainer``.

    Every bad example is reported at once (id and reason) before any training starts; the file is refused
    unless ``data.skip_bad``, which trains on the good ones and logs the bad ones.
    """
    from datasets import Dataset

    path = Path(data.path)
    if not path.is_file():
        raise DataError(str(path), "SFT data file not found (expected cold.jsonl or a ShareGPT .json)")
    _check_kind(path, "sft")
    rows, errors = _sft_examples(path, data.image_root)
    _raise_if(errors, len(rows), path, data.skip_bad)
    if data.max_samples:
        rows = rows[: data.max_samples]
    return Dataset.from_list(rows, features=_features("sft"))


def sft_prompt_forms(path: Path | str) -> dict[str, int]:
    """How many SFT examples' user turns are in each prompt form (:func:`visionr1.r1.detect_prompt_form`),
    most frequent first. Read by :func:`visionr1.data.read_sharegpt` (the one reader of chat files) without
    opening an image, so a 200K-example file takes seconds; a file or example it cannot read counts for nothing
    here (:func:`build_sft_dataset` reports it)."""
    try:
        convs, _ = read_sharegpt(Path(path), check_images=False)
    except DataError:
        return {}
    users = (next((m["content"] for m in c.messages if m["role"] == "user"), "") for c in convs)
    return count_prompt_forms(text.replace(IMAGE_TOKEN, "").strip() for text in users)


def grpo_prompt(question: str, choices: list[str] | None, data: GRPODataSettings) -> list[dict[str, str]]:
    """The conversational prompt for one record (TRL puts the image blocks before the user text)."""
    msgs = []
    if data.system_prompt:
        msgs.append({"role": "system", "content": data.system_prompt})
    msgs.append({"role": "user", "content": render_user_prompt(question, choices, data.user_template)})
    return msgs


def build_grpo_dataset(data: GRPODataSettings):
    """Records → a ``datasets.Dataset`` with ``prompt``, ``images``, ``answer``, ``choices`` for ``GRPOTrainer``.

    ``answer`` stays the gold text (for multiple choice, the choice text); the reward maps a letter
    answer through ``choices``.
    """
    from datasets import Dataset

    from visionr1.data import read_records

    if Path(data.path).is_file():
        _check_kind(Path(data.path), "grpo")
    result = read_records(Path(data.path), image_root=data.image_root)
    _raise_if(result.errors, len(result.records), Path(data.path), data.skip_bad)
    records = result.records[: data.max_samples] if data.max_samples else result.records
    rows = []
    for r in records:
        rows.append({
            "id": r.id,
            "prompt": grpo_prompt(r.question, r.choices, data),
            "images": [str(p) for p in result.image_paths(r)],
            "answer": r.answer,
            "choices": r.choices,
        })
    return Dataset.from_list(rows, features=_features("grpo"))


def token_lengths(dataset, processor, column: str, *, generation_prompt: bool = False) -> list[tuple[str, int]]:
    """``(id, tokens)`` per row, counted as the model will see the row, without running the image processor.

    The chat template's text of ``row[column]`` (with TRL's image placeholders, ``prepare_multimodal_messages``)
    is tokenized; each image's placeholder then counts as the tokens that image becomes under the processor's
    pixel budget, computed from its size alone (the processor's ``_get_num_multimodal_tokens``, what vLLM uses).
    ``generation_prompt``: GRPO prompts end with the assistant turn's opening.
    """
    from datasets import Image, List
    from trl.data_utils import prepare_multimodal_messages

    tokenizer = getattr(processor, "tokenizer", processor)
    if "images" in dataset.features:  # sizes come from the files' headers; decoding 200K images would take minutes
        dataset = dataset.cast_column("images", List(Image(decode=False)))
    out = []
    for row in dataset:
        images = row.get("images") or []
        messages = prepare_multimodal_messages(row[column], images=images)
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
        n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        if images:
            sizes = [_image_size(im) for im in images]
            n += sum(processor._get_num_multimodal_tokens(image_sizes=sizes).num_image_tokens) - len(images)
        out.append((row["id"], n))
    return out


def _image_size(image: Any) -> tuple[int, int]:
    """``(height, width)`` of a PIL image or an undecoded ``datasets.Image`` value (``path``/``bytes``)."""
    if isinstance(image, dict):
        import io

        from PIL import Image

        with Image.open(io.BytesIO(image["bytes"]) if image.get("bytes") else image["path"]) as f:  # header only
            # decoding applies the EXIF orientation (datasets does), which swaps the sides for 5..8
            turned = f.getexif().get(Image.ExifTags.Base.Orientation) in (5, 6, 7, 8)
            return (f.width, f.height) if turned else (f.height, f.width)
    return image.height, image.width


def length_summary(lengths: list[tuple[str, int]], limit: int | None) -> dict[str, Any]:
    """Max/median/p95 of ``lengths`` and the rows over ``limit`` (count and the first few ids)."""
    values = sorted(n for _, n in lengths)
    if not values:
        return {"max": 0, "p50": 0, "p95": 0}
    summary: dict[str, Any] = {"max": values[-1], "p50": values[len(values) // 2],
                               "p95": values[min(len(values) - 1, int(0.95 * len(values)))]}
    if limit is not None:
        over = [i for i, n in lengths if n > limit]
        summary.update(over_limit=len(over), over_limit_ids=over[:5], limit=limit)
    return summary
