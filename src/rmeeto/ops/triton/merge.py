"""The R-MeeTo merge step in a few Triton launches (plan, apply) instead of ~20 small PyTorch kernels.

Same semantics as :func:`rmeeto.merge.plan_merge` + :func:`rmeeto.merge.merge_tokens` for the
default settings (``order="keep"``, cosine distance, proportional class token at a python-int
index) in every ``mode`` (merge, prune, prune-norm, prune-random), at any sequence length, which is
what every benchmark and re-training run uses; anything else (``order="shuffle"``, other distances
or class-token rules) goes through the PyTorch reference in ``merge.py``.

- ``_plan_kernel``: one program per image, for up to 257 tokens (at most 128 sources, which fit
  in one program's registers). It computes the source x destination cosine matrix with ``tl.dot``
  (fp32 accumulation, norms from the same loads) and each source's best destination; the rest is the
  one-dimensional bookkeeping of :mod:`rmeeto.ops.triton.merge_book` (sorts, cumsums, a histogram).
  ``prune-norm`` ranks the sources by their norm instead (no matrix), ``prune-random`` by scores drawn with
  ``torch.rand``.
- Longer sequences (VideoMamba's 1569 and 3137 tokens) get the same plan from a tiled score launch and
  the same bookkeeping (:mod:`rmeeto.ops.triton.merge_tiled`).
- ``_apply_kernel``: one program per (image, block of output rows, block of channels) writes
  ``owner * w_owner + sum(src * w_src)`` for the hidden states and the residual stream in one
  launch, accumulating in fp32. The plan lists each row's merged sources (in the order the
  reference adds them), so a row reads only its own.
- ``_apply_add_norm_kernel``: the same rows of ``x + y`` in fp32, then the next block's RMSNorm, in one
  pass (a merge block's residual add + norm; :func:`apply_add_norm`).
- The backward is a single gather: ``grad_x[t] = w[t] * grad_out[slot[t]]``.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import needs_grad
from .launch import cdiv, launch, next_pow2
from . import merge_book
from .merge_book import plan_tokens
from .merge_tiled import accumulate_dots, plan_tiled
from .norm import add_rmsnorm_bwd

MAX_SOURCES = 128  # the single-program plan holds the (sources x destinations) score tile in registers
PLAN_CFG = dict(num_warps=8)  # the single-program plan's launch settings
ADD_NORM_CFG = dict(tile=2048, num_warps=4)  # the merge + add + norm kernel: values per program, warps


@triton.jit
def _max_first(v1, i1, v2, i2):
    """Max and its index in one reduction; ties go to the lower index (``torch.max`` / ``argmax``)."""
    take1 = (v1 > v2) | ((v1 == v2) & (i1 < i2))
    return tl.where(take1, v1, v2), tl.where(take1, i1, i2)


@triton.jit
def _plan_kernel(x_ptr, size_ptr, score_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, src_ptr, first_ptr, nsrc_ptr,
                 T, C, cls_idx, new_cls, r, out_len, sxb, sxt,
                 HAS_SIZE: tl.constexpr, MERGE: tl.constexpr, IEEE: tl.constexpr, SCORE: tl.constexpr,
                 BS: tl.constexpr, BK: tl.constexpr, FEW: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    plan_image(b, x_ptr, size_ptr, score_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, src_ptr, first_ptr, nsrc_ptr,
               T, C, cls_idx, new_cls, r, out_len, sxb, sxt, HAS_SIZE, MERGE, IEEE, SCORE, BS, BK, FEW)


@triton.jit
def plan_image(b, x_ptr, size_ptr, score_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, src_ptr, first_ptr, nsrc_ptr,
               T, C, cls_idx, new_cls, r, out_len, sxb, sxt,
               HAS_SIZE: tl.constexpr, MERGE: tl.constexpr, IEEE: tl.constexpr, SCORE: tl.constexpr,
               BS: tl.constexpr, BK: tl.constexpr, FEW: tl.constexpr):
    """Image ``b``'s plan (up to 257 tokens) from its score tile."""
    n = T - 1
    S = (n + 1) // 2
    D = n // 2
    i = tl.arange(0, BS)  # source k sits at non-class position 2k, destination k at 2k + 1
    ms, md = i < S, i < D
    fs = 2 * i + (2 * i >= cls_idx).to(tl.int32)  # full-sequence index of source i
    fd = 2 * i + 1 + (2 * i + 1 >= cls_idx).to(tl.int32)
    acc = tl.zeros((BS, BS), dtype=tl.float32)
    na = tl.zeros((BS,), dtype=tl.float32)
    nb = tl.zeros((BS,), dtype=tl.float32)
    xb = x_ptr + b * sxb
    if SCORE == 2:  # given scores (prune-random); no destination is needed to prune
        best = tl.load(score_ptr + b * S + i, mask=ms, other=float("-inf"))
        dst = tl.zeros((BS,), dtype=tl.int32)
    else:
        for k0 in range(0, C, BK):
            kk = k0 + tl.arange(0, BK)
            mk = kk < C
            a = tl.load(xb + fs[:, None] * sxt + kk[None, :], mask=ms[:, None] & mk[None, :], other=0.0)
            af = a.to(tl.float32)
            na += tl.sum(af * af, axis=1)
            if SCORE == 0:
                acc, nb = accumulate_dots(acc, nb, a, xb, fd, sxt, kk, md, mk, IEEE)
        if SCORE == 1:  # prune-norm: the lowest-norm sources go first
            best = tl.where(ms, -tl.sqrt(na), float("-inf"))
            dst = tl.zeros((BS,), dtype=tl.int32)
        else:
            na, nb = tl.where(ms, na, 1.0), tl.where(md, nb, 1.0)  # padding rows: no 0/0
            # a row's scale does not move its best column: divide by the source norm after the reduction
            cos_na = tl.where(md[None, :], acc * (1.0 / tl.sqrt(nb))[None, :], float("-inf"))
            best, dst = tl.reduce((cos_na, tl.broadcast_to(i[None, :], (BS, BS))), 1, _max_first)
            best = best / tl.sqrt(na)

    plan_tokens(best, dst, b, i, ms, md, fs, fd, size_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, src_ptr,
                first_ptr, nsrc_ptr, T, cls_idx, new_cls, r, out_len, HAS_SIZE, MERGE, BS, FEW)


