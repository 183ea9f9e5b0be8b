"""Channels-last copies of ``(batch, channels, length)`` tensors, for the ``selective_scan_fn`` contract.

The scan kernels read one step of every channel at a time, so ``selective_scan_triton`` turns its
length-contiguous inputs into channels-last memory once. ``Tensor.contiguous()`` on the transposed view copies
with one side of every access strided; this kernel moves a tile through shared memory so that the reads run
along the length and the writes along the channels, both coalesced. On one H200 (2026-12-01, fp16, the shapes of
``scripts/bench_vs_mamba_ssm.py``) it copied at 2.5-3.2 TB/s against 560-650 GB/s, and the five tile shapes
tried were within 5 % of each other (docs/benchmarks/2026-12-01-h200-scan-contract).

Up to ``MAX_PER_LAUNCH`` tensors of one batch size and length are copied by one launch (grid axis 2 = batch element
x tensor): at the video shapes the contract is bound by the host's time per launch, not by the copies.
"""
from __future__ import annotations

from typing import Optional

import triton
import triton.language as tl
from torch import Tensor

from .launch import cdiv, interpreting, launch, next_pow2

LAYOUT_CFG = dict(BLOCK_C=64, BLOCK_L=64, num_warps=4)
MAX_PER_LAUNCH = 5


@triton.jit
def _copy_tile(x_ptr, s_b, s_c, s_l, y_ptr, C, L, b, BLOCK_C: tl.constexpr, BLOCK_L: tl.constexpr):
    """``y[b, l, c] = x[b, c, l]`` for one (length block, channel block) tile; ``y`` contiguous."""
    c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    if tl.program_id(1) * BLOCK_C < C:  # tensors narrower than the widest one leave their extra blocks idle
        l = tl.program_id(0) * BLOCK_L + tl.arange(0, BLOCK_L)
        mask = (c[:, None] < C) & (l[None, :] < L)
        tile = tl.load(x_ptr + b * s_b + c[:, None] * s_c + l[None, :] * s_l, mask=mask)
        tl.store(y_ptr + b * L * C + l[None, :] * C + c[:, None], tile, mask=mask)


@triton.jit
def _to_channels_last_kernel(x0, b0, c0, l0, y0, C0, x1, b1, c1, l1, y1, C1, x2, b2, c2, l2, y2, C2,
                             x3, b3, c3, l3, y3, C3, x4, b4, c4, l4, y4, C4, L,
                             NT: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_L: tl.constexpr):
    """Tensor ``pid2 % NT`` of up to five (its pointer, batch / channel / length strides, output, channels)."""
    which = tl.program_id(2) % NT
    b = (tl.program_id(2) // NT).to(tl.int64)
    if which == 0:
        _copy_tile(x0, b0, c0, l0, y0, C0, L, b, BLOCK_C, BLOCK_L)
    if NT > 1:
        if which == 1:
            _copy_tile(x1, b1, c1, l1, y1, C1, L, b, BLOCK_C, BLOCK_L)
    if NT > 2:
        if which == 2:
            _copy_tile(x2, b2, c2, l2, y2, C2, L, b, BLOCK_C, BLOCK_L)
    if NT > 3:
        if which == 3:
            _copy_tile(x3, b3, c3, l3, y3, C3, L, b, BLOCK_C, BLOCK_L)
    if NT > 4:
        if which == 4:
            _copy_tile(x4, b4, c4, l4, y4, C4, L, b, BLOCK_C, BLOCK_L)


def to_channels_last(*xs: Optional[Tensor], cfg: Optional[dict] = None) -> tuple[Optional[Tensor], ...]:
    """Each ``(b, c, l)`` tensor of ``xs`` as a contiguous ``(b, l, c)`` one (None stays None); no copy of one that
    already is channels-last. CUDA tensors (and any under Triton's interpreter) that share the first copied one's batch
    size and length are copied by one launch per ``MAX_PER_LAUNCH``; others take ``Tensor.contiguous()``."""
    out: list[Optional[Tensor]] = list(xs)
    tiled: list[int] = []
    interp = interpreting()
    batch = L = -1
    for i, x in enumerate(xs):
        if x is None:
            continue
        if is_channels_last(x):
            out[i] = x.transpose(1, 2)
            continue
        if batch < 0:
            batch, L = x.shape[0], x.shape[2]
        if (x.is_cuda or interp) and x.numel() > 0 and x.shape[0] == batch and x.shape[2] == L:
            tiled.append(i)
        else:
            out[i] = x.transpose(1, 2).contiguous()
    for start in range(0, len(tiled), MAX_PER_LAUNCH):
        group = tiled[start:start + MAX_PER_LAUNCH]
        for i in group:
            out[i] = xs[i].new_empty(batch, L, xs[i].shape[1])
        _launch_copies([xs[i] for i in group], [out[i] for i in group], batch, L,
                       LAYOUT_CFG if cfg is None else dict(LAYOUT_CFG, **cfg))
    return tuple(out)


def is_channels_last(x: Tensor) -> bool:
    """Whether the ``(b, c, l)`` tensor ``x`` is a transposed view of contiguous ``(b, l, c)`` memory, as
    ``x.transpose(1, 2).is_contiguous()`` says (dimensions of size 1 may have any stride), without making the view."""
    b, c, l = x.shape
    sb, sc, sl = x.stride()
    return (c < 2 or sc == 1) and (l < 2 or sl == c) and (b < 2 or sb == c * l)


def _launch_copies(xs: list[Tensor], ys: list[Tensor], batch: int, L: int, cfg: dict) -> None:
    """One launch of the copy kernel for up to ``MAX_PER_LAUNCH`` pairs; unused slots get null arguments."""
    args: list = []
    for x, y in zip(xs, ys):
        args += [x, *x.stride(), y, x.shape[1]]
    args += [None, 0, 0, 0, None, 0] * (MAX_PER_LAUNCH - len(xs))
    widest = max(x.shape[1] for x in xs)
    bc, bl = min(cfg["BLOCK_C"], next_pow2(widest)), min(cfg["BLOCK_L"], next_pow2(L))
    launch(_to_channels_last_kernel, (cdiv(L, bl), cdiv(widest, bc), batch * len(xs)), *args, L,
           NT=len(xs), BLOCK_C=bc, BLOCK_L=bl, num_warps=cfg["num_warps"])
