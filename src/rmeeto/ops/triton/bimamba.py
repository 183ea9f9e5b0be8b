"""Triton fast path for the bidirectional ("bimamba v2") Mamba core.

Pipeline (forward), all in the original token order, no flipped copies:

1. ``_biconv_fwd_kernel``: one launch computes ``u[0] = silu(causal_conv(x))`` and
   ``u[1] = silu(anticausal_conv(x))`` (the backward direction's conv, read right to left)
   straight from the ``x`` half of ``xz``;
2. ``x_dbl = u @ x_proj_w^T`` and ``delta = dt @ dt_proj_w^T`` as batched cuBLAS matmuls over the
   two directions;
3. the bidirectional selective scan of :mod:`rmeeto.ops.triton.scan` (direction 1 walks from the
   end) with softplus(delta + bias), the D skip, the ``silu(z)`` gate and ``(y_f + y_b) / 2``
   fused; ``z`` is read from ``xz`` in place.

Backward recomputes the conv output and ``delta`` (like mamba's ``checkpoint_lvl=1``), runs the
scan backward kernel, the matmul gradients in torch (in the compute dtype unless
``RMEETO_GRAD_FP32=1``), then the conv backward in two passes: ``_biconv_dpre_kernel`` (the
pre-activation gradient of both directions, in fp16 for fp16 gradients, and the weight/bias partials) and
``_biconv_dx_kernel``, which writes ``dx`` into the first half of ``dxz`` (the scan kernel writes ``dz`` into the
second half).

Everything is shape-static and sync-free, so the forward can be captured in a CUDA graph.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import _sigmoid
from .launch import cdiv, launch, next_pow2
from .scan import scan_bwd, scan_fwd


# ----------------------------------------------------------------------------------------------
# fused bidirectional depthwise conv1d + SiLU
# ----------------------------------------------------------------------------------------------
@triton.jit
def _conv_tile(L, E, BLOCK_L: tl.constexpr, BLOCK_E: tl.constexpr):
    """This program's tile of a (L, E) plane: grid (L tiles, E tiles, batch)."""
    pid_l = tl.program_id(0)
    pid_b = tl.program_id(2).to(tl.int64)
    t = pid_l * BLOCK_L + tl.arange(0, BLOCK_L)
    e = tl.program_id(1) * BLOCK_E + tl.arange(0, BLOCK_E)
    return pid_l, pid_b, t, t < L, e, e < E


@triton.jit
def _conv_pre(xb, s_x_l, w_ptr, b_ptr, d, s, smask, e, emask, L, E,
              K: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_E: tl.constexpr):
    """Pre-activation of direction ``d`` at positions ``s``: bias + sum_k w[k] x[s + off(k)], where
    off(k) = k - (K-1) (causal, d = 0) or (K-1) - k (anti-causal, d = 1); zero where ``smask`` is false."""
    acc = tl.zeros((BLOCK_L, BLOCK_E), dtype=tl.float32) \
        + tl.load(b_ptr + d * E + e, mask=emask, other=0.0)[None, :]
    for k in tl.static_range(K):
        q = s + (k - (K - 1)) * (1 - 2 * d)  # tap k reads offset k-(K-1), mirrored for d = 1
        m = (smask & (q >= 0) & (q < L))[:, None] & emask[None, :]
        xv = tl.load(xb + q[:, None] * s_x_l, mask=m, other=0.0).to(tl.float32)
        acc += tl.load(w_ptr + (d * E + e) * K + k, mask=emask, other=0.0)[None, :] * xv
    return acc


