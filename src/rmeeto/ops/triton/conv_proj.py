"""The bidirectional core's front in one kernel: conv + SiLU, then ``x_proj``, then ``dt_proj``.

Unfused, the front is three passes over (2, b, L, E) tensors: the conv writes ``u``, the ``x_proj`` matmul reads it
back to make ``x_dbl``, and the ``dt_proj`` matmul writes ``delta``. Here one program owns ``BLOCK_M`` rows of the
flattened (batch x length) axis and one direction. It walks the channels in blocks: each block's conv output is
stored as ``u`` and, still in registers, multiplied into the ``x_dbl`` accumulator on the tensor cores. Then
``delta = x_dbl[:, :R] @ dt_proj^T`` is written block by block. ``u`` is never read back.

The arithmetic is the unfused front's: ``u`` is rounded to the compute dtype before ``x_proj`` and ``x_dbl`` before
``dt_proj``, and both products accumulate in fp32 (``input_precision="ieee"`` in fp32, so fp32 stays exact).
Under Triton's interpreter bf16 operands are widened to fp32 first (the same products, as bf16 x bf16 is exact in
fp32): the interpreter of Triton 3.8 returns garbage from a bf16 ``tl.dot``.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from .launch import cdiv, interpreting, launch, next_pow2

CONV_PROJ_CFG = dict(BLOCK_M=64, BLOCK_E=64, num_warps=4, num_stages=3)


@triton.jit
def _conv_proj_kernel(
    x_ptr, s_x_b, s_x_l, s_x_e,  # (b, L, E), any strides: the x half of xz
    w_ptr, b_ptr,  # conv weight (2, E, K) and bias (2, E), fp32
    wx_ptr,  # x_proj (2, P2, E) contiguous
    wdt_ptr,  # dt_proj (2, E, R) contiguous
    u_ptr, xd_ptr, dl_ptr,  # outputs (2, M, E), (2, M, P2), (2, M, E) contiguous; M = b * L
    M, L, E, P2, R,
    K: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_P: tl.constexpr,
    STORE_XDBL: tl.constexpr, IEEE: tl.constexpr, UPCAST: tl.constexpr,
):
    d = tl.program_id(0)  # the direction varies fastest, so both directions of a row block read x while it is cached
    m = tl.program_id(1) * BLOCK_M + tl.arange(0, BLOCK_M)
    mmask = m < M
    bi = (m // L).to(tl.int64)
    t = m % L
    mrow = (d * M + m).to(tl.int64)
    p = tl.arange(0, BLOCK_P)
    pmask = p < P2
    xb = x_ptr + bi * s_x_b
    acc = tl.zeros((BLOCK_M, BLOCK_P), dtype=tl.float32)
    for e0 in range(0, E, BLOCK_E):
        e = e0 + tl.arange(0, BLOCK_E)
        emask = e < E
        pre = tl.zeros((BLOCK_M, BLOCK_E), dtype=tl.float32) + tl.load(b_ptr + d * E + e, mask=emask, other=0.0)[None, :]
        for k in tl.static_range(K):
            q = t + (k - (K - 1)) * (1 - 2 * d)  # causal taps for d = 0, mirrored for d = 1
            valid = (mmask & (q >= 0) & (q < L))[:, None] & emask[None, :]
            xv = tl.load(xb[:, None] + q[:, None] * s_x_l + e[None, :] * s_x_e, mask=valid, other=0.0)
            pre += tl.load(w_ptr + (d * E + e) * K + k, mask=emask, other=0.0)[None, :] * xv.to(tl.float32)
        u = (pre * tl.sigmoid(pre)).to(u_ptr.dtype.element_ty)
        tl.store(u_ptr + mrow[:, None] * E + e[None, :], u, mask=mmask[:, None] & emask[None, :])
        wx = tl.load(wx_ptr + (d * P2 + p[None, :]) * E + e[:, None], mask=emask[:, None] & pmask[None, :], other=0.0)
        if UPCAST:
            acc = tl.dot(u.to(tl.float32), wx.to(tl.float32), acc, input_precision="ieee")
        elif IEEE:
            acc = tl.dot(u, wx, acc, input_precision="ieee")
        else:
            acc = tl.dot(u, wx, acc)
    xd = acc.to(xd_ptr.dtype.element_ty)
    if STORE_XDBL:
        tl.store(xd_ptr + mrow[:, None] * P2 + p[None, :], xd, mask=mmask[:, None] & pmask[None, :])
    for e0 in range(0, E, BLOCK_E):
        e = e0 + tl.arange(0, BLOCK_E)
        emask = e < E
        # rows p >= R of this operand are zero, so the dot sums x_dbl's first R columns only
        wdt = tl.load(wdt_ptr + (d * E + e[None, :]) * R + p[:, None], mask=(p < R)[:, None] & emask[None, :],
                      other=0.0)
        if UPCAST:
            dl = tl.dot(xd.to(tl.float32), wdt.to(tl.float32), input_precision="ieee")
        elif IEEE:
            dl = tl.dot(xd, wdt, input_precision="ieee")
        else:
            dl = tl.dot(xd, wdt)
        tl.store(dl_ptr + mrow[:, None] * E + e[None, :], dl.to(dl_ptr.dtype.element_ty),
                 mask=mmask[:, None] & emask[None, :])


def conv_proj_fwd(x: Tensor, conv_w: Tensor, conv_b: Tensor, xproj_w: Tensor, dt_w: Tensor,
                  x_dbl: bool = True, cfg: dict | None = None) -> tuple[Tensor, Tensor | None, Tensor]:
    """``x`` (b, L, E) any strides, conv ``(2, E, K)`` / ``(2, E)`` fp32, ``xproj_w`` (2, P2, E) and ``dt_w``
    (2, E, R) in the compute dtype -> ``u`` (2, b, L, E), ``x_dbl`` (2, b*L, P2) (None with ``x_dbl=False``, for a
    backward that recomputes ``u`` and ``delta`` and has ``x_dbl`` saved) and ``delta`` (2, b, L, E)."""
    cfg = dict(CONV_PROJ_CFG, **(cfg or {}))
    batch, L, E = x.shape
    P2, R, K = xproj_w.shape[1], dt_w.shape[-1], conv_w.shape[-1]
    cdt = xproj_w.dtype
    M = batch * L
    xproj_w, dt_w = xproj_w.contiguous(), dt_w.contiguous()
    u = torch.empty(2, batch, L, E, device=x.device, dtype=cdt)
    delta = torch.empty(2, batch, L, E, device=x.device, dtype=cdt)
    xd = torch.empty(2, M, P2, device=x.device, dtype=cdt) if x_dbl else None
    if M == 0 or E == 0:
        if xd is not None:
            xd.zero_()
        return u, xd, delta.zero_()
    BM, BE = cfg["BLOCK_M"], min(cfg["BLOCK_E"], max(16, next_pow2(E)))
    launch(_conv_proj_kernel, (2, cdiv(M, BM)), x, *x.stride(), conv_w, conv_b, xproj_w, dt_w, u,
           xd if x_dbl else u, delta, M, L, E, P2, R, K=K, BLOCK_M=BM, BLOCK_E=BE,
           BLOCK_P=max(16, next_pow2(P2)), STORE_XDBL=x_dbl, IEEE=cdt == torch.float32,
           UPCAST=cdt == torch.bfloat16 and interpreting(), num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
    return u, xd, delta
