"""Conv, x_proj and dt_proj of both scan directions in one launch.

For a tile of tokens of one direction, :func:`_conv_proj_kernel` computes ``u = silu(conv(x))`` one channel block at a
time, stores it, and accumulates ``x_dbl = u @ x_proj^T`` on the tensor cores; then ``delta = x_dbl[:, :R] @
dt_proj^T``, again by channel blocks. It replaces the conv kernel and the two batched matmuls of
:func:`rmeeto.ops.triton.bimamba.bimamba_fwd`: two launches fewer per block, and ``u`` is not read back from memory.
Eager forwards of small models are bound by their launches' host time, so the count matters as much as the bytes.

Each direction's conv taps are summed in the order :func:`rmeeto.ops.triton.bimamba._biconv_fwd_kernel` sums them,
so ``u`` is the same in both; ``x_dbl`` and ``delta`` are rounded to the compute dtype as the matmuls round them.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import INTERPRETING, _sigmoid
from .launch import cdiv, launch, next_pow2
from .scan import sm_count

# BLOCK_M tokens per program (halved down to 16 while a launch has fewer than MIN_PROGS_PER_SM programs per
# multiprocessor); BLOCK_E channels per step of the conv and of x_proj's reduction; BLOCK_EO channels of delta per
# step; MAX_WIDTH: widest channel count that takes this kernel (0: never; the conv and two matmuls instead).
CONV_PROJ_CFG = dict(BLOCK_M=64, BLOCK_E=64, BLOCK_EO=64, num_warps=4, num_stages=1, MIN_PROGS_PER_SM=2,
                     MAX_WIDTH=1 << 16)


@triton.jit
def _dot(a, b, acc, IEEE: tl.constexpr):
    """``acc + a @ b``; fp32 operands in full precision (as torch's fp32 matmul), not TF32. Triton's interpreter
    multiplies bf16 tiles wrongly (Triton 3.8), so there the operands go in as fp32, whose products are exact."""
    if INTERPRETING:
        return tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision="ieee")
    elif IEEE:
        return tl.dot(a, b, acc, input_precision="ieee")
    else:
        return tl.dot(a, b, acc)


@triton.jit
def _conv_silu(xb, s_x_l, w_ptr, b_ptr, d, t, e, emask, L, E, K: tl.constexpr, BLOCK_M: tl.constexpr,
               BLOCK_E: tl.constexpr):
    """``silu`` of direction ``d``'s conv at tokens ``t``, channels ``e``: the causal conv (d = 0) sums taps
    0..K-1, the anti-causal one (d = 1) taps K-1..0, each reading x at ``t + (k - (K-1))`` mirrored."""
    acc = tl.zeros((BLOCK_M, BLOCK_E), dtype=tl.float32) + tl.load(b_ptr + d * E + e, mask=emask, other=0.0)[None, :]
    for i in tl.static_range(K):
        k = i + d * (K - 1 - 2 * i)
        q = t + (k - (K - 1)) * (1 - 2 * d)
        m = ((q >= 0) & (q < L))[:, None] & emask[None, :]
        xv = tl.load(xb + q[:, None] * s_x_l, mask=m, other=0.0).to(tl.float32)
        acc += tl.load(w_ptr + (d * E + e) * K + k, mask=emask, other=0.0)[None, :] * xv
    return acc * _sigmoid(acc)


@triton.jit
def _conv_proj_kernel(
    x_ptr, s_x_b, s_x_l, s_x_e,
    w_ptr, b_ptr,  # conv (2, E, K), (2, E) fp32
    xw_ptr, s_xw_d, s_xw_p, s_xw_e, dtw_ptr,  # x_proj (2, P, E) any strides, dt_proj (2, E, R) contiguous
    u_ptr, xd_ptr, dl_ptr,  # u (2, b, L, E), x_dbl (2, b*L, P), delta (2, b, L, E), contiguous
    L, E, P, R,
    K: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_EO: tl.constexpr, BLOCK_P: tl.constexpr,
    STORE_XD: tl.constexpr, IEEE: tl.constexpr,
):
    """Grid (token tiles, batch, direction)."""
    b = tl.program_id(1).to(tl.int64)
    d = tl.program_id(2)
    t = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    tmask = t < L
    row = (d * tl.num_programs(1) + b) * L + t  # the token's row of u, x_dbl and delta
    p = tl.arange(0, BLOCK_P)
    xb = x_ptr + b * s_x_b
    xd = tl.zeros((BLOCK_M, BLOCK_P), dtype=tl.float32)
    for e0 in range(0, E, BLOCK_E):
        e = e0 + tl.arange(0, BLOCK_E)
        emask = e < E
        u = _conv_silu(xb + e[None, :] * s_x_e, s_x_l, w_ptr, b_ptr, d, t, e, emask, L, E, K, BLOCK_M,
                       BLOCK_E).to(u_ptr.dtype.element_ty)
        tl.store(u_ptr + row[:, None] * E + e[None, :], u, mask=tmask[:, None] & emask[None, :])
        xw = tl.load(xw_ptr + d * s_xw_d + p[None, :] * s_xw_p + e[:, None] * s_xw_e,
                     mask=emask[:, None] & (p < P)[None, :],
                     other=0.0)
        xd = _dot(u, xw, xd, IEEE)
    xd = xd.to(xd_ptr.dtype.element_ty)
    if STORE_XD:
        tl.store(xd_ptr + row[:, None] * P + p[None, :], xd, mask=tmask[:, None] & (p < P)[None, :])
    for e0 in range(0, E, BLOCK_EO):
        e = e0 + tl.arange(0, BLOCK_EO)
        emask = e < E
        dtw = tl.load(dtw_ptr + (d * E + e[None, :]) * R + p[:, None], mask=(p < R)[:, None] & emask[None, :],
                      other=0.0)
        dl = _dot(xd, dtw, tl.zeros((BLOCK_M, BLOCK_EO), dtype=tl.float32), IEEE)
        tl.store(dl_ptr + row[:, None] * E + e[None, :], dl.to(dl_ptr.dtype.element_ty),
                 mask=tmask[:, None] & emask[None, :])


def fits(E: int) -> bool:
    """Whether a core of ``E`` channels takes :func:`conv_proj` (``CONV_PROJ_CFG['MAX_WIDTH']``)."""
    return E <= CONV_PROJ_CFG["MAX_WIDTH"]


def _block_m(L: int, batch: int, device: torch.device) -> int:
    """Tokens per program: ``BLOCK_M``, halved (not below 16) while the launch would leave multiprocessors short."""
    bm = max(16, min(CONV_PROJ_CFG["BLOCK_M"], next_pow2(L)))
    want = CONV_PROJ_CFG["MIN_PROGS_PER_SM"] * sm_count(device)
    while bm > 16 and 2 * batch * cdiv(L, bm) < want:
        bm //= 2
    return bm


def conv_proj(x: Tensor, conv_w: Tensor, conv_b: Tensor, xproj_w: Tensor, dt_w: Tensor,
              store_x_dbl: bool = True) -> tuple[Tensor, Optional[Tensor], Tensor]:
    """x: (b, L, E) any strides; weights stacked as :func:`rmeeto.ops.triton.bimamba.stack_params` gives them.
    Returns ``(u (2, b, L, E), x_dbl (2, b*L, P) or None, delta (2, b, L, E))`` in ``xproj_w``'s dtype."""
    batch, L, E = x.shape
    P, R, K = xproj_w.shape[1], dt_w.shape[-1], conv_w.shape[-1]
    cdt = xproj_w.dtype
    u = torch.empty(2, batch, L, E, device=x.device, dtype=cdt)
    delta = torch.empty_like(u)
    x_dbl = torch.empty(2, batch * L, P, device=x.device, dtype=cdt) if store_x_dbl else None
    if u.numel() == 0:
        return u, x_dbl, delta
    cfg = CONV_PROJ_CFG
    bm = _block_m(L, batch, x.device)
    be, beo = (max(16, min(cfg[k], next_pow2(E))) for k in ("BLOCK_E", "BLOCK_EO"))
    launch(_conv_proj_kernel, (cdiv(L, bm), batch, 2), x, *x.stride(), conv_w, conv_b, xproj_w, *xproj_w.stride(), dt_w, u,
           x_dbl if store_x_dbl else u, delta, L, E, P, R, K=K, BLOCK_M=bm, BLOCK_E=be, BLOCK_EO=beo,
           BLOCK_P=max(16, next_pow2(P)), STORE_XD=store_x_dbl, IEEE=cdt == torch.float32,
           num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
    return u, x_dbl, delta