@triton.jit
def _biconv_fwd_kernel(
    x_ptr, s_x_b, s_x_l, s_x_e,
    w_ptr, b_ptr,  # (2, E, K) fp32, (2, E) fp32
    u_ptr, s_u_d, s_u_b, s_u_l, s_u_e,
    L, E,
    K: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_E: tl.constexpr,
):
    """Both directions from one pass over the 2K-1 row offsets: offset ``o`` is tap ``o+K-1`` of the causal conv
    (``o <= 0``) and tap ``K-1-o`` of the anti-causal one (``o >= 0``). Each shifted tile is loaded once, and all of
    them are in flight together."""
    pid_l, pid_b, t, tmask, e, emask = _conv_tile(L, E, BLOCK_L, BLOCK_E)
    xb = x_ptr + pid_b * s_x_b + e[None, :] * s_x_e
    acc0 = tl.zeros((BLOCK_L, BLOCK_E), dtype=tl.float32) + tl.load(b_ptr + e, mask=emask, other=0.0)[None, :]
    acc1 = tl.zeros((BLOCK_L, BLOCK_E), dtype=tl.float32) + tl.load(b_ptr + E + e, mask=emask, other=0.0)[None, :]
    for j in tl.static_range(2 * K - 1):
        q = t + (j - (K - 1))
        m = ((q >= 0) & (q < L))[:, None] & emask[None, :]
        xv = tl.load(xb + q[:, None] * s_x_l, mask=m, other=0.0).to(tl.float32)
        if j <= K - 1:
            acc0 += tl.load(w_ptr + e * K + j, mask=emask, other=0.0)[None, :] * xv
        if j >= K - 1:
            acc1 += tl.load(w_ptr + (E + e) * K + (2 * K - 2 - j), mask=emask, other=0.0)[None, :] * xv
    out = u_ptr + pid_b * s_u_b + t[:, None] * s_u_l + e[None, :] * s_u_e
    m2 = tmask[:, None] & emask[None, :]
    tl.store(out, (acc0 * _sigmoid(acc0)).to(u_ptr.dtype.element_ty), mask=m2)
    tl.store(out + s_u_d, (acc1 * _sigmoid(acc1)).to(u_ptr.dtype.element_ty), mask=m2)


@triton.jit
def _biconv_dpre_kernel(
    x_ptr, s_x_b, s_x_l, s_x_e,
    w_ptr, b_ptr,
    g1_ptr, s_g1_d, s_g1_b, s_g1_l, s_g1_e,  # gradient of u, part 1 (from the scan)
    g2_ptr, s_g2_d, s_g2_b, s_g2_l, s_g2_e,  # gradient of u, part 2 (from the x_proj matmul)
    dp_ptr,  # (2, b, L, E) fp16 or fp32 (see biconv_bwd): gradient of the pre-activation
    dw_ptr, db_ptr,  # (2, programs_bl, E, K), (2, programs_bl, E) fp32 partials
    L, E, NPROG_BL,
    K: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_E: tl.constexpr,
):
    """Backward pass 1: dpre = du * silu'(pre) at each position, plus this tile's dw/dbias partials."""
    pid_l, pid_b, t, tmask, e, emask = _conv_tile(L, E, BLOCK_L, BLOCK_E)
    m2 = tmask[:, None] & emask[None, :]
    xb = x_ptr + pid_b * s_x_b + e[None, :] * s_x_e
    prog_bl = pid_b * tl.num_programs(0) + pid_l
    for d in tl.static_range(2):
        pre = _conv_pre(xb, s_x_l, w_ptr, b_ptr, d, t, tmask, e, emask, L, E, K, BLOCK_L, BLOCK_E)
        gu = tl.load(g1_ptr + d * s_g1_d + pid_b * s_g1_b + t[:, None] * s_g1_l + e[None, :] * s_g1_e,
                     mask=m2, other=0.0).to(tl.float32)
        gu += tl.load(g2_ptr + d * s_g2_d + pid_b * s_g2_b + t[:, None] * s_g2_l + e[None, :] * s_g2_e,
                      mask=m2, other=0.0).to(tl.float32)
        sg = _sigmoid(pre)
        dpre = tl.where(m2, gu * sg * (1.0 + pre * (1.0 - sg)), 0.0)
        tl.store(dp_ptr + ((d * tl.num_programs(2) + pid_b) * L + t[:, None]) * E + e[None, :],
                 dpre.to(dp_ptr.dtype.element_ty), mask=m2)
        tl.store(db_ptr + (d * NPROG_BL + prog_bl) * E + e, tl.sum(dpre, axis=0), mask=emask)
        for k in tl.static_range(K):
            q = t + (k - (K - 1)) * (1 - 2 * d)
            m = ((q >= 0) & (q < L))[:, None] & emask[None, :]
            xv = tl.load(xb + q[:, None] * s_x_l, mask=m, other=0.0).to(tl.float32)
            tl.store(dw_ptr + ((d * NPROG_BL + prog_bl) * E + e) * K + k, tl.sum(dpre * xv, axis=0), mask=emask)


