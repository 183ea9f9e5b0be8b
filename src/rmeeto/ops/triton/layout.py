"""Channels-last copies of ``(batch, channels, length)`` tensors, for the ``selective_scan_fn`` contract.

The scan kernels read one step of every channel at a time, so ``selective_scan_triton`` turns its
length-contiguous inputs into channels-last memory once. ``Tensor.contiguous()`` on the transposed view copies
with one side of every access strided; this kernel moves a tile through shared memory so that the reads run
along the length and the writes along the channels, both coalesced. On one H200 (2026-12-01, fp16, the shapes of
``scripts/bench_vs_mamba_ssm.py``) it copied at 2.5-3.2 TB/s against 560-650 GB/s, and the five tile shapes
tried were within 5 % of each other (docs/benchmarks/2026-12-01-h200-scan-contract).
"""
from __future__ import annotations

from typing import Optional

import triton
import triton.language as tl
from torch import Tensor

from .launch import cdiv, interpreting, launch, next_pow2

LAYOUT_CFG = dict(BLOCK_C=64, BLOCK_L=64, num_warps=4)


@triton.jit
def _to_channels_last_kernel(x_ptr, s_b, s_c, s_l, y_ptr, C, L, BLOCK_C: tl.constexpr, BLOCK_L: tl.constexpr):
    """``y[b, l, c] = x[b, c, l]`` for one (length block, channel block, batch element); ``y`` contiguous."""
    b = tl.program_id(2).to(tl.int64)
    c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    l = tl.program_id(0) * BLOCK_L + tl.arange(0, BLOCK_L)
    mask = (c[:, None] < C) & (l[None, :] < L)
    tile = tl.load(x_ptr + b * s_b + c[:, None] * s_c + l[None, :] * s_l, mask=mask)
    tl.store(y_ptr + b * L * C + l[None, :] * C + c[:, None], tile, mask=mask)


def is_channels_last(x: Tensor) -> bool:
    """Whether the ``(batch, channels, length)`` tensor ``x`` is a transposed view of contiguous ``(b, l, c)`` memory."""
    return x.transpose(1, 2).is_contiguous()


def to_channels_last(x: Optional[Tensor], cfg: Optional[dict] = None) -> Optional[Tensor]:
    """``x`` (b, c, l) as a contiguous (b, l, c) tensor; no copy when it already is channels-last. CUDA tensors (and
    any under Triton's interpreter) take the tiled kernel, others ``Tensor.contiguous()``."""
    if x is None or is_channels_last(x):
        return None if x is None else x.transpose(1, 2)
    if not (x.is_cuda or interpreting()) or x.numel() == 0:
        return x.transpose(1, 2).contiguous()
    cfg = dict(LAYOUT_CFG, **(cfg or {}))
    batch, C, L = x.shape
    y = x.new_empty(batch, L, C)
    bc, bl = min(cfg["BLOCK_C"], next_pow2(C)), min(cfg["BLOCK_L"], next_pow2(L))
    launch(_to_channels_last_kernel, (cdiv(L, bl), cdiv(C, bc), batch), x, *x.stride(), y, C, L,
           BLOCK_C=bc, BLOCK_L=bl, num_warps=cfg["num_warps"])
    return y
