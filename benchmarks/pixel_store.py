"""Host cost of a GRPO batch's pixels: TRL's stock image processing vs the pixel store (``speed.pixel_store``).

TRL hands the image processor the G repeated prompts of each group; the stock processor processes every
copy and returns G copies of the pixels. The store processes each distinct image once and returns
handles. This prints, per setting, the processor time (median) and the bytes of ``pixel_values`` the
batch carries (what TRL keeps, moves to the device and slices), plus the pixels the store holds.

Uses Qwen2.5-VL's image processor with its default settings (``Qwen2VLImageProcessor()``: 14-px patches,
2x2 merge), on random-noise RGB images; every repeat is a fresh image object, as a dataset decodes them.

Usage::

    .venv/bin/python benchmarks/pixel_store.py [--image-size 448] [--prompts 2] [--generations 8 16] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    import numpy as np
    from PIL import Image
    from transformers import Qwen2VLImageProcessor

    from visionr1.models.pixel_store import DedupImageProcessor, PixelStore

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image-size", type=int, default=448)
    ap.add_argument("--prompts", type=int, default=2)
    ap.add_argument("--generations", type=int, nargs="+", default=[8, 16])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    processor = Qwen2VLImageProcessor()
    rng = np.random.default_rng(0)
    originals = [rng.integers(0, 256, (args.image_size, args.image_size, 3), dtype=np.uint8) for _ in range(args.prompts)]
    print(f"{args.prompts} prompts x G, one {args.image_size}x{args.image_size} image each; median of {args.repeats}")
    print(f"{'G':>3} {'stock ms':>9} {'store ms':>9} {'ratio':>6} {'stock MB':>9} {'batch MB':>9} {'held MB':>8}")
    for g in args.generations:
        batch = [[Image.fromarray(img)] for img in originals for _ in range(g)]  # a fresh object per repeat
        stock_s, store_s = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            stock = processor(batch, return_tensors="pt")
            stock_s.append(time.perf_counter() - t)
            store = PixelStore()
            t = time.perf_counter()
            ours = DedupImageProcessor(processor, store)(batch, return_tensors="pt")
            store_s.append(time.perf_counter() - t)
        held = sum(p.nbytes for p in store._pixels.values())
        a, b = statistics.median(stock_s) * 1e3, statistics.median(store_s) * 1e3
        mb = 1 / 2**20
        print(f"{g:>3} {a:>9.1f} {b:>9.1f} {a / b:>5.1f}x {stock['pixel_values'].nbytes * mb:>9.1f} "
              f"{ours['pixel_values'].nbytes * mb:>9.2f} {held * mb:>8.1f}")


if __name__ == "__main__":
    main()
