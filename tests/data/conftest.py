"""Fixtures in outside layouts that the data readers take in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _save_hf_dataset(result, path: Path) -> Path:
    """Save ``result``'s records as a Hugging Face dataset (``save_to_disk``) with our columns and an
    ``images`` column of ``Sequence(Image)`` holding the pictures' bytes: the layout a user's own HF data set has."""
    import datasets

    feats = datasets.Features({
        "id": datasets.Value("string"), "images": datasets.Sequence(datasets.Image()),
        "question": datasets.Value("string"), "answer": datasets.Value("string"),
        "choices": datasets.Sequence(datasets.Value("string")), "answer_type": datasets.Value("string"),
        "source": datasets.Value("string"), "metadata": datasets.Value("string"),
    })
    rows = {k: [] for k in feats}
    for r in result.records:
        d = r.to_dict()
        d["images"] = [{"bytes": p.read_bytes(), "path": None} for p in result.image_paths(r)]
        d["metadata"] = json.dumps(r.metadata, ensure_ascii=False)
        for k in feats:
            rows[k].append(d[k])
    datasets.Dataset.from_dict(rows, features=feats).save_to_disk(str(path))
    return path


@pytest.fixture
def save_hf_dataset():
    """``save_hf_dataset(load_result, path)``: the records saved as a Hugging Face dataset folder at ``path``."""
    return _save_hf_dataset
