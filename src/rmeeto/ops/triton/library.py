"""The Triton kernels as PyTorch custom ops (``torch.ops.rmeeto.*``), for ``torch.compile`` and ``torch.export``.

Each op has a fake (shape-only) implementation and, where it is differentiable, an autograd formula
that calls its ``*_backward`` op, so Dynamo sees one opaque node instead of a kernel launch and an
exported program runs the same kernels. Eagerly, the functions at the bottom call the autograd
functions of the kernel modules instead: a custom op costs several times their host time per call
(measured on this package's CPU machine, 2026-12-01: 28 vs 10 us without autograd, 83 vs 13 us with it).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .. import settings
from ..bimamba import DirectionParams
from . import bimamba as tb
from . import stack_cache
from . import merge as tm
from . import merge_once
from . import norm as tn
from .common import needs_grad
from .launch import traceable_launches
from .stack import stack_params_launched

# Ops that only forwards without autograd call (compiled inference) are registered below custom_op's Python layers
# (its autograd wrapper and its aliasing checks): on this package's CPU machine a call through custom_op cost about
# twice as much host time (docs/benchmarks/2026-12-02-cpu-op-dispatch), and a compiled Vim-S r=11 forward makes
# about 60 such calls.
_NO_AUTOGRAD = torch.library.Library("rmeeto", "FRAGMENT")


def _op_without_autograd(name: str, impl, fake) -> None:
    """Define ``rmeeto::name`` from ``impl``'s annotations, with ``impl`` for every device and ``fake`` for tracing;
    gradients do not flow through it."""
    _NO_AUTOGRAD.define(name + torch.library.infer_schema(impl, mutates_args=()))
    _NO_AUTOGRAD.impl(name, impl, "CompositeExplicitAutograd")
    torch.library.register_fake(f"rmeeto::{name}", fake, lib=_NO_AUTOGRAD)


_HAS_TRITON_OP = hasattr(torch.library, "triton_op")  # torch >= 2.6


def _traceable_op(name: str):
    """``torch.library.triton_op(name)`` (no mutated arguments) where this torch has it; else the function stays a
    plain function and compiled forwards take the opaque ops (:func:`_traced`)."""
    if not _HAS_TRITON_OP:
        return lambda fn: fn
    return torch.library.triton_op(name, mutates_args=())


def _compiled_for_capture() -> bool:
    """Whether Inductor is compiling a graph that it will capture in a CUDA graph (``mode="reduce-overhead"``): a
    ``*_traced`` op's body runs inside that compile, under its settings. Such graphs keep the opaque ops, whose
    kernels choose their captured form (two streams, two launches) when the capture runs."""
    from torch._inductor import config

    return bool(config.triton.cudagraphs)


# ----------------------------------------------------------------------------------------------
# bidirectional Mamba core
# ----------------------------------------------------------------------------------------------
@torch.library.custom_op("rmeeto::bimamba", mutates_args=())
def _bimamba(xz: Tensor, conv_w: Tensor, conv_b: Tensor, xproj_w: Tensor, dt_w: Tensor, A: Tensor, D: Tensor,
             dt_b: Tensor, out_scale: float, for_backward: bool) -> tuple[Tensor, Tensor, Tensor]:
    return tb.bimamba_fwd(xz, conv_w, conv_b, xproj_w, dt_w, A, D, dt_b, out_scale, for_backward)


@_bimamba.register_fake
def _bimamba_fake(xz, conv_w, conv_b, xproj_w, dt_w, A, D, dt_b, out_scale, for_backward):
    batch, L, E2 = xz.shape
    cdt = xproj_w.dtype
    return (xz.new_empty(batch, L, E2 // 2, dtype=cdt), xz.new_empty(2, batch * L, xproj_w.shape[1], dtype=cdt),
            xz.new_empty(2, batch, L, E2 // 2, dtype=cdt))


@torch.library.custom_op("rmeeto::bimamba_backward", mutates_args=())
def _bimamba_backward(gout: Tensor, xz: Tensor, x_dbl: Tensor, conv_w: Tensor, conv_b: Tensor, xproj_w: Tensor,
                      dt_w: Tensor, A: Tensor, D: Tensor, dt_b: Tensor, out_scale: float,
                      grad_fp32: bool) -> list[Tensor]:
    # contiguous: the fake gives contiguous tensors, and dA / dD / d dt_bias come back as views of one buffer
    return [g.contiguous() for g in tb.bimamba_bwd(gout.contiguous(), xz, x_dbl, conv_w, conv_b, xproj_w, dt_w, A, D,
                                                   dt_b, out_scale, grad_fp32)]


@_bimamba_backward.register_fake
def _bimamba_backward_fake(gout, xz, x_dbl, conv_w, conv_b, xproj_w, dt_w, A, D, dt_b, out_scale, grad_fp32):
    gdt = torch.float32 if grad_fp32 else xproj_w.dtype
    # new_empty, not empty_like: the real gradients are contiguous, and empty_like keeps A's transposed strides
    return [t.new_empty(t.shape, dtype=dt) for t, dt in ((xz, xz.dtype), (conv_w, conv_w.dtype),
                                                         (conv_b, conv_b.dtype), (xproj_w, gdt), (dt_w, gdt),
                                                         (A, A.dtype), (D, D.dtype), (dt_b, dt_b.dtype))]


def _bimamba_setup(ctx, inputs, output) -> None:
    xz, *params = inputs[:8]
    ctx.save_for_backward(xz, output[1], *params)
    ctx.out_scale = inputs[8]
    ctx.grad_fp32 = settings.current().grad_fp32


def _bimamba_grad(ctx, gout, _g_x_dbl, _g_delta):
    xz, x_dbl, *params = ctx.saved_tensors
    grads = torch.ops.rmeeto.bimamba_backward(gout, xz, x_dbl, *params, ctx.out_scale, ctx.grad_fp32)
    return (*[g.to(p.dtype) for g, p in zip(grads, (xz, *params))], None, None)


_bimamba.register_autograd(_bimamba_grad, setup_context=_bimamba_setup)


def _bimamba_inference(xz: Tensor, conv_w: Tensor, conv_b: Optional[Tensor], xproj_w: Tensor, dt_w: Tensor,
                       dt_b: Tensor, A_log: Tensor, D: Tensor, conv_w_b: Tensor, conv_b_b: Optional[Tensor],
                       xproj_w_b: Tensor, dt_w_b: Tensor, dt_b_b: Tensor, A_log_b: Tensor, D_b: Tensor,
                       cdt: torch.dtype, out_scale: float) -> tuple[Tensor, Tensor, Tensor]:
    fwd = DirectionParams(conv_w, conv_b, xproj_w, dt_w, dt_b, A_log, D)
    bwd = DirectionParams(conv_w_b, conv_b_b, xproj_w_b, dt_w_b, dt_b_b, A_log_b, D_b)
    return tb.bimamba_fwd(xz, *stack_cache.cached_stack_params(fwd, bwd, cdt), out_scale, False)


@_traceable_op("rmeeto::bimamba_inference_traced")
def _bimamba_inference_traced(xz: Tensor, conv_w: Tensor, conv_b: Optional[Tensor], xproj_w: Tensor, dt_w: Tensor,
                              dt_b: Tensor, A_log: Tensor, D: Tensor, conv_w_b: Tensor, conv_b_b: Optional[Tensor],
                              xproj_w_b: Tensor, dt_w_b: Tensor, dt_b_b: Tensor, A_log_b: Tensor, D_b: Tensor,
                              cdt: torch.dtype, out_scale: float) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`_bimamba_inference` for Inductor to trace through: its kernels land in the compiled code, which launches
    them itself; the weights are stacked by one kernel per call (a graph has no cache)."""
    if _compiled_for_capture():  # the opaque op's scan runs the directions on two streams there
        return torch.ops.rmeeto.bimamba_inference(xz, conv_w, conv_b, xproj_w, dt_w, dt_b, A_log, D, conv_w_b, conv_b_b,
                                                  xproj_w_b, dt_w_b, dt_b_b, A_log_b, D_b, cdt, out_scale)
    fwd = DirectionParams(conv_w, conv_b, xproj_w, dt_w, dt_b, A_log, D)
    bwd = DirectionParams(conv_w_b, conv_b_b, xproj_w_b, dt_w_b, dt_b_b, A_log_b, D_b)
    with traceable_launches():
        return tb.bimamba_fwd(xz, *stack_params_launched(fwd, bwd, cdt), out_scale, False)


