"""Fused residual-add + RMSNorm (Triton, forward + backward) keeping an fp32 residual stream.

``add_rmsnorm(hidden, residual, weight, eps) -> (normed, residual_out)``:

    residual_out = (residual + hidden if residual is not None else hidden).float()
    normed = (residual_out * rsqrt(mean(residual_out ** 2, -1) + eps) * weight).to(hidden.dtype)

One program per row; the backward recomputes ``rstd`` from the saved fp32 residual and returns
gradients for ``hidden``, ``residual`` and ``weight`` (weight gradient via per-program partials
summed by torch: deterministic).
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import needs_grad
from .launch import launch, next_pow2


@triton.jit
def _add_rmsnorm_fwd_kernel(h_ptr, r_ptr, w_ptr, n_ptr, ro_ptr, D, eps,
                            HAS_RES: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    c = tl.arange(0, BLOCK)
    m = c < D
    x = tl.load(h_ptr + row * D + c, mask=m, other=0.0).to(tl.float32)
    if HAS_RES:
        x += tl.load(r_ptr + row * D + c, mask=m, other=0.0).to(tl.float32)
    tl.store(ro_ptr + row * D + c, x, mask=m)
    rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / D + tl.cast(eps, tl.float32))
    w = tl.load(w_ptr + c, mask=m, other=0.0).to(tl.float32)
    tl.store(n_ptr + row * D + c, (x * rstd * w).to(n_ptr.dtype.element_ty), mask=m)


@triton.jit
def _add_rmsnorm_bwd_kernel(ro_ptr, w_ptr, g_ptr, gr_ptr, dx_ptr, dw_ptr, D, eps,
                            HAS_GRES: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    c = tl.arange(0, BLOCK)
    m = c < D
    x = tl.load(ro_ptr + row * D + c, mask=m, other=0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / D + tl.cast(eps, tl.float32))
    w = tl.load(w_ptr + c, mask=m, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + row * D + c, mask=m, other=0.0).to(tl.float32)
    gw = g * w
    dx = rstd * gw - (rstd * rstd * rstd / D) * tl.sum(gw * x, axis=0) * x
    if HAS_GRES:
        dx += tl.load(gr_ptr + row * D + c, mask=m, other=0.0).to(tl.float32)
    tl.store(dx_ptr + row * D + c, dx, mask=m)
    tl.store(dw_ptr + row * D + c, g * x * rstd, mask=m)


def _launch_cfg(D):
    BLOCK = next_pow2(D)
    return BLOCK, min(max(BLOCK // 256, 1), 8)


def add_rmsnorm_fwd(hidden: Tensor, residual: Optional[Tensor], weight: Tensor,
                    eps: float) -> tuple[Tensor, Tensor]:
    """``(normed in hidden's dtype, residual_out fp32)``, both in ``hidden``'s shape; the kernel sees rows of the last
    dim. No reshapes: an eager block's inference runs this once, and its host time is the block's."""
    D = hidden.shape[-1]
    hidden = hidden.contiguous()
    residual = residual.contiguous() if residual is not None else None
    rows = hidden.numel() // D if D else 0
    normed = torch.empty_like(hidden)
    res_out = torch.empty(hidden.shape, device=hidden.device, dtype=torch.float32)
    BLOCK, nw = _launch_cfg(D)
    if rows:
        launch(_add_rmsnorm_fwd_kernel, (rows,), hidden, residual if residual is not None else hidden, weight, normed,
               res_out, D, float(eps), HAS_RES=residual is not None, BLOCK=BLOCK, num_warps=nw)
    return normed, res_out


def add_rmsnorm_bwd(g_normed: Tensor, g_res: Optional[Tensor], res_out: Tensor, weight: Tensor,
                    eps: float) -> tuple[Tensor, Tensor]:
    """``(d residual_in (rows, D) fp32, d weight (D,) fp32)``; the hidden gradient equals the residual one."""
    rows, D = res_out.shape
    g2 = g_normed.reshape(-1, D).contiguous()
    gr2 = g_res.reshape(-1, D).contiguous() if g_res is not None else None
    dx = torch.empty(rows, D, device=res_out.device, dtype=torch.float32)
    dwp = torch.empty(rows, D, device=res_out.device, dtype=torch.float32)
    BLOCK, nw = _launch_cfg(D)
    if rows:
        launch(_add_rmsnorm_bwd_kernel, (rows,), res_out, weight, g2, gr2 if gr2 is not None else g2, dx, dwp, D,
               float(eps), HAS_GRES=gr2 is not None, BLOCK=BLOCK, num_warps=nw)
    return dx, dwp.sum(0)


class _AddRMSNormFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, residual, weight, eps):
        normed, res_out = add_rmsnorm_fwd(hidden, residual, weight, eps)
        ctx.save_for_backward(res_out, weight)
        ctx.eps = eps
        ctx.meta = (hidden.shape, hidden.dtype, None if residual is None else residual.dtype)
        return normed, res_out

    @staticmethod
    def backward(ctx, g_normed, g_res):
        res_out, weight = ctx.saved_tensors
        shape, hdt, rdt = ctx.meta
        if g_normed is None:
            g_normed = torch.zeros(shape, device=res_out.device, dtype=hdt)
        dx, dw = add_rmsnorm_bwd(g_normed, g_res, res_out.reshape(-1, res_out.shape[-1]), weight, ctx.eps)
        dh = dx.to(hdt).view(shape)
        # a separate buffer: autograd may keep dh as hidden.grad and accumulate into it in place
        dr = dx.to(rdt, copy=True).view(shape) if rdt is not None else None
        return dh, dr, dw.to(weight.dtype), None


def add_rmsnorm_plain(hidden: Tensor, residual: Optional[Tensor], weight: Tensor,
                      eps: float) -> tuple[Tensor, Tensor]:
    """:func:`add_rmsnorm` without autograd, both outputs in ``hidden``'s shape."""
    return add_rmsnorm_fwd(hidden, residual, weight, eps)


def add_rmsnorm(hidden: Tensor, residual: Optional[Tensor], weight: Tensor, eps: float = 1e-5):
    """Returns ``(normed in hidden.dtype, residual fp32)``; see the module docstring."""
    if not needs_grad(hidden, residual, weight):
        return add_rmsnorm_plain(hidden, residual, weight, eps)
    return _AddRMSNormFn.apply(hidden, residual, weight, eps)
