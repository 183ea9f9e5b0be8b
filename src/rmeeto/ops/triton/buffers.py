"""Several scratch or output tensors from one allocation.

Each ``torch.empty`` is a trip through the caching allocator, a few microseconds of host time. The contract
(``selective_scan_fn``) at video shapes with small batches is bound by host time, so its kernels' buffers of one
dtype come from one allocation, as contiguous views that each start on ``ALIGN`` bytes (the alignment a fresh
tensor would have, so Triton specialises the kernels the same way).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

ALIGN = 128  # bytes


def carve(shapes: list[tuple[int, ...]], dtype: torch.dtype, device: torch.device) -> list[Tensor]:
    """Contiguous tensors of ``shapes``, views of one uninitialised allocation."""
    step = max(1, ALIGN // dtype.itemsize)  # elements between starts
    sizes = [math.prod(s) for s in shapes]
    offsets, total = [], 0
    for n in sizes:
        offsets.append(total)
        total += n + -n % step
    buf = torch.empty(max(total, 1), dtype=dtype, device=device)
    return [buf.as_strided(s, _contiguous_strides(s), o) for s, o in zip(shapes, offsets)]


def _contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    if not shape:
        return ()
    strides = [1]
    for n in shape[:0:-1]:
        strides.append(strides[-1] * (n if n > 1 else 1))
    return tuple(strides[::-1])
