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


@triton.jit
def _fwd_step_inputs(u_base, dl_base, B_base, C_base, z_base, s_u_l, s_dl_l, s_B_l, s_C_l, s_z_l, p, emask, nmask,
                     rmask, HAS_Z: tl.constexpr, EVEN: tl.constexpr, BLOCK_R: tl.constexpr):
    """The raw ``u``, ``delta``, ``B``, ``C`` and ``z`` of position ``p`` for the forward scan (``z`` is ``u`` again,
    unused, without ``HAS_Z``). With ``BLOCK_R`` the second is the low-rank ``dt`` row (``R`` values,
    ``rmask``) from which the step forms its ``delta`` (:func:`_dt_delta`)."""
    u = _load(u_base + p * s_u_l, emask, EVEN)
    if BLOCK_R > 0:
        dl = tl.load(dl_base + p * s_dl_l, mask=rmask, other=0.0)
    else:
        dl = _load(dl_base + p * s_dl_l, emask, EVEN)
    B = _load(B_base + p * s_B_l, nmask, EVEN)
    C = _load(C_base + p * s_C_l, nmask, EVEN)
    if HAS_Z:
        z = _load(z_base + p * s_z_l, emask, EVEN)
    else:
        z = u
    return u, dl, B, C, z


@triton.jit
def _dt_delta(dt, W2):
    """``delta`` of one position, before its bias, from its ``dt`` row and the (rank, channels) tile ``W2`` of
    ``dt_proj``'s weight, in fp32."""
    return tl.sum(dt.to(tl.float32)[:, None] * W2, axis=0)


@triton.jit
def fwd_direction(d, pid_b, e, n, emask, nmask, u_ptr, s_u_d, s_u_b, s_u_e, dl_ptr, s_dl_d, s_dl_b, s_dl_e,
                  B_ptr, s_B_d, s_B_b, s_B_n, C_ptr, s_C_d, s_C_b, s_C_n, A_ptr, s_A_d, s_A_e, s_A_n, D_ptr, bias_ptr,
                  dtw_ptr, s_w_d, s_w_e, s_w_r, E, R, BLOCK_E: tl.constexpr, BLOCK_R: tl.constexpr):
    """A forward scan program's constants for direction ``d`` (``A * log2(e)``, ``D``, the ``delta`` bias and, with
    ``BLOCK_R``, ``dt_proj``'s weight tile and its rank mask) and its row bases of ``u``, ``delta`` (or ``dt``),
    ``B`` and ``C``."""
    # the channels declared contiguous whatever A's strides: the tile's layout follows this load, and the
    # selective_scan_fn contract hands A states-contiguous; with the alignment hidden nothing is vectorised on it
    A_ptrs = tl.max_contiguous(tl.multiple_of(A_ptr + d * s_A_d + n[:, None] * s_A_n + e[None, :] * s_A_e, [1, 1]),
                               [1, BLOCK_E])
    A2 = tl.load(A_ptrs, mask=nmask[:, None] & emask[None, :], other=0.0) * 1.4426950408889634
    Dv = tl.load(D_ptr + d * E + e, mask=emask, other=0.0)
    bias = tl.load(bias_ptr + d * E + e, mask=emask, other=0.0)
    u_base = u_ptr + d * s_u_d + pid_b * s_u_b + e * s_u_e
    if BLOCK_R > 0:  # the weight's tile declared as A's, so that both take the same register layout
        rr = tl.arange(0, BLOCK_R)
        rmask = rr < R
        W_ptrs = tl.max_contiguous(tl.multiple_of(dtw_ptr + d * s_w_d + rr[:, None] * s_w_r + e[None, :] * s_w_e,
                                                  [1, 1]), [1, BLOCK_E])
        W2 = tl.load(W_ptrs, mask=rmask[:, None] & emask[None, :], other=0.0).to(tl.float32)
        dl_base = dl_ptr + d * s_dl_d + pid_b * s_dl_b + rr * s_dl_e
    else:
        W2, rmask = A2, emask  # placeholders: nothing reads them
        dl_base = dl_ptr + d * s_dl_d + pid_b * s_dl_b + e * s_dl_e
    B_base = B_ptr + d * s_B_d + pid_b * s_B_b + n * s_B_n
    C_base = C_ptr + d * s_C_d + pid_b * s_C_b + n * s_C_n
    return A2, Dv, bias, W2, rmask, u_base, dl_base, B_base, C_base