@triton.jit
def _biconv_dx_kernel(
    dp_ptr, w_ptr,
    dx_ptr, s_dx_b, s_dx_l, s_dx_e,
    L, E,
    K: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_E: tl.constexpr,
):
    """Backward pass 2: x[t] fed u_d[t - off_d(k)] through w_d[k], so dx[t] = sum_d,k w_d[k] dpre_d[t - off_d(k)]."""
    pid_l, pid_b, t, tmask, e, emask = _conv_tile(L, E, BLOCK_L, BLOCK_E)
    dx = tl.zeros((BLOCK_L, BLOCK_E), dtype=tl.float32)
    for d in tl.static_range(2):
        base = dp_ptr + (d * tl.num_programs(2) + pid_b) * L * E + e[None, :]
        for k in tl.static_range(K):
            s = t - (k - (K - 1)) * (1 - 2 * d)
            m = ((s >= 0) & (s < L))[:, None] & emask[None, :]
            dp = tl.load(base + s[:, None] * E, mask=m, other=0.0).to(tl.float32)
            dx += tl.load(w_ptr + (d * E + e) * K + k, mask=emask, other=0.0)[None, :] * dp
    tl.store(dx_ptr + pid_b * s_dx_b + t[:, None] * s_dx_l + e[None, :] * s_dx_e,
             dx.to(dx_ptr.dtype.element_ty), mask=tmask[:, None] & emask[None, :])


# Block sizes, each the fastest of eight at Vim-S, Vim-Ti and VideoMamba-S shapes on one H200 (2026-12-01,
# docs/benchmarks/2026-12-01-h200-merge-cost, scripts/bench_conv.py): forward 0.058 ms against 0.107 with the
# earlier shared 32/64/4 at batch 128 x 768 x 197, backward 0.42 against 0.66 ms. maxnreg is a register cap for
# ptxas (0: none). The forward's 96 (from 128; four programs of 4 warps per multiprocessor become five): 0.0481 against
# 0.0517 ms alone at 128 x 768 x 197, Vim-S 1.005x and Vim-Ti 1.003-1.006x in CUDA graphs (one H200, 2026-12-03,
# docs/benchmarks/2026-12-03-h200-conv-cap, run 62); 80 spilled and was slower, as were 8-row tiles.
CONV_FWD_CFG = dict(BLOCK_L=16, BLOCK_E=128, num_warps=4, maxnreg=96)
# The backward's 16/32/1 (from 32/64/2, whose first pass held 4 programs of 2 warps per multiprocessor, 12.5 %
# occupancy, at 214 registers): 0.250 against 0.318 ms at 128 x 768 x 197, 0.138 against 0.195 at 128 x 384 x 197,
# 0.459 against 0.495 at 32 x 768 x 1569 (same record, run 63, the best of seven blockings at all three).
CONV_BWD_CFG = dict(BLOCK_L=16, BLOCK_E=32, num_warps=1, maxnreg=0)


def _warps_and_cap(cfg: dict) -> dict:
    """The launch options ``num_warps`` and, where ``cfg`` sets one, the register cap ``maxnreg``."""
    return dict(num_warps=cfg["num_warps"], **({"maxnreg": cfg["maxnreg"]} if cfg.get("maxnreg") else {}))


