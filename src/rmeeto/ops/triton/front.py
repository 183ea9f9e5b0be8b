"""The front of the bidirectional Mamba core in one kernel: both convs with SiLU, ``x_proj`` and ``dt_proj``.

For a block of rows (tokens of the flattened batch) one program computes, channel block by channel block,
``u[d] = silu(conv_d(x))`` for both directions, stores it, and accumulates ``x_dbl[d] = u[d] @ x_proj_w[d]^T`` on
tensor cores; it then stores ``x_dbl`` and computes ``delta[d] = x_dbl[d][:, :R] @ dt_proj_w[d]^T`` from the rounded
``x_dbl`` it holds. That is what the conv kernel and two batched cuBLAS matmuls did in three launches, with the
same roundings (fp32 accumulation, the products in the compute dtype), without reading ``u`` back from memory,
and with one launch's host time instead of three. ``RMEETO_FUSED_FRONT=0`` keeps the three launches.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import INTERPRETING
from .launch import cdiv, launch, next_pow2


@triton.jit
def _dot(a, b, acc, PRECISION: tl.constexpr):
    """``acc + a @ b`` in fp32. Triton's interpreter multiplies bf16 tiles wrongly (as their raw bits), so there the
    operands go to fp32 first, which changes no product (each is exact in fp32)."""
    if INTERPRETING:
        return tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision="ieee")
    else:
        return tl.dot(a, b, acc, input_precision=PRECISION)


@triton.jit
def biconv_pre(base, s_x_l, w_ptr, b_ptr, pos, valid, e, emask, L, E,
               K: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_E: tl.constexpr):
    """Pre-activations of both directions' depthwise convs at sequence positions ``pos`` (rows) and channels ``e``:
    direction 0 is causal, direction 1 anti-causal (read right to left). ``base`` points at each row's sequence
    start and channel. One pass over the 2K-1 row offsets: offset ``o`` is tap ``o+K-1`` of the causal conv
    (``o <= 0``) and tap ``K-1-o`` of the anti-causal one (``o >= 0``), so each shifted tile is loaded once."""
    acc0 = tl.zeros((BLOCK_L, BLOCK_E), dtype=tl.float32) + tl.load(b_ptr + e, mask=emask, other=0.0)[None, :]
    acc1 = tl.zeros((BLOCK_L, BLOCK_E), dtype=tl.float32) + tl.load(b_ptr + E + e, mask=emask, other=0.0)[None, :]
    for j in tl.static_range(2 * K - 1):
        q = pos + (j - (K - 1))
        m = (valid & (q >= 0) & (q < L))[:, None] & emask[None, :]
        xv = tl.load(base + q[:, None] * s_x_l, mask=m, other=0.0).to(tl.float32)
        if j <= K - 1:
            acc0 += tl.load(w_ptr + e * K + j, mask=emask, other=0.0)[None, :] * xv
        if j >= K - 1:
            acc1 += tl.load(w_ptr + (E + e) * K + (2 * K - 2 - j), mask=emask, other=0.0)[None, :] * xv
    return acc0, acc1


@triton.jit
def _front_fwd_kernel(
    x_ptr, s_x_b, s_x_l, s_x_e,
    w_ptr, b_ptr,  # conv (2, E, K), (2, E) fp32
    wx_ptr, wdt_ptr,  # x_proj (2, J, E), dt_proj (2, E, R), contiguous, in the compute dtype
    u_ptr, xd_ptr, dl_ptr,  # u (2, ROWS, E), x_dbl (2, ROWS, J), delta (2, ROWS, E), contiguous
    ROWS, L, E, J, R,
    K: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_J: tl.constexpr,
    STORE_XD: tl.constexpr, PRECISION: tl.constexpr,
):
    r = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    valid = r < ROWS
    pos = r % L
    j = tl.arange(0, BLOCK_J)
    jmask = j < J
    out_ty = u_ptr.dtype.element_ty
    acc0 = tl.zeros((BLOCK_R, BLOCK_J), dtype=tl.float32)
    acc1 = tl.zeros((BLOCK_R, BLOCK_J), dtype=tl.float32)
    for e0 in range(0, E, BLOCK_E):
        e = e0 + tl.arange(0, BLOCK_E)
        emask = e < E
        base = x_ptr + (r // L)[:, None] * s_x_b + e[None, :] * s_x_e
        pre0, pre1 = biconv_pre(base, s_x_l, w_ptr, b_ptr, pos, valid, e, emask, L, E, K, BLOCK_R, BLOCK_E)
        u0 = (pre0 * tl.sigmoid(pre0)).to(out_ty)
        u1 = (pre1 * tl.sigmoid(pre1)).to(out_ty)
        rows_e = r[:, None] * E + e[None, :]
        m2 = valid[:, None] & emask[None, :]
        tl.store(u_ptr + rows_e, u0, mask=m2)
        tl.store(u_ptr + ROWS * E + rows_e, u1, mask=m2)
        wmask = jmask[:, None] & emask[None, :]
        wx = wx_ptr + j[:, None] * E + e[None, :]  # (BLOCK_J, BLOCK_E) rows of x_proj_w, read along e
        acc0 = _dot(u0, tl.trans(tl.load(wx, mask=wmask, other=0.0)), acc0, PRECISION)
        acc1 = _dot(u1, tl.trans(tl.load(wx + J * E, mask=wmask, other=0.0)), acc1, PRECISION)
    xd0 = acc0.to(out_ty)
    xd1 = acc1.to(out_ty)
    if STORE_XD:
        rows_j = r[:, None] * J + j[None, :]
        mj = valid[:, None] & jmask[None, :]
        tl.store(xd_ptr + rows_j, xd0, mask=mj)
        tl.store(xd_ptr + ROWS * J + rows_j, xd1, mask=mj)
    for e0 in range(0, E, BLOCK_E):
        e = e0 + tl.arange(0, BLOCK_E)
        emask = e < E
        wmask = emask[:, None] & (j < R)[None, :]  # the dt columns only: padding and B, C get weight 0
        wdt = wdt_ptr + e[:, None] * R + j[None, :]  # (BLOCK_E, BLOCK_J) rows of dt_proj_w, read along j
        zero = tl.zeros((BLOCK_R, BLOCK_E), dtype=tl.float32)
        d0 = _dot(xd0, tl.trans(tl.load(wdt, mask=wmask, other=0.0)), zero, PRECISION)
        d1 = _dot(xd1, tl.trans(tl.load(wdt + E * R, mask=wmask, other=0.0)), zero, PRECISION)
        rows_e = r[:, None] * E + e[None, :]
        m2 = valid[:, None] & emask[None, :]
        tl.store(dl_ptr + rows_e, d0.to(out_ty), mask=m2)
        tl.store(dl_ptr + ROWS * E + rows_e, d1.to(out_ty), mask=m2)


# Rows and channels per program (dot operands need 16 or more of each). One stage: Triton's software pipelining of
# the channel loop staged every conv tap in shared memory, more than an H200 has at fp32 (283 KB).
FRONT_CFG = dict(BLOCK_R=64, BLOCK_E=64, num_warps=4, num_stages=1)


def front_fwd(x: Tensor, conv_w: Tensor, conv_b: Tensor, xproj_w: Tensor, dt_w: Tensor,
              x_dbl: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:
    """``x`` (b, L, E) any strides; the stacked weights of :func:`rmeeto.ops.triton.bimamba.stack_params`
    (conv (2, E, K), (2, E) fp32; x_proj (2, J, E) and dt_proj (2, E, R) in the compute dtype) ->
    ``(u (2, b, L, E), x_dbl (2, b*L, J), delta (2, b, L, E))`` in the compute dtype. With ``x_dbl`` given (the
    backward's recomputation) it is not written again, and is returned as it is."""
    batch, L, E = x.shape
    cdt, J, R, K = xproj_w.dtype, xproj_w.shape[1], dt_w.shape[-1], conv_w.shape[-1]
    rows = batch * L
    u = torch.empty(2, batch, L, E, device=x.device, dtype=cdt)
    delta = torch.empty(2, batch, L, E, device=x.device, dtype=cdt)
    store_xd = x_dbl is None
    if store_xd:
        x_dbl = torch.empty(2, rows, J, device=x.device, dtype=cdt)
    if rows * E == 0:
        if store_xd:
            x_dbl.zero_()
        return u, x_dbl, delta.zero_()
    BR = max(16, min(FRONT_CFG["BLOCK_R"], next_pow2(rows)))
    BE = max(16, min(FRONT_CFG["BLOCK_E"], next_pow2(E)))
    launch(_front_fwd_kernel, (cdiv(rows, BR),), x, *x.stride(), conv_w, conv_b, xproj_w.contiguous(),
           dt_w.contiguous(), u, x_dbl, delta, rows, L, E, J, R,
           K=K, BLOCK_R=BR, BLOCK_E=BE, BLOCK_J=max(16, next_pow2(J)), STORE_XD=store_xd,
           PRECISION="ieee" if cdt == torch.float32 else "tf32", num_warps=FRONT_CFG["num_warps"],
           num_stages=FRONT_CFG["num_stages"])
    return u, x_dbl, delta