def _bimamba_inference_fake(xz, conv_w, conv_b, xproj_w, dt_w, dt_b, A_log, D, conv_w_b, conv_b_b, xproj_w_b,
                            dt_w_b, dt_b_b, A_log_b, D_b, cdt, out_scale):
    batch, L, E2 = xz.shape
    rows = xproj_w.shape[0]
    rows += -rows % 16  # tb._pad_bc_rows
    return (xz.new_empty(batch, L, E2 // 2, dtype=cdt), xz.new_empty(2, batch * L, rows, dtype=cdt),
            xz.new_empty(2, batch, L, E2 // 2, dtype=cdt))


_op_without_autograd("bimamba_inference", _bimamba_inference, _bimamba_inference_fake)


# ----------------------------------------------------------------------------------------------
# residual add + RMSNorm
# ----------------------------------------------------------------------------------------------
def _add_rmsnorm_fake(hidden, residual, weight, eps):
    return torch.empty_like(hidden), torch.empty_like(hidden, dtype=torch.float32)


_add_rmsnorm = torch.library.custom_op("rmeeto::add_rmsnorm", tn.add_rmsnorm_plain, mutates_args=())
_add_rmsnorm.register_fake(_add_rmsnorm_fake)
_op_without_autograd("add_rmsnorm_inference", tn.add_rmsnorm_plain, _add_rmsnorm_fake)


@_traceable_op("rmeeto::add_rmsnorm_inference_traced")
def _add_rmsnorm_inference_traced(hidden: Tensor, residual: Optional[Tensor], weight: Tensor,
                                  eps: float) -> tuple[Tensor, Tensor]:
    with traceable_launches():
        return tn.add_rmsnorm_plain(hidden, residual, weight, eps)


@torch.library.custom_op("rmeeto::add_rmsnorm_backward", mutates_args=())
def _add_rmsnorm_backward(g_normed: Tensor, g_res: Optional[Tensor], res_out: Tensor, weight: Tensor,
                          eps: float) -> tuple[Tensor, Tensor]:
    D = res_out.shape[-1]
    dx, dw = tn.add_rmsnorm_bwd(g_normed, g_res, res_out.reshape(-1, D), weight, eps)
    return dx.view(res_out.shape), dw


@_add_rmsnorm_backward.register_fake
def _add_rmsnorm_backward_fake(g_normed, g_res, res_out, weight, eps):
    return torch.empty_like(res_out), torch.empty_like(weight, dtype=torch.float32)


def _add_rmsnorm_setup(ctx, inputs, output) -> None:
    hidden, residual, weight, eps = inputs
    ctx.save_for_backward(output[1], weight)
    ctx.eps, ctx.hdt, ctx.rdt = eps, hidden.dtype, None if residual is None else residual.dtype


def _add_rmsnorm_grad(ctx, g_normed, g_res):
    res_out, weight = ctx.saved_tensors
    if g_normed is None:
        g_normed = torch.zeros_like(res_out, dtype=ctx.hdt)
    dx, dw = torch.ops.rmeeto.add_rmsnorm_backward(g_normed, g_res, res_out, weight, ctx.eps)
    return dx.to(ctx.hdt), (dx.to(ctx.rdt) if ctx.rdt is not None else None), dw.to(weight.dtype), None


_add_rmsnorm.register_autograd(_add_rmsnorm_grad, setup_context=_add_rmsnorm_setup)


# ----------------------------------------------------------------------------------------------
# fused merge: plan, apply, and the apply's gradient
# ----------------------------------------------------------------------------------------------
def _merge_plan(metric: Tensor, size: Optional[Tensor], scores: Optional[Tensor], r: int, cls_index: int,
                mode: str) -> list[Tensor]:
    p = tm.plan(metric, r, cls_index, size, mode, scores=scores)
    if p.merged:
        return [p.slot, p.w, p.owner, p.new_size, p.src, p.first, p.nsrc]
    empty = p.owner.new_empty(p.owner.shape[0], 0)  # a prune has no sources; outputs may not alias
    return [p.slot, p.w, p.owner, p.new_size, p.src, empty, empty.clone()]


def _merge_plan_fake(metric, size, scores, r, cls_index, mode):
    B, T, _ = metric.shape
    r = tm.step_shape(T, r, cls_index)[0]
    i32 = dict(dtype=torch.int32)
    rows = T - r if mode == "merge" else 0
    return [metric.new_empty(B, T, **i32), metric.new_empty(B, T, dtype=torch.float32),
            metric.new_empty(B, T - r, **i32), metric.new_empty(B, T - r, 1, dtype=torch.float32),
            metric.new_empty(B, max(r, 1), **i32), metric.new_empty(B, rows, **i32), metric.new_empty(B, rows, **i32)]


_op_without_autograd("merge_plan", _merge_plan, _merge_plan_fake)  # a plan takes no gradient


@torch.library.custom_op("rmeeto::merge_apply", mutates_args=())
def _merge_apply(x: Tensor, y: Tensor, slot: Tensor, w: Tensor, owner: Tensor, src: Tensor, first: Tensor,
                 nsrc: Tensor, merged: bool) -> tuple[Tensor, Tensor]:
    p = _plan_of(slot, w, owner, None, src, first, nsrc, merged)
    return tm._apply_launch(p, x.contiguous(), y.contiguous())


@_merge_apply.register_fake
def _merge_apply_fake(x, y, slot, w, owner, src, first, nsrc, merged):
    B, _, C = x.shape
    return x.new_empty(B, owner.shape[1], C), y.new_empty(B, owner.shape[1], C)


@torch.library.custom_op("rmeeto::merge_apply_backward", mutates_args=())
def _merge_apply_backward(g: Tensor, slot: Tensor, w: Tensor, out_dtype: torch.dtype) -> Tensor:
    p = _plan_of(slot, w, None, None, None, None, None, True, out_len=g.shape[1])
    return tm._grad_launch(p, g, slot.shape[1], out_dtype)


@_merge_apply_backward.register_fake
def _merge_apply_backward_fake(g, slot, w, out_dtype):
    return g.new_empty(g.shape[0], slot.shape[1], g.shape[2], dtype=out_dtype)


def _merge_apply_setup(ctx, inputs, output) -> None:
    x, y, slot, w = inputs[:4]
    ctx.save_for_backward(slot, w)
    ctx.dtypes = (x.dtype, y.dtype)


def _merge_apply_grad(ctx, gx, gy):
    slot, w = ctx.saved_tensors
    grads = [torch.ops.rmeeto.merge_apply_backward(g, slot, w, dt) if g is not None else None
             for g, dt in zip((gx, gy), ctx.dtypes)]
    return (*grads, None, None, None, None, None, None, None)


_merge_apply.register_autograd(_merge_apply_grad, setup_context=_merge_apply_setup)


def _merge_add_rmsnorm_impl(x: Tensor, y: Tensor, weight: Tensor, slot: Tensor, w: Tensor, owner: Tensor,
                            src: Tensor, first: Tensor, nsrc: Tensor, merged: bool,
                            eps: float) -> tuple[Tensor, Tensor]:
    p = _plan_of(slot, w, owner, None, src, first, nsrc, merged)
    return tm._add_norm_launch(p, x.contiguous(), y.contiguous(), weight, eps)


def _merge_add_rmsnorm_fake(x, y, weight, slot, w, owner, src, first, nsrc, merged, eps):
    B, _, C = x.shape
    return x.new_empty(B, owner.shape[1], C), x.new_empty(B, owner.shape[1], C, dtype=torch.float32)


_merge_add_rmsnorm = torch.library.custom_op("rmeeto::merge_add_rmsnorm", _merge_add_rmsnorm_impl, mutates_args=())
_merge_add_rmsnorm.register_fake(_merge_add_rmsnorm_fake)
_op_without_autograd("merge_add_rmsnorm_inference", _merge_add_rmsnorm_impl, _merge_add_rmsnorm_fake)


def _merge_add_rmsnorm_setup(ctx, inputs, output) -> None:
    x, y, weight, slot, w = inputs[:5]
    ctx.save_for_backward(slot, w, output[1], weight)
    ctx.eps, ctx.dtypes = inputs[-1], (x.dtype, y.dtype)


def _merge_add_rmsnorm_grad(ctx, g_normed, g_res):
    slot, w, res_out, weight = ctx.saved_tensors
    if g_normed is None:
        g_normed = torch.zeros_like(res_out)
    d_sum, dw = torch.ops.rmeeto.add_rmsnorm_backward(g_normed, g_res, res_out, weight, ctx.eps)
    d = torch.ops.rmeeto.merge_apply_backward(d_sum, slot, w, torch.float32)
    return (d.to(ctx.dtypes[0], copy=True), d.to(ctx.dtypes[1]), dw.to(weight.dtype),
            None, None, None, None, None, None, None, None)


_merge_add_rmsnorm.register_autograd(_merge_add_rmsnorm_grad, setup_context=_merge_add_rmsnorm_setup)


def _merge_add_rmsnorm_step_impl(metric: Tensor, x: Tensor, y: Tensor, weight: Tensor, size: Optional[Tensor],
                                 eps: float, r: int, cls_index: int, mode: str) -> tuple[Tensor, Tensor, Tensor]:
    """``(normed, residual fp32, new sizes)`` of one merge step and the block's add + RMSNorm without gradients: the
    one launch of :mod:`.merge_once`, or the plan and the merge + add + norm while a CUDA graph is captured (compiled
    with ``mode="reduce-overhead"``), whose many programs cost the GPU less."""
    if merge_once.fits(metric) and not merge_once.capturing(x):
        return merge_once.plan_add_norm(metric, x, y, weight, eps, r, cls_index, size, mode)[:3]
    p = tm.plan(metric, r, cls_index, size, mode)
    return (*tm.apply_add_norm(p, x.contiguous(), y.contiguous(), weight, eps), p.new_size)


def _merge_add_rmsnorm_step_fake(metric, x, y, weight, size, eps, r, cls_index, mode):
    B, T, C = x.shape
    out_len = T - tm.step_shape(T, r, cls_index)[0]
    return (x.new_empty(B, out_len, C), x.new_empty(B, out_len, C, dtype=torch.float32),
            x.new_empty(B, out_len, 1, dtype=torch.float32))


_op_without_autograd("merge_add_rmsnorm_step_inference", _merge_add_rmsnorm_step_impl, _merge_add_rmsnorm_step_fake)


@_traceable_op("rmeeto::merge_add_rmsnorm_step_inference_traced")
def _merge_add_rmsnorm_step_traced(metric: Tensor, x: Tensor, y: Tensor, weight: Tensor, size: Optional[Tensor],
                                   eps: float, r: int, cls_index: int, mode: str) -> tuple[Tensor, Tensor, Tensor]:
    """The one launch of :mod:`.merge_once` for Inductor to trace through (a graph compiled to be captured,
    ``mode="reduce-overhead"``, keeps the opaque op, which takes the two launches while it is captured)."""
    if _compiled_for_capture():
        return torch.ops.rmeeto.merge_add_rmsnorm_step_inference(metric, x, y, weight, size, eps, r, cls_index, mode)
    with traceable_launches():
        return merge_once.plan_add_norm(metric, x, y, weight, eps, r, cls_index, size, mode)[:3]


def _plan_of(slot, w, owner, new_size, src, first, nsrc, merged: bool, out_len: Optional[int] = None,
             cls_index: int = 0) -> tm.FusedPlan:
    if out_len is None:
        out_len = owner.shape[1]
    if not merged:
        first = nsrc = owner
    return tm.FusedPlan(slot, w, owner, new_size, src, first, nsrc, out_len, cls_index, merged)


# ----------------------------------------------------------------------------------------------
# what the dispatch calls: the custom op while Dynamo or export traces, the autograd function otherwise
# ----------------------------------------------------------------------------------------------
def _traced(*tensors: Tensor) -> bool:
    """Whether a compiled forward takes the ``*_traced`` ops: the ``compile_ops`` setting asks for them
    (:mod:`rmeeto.ops.settings`) and every size is a plain int, which their launch arithmetic needs (a graph with
    symbolic sizes, from ``dynamic=True`` or a recompile after the batch size changed, takes the opaque ops)."""
    choice = settings.current().compile_ops
    if choice not in settings.COMPILE_OPS:
        raise ValueError(f"compile_ops {choice!r} (RMEETO_COMPILE_OPS): choose one of {settings.COMPILE_OPS}")
    return choice == "traced" and _HAS_TRITON_OP and all(type(n) is int for t in tensors for n in t.shape)


def bimamba(xz: Tensor, params: tuple[Tensor, ...], out_scale: float, for_backward: bool,
            grad_fp32: bool) -> tuple[Tensor, Tensor, Tensor]:
    """``(out, x_dbl, delta)`` of the core on :func:`rmeeto.ops.triton.bimamba.stack_params`'s weights."""
    if torch.compiler.is_compiling():
        return torch.ops.rmeeto.bimamba(xz, *params, out_scale, for_backward)
    return tb.bimamba_core(xz, params, out_scale, for_backward, grad_fp32)


def bimamba_inference(xz: Tensor, fwd: DirectionParams, bwd: DirectionParams, cdt: torch.dtype,
                      out_scale: float) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`bimamba` for a forward that no backward follows, on the weights as the model holds them: the stacked
    weights come from :func:`rmeeto.ops.triton.stack_cache.cached_stack_params` inside the op, so a compiled graph does
    not stack them again on every call."""
    if torch.compiler.is_compiling():
        op = torch.ops.rmeeto.bimamba_inference_traced if _traced(xz) else torch.ops.rmeeto.bimamba_inference
        return op(xz, *fwd.tensors(), *bwd.tensors(), cdt, float(out_scale))
    return tb.bimamba_fwd(xz, *stack_cache.cached_stack_params(fwd, bwd, cdt), out_scale, False)


def add_rmsnorm(hidden: Tensor, residual: Optional[Tensor], weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """``(normed in hidden's dtype, residual fp32)``."""
    if torch.compiler.is_compiling():
        if needs_grad(hidden, residual, weight):
            op = torch.ops.rmeeto.add_rmsnorm
        else:
            op = torch.ops.rmeeto.add_rmsnorm_inference_traced if _traced(hidden) else \
                torch.ops.rmeeto.add_rmsnorm_inference
        return op(hidden, residual, weight, float(eps))
    return tn.add_rmsnorm(hidden, residual, weight, eps)


def merge_plan(metric: Tensor, r: int, cls_index: int, size: Optional[Tensor], mode: str) -> tm.FusedPlan:
    """The fused plan of one merge step (see :func:`rmeeto.ops.triton.merge.plan`)."""
    if not torch.compiler.is_compiling():
        return tm.plan(metric, r, cls_index, size, mode)
    B, T, _ = metric.shape
    scores = torch.rand(B, T // 2, device=metric.device) if mode == "prune-random" else None
    slot, w, owner, new_size, src, first, nsrc = torch.ops.rmeeto.merge_plan(metric.detach(), size, scores, r,
                                                                            cls_index, mode)
    return _plan_of(slot, w, owner, new_size, src, first, nsrc, mode == "merge",
                    cls_index=tm.step_shape(T, r, cls_index)[1])


def merge_apply(p: tm.FusedPlan, x: Tensor, y: Optional[Tensor]) -> tuple[Tensor, Optional[Tensor]]:
    """Merge (or prune) ``x`` and ``y`` under ``p``; differentiable."""
    if not torch.compiler.is_compiling():
        return tm.apply(p, x, y)
    xo, yo = torch.ops.rmeeto.merge_apply(x, y if y is not None else x, p.slot, p.w, p.owner, p.src, p.first,
                                          p.nsrc, p.merged)
    return xo, (yo if y is not None else None)


def merge_add_norm(p: tm.FusedPlan, x: Tensor, y: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """The merge step fused with the block's residual add + RMSNorm (see
    :func:`rmeeto.ops.triton.merge.apply_add_norm`): ``(normed, residual fp32)``; differentiable."""
    if not torch.compiler.is_compiling():
        return tm.apply_add_norm(p, x, y, weight, eps)
    op = torch.ops.rmeeto.merge_add_rmsnorm if needs_grad(x, y, weight) else \
        torch.ops.rmeeto.merge_add_rmsnorm_inference
    return op(x, y, weight, p.slot, p.w, p.owner, p.src, p.first, p.nsrc, p.merged, float(eps))


def merge_once_applies(metric: Tensor, x: Tensor, y: Tensor, weight: Tensor, mode: str) -> bool:
    """Whether :func:`merge_add_norm_once` may stand in for the plan and the merge + add + norm: a forward without
    gradients of at most 257 tokens, eager and not captured in a CUDA graph, or compiled (then one custom op, which
    decides at run time) unless it draws random scores (``prune-random`` draws them in the graph)."""
    if needs_grad(x, y, weight) or not merge_once.fits(metric):
        return False
    if torch.compiler.is_compiling():
        return mode != "prune-random"
    return not merge_once.capturing(x)


def merge_add_norm_once(metric: Tensor, x: Tensor, y: Tensor, weight: Tensor, eps: float, r: int, cls_index: int,
                        size: Optional[Tensor], mode: str) -> tuple[Tensor, Tensor, Tensor, int]:
    """``(normed, residual fp32, new sizes, new class index)`` of one merge step and the block's residual add +
    RMSNorm in one launch (:mod:`rmeeto.ops.triton.merge_once`); only where :func:`merge_once_applies`."""
    if not torch.compiler.is_compiling():
        return merge_once.plan_add_norm(metric, x, y, weight, eps, r, cls_index, size, mode)
    op = torch.ops.rmeeto.merge_add_rmsnorm_step_inference_traced if _traced(metric, x) else \
        torch.ops.rmeeto.merge_add_rmsnorm_step_inference
    normed, res, new_size = op(metric, x, y, weight, size, float(eps), r, cls_index, mode)
    return normed, res, new_size, tm.step_shape(metric.shape[1], r, cls_index)[1]