@triton.jit
def _merged_rows(xb, yb, C, own, wo, cnt, fst, srcb, wb, mj, cc, mc, ADD_Y: tl.constexpr, MERGE: tl.constexpr):
    """fp32 (rows, channels) tile of ``x`` (of ``x + y`` with ``ADD_Y``) under the plan: each output row's owner
    times its weight plus its merged sources times theirs, added in the reference's order. ``xb``, ``yb``: the
    image's tokens; ``srcb``, ``wb``: its plan's merged-source list and token weights."""
    rows = own[:, None] * C + cc[None, :]
    m2 = mj[:, None] & mc[None, :]
    xt = tl.load(xb + rows, mask=m2, other=0.0).to(tl.float32)
    if ADD_Y:
        xt += tl.load(yb + rows, mask=m2, other=0.0).to(tl.float32)
    if MERGE:
        xt = xt * wo[:, None]
        for k in range(0, tl.max(cnt, axis=0)):  # the k-th source of each row
            h = k < cnt
            s = tl.load(srcb + fst + k, mask=h, other=0).to(tl.int64)
            ws = tl.load(wb + s, mask=h, other=0.0)
            rows = s[:, None] * C + cc[None, :]
            hm = h[:, None] & mc[None, :]
            v = tl.load(xb + rows, mask=hm, other=0.0).to(tl.float32)
            if ADD_Y:
                v += tl.load(yb + rows, mask=hm, other=0.0).to(tl.float32)
            xt += v * ws[:, None]
    return xt


