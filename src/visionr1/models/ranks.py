"""What the speed-ups must know about the other ranks of a distributed run.

Under DeepSpeed ZeRO-3 and FSDP a module call gathers that module's parameters from all ranks (a
collective), so every rank has to call the same modules, in the same order and the same number of
times, whatever its own batch holds; a rank that takes a different path waits for the others forever.
The speed-ups that choose a path from the batch (share a prompt or not) therefore take the same path on
every rank when there are several (:func:`several_ranks`). Compiled decoding (CUDA graphs) is not chosen
automatically for sharded parameters (:func:`sharded_parameters`): their storage is gathered anew for
each generation.
"""

from __future__ import annotations

import torch


def several_ranks() -> bool:
    """Whether this process is one of several in an initialised ``torch.distributed`` process group."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def sharded_parameters(module: torch.nn.Module) -> bool:
    """Whether ``module``'s parameters are sharded across ranks (DeepSpeed ZeRO-3, FSDP, FSDP2)."""
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:  # torch without distributed support
        DTensor = ()
    for param in module.parameters():
        # ZeRO-3 tags its parameters; FSDP flattens them (use_orig_params views too); FSDP2 makes them DTensors
        if hasattr(param, "ds_id") or getattr(param, "_fsdp_flattened", False) or isinstance(param, DTensor):
            return True
    return False
