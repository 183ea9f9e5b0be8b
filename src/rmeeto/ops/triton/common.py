"""Small Triton device functions shared by the scan kernels, and :func:`needs_grad`, shared by the eager entries."""
from __future__ import annotations

import os
from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

INTERPRETING = tl.constexpr(os.environ.get("TRITON_INTERPRET", "0") == "1")


def needs_grad(*tensors: Optional[Tensor]) -> bool:
    """Whether autograd would record an op on ``tensors`` (grad mode on and one of them requires grad). Eager
    inference skips the autograd Functions when it would not: their cost is host time in every block."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


@triton.jit
def _softplus(x):
    """torch.nn.functional.softplus (beta=1, threshold=20) as ``max(x, 0) + log1p(exp(-|x|))``.

    ``log1p(y)``, ``y`` in (0, 1], is ``y q(y)`` with ``q`` a degree-8 polynomial fitted to ``log1p(y) / y``
    for the least largest relative error (``scripts/fit_softplus_poly.py``: 3.0e-8, 2.1e-7 evaluated in fp32).
    Nine multiply-adds replace the precise ``log``, and an earlier atanh series that needed a division, once per
    channel and step of every scan."""
    y = tl.exp2(tl.abs(x) * -1.4426950408889634)
    q = 0.005232691299170256 * y - 0.029505226761102676
    q = q * y + 0.07822593301534653
    q = q * y - 0.13663244247436523
    q = q * y + 0.19106006622314453
    q = q * y - 0.2484298199415207
    q = q * y + 0.3331909775733948
    q = q * y - 0.4999949336051941
    q = q * y + 0.9999999403953552
    return tl.where(x > 20.0, x, tl.maximum(x, 0.0) + q * y)


@triton.jit
def _sigmoid(z):
    """``sigmoid(z)`` from the special-function unit's approximate (flush-to-zero) ``exp2`` and reciprocal, without
    the range fix-ups ``tl.sigmoid`` compiles to; the GPU tests hold the scans to the reference with it. Triton's
    interpreter runs no PTX, so there it is ``tl.sigmoid``."""
    if INTERPRETING:
        return tl.sigmoid(z)
    else:
        e = tl.inline_asm_elementwise("ex2.approx.ftz.f32 $0, $1;", "=r,r", [z * -1.4426950408889634],
                                      dtype=tl.float32, is_pure=True, pack=1)
        return tl.inline_asm_elementwise("rcp.approx.ftz.f32 $0, $1;", "=r,r", [1.0 + e],
                                         dtype=tl.float32, is_pure=True, pack=1)


@triton.jit
def _load(ptr, mask, EVEN: tl.constexpr):
    """``tl.load`` of a masked row, without the mask (and its predicates and zero fill) when ``EVEN``."""
    if EVEN:
        return tl.load(ptr)
    else:
        return tl.load(ptr, mask=mask, other=0.0)


@triton.jit
def program_tile(E, N, NC, BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr):
    """A scan program's place in a (channel blocks, batch, directions x NC segments) grid: its channels ``e`` and
    states ``n`` with their masks, its batch element, direction and segment."""
    e = tl.program_id(0) * BLOCK_E + tl.arange(0, BLOCK_E)
    n = tl.arange(0, BLOCK_N)
    return e, n, e < E, n < N, tl.program_id(1).to(tl.int64), tl.program_id(2) // NC, tl.program_id(2) % NC


@triton.jit
def load_A2(A_ptr, s_A_d, s_A_e, s_A_n, d, e, n, en_mask):
    """Direction ``d``'s (channels, states) tile of A times log2(e), so that ``exp2(delta * A2) = exp(delta * A)``."""
    return tl.load(A_ptr + d * s_A_d + e[:, None] * s_A_e + n[None, :] * s_A_n, mask=en_mask,
                   other=0.0) * 1.4426950408889634
