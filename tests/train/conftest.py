"""Small on-disk fixtures for the training tests: a few records with images, a cold-start SFT file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

COLOURS = ["red", "blue", "green", "yellow"]


def write_records(root: Path, n: int = 8) -> Path:
    """``root/train.jsonl`` with ``n`` records (half multiple choice) and their PNGs under ``root/images``."""
    from visionr1.data import Record, write_jsonl

    (root / "images").mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(n):
        img = Image.new("RGB", (112, 112), "white")
        d = ImageDraw.Draw(img)
        for k in range(i % 4 + 1):
            d.ellipse([8 + 24 * k, 40, 28 + 24 * k, 60], fill=COLOURS[i % 4])
        rel = f"images/r{i}.png"
        img.save(root / rel)
        if i % 2:
            records.append(Record(id=f"r{i}", images=[rel], question="Which colour are the circles?",
                                  answer=COLOURS[i % 4], choices=COLOURS, answer_type="text"))
        else:
            records.append(Record(id=f"r{i}", images=[rel], question="How many circles are there?",
                                  answer=str(i % 4 + 1), answer_type="integer"))
    write_jsonl(root / "train.jsonl", records)
    return root / "train.jsonl"


def write_cold(root: Path, n: int = 8) -> Path:
    """A bridge-style ``cold.jsonl`` (structured messages, images relative to the file's folder)."""
    from visionr1.r1 import render_user_prompt

    (root / "img").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        Image.new("RGB", (56 + 28 * (i % 3), 84), COLOURS[i % 4]).save(root / f"img/c{i}.png")
        q = render_user_prompt("What colour is the image?")
        a = f"<think>\nThe picture is {COLOURS[i % 4]}.\n</think>\n<answer>{COLOURS[i % 4]}</answer>"
        lines.append({"id": f"c{i}", "images": [f"img/c{i}.png"], "messages": [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": q}]},
            {"role": "assistant", "content": [{"type": "text", "text": a}]}]})
    path = root / "cold.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def records_path(tmp_path_factory) -> Path:
    return write_records(tmp_path_factory.mktemp("records"))


@pytest.fixture(scope="session")
def cold_path(tmp_path_factory) -> Path:
    return write_cold(tmp_path_factory.mktemp("cold"))


@pytest.fixture(scope="session")
def run_env() -> dict[str, str]:
    """The environment for training commands run in subprocesses: offline, one thread each, unbuffered,
    and the repo's model cache unless one is set."""
    env = dict(os.environ)
    env.setdefault("VISIONR1_CACHE", str(Path(__file__).resolve().parents[2] / ".cache"))
    env.update(TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env
