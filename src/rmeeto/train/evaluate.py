"""Evaluation (top-1, top-5, loss) and the mixed-precision context that every command shares."""
from __future__ import annotations

import contextlib
import time
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..data import to_device_batch
from .dist import DistInfo, all_reduce_sum
from .video import forward_views


def amp_dtype(amp: Optional[str], device: torch.device) -> Optional[torch.dtype]:
    """--amp as a dtype (None: full precision); unset means bf16 on CUDA, off elsewhere."""
    if amp is None:
        amp = "bf16" if device.type == "cuda" else "off"
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "off": None}[amp]


def autocast(device: torch.device, dtype: Optional[torch.dtype], cache: bool = True):
    """``cache=False`` for a CUDA graph capture: autocast's cache of cast weights would outlive the capture."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype, cache_enabled=cache)


def synchronize(dev: torch.device) -> None:
    """Wait for the device (a no-op on the CPU), so that a timer reads finished work."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


@torch.inference_mode()
def evaluate(model: nn.Module, loader, info: Optional[DistInfo] = None, dtype: Optional[torch.dtype] = None,
             pipeline=None, view_average: str = "logits", progress=None, timed: bool = False) -> dict:
    """Top-1/top-5/loss over the (sharded) loader; all ranks get the global numbers, computed
    from summed counts so uneven shards are weighted correctly. Multi-view video batches are
    scored on their views' average (:func:`forward_views`). Without ``info``: one process, on the
    model's device. ``progress``: a bar advanced by each batch's samples (``update(n)``).
    ``timed`` adds ``seconds`` and ``images_per_s`` of this rank's forward passes alone
    (synchronised; an untimed forward of the first batch keeps one-off set-up out)."""
    if info is None:
        info = DistInfo(device=next(model.parameters()).device)
    was_training = model.training
    model.eval()
    dev = info.device
    acc = torch.zeros(4, dtype=torch.float64, device=dev)  # correct1, correct5, n, loss_sum
    seconds, timed_n, warm = 0.0, 0, not timed
    for batch in loader:
        x, y = to_device_batch(batch, dev, pipeline)
        with autocast(dev, dtype):
            if not warm:  # Triton compilation on CUDA, lazy set-up on the CPU (16 samples are enough there)
                forward_views(model, x if dev.type == "cuda" else x[:16], view_average)
                warm = True
            if timed:
                synchronize(dev)
            t0 = time.perf_counter()
            out = forward_views(model, x, view_average)
            if timed:
                synchronize(dev)
                seconds += time.perf_counter() - t0
                timed_n += y.numel()
        out = out.float()
        k = min(5, out.shape[-1])
        hit = out.topk(k, dim=-1).indices == y[:, None]
        acc[0] += hit[:, 0].sum()
        acc[1] += hit.any(dim=1).sum()
        acc[2] += y.numel()
        acc[3] += F.cross_entropy(out, y, reduction="sum")
        if progress is not None:
            progress.update(y.numel())
    all_reduce_sum(acc, info)
    model.train(was_training)
    c1, c5, n, loss = acc.tolist()
    n = max(n, 1)
    stats = {"top1": 100.0 * c1 / n, "top5": 100.0 * c5 / n, "loss": loss / n, "n": int(acc[2].item())}
    if timed:
        stats.update(seconds=seconds, images_per_s=timed_n / max(seconds, 1e-12))
    return stats
