"""Per-call overhead, counted on any machine: profiler events in one GRPO-shaped forward + backward.

On a GPU, a pass whose layers are small or whose batch is split into many pieces is bound by kernel
launches and Python, not arithmetic (the H200 figures in docs/speed.md). The number of profiler events
(operator calls, nested ones included) is a device-independent proxy for that overhead, and the number of
host-device synchronisations (``.item()``, ``nonzero``, ``equal``) is another. This script builds a random
Qwen2.5-VL with the 3B's depth (36 language layers, 32 vision layers) and narrow widths, makes a GRPO batch
(``--prompts`` prompts x ``--group`` completions, one 448² image per prompt), and counts both for the stock
model and with visionr1's model-side speed-ups added one at a time. Figures are printed, never asserted.

    .venv/bin/python benchmarks/forward_events.py
"""

from __future__ import annotations

import argparse
import tempfile

SYNCS = ("aten::_local_scalar_dense", "aten::nonzero", "aten::equal", "aten::is_nonzero")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=2)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--image-size", type=int, default=448)
    ap.add_argument("--completion-words", type=int, default=20)
    args = ap.parse_args()

    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from visionr1.models.shared_prefix import enable_shared_prefix
    from visionr1.models.shared_vision import enable_shared_vision
    from visionr1.models.tiny import TinyModelSpec, build_tiny_model
    from visionr1.models.vision_windows import enable_vision_windows

    spec = TinyModelSpec(hidden_size=128, num_hidden_layers=36, num_attention_heads=4, num_key_value_heads=2,
                         intermediate_size=256, vision_depth=32, vision_hidden_size=64, vision_heads=2,
                         vision_intermediate_size=128, min_pixels=3136, max_pixels=1003520)
    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_model(f"{tmp}/model", seed=0, spec=spec)
        model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32)
        processor = AutoProcessor.from_pretrained(path, padding_side="left")
    g = torch.Generator().manual_seed(0)
    texts, images = [], []
    for p in range(args.prompts):
        image = Image.fromarray((torch.rand(args.image_size, args.image_size, 3, generator=g) * 255).to(torch.uint8).numpy())
        content = [{"type": "image"}, {"type": "text", "text": f"Question {p}: how many?"}]
        prompt = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)
        for c in range(args.group):
            texts.append(prompt + "<think>" + " wait" * (args.completion_words + c) + "</think>")
            images.append(image)
    batch = processor(text=texts, images=images, return_tensors="pt", padding=True)

    def count() -> tuple[int, int]:
        with torch.profiler.profile() as prof:
            model(**batch).logits.float().mean().backward()
        events = {e.key: e.count for e in prof.key_averages()}
        return sum(events.values()), sum(events.get(k, 0) for k in SYNCS)

    print(f"{args.prompts} prompts x G={args.group}, {args.image_size}² images, {batch['input_ids'].shape[1]} tokens per row; "
          "36 language + 32 vision layers (narrow); one forward + backward")
    print(f"{'':32s}{'events':>10s}{'syncs':>8s}")
    rows = [("stock", None), ("+ shared_vision", enable_shared_vision), ("+ shared_prefix", enable_shared_prefix),
            ("+ vision_windows", enable_vision_windows)]
    for label, enable in rows:
        if enable is not None:
            enable(model)
        events, syncs = count()
        print(f"{label:32s}{events:10d}{syncs:8d}")


if __name__ == "__main__":
    main()
