"""The pixel store: handles in place of repeated pixels, equal to the stock processor's output bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from visionr1.models.pixel_store import (
    DedupImageProcessor,
    PixelStore,
    handle_image_ids,
    image_content,
    is_handle,
    make_handles,
)


@pytest.fixture(scope="module")
def processor(tiny_model_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_model_dir)


class Counting:
    """An image processor stand-in that counts the images it is asked to process."""

    def __init__(self, inner):
        self.inner, self.seen = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, images, **kwargs):
        from transformers.image_utils import make_flat_list_of_images

        self.seen += len(make_flat_list_of_images(images))
        return self.inner(images, **kwargs)


def _resolve(store, out):
    ids = handle_image_ids(out["pixel_values"], out["image_grid_thw"])
    return store.pixels(ids, "cpu")


def test_handles_stand_for_the_stock_pixels_bit_for_bit(processor, noise_image):
    # G=4 copies of two images, each copy a fresh object (a dataset decodes one per row), plus a third size
    images = [[noise_image(1)] for _ in range(4)] + [[noise_image(2, (84, 112)), noise_image(3, (56, 56))] for _ in range(4)]
    stock = processor.image_processor(images, return_tensors="pt")
    counting = Counting(processor.image_processor)
    store = PixelStore()
    ours = DedupImageProcessor(counting, store)(images, return_tensors="pt")

    assert counting.seen == 3  # each distinct image processed once
    assert is_handle(ours["pixel_values"]) and ours["pixel_values"].shape[0] == stock["pixel_values"].shape[0]
    assert torch.equal(ours["image_grid_thw"], stock["image_grid_thw"])
    assert torch.equal(_resolve(store, ours), stock["pixel_values"])
    assert store.stats["images"] == 12 and store.stats["distinct"] == 3
    assert store.stats["bytes_stock"] == stock["pixel_values"].numel() * 4
    assert store.stats["bytes_held"] * 3 < store.stats["bytes_stock"]
    assert ours["pixel_values"].nbytes * 100 < stock["pixel_values"].nbytes  # 16 bytes a row instead of 4,704


def test_the_processor_call_gives_the_same_tokens(processor, noise_image):
    texts = ["<|vision_start|><|image_pad|><|vision_end|>How many?"] * 3
    images = [[noise_image(4)] for _ in range(3)]
    stock = processor(images=images, text=texts, return_tensors="pt", padding=True)
    inner = processor.image_processor
    store = PixelStore()
    processor.image_processor = DedupImageProcessor(inner, store)
    try:
        ours = processor(images=images, text=texts, return_tensors="pt", padding=True)
    finally:
        processor.image_processor = inner
    assert torch.equal(ours["input_ids"], stock["input_ids"])
    assert torch.equal(_resolve(store, ours), stock["pixel_values"])


def test_batch_slices_and_reassembly_keep_whole_images(processor, noise_image):
    """What TRL does with pixel_values (row slices per sample, split by grid, cat) works on handles."""
    images = [[noise_image(5)] for _ in range(3)] + [[noise_image(6, (84, 112))] for _ in range(3)]
    stock = processor.image_processor(images, return_tensors="pt")
    store = PixelStore()
    ours = DedupImageProcessor(processor.image_processor, store)(images, return_tensors="pt")
    sizes = ours["image_grid_thw"].prod(-1).tolist()
    parts = list(ours["pixel_values"].split(sizes))
    order = [5, 0, 3, 1, 4, 2]  # a shuffle, then concatenated back
    shuffled = torch.cat([parts[i] for i in order])
    grid = ours["image_grid_thw"][order]
    want = torch.cat([stock["pixel_values"].split(sizes)[i] for i in order])
    assert torch.equal(store.pixels(handle_image_ids(shuffled, grid), "cpu"), want)
    with pytest.raises(ValueError, match="cut through an image"):
        handle_image_ids(torch.cat([parts[0][1:], parts[1][:1]]), grid[:1])
    with pytest.raises(ValueError, match="rows but image_grid_thw describes"):
        handle_image_ids(parts[0], grid[:2])


def test_rounds_drop_old_images_and_a_stale_handle_is_an_error():
    store = PixelStore()
    store.begin("train")
    a = store.put(torch.ones(4, 3))
    store.begin("eval")
    e = store.put(torch.zeros(4, 3))
    assert torch.equal(store.pixels([a, e], "cpu"), torch.cat([torch.ones(4, 3), torch.zeros(4, 3)]))
    store.begin("eval")  # the next evaluation batch: the training round's images stay
    assert torch.equal(store.pixels([a], "cpu"), torch.ones(4, 3))
    with pytest.raises(KeyError, match=f"image {e}, which is not in the pixel store"):
        store.pixels([e], "cpu")
    store.begin("train")  # a new training round: everything earlier goes
    assert len(store) == 0
    with pytest.raises(KeyError, match="its round ended"):
        store.pixels([a], "cpu")
    with pytest.raises(ValueError, match="mode='test'"):
        store.begin("test")


def test_identity_is_by_content_not_by_object():
    rgb = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert image_content(Image.fromarray(rgb)) == image_content(Image.fromarray(rgb.copy()))
    flipped = rgb[::-1].copy()
    assert image_content(Image.fromarray(rgb)) != image_content(Image.fromarray(flipped))
    # same indices, different palette: different images
    p1 = Image.fromarray(np.zeros((4, 4), dtype=np.uint8), mode="P")
    p1.putpalette([255, 0, 0] * 256)
    p2 = p1.copy()
    p2.putpalette([0, 0, 255] * 256)
    assert image_content(p1) != image_content(p2)
    assert image_content(torch.ones(3, 4, 4)) == image_content(torch.ones(3, 4, 4))
    assert image_content(torch.ones(3, 4, 4)) != image_content(torch.ones(3, 4, 4, dtype=torch.float64))
    assert image_content(rgb)[0] == ("array", "|u1", (4, 4, 3))
    assert image_content("not an image") is None


def test_a_processor_with_other_outputs_is_left_as_it_is(noise_image):
    class WithSizes:
        merge_size = 2

        def __call__(self, images, **kwargs):
            from transformers.image_utils import make_flat_list_of_images

            flat = make_flat_list_of_images(images)
            return {"pixel_values": torch.ones(4 * len(flat), 3), "image_grid_thw": torch.tensor([[1, 2, 2]] * len(flat)),
                    "image_sizes": torch.tensor([[4, 4]] * len(flat))}

    wrapped = DedupImageProcessor(WithSizes(), PixelStore())
    out = wrapped([[noise_image(1)], [noise_image(1)]])
    assert not is_handle(out["pixel_values"]) and out["pixel_values"].shape == (8, 3)
    assert not wrapped.supported and wrapped.merge_size == 2  # other attributes are the wrapped processor's


def test_handles_are_recognised_only_as_int64_pairs():
    assert is_handle(make_handles(7, 3)) and make_handles(7, 3).tolist() == [[7, 0], [7, 1], [7, 2]]
    assert not is_handle(torch.zeros(3, 2))  # real pixels are floating
    assert not is_handle(torch.zeros(3, 1176, dtype=torch.int64))
