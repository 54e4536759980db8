"""Vision tower forward + backward: transformers' per-window attention loop vs `speed.vision_windows`.

Builds a random Qwen2.5-VL whose vision tower has the 3B's depth (32 layers, 28 of them windowed... here
31: the tiny builder makes only the last layer full-attention), runs the tower on N 448² images with the
stock ``sdpa`` loop and with the batched window attention, alternating, and prints the median time,
the profiler's event count and (on CUDA) the GPU kernel launches and busy time of one pass, plus the
largest feature difference. Figures are printed, never asserted.

    .venv/bin/python benchmarks/vision_windows.py                 # narrow tower, CPU
    python benchmarks/vision_windows.py --width 3b --images 2     # the 3B's vision widths (GPU: bf16)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

WIDTHS = {
    "narrow": dict(vision_hidden_size=64, vision_heads=2, vision_intermediate_size=128),
    "3b": dict(vision_hidden_size=1280, vision_heads=16, vision_intermediate_size=3420),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", choices=sorted(WIDTHS), default="narrow")
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--image-size", type=int, default=448)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from visionr1.models.tiny import TinyModelSpec, build_tiny_model
    from visionr1.models.vision_windows import enable_vision_windows

    cuda = torch.cuda.is_available()
    dtype = torch.bfloat16 if cuda else torch.float32
    spec = TinyModelSpec(hidden_size=128, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
                         intermediate_size=256, vision_depth=32, min_pixels=3136, max_pixels=1003520, **WIDTHS[args.width])
    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_model(f"{tmp}/model", seed=0, spec=spec)
        model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype).to("cuda" if cuda else "cpu")
        processor = AutoProcessor.from_pretrained(path)
    g = torch.Generator().manual_seed(0)
    images = [Image.fromarray((torch.rand(args.image_size, args.image_size, 3, generator=g) * 255).to(torch.uint8).numpy())
              for _ in range(args.images)]
    px = processor.image_processor(images=images, return_tensors="pt")
    pixels, grid = px["pixel_values"].to(model.device, dtype), px["image_grid_thw"].to(model.device)
    visual = model.model.visual

    def one_pass():
        model.zero_grad(set_to_none=True)
        out = visual(pixels, grid_thw=grid)
        feats = out.pooler_output if hasattr(out, "pooler_output") else out
        feats.float().sum().backward()
        if cuda:
            torch.cuda.synchronize()
        return feats.detach().float()

    def profile() -> str:
        acts = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
        with torch.profiler.profile(activities=acts) as prof:
            one_pass()
        events = prof.key_averages()
        text = f"{sum(e.count for e in events)} profiler events"
        if cuda:
            kernels = [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]
            busy = sum(e.self_device_time_total for e in kernels) / 1e3
            text += f", {sum(e.count for e in kernels)} kernels, GPU busy {busy:.1f} ms"
        return text

    times: dict[str, list[float]] = {"stock": [], "batched": []}
    feats, profiles = {}, {}
    for _ in range(args.rounds):
        for variant in times:
            handle = enable_vision_windows(model) if variant == "batched" else None
            feats[variant] = one_pass()  # warm
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                one_pass()
                times[variant].append(time.perf_counter() - t0)
            profiles.setdefault(variant, profile())
            if handle is not None:
                handle.remove()
    print(f"vision tower ({args.width} widths, 32 layers), {args.images} images of {args.image_size}², forward + backward, "
          f"{'CUDA ' + torch.cuda.get_device_name() + ', bf16' if cuda else 'CPU, float32'}")
    for variant, ts in times.items():
        print(f"  {variant:8s} {statistics.median(ts) * 1e3:9.1f} ms (median of {len(ts)}); {profiles[variant]}")
    print(f"  speed-up {statistics.median(times['stock']) / statistics.median(times['batched']):.2f}x; "
          f"largest feature difference {(feats['stock'] - feats['batched']).abs().max().item():.2e}")


if __name__ == "__main__":
    main()
