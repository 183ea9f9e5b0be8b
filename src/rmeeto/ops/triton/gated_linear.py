"""``out_proj`` with the split forward's closing pass in its prologue: ``((y0 + y1) * silu(z)) @ W^T``.

The split forward (:func:`rmeeto.ops.triton.scan._scan_fwd_split`) leaves the two directions' outputs ``y0`` and
``y1`` in two buffers; this matmul reads both and ``z``, sums and gates a tile in registers, rounds it to the
activations' dtype (as the separate pass did when it stored it) and multiplies it into the accumulator, so the gated
sum never goes through memory. Programs walk the output tiles of one row block together, so the three inputs come
from memory once and from L2 for the other column blocks.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import _sigmoid
from .launch import cdiv, launch


@triton.jit
def _gated_linear_kernel(y0_ptr, s_y0, y1_ptr, s_y1, z_ptr, s_z, w_ptr, s_w, o_ptr, s_o, M, N, K,
                         BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    """One (BLOCK_M, BLOCK_N) tile of ``out``; rows of every input have unit column stride."""
    n_blocks = tl.cdiv(N, BLOCK_N)
    pid_m = tl.program_id(0) // n_blocks
    pid_n = tl.program_id(0) % n_blocks
    rm = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)).to(tl.int64)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    mmask = rm < M
    nmask = rn < N
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        k = k0 + rk
        am = mmask[:, None] & (k < K)[None, :]
        a = tl.load(y0_ptr + rm[:, None] * s_y0 + k[None, :], mask=am, other=0.0).to(tl.float32)
        a += tl.load(y1_ptr + rm[:, None] * s_y1 + k[None, :], mask=am, other=0.0).to(tl.float32)
        zv = tl.load(z_ptr + rm[:, None] * s_z + k[None, :], mask=am, other=0.0).to(tl.float32)
        a = (a * zv * _sigmoid(zv)).to(w_ptr.dtype.element_ty)
        w = tl.load(w_ptr + rn[None, :] * s_w + k[:, None], mask=nmask[None, :] & (k < K)[:, None], other=0.0)
        acc = tl.dot(a, w, acc)
    tl.store(o_ptr + rm[:, None] * s_o + rn[None, :], acc.to(o_ptr.dtype.element_ty),
             mask=mmask[:, None] & nmask[None, :])


# On one H200 (2026-12-03, docs/benchmarks/2026-12-03-h200-scan-pair, run 58) the best of six tilings took 35.1 us against
# 53.4 for the sum-and-gate pass and cuBLAS at 128 x 197 tokens, K 384 (Vim-Ti), but 0.93x, 0.74x and 0.89x as long at
# K 768 and 1536: the callers use it up to MAX_K.
GATED_LINEAR_CFG = dict(BLOCK_M=128, BLOCK_N=256, BLOCK_K=64, num_warps=8, num_stages=3, MAX_K=384)


def gated_linear_pays(K: int) -> bool:
    """Whether :func:`gated_linear` is the faster way to project an inner width ``K`` (see ``GATED_LINEAR_CFG``)."""
    return K <= GATED_LINEAR_CFG["MAX_K"]


def _rows(x: Tensor) -> int:
    """The row stride of ``x`` (rows, K) or (batch, length, K) read as rows at one stride, its columns contiguous."""
    if x.stride(-1) != 1 or x.dim() not in (2, 3):
        raise ValueError(f"gated_linear takes 2-D or 3-D inputs with contiguous last dimension, not {tuple(x.shape)} "
                         f"with strides {x.stride()}: pass .contiguous() ones")
    if x.dim() == 2 or x.shape[1] > 1 and (x.shape[0] == 1 or x.stride(0) == x.shape[1] * x.stride(1)):
        return x.stride(-2)
    if x.shape[1] == 1:
        return x.stride(0)
    raise ValueError(f"gated_linear needs the batch and length of {tuple(x.shape)} to flatten at one stride "
                     f"(strides {x.stride()}): pass a .contiguous() tensor")


def gated_linear(y0: Tensor, y1: Tensor, z: Tensor, weight: Tensor, cfg=None) -> Tensor:
    """``((y0 + y1) * silu(z)) @ weight.T`` for ``y0, y1, z`` (..., K) (``z`` may be a view into ``xz``) and
    ``weight`` (N, K); returns (..., N) in ``weight``'s dtype."""
    cfg = dict(GATED_LINEAR_CFG, **(cfg or {}))
    K = y0.shape[-1]
    N = weight.shape[0]
    out = torch.empty(*y0.shape[:-1], N, device=y0.device, dtype=weight.dtype)
    if out.numel() == 0:
        return out
    M = out.numel() // N
    w = weight if weight.stride(-1) == 1 else weight.contiguous()
    grid = (cdiv(M, cfg["BLOCK_M"]) * cdiv(N, cfg["BLOCK_N"]),)
    launch(_gated_linear_kernel, grid, y0, _rows(y0), y1, _rows(y1), z, _rows(z), w, w.stride(0), out, N, M, N, K,
           BLOCK_M=cfg["BLOCK_M"], BLOCK_N=cfg["BLOCK_N"], BLOCK_K=cfg["BLOCK_K"], num_warps=cfg["num_warps"],
           num_stages=cfg["num_stages"])
    return out