def biconv_fwd(x: Tensor, w: Tensor, bias: Tensor, out_dtype) -> Tensor:
    """x: (b, L, E) any strides; w: (2, E, K) fp32; bias: (2, E) fp32 -> u (2, b, L, E)."""
    batch, L, E = x.shape
    K = w.shape[-1]
    u = torch.empty(2, batch, L, E, device=x.device, dtype=out_dtype)
    if u.numel() == 0:
        return u
    BL = min(CONV_FWD_CFG["BLOCK_L"], next_pow2(L))
    BE = min(CONV_FWD_CFG["BLOCK_E"], next_pow2(E))
    grid = (cdiv(L, BL), cdiv(E, BE), batch)
    launch(_biconv_fwd_kernel, grid, x, *x.stride(), w, bias, u, *u.stride(), L, E,
           K=K, BLOCK_L=BL, BLOCK_E=BE, **_warps_and_cap(CONV_FWD_CFG))
    return u


def biconv_bwd(x: Tensor, w: Tensor, bias: Tensor, g1: Tensor, g2: Tensor, dx: Tensor,
               scratch_dtype: Optional[torch.dtype] = None):
    """Writes dx (b, L, E view) and returns (dw (2, E, K), dbias (2, E)) in fp32. Two passes: the
    pre-activation gradient of both directions, then dx from it. That gradient goes through memory in
    ``scratch_dtype``; by default fp16 when ``g1`` (the gradient dtype) is fp16, else fp32: rounded to bf16 it doubled
    the error of dx, in fp16 it left every error as it was (``scripts/conv_scratch_error.py``). dw and dbias are
    summed from it in fp32 before it is rounded."""
    batch, L, E = x.shape
    K = w.shape[-1]
    BL = min(CONV_BWD_CFG["BLOCK_L"], next_pow2(L))
    BE = min(CONV_BWD_CFG["BLOCK_E"], next_pow2(E))
    grid = (cdiv(L, BL), cdiv(E, BE), batch)
    nbl = grid[0] * grid[2]
    dw = torch.empty(2, nbl, E, K, device=x.device, dtype=torch.float32)
    db = torch.empty(2, nbl, E, device=x.device, dtype=torch.float32)
    if batch * L * E == 0:
        return dw.sum(1), db.sum(1)
    if scratch_dtype is None:
        scratch_dtype = torch.float16 if g1.dtype == torch.float16 else torch.float32
    dpre = torch.empty(2, batch, L, E, device=x.device, dtype=scratch_dtype)
    meta = dict(K=K, BLOCK_L=BL, BLOCK_E=BE, **_warps_and_cap(CONV_BWD_CFG))
    launch(_biconv_dpre_kernel, grid, x, *x.stride(), w, bias, g1, *g1.stride(), g2, *g2.stride(),
           dpre, dw, db, L, E, nbl, **meta)
    launch(_biconv_dx_kernel, grid, dpre, w, dx, *dx.stride(), L, E, **meta)
    return dw.sum(1), db.sum(1)


# ----------------------------------------------------------------------------------------------
# forward and backward on plain tensors (the autograd function and the custom op both call these)
# ----------------------------------------------------------------------------------------------
def compute_dtype(xz: Tensor) -> torch.dtype:
    """The dtype the core computes in: autocast's where it is on, else ``xz``'s."""
    dev = xz.device.type
    if dev in ("cuda", "cpu") and torch.is_autocast_enabled(dev):
        return torch.get_autocast_dtype(dev)
    return xz.dtype


