"""Image safety (visionr1.data.images): what the model's image processor refuses is refused at the data checks."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from visionr1.data import Record, read_records, write_jsonl
from visionr1.data.images import MAX_ASPECT_RATIO, check_model_image, open_image
from visionr1.errors import DataError, ImageError

# around the limit both ways, tiny sides (scaled up, never refused), and the 1x2000
SIZES = [(1, 1), (1, 2), (3, 3), (27, 27), (1, 199), (1, 200), (1, 201), (2, 400), (2, 401), (10, 2001), (2000, 1),
         (5000, 24), (5000, 26), (28, 5600), (28, 5601)]


def _png(size) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format="PNG")
    return buf.getvalue()


def test_the_check_refuses_exactly_what_the_qwen25vl_processor_refuses(tiny_model_dir):
    """Issue 33 item 3: a 1x2000 image passed every check, then SFT died at step 2 inside the processor. Tested
    against the installed transformers, so a release that changes its rules fails here, not in a user's run."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(str(tiny_model_dir)).image_processor
    for w, h in SIZES:
        try:
            processor(images=[Image.new("RGB", (w, h))], return_tensors="pt")
            refused = False
        except ValueError:
            refused = True
        try:
            check_model_image(w, h, "x")
            ours = False
        except ImageError:
            ours = True
        assert ours == refused, (w, h, refused)
    assert any(max(s) / min(s) > MAX_ASPECT_RATIO for s in SIZES)


def test_open_image_names_the_item_and_the_shape_and_hashing_can_look_anyway():
    with pytest.raises(ImageError, match=r"item-1: image image bytes is 1x2000, an aspect ratio of 2000:1"):
        open_image(_png((1, 2000)), "item-1")
    assert open_image(_png((1, 2000)), "item-1", model_rules=False).size == (1, 2000)


def test_every_reader_refuses_it_per_item_and_keeps_the_rest(tmp_path):
    """JSONL records (bridge, grpo, eval records) and chat files (sft) report the item by id; the rest load."""
    from visionr1.train.config import SFTDataSettings
    from visionr1.train.data import build_sft_dataset

    (tmp_path / "images").mkdir()
    (tmp_path / "images/ok.png").write_bytes(_png((64, 48)))
    (tmp_path / "images/thin.png").write_bytes(_png((2000, 1)))
    write_jsonl(tmp_path / "train.jsonl", [
        Record(id="ok", images=["images/ok.png"], question="q?", answer="1"),
        Record(id="thin", images=["images/thin.png"], question="q?", answer="1")])
    res = read_records(tmp_path / "train.jsonl")
    assert [r.id for r in res.records] == ["ok"]
    assert [e.item for e in res.errors] == ["thin"] and "aspect ratio of 2000:1" in str(res.errors[0])
    chat = [{"id": i, "images": [f"images/{i}.png"], "messages": [{"role": "user", "content": "<image>q?"},
                                                                 {"role": "assistant", "content": "<answer>1</answer>"}]}
            for i in ("ok", "thin")]
    (tmp_path / "cold.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chat))
    with pytest.raises(DataError, match=r"(?s)1 bad item.*thin.*aspect ratio of 2000:1"):
        build_sft_dataset(SFTDataSettings(path=str(tmp_path / "cold.jsonl")))
    assert len(build_sft_dataset(SFTDataSettings(path=str(tmp_path / "cold.jsonl"), skip_bad=True))) == 1


def test_eval_with_a_model_fails_that_item_only(tiny_model_dir):
    """``eval --model`` met the same traceback: the transformers backend now fails the item with the reason."""
    from visionr1.eval.backends import GenRequest, SamplingConfig, TransformersBackend

    backend = TransformersBackend(tiny_model_dir, SamplingConfig(temperature=0, max_tokens=2), batch_size=2)
    got = {}
    backend.generate([GenRequest("ok", "q?", [_png((64, 48))]), GenRequest("thin", "q?", [_png((1, 2000))])],
                     lambda rid, result, error: got.update({rid: (result, error)}))
    assert got["ok"][0] is not None and got["ok"][1] is None
    assert got["thin"][0] is None and "aspect ratio of 2000:1" in got["thin"][1]
