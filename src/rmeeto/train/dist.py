"""torchrun-compatible process-group set-up (RANK / WORLD_SIZE / LOCAL_RANK from the env)."""
from __future__ import annotations

import datetime
import gc
import os
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


# PyTorch's CUDA graphs notes, for capturing DDP's backward: NCCL's asynchronous error handling off (before the
# process group exists), DDP built on a side stream, and at least 11 eager DDP iterations before the capture
GRAPH_WARMUP_STEPS = 11


def init_distributed(device: Optional[str] = None, graph_capture: bool = False) -> DistInfo:
    """Join the process group when launched by torchrun (NCCL on CUDA, gloo on CPU). ``graph_capture``: DDP's
    backward will be captured in a CUDA graph, so NCCL's asynchronous error handling is turned off unless the
    environment sets ``TORCH_NCCL_ASYNC_ERROR_HANDLING`` itself."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if graph_capture and world > 1:
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "0")
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for but CUDA is not available")
        if dev.index is None:
            dev = torch.device("cuda", local_rank if world > 1 else torch.cuda.current_device())
        torch.cuda.set_device(dev)
    info = DistInfo(rank, world, local_rank, dev)
    if world > 1 and not (dist.is_available() and dist.is_initialized()):
        backend = "nccl" if dev.type == "cuda" else "gloo"
        kw = {"device_id": dev} if dev.type == "cuda" else {}
        dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world,
                                timeout=datetime.timedelta(minutes=30), **kw)
        info.initialized_here = True
    return info


def wrap_ddp(model: torch.nn.Module, device: torch.device,
             side: Optional[torch.cuda.Stream] = None) -> torch.nn.Module:
    """``model`` in DistributedDataParallel; built on the stream ``side`` if given, as a DDP backward that is
    captured in a CUDA graph needs (then warm up and capture on that stream too: the ``stream`` of
    :class:`rmeeto.cuda_graphs.GraphedStep`)."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    if side is None:
        return DDP(model, device_ids=ids)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        wrapped = DDP(model, device_ids=ids)
    torch.cuda.current_stream(device).wait_stream(side)
    return wrapped


def cleanup(info: DistInfo, synchronize: bool = True) -> None:
    """Leave the process group: wait for every rank (after a normal run), destroy the group, and
    collect garbage while the interpreter is fully alive.

    Without the barrier and the collect, one rank of the two-process CPU test aborted at
    interpreter shutdown in 3 launches of 49 ("terminate called without an active exception", no
    Python frame: a C++ thread still running then, most likely gloo's). Each of the two alone gave
    0 failures in 60 launches; both are kept."""
    if not (info.initialized_here and dist.is_initialized()):
        return
    if synchronize and info.enabled:
        dist.barrier()
    dist.destroy_process_group()
    gc.collect()


def all_reduce_sum(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.enabled:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def broadcast_object(obj, info: DistInfo):
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