def stack_params(fwd, bwd, cdt: torch.dtype) -> tuple[Tensor, ...]:
    """Both directions' weights (:class:`rmeeto.ops.bimamba.DirectionParams`) stacked, as the kernels take
    them: conv weight (2, E, K) and bias (2, E) fp32, x_proj (2, P+2N, E) (:func:`_pad_bc_rows`) and dt_proj
    (2, E, R) in ``cdt``, A = -exp(A_log) (2, E, N) as a view of a (2, N, E) tensor, D (2, E) and the dt bias
    (2, E) fp32. Differentiable."""
    E, _, K = fwd.conv_weight.shape
    conv_w = torch.stack([fwd.conv_weight.reshape(E, K), bwd.conv_weight.reshape(E, K)]).float()
    conv_b = torch.stack([p.conv_bias if p.conv_bias is not None else fwd.conv_weight.new_zeros(E)
                          for p in (fwd, bwd)]).float()
    xproj_w = _pad_bc_rows(torch.stack([fwd.x_proj_weight, bwd.x_proj_weight]).to(cdt), fwd.A_log.shape[1])
    dt_w = torch.stack([fwd.dt_proj_weight, bwd.dt_proj_weight]).to(cdt)
    A = -torch.exp(torch.stack([fwd.A_log.t(), bwd.A_log.t()]).float()).transpose(1, 2)  # channels contiguous
    D = torch.stack([fwd.D, bwd.D]).float()
    dt_b = torch.stack([fwd.dt_proj_bias, bwd.dt_proj_bias]).float()
    return conv_w, conv_b, xproj_w, dt_w, A, D, dt_b


def _pad_bc_rows(xproj_w: Tensor, N: int) -> Tensor:
    """x_proj (2, R+2N, E) with zero rows after the R dt rows, up to a multiple of 16 rows: then every row of
    ``x_dbl`` and its B and C slices start on 32 bytes, and the scan reads B and C with vector loads."""
    R = xproj_w.shape[1] - 2 * N
    pad = -xproj_w.shape[1] % 16
    if pad == 0:
        return xproj_w
    zeros = xproj_w.new_zeros(xproj_w.shape[0], pad, xproj_w.shape[2])
    return torch.cat([xproj_w[:, :R], zeros, xproj_w[:, R:]], dim=1)


def bc_offset(x_dbl: Tensor, N: int) -> int:
    """Column of ``x_dbl`` where B starts (after the dt columns and any padding of :func:`_pad_bc_rows`)."""
    return x_dbl.shape[-1] - 2 * N


def _unpack(xz: Tensor, dt_w: Tensor, A: Tensor):
    """(batch, L, E, dt rank R, state size N, x, z) of the in_proj output ``xz`` = [x | z]."""
    batch, L, E2 = xz.shape
    E = E2 // 2
    return batch, L, E, dt_w.shape[-1], A.shape[-1], xz[..., :E], xz[..., E:]


def bimamba_fwd(xz: Tensor, conv_w: Tensor, conv_b: Tensor, xproj_w: Tensor, dt_w: Tensor, A: Tensor, D: Tensor,
                dt_b: Tensor, out_scale: float, for_backward: bool) -> tuple[Tensor, Tensor, Tensor]:
    """The core on the stacked weights of :func:`stack_params`; computes in ``xproj_w``'s dtype.
    Returns ``(out (b, L, E), x_dbl (2, b*L, P+2N), delta (2, b, L, E))``; ``P`` is :func:`bc_offset`."""
    cdt = xproj_w.dtype
    batch, L, E, R, N, x, z = _unpack(xz, dt_w, A)
    u = biconv_fwd(x, conv_w, conv_b, cdt)  # (2, b, L, E)
    x_dbl = torch.bmm(u.view(2, batch * L, E), xproj_w.transpose(1, 2))  # (2, bL, P+2N), P >= R
    P = bc_offset(x_dbl, N)
    xd = x_dbl.view(2, batch, L, P + 2 * N)
    out = torch.empty(batch, L, E, device=xz.device, dtype=cdt)
    delta = torch.bmm(x_dbl[..., :R], dt_w.transpose(1, 2)).view(2, batch, L, E)
    scan_fwd(u, delta, xd[..., P:P + N], xd[..., P + N:], z, A, D, dt_b, out, True, out_scale,
             for_backward=for_backward)
    return out, x_dbl, delta


