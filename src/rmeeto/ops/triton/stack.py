"""Both directions' weights stacked as the bidirectional kernels take them, in one launch.

:func:`rmeeto.ops.triton.bimamba.stack_params` builds the same tensors from about a dozen torch ops (differentiably,
for training). Inference on CUDA stacks with :func:`stack_params_launched`: eagerly into a cache
(:func:`rmeeto.ops.triton.stack_cache.cached_stack_params`), and on every call where no cache can serve, inside the
inference op that Inductor traces (:mod:`rmeeto.ops.triton.library`) and inside CUDA graphs captured elsewhere than in
:func:`rmeeto.cuda_graphs.graphed`: one small kernel per block, 105-113 us per Vim forward on one H200
(docs/benchmarks/2026-12-04-h200-traced-ops).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from .launch import cdiv, launch, next_pow2

STACK_CFG = dict(BLOCK_E=32, num_warps=4)


@triton.jit
def _stack_one(d: tl.constexpr, e, emask, cw_ptr, cb_ptr, xp_ptr, dtw_ptr, dtb_ptr, alog_ptr, dd_ptr,
               o_cw, o_cb, o_xp, o_dtw, o_a, o_d, o_dtb, E, R, N, P,
               K: tl.constexpr, HAS_CB: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_ROWS: tl.constexpr,
               BLOCK_N: tl.constexpr):
    """Direction ``d``'s share of this program's channels ``e``."""
    for k in tl.static_range(K):
        w = tl.load(cw_ptr + e * K + k, mask=emask, other=0.0).to(tl.float32)
        tl.store(o_cw + (d * E + e) * K + k, w, mask=emask)
    if HAS_CB:
        cb = tl.load(cb_ptr + e, mask=emask, other=0.0).to(tl.float32)
    else:
        cb = tl.zeros_like(e).to(tl.float32)
    tl.store(o_cb + d * E + e, cb, mask=emask)
    tl.store(o_d + d * E + e, tl.load(dd_ptr + e, mask=emask, other=0.0).to(tl.float32), mask=emask)
    tl.store(o_dtb + d * E + e, tl.load(dtb_ptr + e, mask=emask, other=0.0).to(tl.float32), mask=emask)
    # x_proj (R + 2N, E) -> rows [0, R) then zero rows up to P, then the 2N B and C rows from P on
    rows = tl.arange(0, BLOCK_ROWS)
    width = P + 2 * N
    src_row = tl.where(rows < R, rows, rows - (P - R))
    from_src = ((rows < R) | (rows >= P)) & (rows < width)
    m = from_src[:, None] & emask[None, :]
    xp = tl.load(xp_ptr + src_row[:, None] * E + e[None, :], mask=m, other=0.0)
    tl.store(o_xp + (d * width + rows[:, None]) * E + e[None, :], xp.to(o_xp.dtype.element_ty),
             mask=(rows < width)[:, None] & emask[None, :])
    # dt_proj (E, R)
    j = tl.arange(0, BLOCK_R)
    m = emask[:, None] & (j < R)[None, :]
    dtw = tl.load(dtw_ptr + e[:, None] * R + j[None, :], mask=m, other=0.0)
    tl.store(o_dtw + (d * E + e[:, None]) * R + j[None, :], dtw.to(o_dtw.dtype.element_ty), mask=m)
    # A = -exp(A_log), stored (N, E) so that the channels are contiguous
    n = tl.arange(0, BLOCK_N)
    m = (n < N)[:, None] & emask[None, :]
    alog = tl.load(alog_ptr + e[None, :] * N + n[:, None], mask=m, other=0.0).to(tl.float32)
    tl.store(o_a + (d * N + n[:, None]) * E + e[None, :], -tl.exp(alog), mask=m)


@triton.jit
def _stack_kernel(cw0, cb0, xp0, dtw0, dtb0, alog0, d0, cw1, cb1, xp1, dtw1, dtb1, alog1, d1,
                  o_cw, o_cb, o_xp, o_dtw, o_a, o_d, o_dtb, E, R, N, P,
                  K: tl.constexpr, HAS_CB0: tl.constexpr, HAS_CB1: tl.constexpr, BLOCK_E: tl.constexpr,
                  BLOCK_R: tl.constexpr, BLOCK_ROWS: tl.constexpr, BLOCK_N: tl.constexpr):
    """Grid (channel tiles, 2 directions)."""
    e = tl.program_id(0) * BLOCK_E + tl.arange(0, BLOCK_E)
    emask = e < E
    if tl.program_id(1) == 0:
        _stack_one(0, e, emask, cw0, cb0, xp0, dtw0, dtb0, alog0, d0, o_cw, o_cb, o_xp, o_dtw, o_a, o_d, o_dtb,
                   E, R, N, P, K, HAS_CB0, BLOCK_R, BLOCK_ROWS, BLOCK_N)
    else:
        _stack_one(1, e, emask, cw1, cb1, xp1, dtw1, dtb1, alog1, d1, o_cw, o_cb, o_xp, o_dtw, o_a, o_d, o_dtb,
                   E, R, N, P, K, HAS_CB1, BLOCK_R, BLOCK_ROWS, BLOCK_N)


def _flat(p) -> list:
    """A direction's weights as the kernel reads them (contiguous; the conv bias may be None)."""
    return [None if t is None else t.contiguous() for t in p.tensors()]


def stack_params_launched(fwd, bwd, cdt: torch.dtype) -> tuple[Tensor, ...]:
    """What :func:`rmeeto.ops.triton.bimamba.stack_params` returns for ``fwd`` and ``bwd``
    (:class:`rmeeto.ops.bimamba.DirectionParams`), from one kernel launch; no gradient flows through it."""
    E, _, K = fwd.conv_weight.shape
    R = fwd.dt_proj_weight.shape[1]
    N = fwd.A_log.shape[1]
    width = R + 2 * N + (-(R + 2 * N) % 16)  # rows of the padded x_proj, as _pad_bc_rows gives them
    P = width - 2 * N
    f, b = _flat(fwd), _flat(bwd)
    has_cb = [p[1] is not None for p in (f, b)]
    for p in (f, b):
        if p[1] is None:
            p[1] = p[0]  # not read
    dev = fwd.A_log.device
    f32 = dict(device=dev, dtype=torch.float32)
    out = (torch.empty(2, E, K, **f32), torch.empty(2, E, **f32),
           torch.empty(2, width, E, device=dev, dtype=cdt), torch.empty(2, E, R, device=dev, dtype=cdt),
           torch.empty(2, N, E, **f32), torch.empty(2, E, **f32), torch.empty(2, E, **f32))
    be = min(STACK_CFG["BLOCK_E"], next_pow2(E))
    if E:
        launch(_stack_kernel, (cdiv(E, be), 2), *f, *b, *out, E, R, N, P, K=K, HAS_CB0=has_cb[0],
               HAS_CB1=has_cb[1], BLOCK_E=be, BLOCK_R=max(2, next_pow2(R)), BLOCK_ROWS=next_pow2(width),
               BLOCK_N=max(2, next_pow2(N)), num_warps=STACK_CFG["num_warps"])
    conv_w, conv_b, xproj_w, dt_w, A_t, D, dt_b = out
    return conv_w, conv_b, xproj_w, dt_w, A_t.transpose(1, 2), D, dt_b