@triton.jit
def _row_plan(ownerb, firstb, nsrcb, wb, jj, mj, MERGE: tl.constexpr):
    """Per output row ``jj`` of one image's plan: its owner token, the owner's weight, and where its merged sources
    start and how many."""
    own = tl.load(ownerb + jj, mask=mj, other=0).to(tl.int64)
    wo = tl.load(wb + own, mask=mj, other=0.0)
    if MERGE:
        cnt = tl.load(nsrcb + jj, mask=mj, other=0)
        fst = tl.load(firstb + jj, mask=mj, other=0)
    else:
        cnt = tl.zeros_like(jj)
        fst = cnt
    return own, wo, cnt, fst


@triton.jit
def _apply_kernel(x_ptr, y_ptr, xo_ptr, yo_ptr, owner_ptr, src_ptr, first_ptr, nsrc_ptr, w_ptr,
                  T, C, out_len, r, HAS_Y: tl.constexpr, MERGE: tl.constexpr,
                  BJ: tl.constexpr, BC: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    jj = tl.program_id(1) * BJ + tl.arange(0, BJ)
    cc = tl.program_id(2) * BC + tl.arange(0, BC)
    mj, mc = jj < out_len, cc < C
    own, wo, cnt, fst = _row_plan(owner_ptr + b * out_len, first_ptr + b * out_len, nsrc_ptr + b * out_len,
                                  w_ptr + b * T, jj, mj, MERGE)
    out = b * out_len * C + jj[:, None] * C + cc[None, :]
    xb, srcb, wb = x_ptr + b * T * C, src_ptr + b * r, w_ptr + b * T
    xt = _merged_rows(xb, xb, C, own, wo, cnt, fst, srcb, wb, mj, cc, mc, False, MERGE)
    tl.store(xo_ptr + out, xt.to(xo_ptr.dtype.element_ty), mask=mj[:, None] & mc[None, :])
    if HAS_Y:
        yb = y_ptr + b * T * C
        yt = _merged_rows(yb, yb, C, own, wo, cnt, fst, srcb, wb, mj, cc, mc, False, MERGE)
        tl.store(yo_ptr + out, yt.to(yo_ptr.dtype.element_ty), mask=mj[:, None] & mc[None, :])


@triton.jit
def _apply_add_norm_kernel(x_ptr, y_ptr, no_ptr, ro_ptr, nw_ptr, owner_ptr, src_ptr, first_ptr, nsrc_ptr, w_ptr,
                           T, C, out_len, r, eps, MERGE: tl.constexpr, BJ: tl.constexpr, BC: tl.constexpr):
    """The merge step and the next block's residual add + RMSNorm in one pass: ``residual_out = plan(x + y)``
    in fp32 and ``normed = RMSNorm(residual_out)``; the merged ``x`` and ``y`` are never written."""
    b = tl.program_id(0).to(tl.int64)
    jj = tl.program_id(1) * BJ + tl.arange(0, BJ)
    add_norm_rows(b, jj, x_ptr, y_ptr, no_ptr, ro_ptr, nw_ptr, owner_ptr, src_ptr, first_ptr, nsrc_ptr, w_ptr,
                  T, C, out_len, r, eps, MERGE, BC)


@triton.jit
def add_norm_rows(b, jj, x_ptr, y_ptr, no_ptr, ro_ptr, nw_ptr, owner_ptr, src_ptr, first_ptr, nsrc_ptr, w_ptr,
                  T, C, out_len, r, eps, MERGE: tl.constexpr, BC: tl.constexpr):
    """Output rows ``jj`` of image ``b``: the merged ``x + y`` in fp32 and its RMSNorm."""
    cc = tl.arange(0, BC)
    mj, mc = jj < out_len, cc < C
    wb = w_ptr + b * T
    own, wo, cnt, fst = _row_plan(owner_ptr + b * out_len, first_ptr + b * out_len, nsrc_ptr + b * out_len, wb, jj,
                                  mj, MERGE)
    res = _merged_rows(x_ptr + b * T * C, y_ptr + b * T * C, C, own, wo, cnt, fst, src_ptr + b * r, wb, mj, cc, mc,
                       True, MERGE)
    out = b * out_len * C + jj[:, None] * C + cc[None, :]
    m2 = mj[:, None] & mc[None, :]
    tl.store(ro_ptr + out, res, mask=m2)
    # eps in fp32 whatever the caller typed it: Inductor passes a Python float as fp64
    rstd = 1.0 / tl.sqrt(tl.sum(res * res, axis=1) / C + tl.cast(eps, tl.float32))
    nw = tl.load(nw_ptr + cc, mask=mc, other=0.0).to(tl.float32)
    tl.store(no_ptr + out, (res * rstd[:, None] * nw[None, :]).to(no_ptr.dtype.element_ty), mask=m2)


@triton.jit
def _unmerge_grad_kernel(g_ptr, slot_ptr, w_ptr, gx_ptr, T, C, out_len,
                         BT: tl.constexpr, BC: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    tt = tl.program_id(1) * BT + tl.arange(0, BT)
    cc = tl.program_id(2) * BC + tl.arange(0, BC)
    mt, mc = tt < T, cc < C
    sl = tl.load(slot_ptr + b * T + tt, mask=mt, other=0).to(tl.int64)
    w = tl.load(w_ptr + b * T + tt, mask=mt, other=0.0)
    live = mt & (sl < out_len)
    g = tl.load(g_ptr + b * out_len * C + sl[:, None] * C + cc[None, :], mask=live[:, None] & mc[None, :],
                other=0.0).to(tl.float32)
    tl.store(gx_ptr + b * T * C + tt[:, None] * C + cc[None, :], (g * w[:, None]).to(gx_ptr.dtype.element_ty),
             mask=mt[:, None] & mc[None, :])


class FusedPlan:
    """A merge plan from the plan kernels (int32 indices). ``slot``/``out_len``/``cls_index`` mean
    the same as in :class:`rmeeto.merge.MergePlan`; ``w[b, t]`` is token t's weight in its output.
    Merge only: output row ``j`` adds the ``nsrc[b, j]`` sources ``src[b, first[b, j]:][:nsrc[b, j]]``."""

    def __init__(self, slot, w, owner, new_size, src, first, nsrc, out_len, cls_index, merged):
        self.slot, self.w, self.owner, self.new_size = slot, w, owner, new_size
        self.src, self.first, self.nsrc = src, first, nsrc
        self.out_len, self.cls_index, self.merged = out_len, cls_index, merged


SCORES = {"merge": 0, "prune": 0, "prune-norm": 1, "prune-random": 2}  # how the kernel ranks the sources


def step_shape(T: int, r: int, cls_index: int) -> tuple[int, int]:
    """``(r, new class index)`` of one fused step on ``T`` tokens: ``r`` as the step can take it (at most
    ``(T - 1) // 2``) and the class token moved in proportion (``T - r`` tokens after the step)."""
    r = min(r, (T - 1) // 2)
    return r, cls_index * (T - r) // T


def supported(metric: Tensor, cls_index, mode: str, order: str, distance: str, cls: str) -> bool:
    """Whether these settings and shapes have a fused path (otherwise use ``merge.py``)."""
    return (mode in SCORES and order == "keep" and distance == "cosine" and cls == "proportional"
            and isinstance(cls_index, int) and metric.dim() == 3 and metric.shape[1] >= 3
            and 0 <= cls_index < metric.shape[1] and metric.dtype in (torch.float32, torch.float16, torch.bfloat16))


@torch.no_grad()
def plan(metric: Tensor, r: int, cls_index: int, size: Optional[Tensor], mode: str = "merge",
         tiled: Optional[bool] = None, scores: Optional[Tensor] = None) -> FusedPlan:
    """The plan for one step on ``metric`` (batch, T, C); ``size`` is (batch, T, 1) fp32 or None (ones).
    ``prune-random`` draws its scores with ``torch.rand`` as the reference does, so the same RNG state
    gives the same plan, unless they are given as ``scores`` (batch, T // 2). ``tiled`` picks the
    multi-launch plan (any length) or the single-program one
    (at most 257 tokens); None: the single program where it fits."""
    B, T, C = metric.shape
    if tiled is None:
        tiled = T // 2 > MAX_SOURCES
    elif not tiled and T // 2 > MAX_SOURCES:
        raise ValueError(f"the single-program merge plan takes at most {2 * MAX_SOURCES + 1} tokens, got {T}; "
                         "use tiled=True or None")
    merged = mode == "merge"
    r, new_cls = step_shape(T, r, cls_index)
    metric = metric if metric.stride(-1) == 1 else metric.contiguous()
    dev = metric.device
    i32 = dict(device=dev, dtype=torch.int32)
    f32 = dict(device=dev, dtype=torch.float32)
    out = dict(slot=torch.empty(B, T, **i32), w=torch.empty(B, T, **f32), owner=torch.empty(B, T - r, **i32),
               new_size=torch.empty(B, T - r, 1, **f32), src=torch.empty(B, max(r, 1), **i32))
    if merged:
        out["first"], out["nsrc"] = torch.empty(B, T - r, **i32), torch.empty(B, T - r, **i32)
    else:  # a prune has no sources to add
        out["first"] = out["nsrc"] = out["owner"]
    sz = size.reshape(B, T).contiguous().float() if size is not None else out["w"]
    score = None
    if mode == "prune-random":
        score = (scores.to(torch.float32, copy=True).contiguous() if scores is not None
                 else torch.rand(B, T // 2, device=dev))
    if B and tiled:
        best = score if score is not None else torch.empty(B, T // 2, **f32)
        plan_tiled(metric, best, sz, size is not None, out, r, cls_index, new_cls, SCORES[mode], merged)
    elif B:
        launch(_plan_kernel, (B,), metric, sz, score if score is not None else out["w"], out["slot"], out["w"],
               out["owner"], out["new_size"], out["src"], out["first"], out["nsrc"],
               T, C, cls_index, new_cls, r, T - r, metric.stride(0), metric.stride(1),
               HAS_SIZE=size is not None, MERGE=merged, IEEE=metric.dtype == torch.float32,
               SCORE=SCORES[mode], BS=max(16, next_pow2(T // 2)),
               BK=32 if C <= 32 else 64, FEW=r <= merge_book.BOOK_CFG["few_r"], **PLAN_CFG)
    return FusedPlan(out["slot"], out["w"], out["owner"], out["new_size"], out["src"], out["first"],
                     out["nsrc"], T - r, new_cls, merged)


def _apply_launch(p: FusedPlan, x: Tensor, y: Optional[Tensor]):
    B, T, C = x.shape
    xo = torch.empty(B, p.out_len, C, device=x.device, dtype=x.dtype)
    yo = torch.empty(B, p.out_len, C, device=x.device, dtype=y.dtype) if y is not None else xo
    BJ, BC = 16, min(128, next_pow2(C))
    if B:
        grid = (B, cdiv(p.out_len, BJ), cdiv(C, BC))
        launch(_apply_kernel, grid, x, y if y is not None else x, xo, yo, p.owner, p.src, p.first, p.nsrc, p.w,
               T, C, p.out_len, T - p.out_len, HAS_Y=y is not None, MERGE=p.merged,
               BJ=BJ, BC=BC, num_warps=4)
    return xo, (yo if y is not None else None)


def _grad_launch(p: FusedPlan, g: Tensor, T: int, dtype) -> Tensor:
    B, _, C = g.shape
    g = g.contiguous()
    gx = torch.empty(B, T, C, device=g.device, dtype=dtype)
    BT, BC = 16, min(128, next_pow2(C))
    if B:
        launch(_unmerge_grad_kernel, (B, cdiv(T, BT), cdiv(C, BC)), g, p.slot, p.w, gx, T, C, p.out_len,
               BT=BT, BC=BC, num_warps=4)
    return gx


def _add_norm_launch(p: FusedPlan, x: Tensor, y: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    B, T, C = x.shape
    normed = torch.empty(B, p.out_len, C, device=x.device, dtype=x.dtype)
    res = torch.empty(B, p.out_len, C, device=x.device, dtype=torch.float32)
    BC = next_pow2(C)
    BJ = max(1, min(16, ADD_NORM_CFG["tile"] // BC))  # whole rows per program (the norm)
    if B:
        launch(_apply_add_norm_kernel, (B, cdiv(p.out_len, BJ)), x, y, normed, res, weight, p.owner, p.src,
               p.first, p.nsrc, p.w, T, C, p.out_len, T - p.out_len, float(eps), MERGE=p.merged, BJ=BJ, BC=BC,
               num_warps=ADD_NORM_CFG["num_warps"])
    return normed, res


def unmerge_add_norm_grad(p: FusedPlan, g_normed: Optional[Tensor], g_res: Optional[Tensor], res: Tensor,
                          weight: Tensor, eps: float, T: int) -> tuple[Tensor, Tensor]:
    """Gradient of :func:`apply_add_norm` at its unmerged input sum (batch, T, C) fp32, and at the norm weight."""
    B, n, C = res.shape
    if g_normed is None:
        g_normed = torch.zeros_like(res)
    d_sum, dw = add_rmsnorm_bwd(g_normed, g_res, res.reshape(-1, C), weight, eps)
    return _grad_launch(p, d_sum.view(B, n, C), T, torch.float32), dw


class _ApplyAddNormFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, weight, p, eps):
        normed, res = _add_norm_launch(p, x.contiguous(), y.contiguous(), weight, eps)
        ctx.save_for_backward(res, weight)
        ctx.p, ctx.eps, ctx.T, ctx.dtypes = p, eps, x.shape[1], (x.dtype, y.dtype)
        return normed, res

    @staticmethod
    def backward(ctx, g_normed, g_res):
        res, weight = ctx.saved_tensors
        d, dw = unmerge_add_norm_grad(ctx.p, g_normed, g_res, res, weight, ctx.eps, ctx.T)
        # separate buffers: autograd may keep one as a leaf's .grad and accumulate into it in place
        return d.to(ctx.dtypes[0], copy=True), d.to(ctx.dtypes[1]), dw.to(weight.dtype), None, None


def apply_add_norm(p: FusedPlan, x: Tensor, y: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """The merge step of ``x`` (the block's input, any float dtype) and ``y`` (the fp32 residual stream) fused
    with the block's residual add and RMSNorm: ``(normed in x's dtype, residual_out fp32)``, the same as merging
    both and then ``add_rmsnorm``, except that the merged ``x`` is not rounded to its dtype before the add.
    Differentiable."""
    if y.shape != x.shape:
        raise ValueError(f"apply_add_norm: x {tuple(x.shape)} and y {tuple(y.shape)} must have the same shape")
    if not needs_grad(x, y, weight):
        return _add_norm_launch(p, x.contiguous(), y.contiguous(), weight, eps)
    return _ApplyAddNormFn.apply(x, y, weight, p, eps)


class _ApplyFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, p):
        ctx.p, ctx.T, ctx.dtypes = p, x.shape[1], (x.dtype, None if y is None else y.dtype)
        xo, yo = _apply_launch(p, x.contiguous(), None if y is None else y.contiguous())
        return xo, yo

    @staticmethod
    def backward(ctx, gx, gy):
        p, T = ctx.p, ctx.T
        dx = _grad_launch(p, gx, T, ctx.dtypes[0]) if gx is not None and ctx.needs_input_grad[0] else None
        dy = _grad_launch(p, gy, T, ctx.dtypes[1]) if gy is not None and ctx.needs_input_grad[1] else None
        return dx, dy, None


def apply(p: FusedPlan, x: Tensor, y: Optional[Tensor] = None) -> tuple[Tensor, Optional[Tensor]]:
    """Merge (or prune) ``x`` and optionally ``y`` (both (batch, T, C)) under ``p``; differentiable."""
    if y is not None and y.shape != x.shape:
        raise ValueError(f"apply: x {tuple(x.shape)} and y {tuple(y.shape)} must have the same shape")
    return _ApplyFn.apply(x, y, p)
