"""Subprocess for tests/models/test_cpu.py: the tuning is process-wide, so each setting gets its own process.

    python cpu_worker.py grads MODEL_DIR OUT   # tune_cpu, then a tiny model's loss and gradients -> OUT (torch.save)
    python cpu_worker.py faults OUT            # tune_cpu, then page faults while blocks are allocated and freed -> OUT

The CPU vendor is given as AMD (``cpu_vendor`` replaced), so the tuning's own code runs on any machine;
``VISIONR1_CPU_TUNING`` in the environment decides whether it is on.
"""

from __future__ import annotations

import json
import resource
import sys

import torch

from visionr1.models import cpu

cpu.cpu_vendor = lambda: "AuthenticAMD"


def grads(model_dir: str, out: str) -> None:
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    done = cpu.tune_cpu("cpu")
    torch.manual_seed(0)
    model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(model_dir)
    g = torch.Generator().manual_seed(0)
    images = [Image.fromarray((torch.rand(84, 112, 3, generator=g) * 255).to(torch.uint8).numpy()) for _ in range(4)]
    texts = [processor.apply_chat_template([{"role": "user", "content": [
        {"type": "image"}, {"type": "text", "text": f"Question {i}: how many?"}]}], add_generation_prompt=True,
        tokenize=False) + "<think>" + " wait" * (6 + i) + "</think>" for i in range(4)]
    batch = processor(text=texts, images=images, return_tensors="pt", padding=True)
    losses = []
    for _ in range(2):  # the second pass runs on memory the first one freed
        model.zero_grad(set_to_none=True)
        loss = model(**batch, labels=batch["input_ids"]).loss
        loss.backward()
        losses.append(loss.detach())
    torch.save({"done": done, "losses": losses,
                "grads": {k: p.grad for k, p in model.named_parameters() if p.grad is not None}}, out)


def faults(out: str) -> None:
    """Minor page faults over 10 rounds of three 20 MB temporaries made, written and freed, as a step's activations
    and logits are. glibc's defaults: a freed mmapped block raises the mmap threshold to its size (20 MB) and the
    trim threshold to twice that, so the 60 MB freed each round is given back and faulted in again the next. One
    thread: the main thread's heap is what is counted."""
    torch.set_num_threads(1)
    done = cpu.tune_cpu("cpu")
    x = torch.ones(1600, 3072)

    def round_():
        temporaries = [x * k for k in (2.0, 3.0, 4.0)]
        del temporaries

    for _ in range(5):  # glibc's thresholds and the heap settle (the tuned heap grows over the first three)
        round_()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        round_()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"done": done, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}, f)


if __name__ == "__main__":
    {"grads": grads, "faults": faults}[sys.argv[1]](*sys.argv[2:])
