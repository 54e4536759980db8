"""One rank of ``test_ranks.py``: the speed-ups on a rank whose batch shares a prompt, or one whose does not.

Run as ``python ranks_worker.py RANK INIT_FILE MODEL_DIR OUT_JSON`` for ranks 0 and 1 at once. Each rank
generates and runs a log-prob pass with gradients (policy-style) with all speed-ups on, recording every
layer call (language and vision); the two records are exchanged over gloo and written to ``OUT_JSON``.
Under ZeRO-3 or FSDP each of those calls would gather the layer's parameters collectively, so the
records must be the same on both ranks.
"""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist


def main(rank: int, init_file: str, model_dir: str, out: str) -> None:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from visionr1.models.shared_prefill import enable_shared_prefill
    from visionr1.models.shared_prefix import enable_shared_prefix
    from visionr1.models.shared_vision import enable_shared_vision

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    torch.manual_seed(0)
    processor = AutoProcessor.from_pretrained(model_dir)
    model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32)
    handles = {"vision": enable_shared_vision(model), "prefix": enable_shared_prefix(model),
               "prefill": enable_shared_prefill(model)}

    gen = torch.Generator().manual_seed(rank)
    images = [_noise(gen) for _ in range(2)]
    # rank 0: one prompt twice (a group of two); rank 1: two different prompts (nothing to share)
    rows = [("How many?", images[0])] * 2 if rank == 0 else [("How many?", images[0]), ("What colour is it?", images[1])]
    texts = [processor.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": q}]}],
                                           add_generation_prompt=True, tokenize=False) for q, _ in rows]
    processor.tokenizer.padding_side = "left"
    prompt = processor(text=texts, images=[im for _, im in rows], return_tensors="pt", padding=True)

    calls: list[str] = []
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[0].endswith(("language_model.layers", "visual.blocks")):
            module.register_forward_pre_hook(lambda _m, _a, name=name: calls.append(name))

    with torch.no_grad():
        generated = model.generate(**prompt, max_new_tokens=3, min_new_tokens=3, do_sample=False)
    new = generated.shape[1] - prompt["input_ids"].shape[1]
    batch = {k: v for k, v in prompt.items() if k not in ("input_ids", "attention_mask", "mm_token_type_ids")}
    batch["input_ids"] = generated
    batch["attention_mask"] = torch.cat([prompt["attention_mask"], torch.ones(len(rows), new, dtype=torch.long)], 1)
    if "mm_token_type_ids" in prompt:
        batch["mm_token_type_ids"] = torch.cat([prompt["mm_token_type_ids"], torch.zeros(len(rows), new, dtype=torch.long)], 1)
    model(**batch, use_cache=False).logits[:, -new:].sum().backward()

    records: list = [None, None]
    dist.all_gather_object(records, calls)
    stats = {key: dict(h.stats) for key, h in handles.items()}
    with open(out, "w") as f:
        json.dump({"rank": rank, "calls": records, "stats": stats}, f)
    dist.destroy_process_group()


def _noise(gen: torch.Generator):
    from PIL import Image

    return Image.fromarray(torch.randint(0, 256, (84, 112, 3), generator=gen, dtype=torch.uint8).numpy())


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