def bimamba_bwd(gout: Tensor, xz: Tensor, x_dbl: Tensor, conv_w: Tensor, conv_b: Tensor, xproj_w: Tensor,
                dt_w: Tensor, A: Tensor, D: Tensor, dt_b: Tensor, out_scale: float,
                grad_fp32: bool) -> tuple[Tensor, ...]:
    """Gradients of :func:`bimamba_fwd` for (xz, conv_w, conv_b, xproj_w, dt_w, A, D, dt_b), in the dtypes
    of those inputs except x_proj/dt_proj, which come in the gradient dtype (fp32 with ``grad_fp32``)."""
    cdt = xproj_w.dtype
    batch, L, E, R, N, x, z = _unpack(xz, dt_w, A)
    u = biconv_fwd(x, conv_w, conv_b, cdt)
    dt = x_dbl[..., :R]
    delta = torch.bmm(dt, dt_w.transpose(1, 2)).view(2, batch, L, E)
    P = bc_offset(x_dbl, N)
    xd = x_dbl.view(2, batch, L, P + 2 * N)
    dxz = torch.empty(batch, L, 2 * E, device=xz.device, dtype=xz.dtype)
    # gradients of u and delta in fp32 (grad_fp32) or, like mamba_ssm's kernels, in the compute dtype,
    # which halves their traffic and runs the matmuls on tensor cores
    gdt = torch.float32 if grad_fp32 else cdt
    du = torch.empty(2, batch, L, E, device=xz.device, dtype=gdt)
    ddelta = torch.empty(2, batch, L, E, device=xz.device, dtype=gdt)
    dBC, dA, dD, ddb = scan_bwd(u, delta, xd[..., P:P + N], xd[..., P + N:], z, A, D, dt_b, gout, du, ddelta,
                                dxz[..., E:], True, out_scale)
    dd2 = ddelta.view(2, batch * L, E)
    ddt = torch.bmm(dd2, dt_w.to(gdt))  # (2, bL, R)
    ddtw = torch.bmm(dd2.transpose(1, 2), dt.to(gdt))  # (2, E, R)
    pad = ddt.new_zeros(2, batch * L, P - R)
    dx_dbl = torch.cat([ddt, pad, dBC.view(2, batch * L, 2 * N).to(gdt)], dim=-1)
    dxw = torch.bmm(dx_dbl.transpose(1, 2), u.view(2, batch * L, E).to(gdt))  # (2, P+2N, E)
    du_mm = torch.bmm(dx_dbl, xproj_w.to(gdt)).view(2, batch, L, E)
    dw, dcb = biconv_bwd(x, conv_w, conv_b, du, du_mm, dxz[..., :E])
    return dxz, dw, dcb, dxw, ddtw, dA, dD, ddb


class _BiMambaInnerFn(torch.autograd.Function):
    """The eager path: an autograd function costs a fraction of a custom op's host time per call."""

    @staticmethod
    def forward(ctx, xz, conv_w, conv_b, xproj_w, dt_w, A, D, dt_b, out_scale, for_backward, grad_fp32):
        out, x_dbl, delta = bimamba_fwd(xz, conv_w, conv_b, xproj_w, dt_w, A, D, dt_b, out_scale, for_backward)
        ctx.save_for_backward(xz, x_dbl, conv_w, conv_b, xproj_w, dt_w, A, D, dt_b)
        ctx.out_scale, ctx.grad_fp32 = out_scale, grad_fp32
        ctx.mark_non_differentiable(x_dbl, delta)
        return out, x_dbl, delta

    @staticmethod
    def backward(ctx, gout, _gx, _gd):
        xz, x_dbl, *params = ctx.saved_tensors
        grads = bimamba_bwd(gout, xz, x_dbl, *params, ctx.out_scale, ctx.grad_fp32)
        return (*[g.to(p.dtype) for g, p in zip(grads, (xz, *params))], None, None, None)


def bimamba_core(xz: Tensor, params: tuple[Tensor, ...], out_scale: float, for_backward: bool,
                 grad_fp32: bool) -> tuple[Tensor, Tensor, Tensor]:
    """Eager entry: ``(out, x_dbl, delta)`` with autograd to ``xz`` and the stacked ``params``."""
    with torch.autocast(xz.device.type, enabled=False):
        return _BiMambaInnerFn.apply(xz, *params, out_scale, for_backward, grad_fp32)
