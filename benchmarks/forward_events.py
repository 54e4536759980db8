"""Per-call overhead, counted on any machine: profiler events in one GRPO-shaped forward + backward.

On a GPU, a pass whose layers are small or whose batch is split into many pieces is bound by kernel
launches and Python, not arithmetic (the H200 figures in docs/speed.md). The number of profiler events
(operator calls, nested ones included) is a device-independent proxy for that overhead, and the number of
host-device synchronisations (``.item()``, ``nonzero``, ``equal``) is another, and the number of calls that
compute something (``work``: operators that are not views, allocations or decompositions into other operators,
and call no such operator themselves; a CPU's attention kernels decompose differently from a GPU's, so that
column is approximate around attention) is a third. This script builds a random
Qwen2.5-VL with the 3B's depth (36 language layers, 32 vision layers) and narrow widths, makes a GRPO batch
(``--prompts`` prompts x ``--group`` completions, one 448² image per prompt), and counts both for the stock
model and with visionr1's model-side speed-ups added one at a time. Figures are printed, never asserted.

    .venv/bin/python benchmarks/forward_events.py
"""

from __future__ import annotations

import argparse
import functools
import tempfile

SYNCS = ("aten::_local_scalar_dense", "aten::nonzero", "aten::equal", "aten::is_nonzero")
ALLOCATIONS = {"aten::empty", "aten::empty_strided", "aten::empty_like", "aten::resize_", "aten::set_", "aten::lift_fresh"}


@functools.cache
def computes(name: str) -> bool:
    """Whether the operator ``name`` does work of its own: not a view, an allocation or a pure decomposition."""
    import torch

    if not name.startswith("aten::") or name in ALLOCATIONS:
        return False
    packet = getattr(torch.ops.aten, name.split("::", 1)[1], None)
    if packet is None:
        return True
    overloads = [getattr(packet, o) for o in packet.overloads()]

    def decomposes(op) -> bool:
        try:
            return op.has_kernel_for_dispatch_key(torch._C.DispatchKey.CompositeImplicitAutograd)
        except RuntimeError:  # an operator defined in Python (aten::__and__.bool, ...)
            return True

    return not any(op.is_view for op in overloads) and not all(decomposes(op) for op in overloads)


def work_calls(events) -> int:
    """Profiler events of operators that compute and call no computing operator themselves (leaves of work)."""
    def leaf(e) -> bool:
        stack = list(e.cpu_children)
        while stack:
            c = stack.pop()
            if computes(c.name):
                return False
            stack.extend(c.cpu_children)
        return True

    return sum(1 for e in events if computes(e.name) and leaf(e))


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

    def count() -> tuple[int, int, int]:
        with torch.profiler.profile() as prof:
            model(**batch).logits.float().mean().backward()
        model.zero_grad(set_to_none=True)
        events = {e.key: e.count for e in prof.key_averages()}
        return sum(events.values()), work_calls(prof.events()), sum(events.get(k, 0) for k in SYNCS)

    print(f"{args.prompts} prompts x G={args.group}, {args.image_size}² images, {batch['input_ids'].shape[1]} tokens per row; "
          "36 language + 32 vision layers (narrow); one forward + backward")
    print(f"{'':32s}{'events':>10s}{'work':>8s}{'syncs':>8s}")
    rows = [("stock", None), ("+ shared_vision", enable_shared_vision), ("+ shared_prefix", enable_shared_prefix),
            ("+ vision_windows", enable_vision_windows)]
    for label, enable in rows:
        if enable is not None:
            enable(model)
        events, work, syncs = count()
        print(f"{label:32s}{events:10d}{work:8d}{syncs:8d}")


if __name__ == "__main__":
    main()
