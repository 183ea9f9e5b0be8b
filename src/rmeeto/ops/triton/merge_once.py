"""A merge block's token reduction in one launch, for eager inference on sequences of at most 257 tokens.

:func:`rmeeto.ops.triton.merge.plan` and :func:`~rmeeto.ops.triton.merge.apply_add_norm` take two launches and
nine allocations, and an eager forward of a small model is bound by that host time
(docs/benchmarks/2026-12-04-h200-merge-host). Here one program per image computes the plan into scratch rows
(``merge.plan_image``), waits at a barrier, and writes the merged ``x + y`` and its RMSNorm
(``merge.add_norm_rows``): the same plan, residual and sizes bit for bit (the norm's row sum may add up in another
order). No gradient flows through it (the plan's slots and weights stay in the scratch), and CUDA-graph captures keep
the two launches, whose many programs cost less GPU time. Compiled inference reaches it through one custom op
(``rmeeto::merge_add_rmsnorm_step_inference``), which takes the two launches while a graph is captured. Eager Vim-Ti
r=5 on one H200 against the two launches (2026-12-04, docs/benchmarks/2026-12-04-h200-scan-narrow and
2026-12-04-h200-host-cores): 0.35-0.46 ms less host time per forward; synchronised, 1.055-1.07x at batch 1,
1.00-1.06x at 8-64 and 0.97-1.00x at 128.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .launch import launch, next_pow2
from . import merge_book
from .merge import MAX_SOURCES, SCORES, add_norm_rows, plan_image, step_shape

# max_tokens: the longest sequence it takes (0: never; the single-program plan's limit is 257); the launch's warps;
# values per (rows x channels) step of the apply
ONCE_CFG = dict(max_tokens=2 * MAX_SOURCES + 1, num_warps=8, tile=8192)


@triton.jit
def _once_kernel(m_ptr, size_ptr, score_ptr, x_ptr, y_ptr, no_ptr, ro_ptr, nw_ptr, ns_ptr,
                 T, C, CM, cls_idx, new_cls, r, out_len, sxb, sxt, eps,
                 HAS_SIZE: tl.constexpr, MERGE: tl.constexpr, IEEE: tl.constexpr, SCORE: tl.constexpr,
                 BS: tl.constexpr, BK: tl.constexpr, FEW: tl.constexpr, BJ: tl.constexpr, BC: tl.constexpr):
    """Image ``b``: its plan, then every output row of the merge + add + norm. ``ns_ptr`` heads one fp32 buffer: the
    new sizes (an output), then the token weights, then the int32 slot, owner, first, nsrc and src rows of every
    image."""
    b = tl.program_id(0).to(tl.int64)
    P = tl.num_programs(0)
    w_ptr = ns_ptr + P * out_len
    int_ptr = (w_ptr + P * T).to(tl.pointer_type(tl.int32), bitcast=True)
    owner_ptr = int_ptr + P * T
    first_ptr = owner_ptr + P * out_len
    nsrc_ptr = first_ptr + P * out_len
    src_ptr = nsrc_ptr + P * out_len
    plan_image(b, m_ptr, size_ptr, score_ptr, int_ptr, w_ptr, owner_ptr, ns_ptr, src_ptr, first_ptr, nsrc_ptr,
               T, CM, cls_idx, new_cls, r, out_len, sxb, sxt, HAS_SIZE, MERGE, IEEE, SCORE, BS, BK, FEW)
    tl.debug_barrier()  # every row of the plan stored before any thread reads one
    for j0 in range(0, out_len, BJ):
        add_norm_rows(b, j0 + tl.arange(0, BJ), x_ptr, y_ptr, no_ptr, ro_ptr, nw_ptr, owner_ptr, src_ptr,
                      first_ptr, nsrc_ptr, w_ptr, T, C, out_len, r, eps, MERGE, BC)


def fits(metric: Tensor) -> bool:
    """Whether the sequence is short enough for one program per image."""
    return metric.shape[1] <= ONCE_CFG["max_tokens"] and metric.shape[1] // 2 <= MAX_SOURCES


def capturing(x: Tensor) -> bool:
    """Whether a CUDA graph is being captured on ``x``'s device, where the two launches serve instead."""
    return x.is_cuda and torch.cuda.is_current_stream_capturing()


def plan_add_norm(metric: Tensor, x: Tensor, y: Tensor, weight: Tensor, eps: float, r: int, cls_index: int,
                  size: Optional[Tensor], mode: str) -> tuple[Tensor, Tensor, Tensor, int]:
    """``(normed in x's dtype, residual fp32, new sizes (batch, T - r, 1), new class index)``: what
    ``merge.plan`` followed by ``merge.apply_add_norm`` gives, from ``metric`` (batch, T, any width), the block's
    input ``x`` and the fp32 residual stream ``y`` (batch, T, C). ``prune-random`` draws its scores as ``plan`` does.
    Its outputs are fresh tensors that the launch fills, so autograd records nothing without a ``no_grad`` guard,
    whose removal took the call from 18.8-20.8 to 14.9-15.1 us of host time on this package's 2-core CPU machine
    (2026-12-05, docs/benchmarks/2026-12-05-h100-contract-host/cpu_host.txt)."""
    B, T, C = x.shape
    r, new_cls = step_shape(T, r, cls_index)
    out_len = T - r
    metric = metric if metric.stride(-1) == 1 else metric.contiguous()
    x, y = x.contiguous(), y.contiguous()
    dev = x.device
    normed = torch.empty(B, out_len, C, device=dev, dtype=x.dtype)
    res = torch.empty(B, out_len, C, device=dev, dtype=torch.float32)
    # one allocation for the sizes and the plan's scratch (int32 rows share the fp32 element size)
    scratch = torch.empty(B * (2 * T + 4 * out_len + max(r, 1)), device=dev, dtype=torch.float32)
    new_size = scratch.as_strided((B, out_len, 1), (out_len, 1, 1))
    score = torch.rand(B, T // 2, device=dev) if mode == "prune-random" else scratch
    bc = next_pow2(C)
    if B:
        launch(_once_kernel, (B,), metric, _flat_sizes(size, B, T, scratch), score, x, y, normed, res, weight, scratch,
               T, C, metric.shape[2], cls_index, new_cls, r, out_len, metric.stride(0), metric.stride(1), float(eps),
               HAS_SIZE=size is not None, MERGE=mode == "merge", IEEE=metric.dtype == torch.float32,
               SCORE=SCORES[mode], BS=max(16, next_pow2(T // 2)), BK=32 if metric.shape[2] <= 32 else 64,
               FEW=r <= merge_book.BOOK_CFG["few_r"], BJ=max(1, min(64, ONCE_CFG["tile"] // bc)), BC=bc,
               num_warps=ONCE_CFG["num_warps"])
    return normed, res, new_size, new_cls


def _flat_sizes(size: Optional[Tensor], B: int, T: int, dummy: Tensor) -> Tensor:
    """Token sizes as contiguous fp32 (batch, T) memory, or ``dummy`` without sizes; no call where they already are."""
    if size is None:
        return dummy
    return size if size.dtype == torch.float32 and size.is_contiguous() else size.reshape(B, T).contiguous().float()
