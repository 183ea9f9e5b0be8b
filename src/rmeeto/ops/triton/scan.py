"""Triton selective scan (forward + backward), channels-last, one or two directions per launch.

Layout seen by the kernels: every per-token tensor is addressed as ``(dir, batch, length, chan)``
through explicit strides, so channels-last activations and the ``B``/``C`` slices of ``x_dbl`` work
without copies; they read one step of every channel at a time, so channel-contiguous memory is the fast
layout (``selective_scan_triton`` copies ``(batch, dim, length)``-contiguous inputs once).

Forward (default, ``_scan_fwd_seq_kernel``): per program one batch element x ``BLOCK_E``
channels x all ``N`` states in registers, held as an ``(N, BLOCK_E)`` tile with the channels across the
lanes (two per thread at ``BLOCK_E`` 64 and one warp), so the sum over states for ``y`` stays inside a
thread; it walks the sequence one step at a time with the next step's inputs prefetched. The tile's
layout follows the load of ``A``, declared channel-contiguous (``tl.max_contiguous``, true for the models' ``A``,
not for the ``selective_scan_fn`` contract's, which is states-contiguous) with its alignment hidden from the compiler
(``tl.multiple_of(..., 1)``): a vectorised load of ``A`` would spread the states over two lanes, and the sum
over states would need shuffles. ``do_not_specialize`` did that for Triton's own launches only; Inductor, which
launches the kernel itself in compiled forwards, marks every aligned pointer and ran the scan 13 % slower
(one H200, 2026-12-04, ``docs/benchmarks/2026-12-04-h200-traced-scan``). Direction 1 (the "backward"
Mamba direction) walks the sequence from ``L-1`` down to 0 by reading position ``L-1-i`` at scan step ``i``: no flipped
copies. With two directions the same program runs direction 0, writes ``scale * y_0``, then runs
direction 1, adds ``scale * y_1`` in place (a barrier in between) and applies the gate ``silu(z)`` once, to the
sum: deterministic, no atomics. For inference forwards captured in a CUDA graph (``SPLIT="auto"``, the default;
1.13x on an H100) the two directions run as two ungated launches on two CUDA streams (direction 1 through a
negated sequence stride), at the same time, and one pass sums and gates them (:func:`sum_gate`);
``RMEETO_SCAN_SPLIT=1|0`` forces that on or off, ``tune`` measures which form is faster per shape
(:mod:`.scan_tune`). (A chunked
forward with ``tl.associative_scan`` over ``(BLOCK_E, N, T)`` tiles was 3.6x slower on H100 and
was removed on 2026-11-27.)

Backward (``_scan_bwd_seq_kernel``), per program one channel block x batch element x direction,
step by step with the fp32 state in registers and the next step's inputs prefetched (prefetching two
steps ahead was timed on 2026-11-27: 4 % (backward) and 11 % (forward) slower on an H100):

- phase 1 walks the sequence forward and checkpoints the state every ``T`` steps (a small
  per-program scratch, ``ceil(L/T)`` tiles of ``BLOCK_E x N``);
- phase 2 takes the chunks last to first: re-walks the chunk from its checkpoint writing each
  ``h_{t-1}`` to a ``T``-tile scratch (stays in L1/L2), then walks the chunk in reverse carrying
  the adjoint ``dh_t = C_t dy_t + a_{t+1} dh_{t+1}`` in registers and forms every gradient;
- ``dB``/``dC`` are written as per-channel-block partials summed by torch; ``dA``/``dD``/
  ``d delta_bias`` per (direction, batch element), summed by torch; with two directions ``dz`` is
  written per direction in fp32 and summed by torch (deterministic, no atomics).

Sequence-parallel (chunked) scan, picked by :func:`chunk_len` (the one selection rule) when the
step-serial launch has too few programs to fill the GPU (small batch x width, video lengths) and for
backwards longer than 2048 steps: the sequence is cut into chunks of ``TC`` positions; phases 1-2
(:mod:`rmeeto.ops.triton.scan_chunk`) find the state entering every chunk (and, for the backward, the
adjoint entering it from its end, plus the chunk-local checkpoints), then the kernels above run every chunk
at once as a segment (``HAS_H0``, grid axis 2 = chunks). Chunk-boundary states are recomputed in the
backward rather than stored by the forward, like the rest of the core (``checkpoint_lvl=1``).

``exp2`` with ``A`` pre-multiplied by ``log2(e)`` is used for the decays.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .. import settings
from ..scan_ref import selective_scan_torch
from .common import _load, _sigmoid, _softplus, load_A2, needs_grad, program_tile
from .launch import cdiv, interpreting, launch, next_pow2
from .layout import to_channels_last
from . import scan_tune
from .scan_chunk import chunk_states

LOG2E = math.log2(math.e)


# ----------------------------------------------------------------------------------------------
# forward kernel
# ----------------------------------------------------------------------------------------------
@triton.jit
def _fwd_step_inputs(u_base, dl_base, B_base, C_base, z_base, s_u_l, s_dl_l, s_B_l, s_C_l, s_z_l, p, emask, nmask,
                     HAS_Z: tl.constexpr, EVEN: tl.constexpr):
    """The raw ``u``, ``delta``, ``B``, ``C`` and ``z`` of position ``p`` for the forward scan (``z`` is ``u`` again,
    unused, without ``HAS_Z``)."""
    u = _load(u_base + p * s_u_l, emask, EVEN)
    dl = _load(dl_base + p * s_dl_l, emask, EVEN)
    B = _load(B_base + p * s_B_l, nmask, EVEN)
    C = _load(C_base + p * s_C_l, nmask, EVEN)
    if HAS_Z:
        z = _load(z_base + p * s_z_l, emask, EVEN)
    else:
        z = u
    return u, dl, B, C, z


@triton.jit
def _scan_fwd_seq_kernel(
    u_ptr, s_u_d, s_u_b, s_u_l, s_u_e,
    dl_ptr, s_dl_d, s_dl_b, s_dl_l, s_dl_e,
    B_ptr, s_B_d, s_B_b, s_B_l, s_B_n,
    C_ptr, s_C_d, s_C_b, s_C_l, s_C_n,
    z_ptr, s_z_b, s_z_l, s_z_e,
    out_ptr, s_o_b, s_o_l, s_o_e,
    A_ptr, s_A_d, s_A_e, s_A_n, D_ptr, bias_ptr,
    h0_ptr,  # (NDIR, batch, NC, N, E) fp32: the state entering each chunk (HAS_H0)
    L, E, N, TC, scale,
    NDIR: tl.constexpr, HAS_Z: tl.constexpr, SOFTPLUS: tl.constexpr, HAS_H0: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr, EVEN: tl.constexpr,
):
    """The forward scan, one step at a time with the next step's inputs prefetched (see the module doc).
    Program (channel block, batch element, chunk): positions ``[c*TC, (c+1)*TC)`` from the states
    entering the chunk (``HAS_H0``) or from zero (one chunk, ``TC >= L``)."""
    scale = tl.cast(scale, tl.float32)  # whatever the caller typed it: Inductor passes a Python float as fp64
    pid_e = tl.program_id(0)
    pid_b = tl.program_id(1).to(tl.int64)
    c = tl.program_id(2)
    e = pid_e * BLOCK_E + tl.arange(0, BLOCK_E)
    n = tl.arange(0, BLOCK_N)
    emask = e < E
    nmask = n < N
    t0 = c * TC
    clen = tl.minimum(TC, L - t0)
    for d in tl.static_range(NDIR):
        if d == 1:
            tl.debug_barrier()
        # silu(z) multiplies the sum of the directions, so only the last direction's pass applies it (the condition
        # is written out each time: a local variable would not stay a compile-time constant)
        # the channels declared contiguous whatever A's strides: the tile's layout follows this load, and the
        # selective_scan_fn contract hands A states-contiguous; with the alignment hidden nothing is vectorised on it
        A_ptrs = tl.max_contiguous(tl.multiple_of(A_ptr + d * s_A_d + n[:, None] * s_A_n + e[None, :] * s_A_e, [1, 1]),
                                   [1, BLOCK_E])
        A2 = tl.load(A_ptrs, mask=nmask[:, None] & emask[None, :], other=0.0) * 1.4426950408889634
        Dv = tl.load(D_ptr + d * E + e, mask=emask, other=0.0)
        bias = tl.load(bias_ptr + d * E + e, mask=emask, other=0.0)
        u_base = u_ptr + d * s_u_d + pid_b * s_u_b + e * s_u_e
        dl_base = dl_ptr + d * s_dl_d + pid_b * s_dl_b + e * s_dl_e
        B_base = B_ptr + d * s_B_d + pid_b * s_B_b + n * s_B_n
        C_base = C_ptr + d * s_C_d + pid_b * s_C_b + n * s_C_n
        if HAS_Z & (d == NDIR - 1):
            z_base = z_ptr + pid_b * s_z_b + e * s_z_e
        else:
            z_base = u_base  # a placeholder: nothing reads it
        o_base = out_ptr + pid_b * s_o_b + e * s_o_e
        if d == 0:
            p0 = t0
        else:
            p0 = t0 + clen - 1
        # the last position of the walk: prefetches past it re-read it, so no load needs the step's mask
        p_last = p0 + (clen - 1) * (1 - 2 * d)
        u_n, dl_n, B_n, C_n, z_n = _fwd_step_inputs(u_base, dl_base, B_base, C_base, z_base, s_u_l, s_dl_l, s_B_l,
                                                    s_C_l, s_z_l, p0, emask, nmask, HAS_Z & (d == NDIR - 1), EVEN)
        if HAS_H0:
            row = (d * tl.num_programs(1) + pid_b) * tl.num_programs(2) + c
            h = tl.load(h0_ptr + row * E * N + n[:, None] * E + e[None, :],
                        mask=nmask[:, None] & emask[None, :], other=0.0)
        else:
            h = tl.zeros((BLOCK_N, BLOCK_E), dtype=tl.float32)
        for i in range(0, clen):
            if d == 0:
                pos = p0 + i
                pnx = tl.minimum(pos + 1, p_last)
            else:
                pos = p0 - i
                pnx = tl.maximum(pos - 1, p_last)
            u = u_n.to(tl.float32)
            dl = dl_n.to(tl.float32) + bias
            Bt = B_n.to(tl.float32)
            Ct = C_n.to(tl.float32)
            if HAS_Z & (d == NDIR - 1):
                zv = z_n.to(tl.float32)
            # prefetch the next step
            u_n, dl_n, B_n, C_n, z_n = _fwd_step_inputs(u_base, dl_base, B_base, C_base, z_base, s_u_l, s_dl_l, s_B_l,
                                                        s_C_l, s_z_l, pnx, emask, nmask, HAS_Z & (d == NDIR - 1), EVEN)
            if SOFTPLUS:
                dl = _softplus(dl)
            a = tl.exp2(dl[None, :] * A2)
            h = a * h + (dl * u)[None, :] * Bt[:, None]
            y = (tl.sum(h * Ct[:, None], axis=0) + Dv * u) * scale
            optr = o_base + pos * s_o_l
            if d == 1:
                y = y + _load(optr, emask, EVEN).to(tl.float32)
            if HAS_Z & (d == NDIR - 1):
                y = y * zv * _sigmoid(zv)
            if EVEN:
                tl.store(optr, y.to(out_ptr.dtype.element_ty))
            else:
                tl.store(optr, y.to(out_ptr.dtype.element_ty), mask=emask)


# ----------------------------------------------------------------------------------------------
# backward kernel
# ----------------------------------------------------------------------------------------------
@triton.jit
def _step_inputs(u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p, emask, nmask, more):
    """The raw ``u``, ``delta`` and ``B`` of position ``p`` (zeros where ``more`` is false)."""
    return (tl.load(u_base + p * s_u_l, mask=emask & more, other=0.0),
            tl.load(dl_base + p * s_dl_l, mask=emask & more, other=0.0),
            tl.load(B_base + p * s_B_l, mask=nmask & more, other=0.0))


@triton.jit
def _state_step(h, u_n, dl_n, B_n, bias, A2, SOFTPLUS: tl.constexpr):
    """One step of the recurrence on a (channel, state) tile: ``h <- exp(delta A) h + delta u B``."""
    u = u_n.to(tl.float32)
    dl = dl_n.to(tl.float32) + bias
    if SOFTPLUS:
        dl = _softplus(dl)
    return tl.exp2(dl[:, None] * A2) * h + (dl * u)[:, None] * B_n.to(tl.float32)[None, :]


@triton.jit
def _bwd_checkpoints(ck, u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0, sgn, L, nchunk, bias, A2, emask, nmask,
                     SOFTPLUS: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr, T: tl.constexpr):
    """Phase 1 from a zero state: the state before every chunk of ``T`` steps, into ``ck`` (the last chunk's
    steps are not needed)."""
    TILE: tl.constexpr = BLOCK_E * BLOCK_N
    h = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
    tl.store(ck, h)
    u_n, dl_n, B_n = _step_inputs(u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0, emask, nmask, True)
    for c in range(0, nchunk - 1):
        for j in range(0, T):
            i = c * T + j
            nxt = _step_inputs(u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0 + sgn * (i + 1), emask, nmask,
                               (i + 1) < L)
            h = _state_step(h, u_n, dl_n, B_n, bias, A2, SOFTPLUS)
            u_n, dl_n, B_n = nxt
        tl.store(ck + (c + 1) * TILE, h)


@triton.jit
def _bwd_rewalk(h, hb, u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0, sgn, t0, jlen, bias, A2, emask, nmask,
                SOFTPLUS: tl.constexpr, TILE: tl.constexpr):
    """Re-walk one chunk from its entering state ``h``: slot j of the scratch ``hb`` <- h_{t0 + j - 1}."""
    tl.store(hb, h)
    u_n, dl_n, B_n = _step_inputs(u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0 + sgn * t0, emask, nmask, True)
    for j in range(1, jlen):
        nxt = _step_inputs(u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0 + sgn * (t0 + j), emask, nmask,
                           (j + 1) < jlen)
        h = _state_step(h, u_n, dl_n, B_n, bias, A2, SOFTPLUS)
        u_n, dl_n, B_n = nxt
        tl.store(hb + j * TILE, h)


@triton.jit
def _bwd_reverse(carry, dA_acc, dD_acc, db_acc, hb, p0, sgn, t0, jlen, scale, A2, Dv, bias, emask, nmask,
                 u_base, s_u_l, dl_base, s_dl_l, B_base, s_B_l, C_base, s_C_l, g_base, s_g_l, z_base, s_z_l,
                 du_base, s_du_l, ddl_base, s_ddl_l, dB_base, s_dB_l, dC_base, s_dC_l, dz_base, s_dz_l,
                 HAS_Z: tl.constexpr, SOFTPLUS: tl.constexpr, TILE: tl.constexpr):
    """Phase 2 on one chunk, last step first, with the states ``hb`` left by :func:`_bwd_rewalk`: carries the
    adjoint ``dh_t = C_t dy_t + a_{t+1} dh_{t+1}`` as ``carry = a_t dh_t`` (one tile instead of two) and writes
    every per-step gradient; returns the carry and the running dA, dD and d-bias sums."""
    en_mask = emask[:, None] & nmask[None, :]
    p = p0 + sgn * (t0 + jlen - 1)
    u_n = tl.load(u_base + p * s_u_l, mask=emask, other=0.0)
    dl_n = tl.load(dl_base + p * s_dl_l, mask=emask, other=0.0)
    B_n = tl.load(B_base + p * s_B_l, mask=nmask, other=0.0)
    C_n = tl.load(C_base + p * s_C_l, mask=nmask, other=0.0)
    g_n = tl.load(g_base + p * s_g_l, mask=emask, other=0.0)
    if HAS_Z:
        z_n = tl.load(z_base + p * s_z_l, mask=emask, other=0.0)
    hp_n = tl.load(hb + (jlen - 1) * TILE)
    for jr in range(0, jlen):
        j = jlen - 1 - jr
        pos = p0 + sgn * (t0 + j)
        u = u_n.to(tl.float32)
        dlr = dl_n.to(tl.float32) + bias
        Bt = B_n.to(tl.float32)
        Ct = C_n.to(tl.float32)
        gy = g_n.to(tl.float32) * scale
        if HAS_Z:
            zv = z_n.to(tl.float32)
        hprev = hp_n
        # prefetch the previous step of the chunk
        pn = pos - sgn
        more = j >= 1
        u_n = tl.load(u_base + pn * s_u_l, mask=emask & more, other=0.0)
        dl_n = tl.load(dl_base + pn * s_dl_l, mask=emask & more, other=0.0)
        B_n = tl.load(B_base + pn * s_B_l, mask=nmask & more, other=0.0)
        C_n = tl.load(C_base + pn * s_C_l, mask=nmask & more, other=0.0)
        g_n = tl.load(g_base + pn * s_g_l, mask=emask & more, other=0.0)
        if HAS_Z:
            z_n = tl.load(z_base + pn * s_z_l, mask=emask & more, other=0.0)
        hp_n = tl.load(hb + (j - 1) * TILE, mask=en_mask & more, other=0.0)

        if SOFTPLUS:
            dl = _softplus(dlr)
        else:
            dl = dlr
        a = tl.exp2(dl[:, None] * A2)
        dlu = dl * u
        hs = a * hprev + dlu[:, None] * Bt[None, :]
        if HAS_Z:
            sz = _sigmoid(zv)
            y = tl.sum(hs * Ct[None, :], axis=1) + Dv * u
            dz = gy * y * sz * (1.0 + zv * (1.0 - sz))
            tl.store(dz_base + pos * s_dz_l, dz.to(dz_base.dtype.element_ty), mask=emask)
            dy = gy * zv * sz
        else:
            dy = gy
        # adjoint: dh_t = C_t dy_t + a_{t+1} dh_{t+1}
        dh = Ct[None, :] * dy[:, None] + carry
        carry = a * dh
        dhB = tl.sum(dh * Bt[None, :], axis=1)
        g_a = carry * hprev  # d/d(dl*A) of the decay path
        ddl = tl.sum(g_a * A2, axis=1) * 0.6931471805599453 + dhB * u  # A = A2 ln 2
        dA_acc += g_a * dl[:, None]
        du = dl * dhB + Dv * dy
        dD_acc += dy * u
        if SOFTPLUS:
            ddl = ddl * _sigmoid(dlr)
        ddl = tl.where(emask, ddl, 0.0)
        db_acc += ddl
        tl.store(du_base + pos * s_du_l, du.to(du_base.dtype.element_ty), mask=emask)
        tl.store(ddl_base + pos * s_ddl_l, ddl.to(ddl_base.dtype.element_ty), mask=emask)
        tl.store(dB_base + pos * s_dB_l, tl.sum(dh * dlu[:, None], axis=0), mask=nmask)
        tl.store(dC_base + pos * s_dC_l, tl.sum(hs * dy[:, None], axis=0), mask=nmask)
    return carry, dA_acc, dD_acc, db_acc


# One program = (channel block, batch element, direction x segment). Step-by-step, state in registers.
# A segment is the positions [s*TC, (s+1)*TC); with several (HAS_H0) each starts from the state and ends with
# the adjoint that rmeeto.ops.triton.scan_chunk.chunk_states carried to it, and phase 1 is not walked: that
# function's first pass left the checkpoints of the walk from zero and the sums of delta up to them, so a
# checkpoint is h_local + exp2(A2 * sum) * h_entering.
# Phase 1 (_bwd_checkpoints) walks the sequence forward and checkpoints the state every T steps; phase 2 takes
# the chunks last to first: re-walks the chunk from its checkpoint writing each h_{t-1} to a small per-program
# scratch (_bwd_rewalk), then walks it in reverse carrying the adjoint dh in registers (_bwd_reverse).
@triton.jit
def _scan_bwd_seq_kernel(
    u_ptr, s_u_d, s_u_b, s_u_l, s_u_e,
    dl_ptr, s_dl_d, s_dl_b, s_dl_l, s_dl_e,
    B_ptr, s_B_d, s_B_b, s_B_l, s_B_n,
    C_ptr, s_C_d, s_C_b, s_C_l, s_C_n,
    z_ptr, s_z_b, s_z_l, s_z_e,
    g_ptr, s_g_b, s_g_l, s_g_e,  # incoming gradient of the (summed) output
    A_ptr, s_A_d, s_A_e, s_A_n, D_ptr, bias_ptr,
    # outputs
    du_ptr, s_du_d, s_du_b, s_du_l, s_du_e,
    ddl_ptr, s_ddl_d, s_ddl_b, s_ddl_l, s_ddl_e,
    dB_ptr, s_dB_p, s_dB_d, s_dB_b, s_dB_l, s_dB_n,  # fp32 partials, one slab per channel block
    dC_ptr, s_dC_p, s_dC_d, s_dC_b, s_dC_l, s_dC_n,
    dz_ptr, s_dz_d, s_dz_b, s_dz_l, s_dz_e,  # per-direction dz (s_dz_d = 0 with one direction)
    pg_ptr,  # (NDIR, NC, batch, E, N + 2) fp32: per segment and batch element [dA | dD | d delta_bias]
    ck_ptr,  # (programs, nchunk, BLOCK_E, BLOCK_N) fp32: state before each chunk
    hb_ptr,  # (programs, T, BLOCK_E, BLOCK_N) fp32: the states h_{t-1} of the current chunk
    h0_ptr, g0_ptr,  # (ndir, batch, NC, E, N) fp32: state and adjoint entering each segment (HAS_H0)
    cs_ptr,  # (programs, nchunk, BLOCK_E) fp32: sum of delta before each checkpoint (HAS_H0)
    L, E, N, BATCH, TC, NC, scale,
    HAS_Z: tl.constexpr, SOFTPLUS: tl.constexpr, HAS_H0: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr, T: tl.constexpr,
):
    scale = tl.cast(scale, tl.float32)  # whatever the caller typed it: Inductor passes a Python float as fp64
    e, n, emask, nmask, pid_b, d, seg = program_tile(E, N, NC, BLOCK_E, BLOCK_N)
    pid_e, pid2 = tl.program_id(0), tl.program_id(2)
    en_mask = emask[:, None] & nmask[None, :]
    s0 = seg * TC
    L = tl.minimum(TC, L - s0)  # from here on, L is the segment's length
    nchunk = tl.cdiv(L, T)
    TILE: tl.constexpr = BLOCK_E * BLOCK_N
    prog = (pid2 * tl.num_programs(1) + pid_b) * tl.num_programs(0) + pid_e
    tile = tl.arange(0, BLOCK_E)[:, None] * BLOCK_N + n[None, :]
    ck = ck_ptr + prog * tl.cdiv(TC, T) * TILE + tile  # fixed stride: the last segment may be shorter
    if HAS_H0:
        cs = cs_ptr + prog * tl.cdiv(TC, T) * BLOCK_E + tl.arange(0, BLOCK_E)
    hb = hb_ptr + prog * T * TILE + tile
    # scan step i reads position p0 + sgn * i (direction 1 walks from the end)
    sgn = 1 - 2 * d
    p0 = s0 + d * (L - 1)
    if HAS_H0:
        h0_tile = ((d * BATCH + pid_b) * NC + seg) * E * N + e[:, None] * N + n[None, :]

    A2 = load_A2(A_ptr, s_A_d, s_A_e, s_A_n, d, e, n, en_mask)
    Dv = tl.load(D_ptr + d * E + e, mask=emask, other=0.0)
    bias = tl.load(bias_ptr + d * E + e, mask=emask, other=0.0)
    u_base = u_ptr + d * s_u_d + pid_b * s_u_b + e * s_u_e
    dl_base = dl_ptr + d * s_dl_d + pid_b * s_dl_b + e * s_dl_e
    B_base = B_ptr + d * s_B_d + pid_b * s_B_b + n * s_B_n
    C_base = C_ptr + d * s_C_d + pid_b * s_C_b + n * s_C_n
    g_base = g_ptr + pid_b * s_g_b + e * s_g_e
    du_base = du_ptr + d * s_du_d + pid_b * s_du_b + e * s_du_e
    ddl_base = ddl_ptr + d * s_ddl_d + pid_b * s_ddl_b + e * s_ddl_e
    dB_base = dB_ptr + pid_e * s_dB_p + d * s_dB_d + pid_b * s_dB_b + n * s_dB_n
    dC_base = dC_ptr + pid_e * s_dC_p + d * s_dC_d + pid_b * s_dC_b + n * s_dC_n
    if HAS_Z:
        z_base = z_ptr + pid_b * s_z_b + e * s_z_e
        dz_base = dz_ptr + d * s_dz_d + pid_b * s_dz_b + e * s_dz_e
    else:  # never read or written: HAS_Z is off
        z_base = g_base
        dz_base = du_base

    if HAS_H0:  # the checkpoints from zero are in ck already (see above)
        H0 = tl.load(h0_ptr + h0_tile, mask=en_mask, other=0.0)
        carry = tl.load(g0_ptr + h0_tile, mask=en_mask, other=0.0)
    else:
        _bwd_checkpoints(ck, u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0, sgn, L, nchunk, bias, A2, emask,
                         nmask, SOFTPLUS, BLOCK_E, BLOCK_N, T)
        carry = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
    # the adjoint carried in from past the segment's end enters as the carry a_{t+1} dh_{t+1} with a_{t+1} := 1
    dA_acc = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
    dD_acc = tl.zeros((BLOCK_E,), dtype=tl.float32)
    db_acc = tl.zeros((BLOCK_E,), dtype=tl.float32)
    for cc in range(0, nchunk):
        c = nchunk - 1 - cc
        t0 = c * T
        jlen = tl.minimum(T, L - t0)
        h = tl.load(ck + c * TILE)
        if HAS_H0:
            h = h + tl.exp2(A2 * tl.load(cs + c * BLOCK_E)[:, None]) * H0
        _bwd_rewalk(h, hb, u_base, dl_base, B_base, s_u_l, s_dl_l, s_B_l, p0, sgn, t0, jlen, bias, A2, emask, nmask,
                    SOFTPLUS, TILE)
        tl.debug_barrier()
        carry, dA_acc, dD_acc, db_acc = _bwd_reverse(
            carry, dA_acc, dD_acc, db_acc, hb, p0, sgn, t0, jlen, scale, A2, Dv, bias, emask, nmask,
            u_base, s_u_l, dl_base, s_dl_l, B_base, s_B_l, C_base, s_C_l, g_base, s_g_l, z_base, s_z_l,
            du_base, s_du_l, ddl_base, s_ddl_l, dB_base, s_dB_l, dC_base, s_dC_l, dz_base, s_dz_l,
            HAS_Z, SOFTPLUS, TILE)
        tl.debug_barrier()  # the next chunk overwrites the scratch
    row = pg_ptr + (pid2 * BATCH + pid_b) * E * (N + 2) + e * (N + 2)
    tl.store(row[:, None] + n[None, :], dA_acc, mask=en_mask)
    tl.store(row + N, dD_acc, mask=emask)
    tl.store(row + N + 1, db_acc, mask=emask)


# ----------------------------------------------------------------------------------------------
# launchers (tensors given as (dir, batch, length, chan) views, any strides)
# ----------------------------------------------------------------------------------------------
# Forward on one H200 (2026-12-01, docs/benchmarks/2026-12-01-h200-scan-layout), fp16, batch 128, E 768, L 197,
# one direction: BLOCK_E=64/1 warp 0.176 ms, 32/1 0.204, 64/2 0.303 (before the softplus change), the earlier
# (BLOCK_E, N) tile 0.204. Backward on H200, same shape, both directions (incl. the
# torch sums of the partials): step-by-step BLOCK_E=32/T=8/1 warp 2.86 ms, T=16 3.04, T=32 3.20,
# BLOCK_E=64/2 warps 3.37, BLOCK_E=16 4.45; the old chunked associative-scan backward 12.7 ms. Again on
# 2026-12-01 (docs/benchmarks/2026-12-01-h200-merge-cost, forward + backward): 32/1/8 3.02 ms, a 168-register cap
# 3.04, a 128 cap 3.87, 16/1/8 4.67, 32/2/8 5.14, T=16 3.29.
# SPLIT: "auto" (default) runs the two directions as two launches on two streams for forwards that
# are captured in a CUDA graph and will not be differentiated (inference with a graph: 1.13x on an
# H100 on 2026-11-27, Vim-S unmerged and r=11), and as one launch otherwise (training: 0.98x split;
# eager merged Vim-S inference: 0.86x split, CPU-bound); the ``scan_split`` setting forces it on or off.
# maxnreg: ptxas's register cap (0 or None: none) for the forward kernel's step-serial one-direction launches that
# gate their own output: unchunked single-direction scans (the selective_scan_fn contract), and the two-stream launches
# of a captured inference forward when SUM_GATE is 0. On one H200 with Triton 3.6 (2026-12-01,
# docs/benchmarks/2026-12-01-h200-fwd-regcap, scripts/ab_scan_cfg.py, configurations interleaved in one process)
# a cap of 120 made Vim-S / Vim-Ti / VideoMamba-S in a CUDA graph 1.02-1.05x faster than no cap, but a cap of 128
# made them 0.85-0.92x as fast: how ptxas schedules under a cap is fragile, so re-time it after any change to the
# kernel or to Triton (scripts/gpu_suite.sh regab). Two-direction launches (eager inference, training) stay
# uncapped: the cap was not timed there, and with Triton 3.6 their kernel spills under 120. So do chunked segments:
# alone, one direction at 32 x 768 x 1569 and 8 x 1152 x 1569, 120 was 2-3 % slower than no cap.
# SUM_GATE (default 1): silu(z) multiplies the sum of the directions, so the split forward runs its two scans without
# the gate and applies it in the pass that sums them (sum_gate), and a two-direction launch gates in its second
# direction's pass only. Those scans then take SPLIT_MAXNREG (default none) and, where the two launches have at
# least SPLIT_WIDE_PROGS_PER_SM programs per multiprocessor, SPLIT_WIDE_BLOCK_E channels per program. On one H200
# (2026-12-03, docs/benchmarks/2026-12-03-h200-scan-prefetch, batch 128, fp16, CUDA graph, interleaved): against
# the gate in each scan under the 120 cap, Vim-S 1.030x / 1.028x (r=0 / 11) with 128 channels, Vim-B 1.039x /
# 1.039x, Vim-Ti 1.014x / 1.016x with 64 (128 channels: 0.92x, 768 programs); the ungated scans under the 120 cap
# were 0.86-0.88x. The two-direction launch alone: 1.26-1.31x at the image shapes, 1.02x at 1569 steps.
# A prefetch of the rows 2-16 steps ahead into L2 or L1 was 1.007-1.010x on Vim-S and 0.997-0.998x on Vim-Ti with
# the gate in each scan (same record); its code is at commit dc44c79.
# SPLIT_MAXNREG 168 on the 128-channel split scans (12 programs a multiprocessor instead of 8: Vim-S's 1536 in one
# wave instead of 1.45) spilled and was 0.926-0.932x on Vim-S and Vim-B; 184 and 200 were worse (2026-12-03,
# docs/benchmarks/2026-12-03-h200-conv-cap).
# SPLIT_MAX_PROGS_PER_SM: a captured inference forward ("auto") takes the two-stream launch where the one-launch grid
# (BLOCK_E channels x batch) has fewer programs than this a multiprocessor; elsewhere one launch. CUDA graphs, fp16,
# one launch against two streams, one-launch programs a multiprocessor in brackets. One H200 (2026-12-06,
# docs/benchmarks/2026-12-06-gpu-new-defaults, run 191): Vim-Ti 0.76x / 0.78x at batch 128 (5.8; r=0 / 5) and
# 1.027x at 256 (11.6); Vim-S 1.033x / 1.034x at 128 (11.6); Vim-B 1.031x at 64 (11.6) and 0.961x at 96 (17.5).
# One H100 (2026-12-06, docs/benchmarks/2026-12-06-gpu-compile-fix and -gpu-interleaved-scan): Vim-S 1.045x at
# batch 96 (8.7), 1.05-1.06x at 128; Vim-B 1.02-1.03x at 128 (23.3); VideoMamba-S 0.96-0.99x at batch 32 (2.9).
# The rule is right at every shape but Vim-B at 96 on the H200. (Until 2026-12-06 a second condition kept inner
# widths below 768 on two streams, fitted to Vim-Ti at 256 timed with dt_proj in the scan, 0.63x; without it the
# one launch wins there.)
# dt_proj inside the one-launch step-serial forward (delta formed in the kernel from the low-rank dt, for inference
# without SSM values; 2026-12-05, 1.04x on Vim-Ti then, one H100) was removed on 2026-12-06; its code is at commit
# 5132208. Timed again after a later change to its loads it made the launch slower: CUDA graphs, Vim-Ti batch 128,
# one launch 0.85x (one H100, run 187, docs/benchmarks/2026-12-06-gpu-interleaved-scan) and 0.86x / 0.86x at r=0 / 5,
# 0.58x at batch 256 (one H200, run 191, docs/benchmarks/2026-12-06-gpu-new-defaults); Vim-S 1.000x (run 191).
# Both directions interleaved in one program (step i advancing direction 0 at i and direction 1 at L-1-i: two
# independent chains per program instead of one of 2L steps; code at commit 89d5839, ops/triton/scan_pair.py) was
# 0.65-0.84x this one-launch forward on Vim-Ti and Vim-S, eager and in CUDA graphs, at 16, 32 and 64 channels a
# program (one H100, 2026-12-06, docs/benchmarks/2026-12-06-gpu-interleaved-scan, run 184); removed.
FWD_CFG = dict(BLOCK_E=64, num_warps=1, maxnreg=120, SUM_GATE=1, SPLIT_MAXNREG=0,
               SPLIT_WIDE_BLOCK_E=128, SPLIT_WIDE_PROGS_PER_SM=8,
               SPLIT_MAX_PROGS_PER_SM=8)  # cfg["SPLIT"] (True, False, "auto") overrides the setting
BWD_CFG = dict(BLOCK_E=32, T=8, num_warps=1, maxnreg=None)  # maxnreg: a register cap (occupancy) for ptxas
# When chunk_len() chunks the sequence (cfg/env "TC" overrides it).
# Forward: when the step-serial launch has fewer than MIN_PROGS_FWD programs (channel blocks of FWD_CFG's
# BLOCK_E x batch, x2 for the two-stream launch) and its serial chain (length x directions walked one after the
# other) is at least MIN_CHAIN_FWD steps. On one H200 (2026-12-01, fp16, N 16, 64-channel programs,
# docs/benchmarks/2026-12-01-h200-merge-cost): at 197 steps and two directions the chunked forward was 1.4-1.6x
# faster at 192-384 programs and 0.88-0.89x as fast at 768; with one direction (197 steps) the step-serial one
# won even at 192 programs (0.141 vs 0.179 ms); at 1569-3137 steps chunks won 1.5-3.6x at 144-384 programs.
# Backward (32-channel programs): when it has fewer than MIN_PROGS_BWD programs (x directions). On one H200
# (2026-12-01, docs/benchmarks/2026-12-01-h200-scan) the chunked backward (with its forward) was 1.12x faster at
# 1536 programs (64x768x1569, one direction), 0.93x at 3072 (two); the chosen lengths were within 2 % of the best
# of 32/64/128/256 at every video shape. Accuracy: the backward of a
# sequence longer than LONG_L is chunked (chunks <= LONG_TC) whatever the program count: the step-serial
# backward over 3137 steps was 1.4e-5 (relative, fp32) off the fp64 reference in dA, the chunked one within
# 1e-5. (Summing dA per 8 or per 256 steps did not bring the step-serial case within 1e-5; a likely cause is
# the error of the approximate exp2 compounding over thousands of decays, which a chunk replaces with one.)
CHUNK_CFG = dict(MIN_PROGS_FWD=512, MIN_CHAIN_FWD=384, MIN_PROGS_BWD=2048, TARGET_PROGS=8192, MIN_TC=64,
                 LONG_L=2048, LONG_TC=512)
_SIDE_STREAMS: dict = {}
_SPLIT = {"auto": "auto", "tune": "tune", "on": True, "off": False}


def split_setting():
    """The ``scan_split`` setting as :func:`use_split` takes it: ``"auto"``, ``"tune"``, True or False."""
    value = settings.current().scan_split
    if value not in _SPLIT:
        raise ValueError(f"scan_split {value!r} (RMEETO_SCAN_SPLIT): use auto, tune, 1 (on) or 0 (off)")
    return _SPLIT[value]


def _s4(x: Tensor):
    assert x.dim() == 4
    return (x, *x.stride())


def _s3(x: Optional[Tensor]):
    if x is None:
        return (None, 0, 0, 0)
    assert x.dim() == 3
    return (x, *x.stride())


def chunk_len(phase: str, L: int, batch: int, E: int, ndir: int, block_e: int, forced=None,
              split: bool = False) -> int:
    """The one rule that picks between the step-serial scan and the sequence-parallel (chunked) one.

    Returns the chunk length ``TC``; ``TC >= L`` means step-serial. ``forced`` (``cfg["TC"]``) or
    the ``scan_chunk`` setting (``$RMEETO_SCAN_CHUNK``): ``0`` forces step-serial, a positive number that chunk
    length, ``auto`` (the default) chunks when the step-serial launch has too few programs to fill the GPU
    and, for the forward, a serial chain long enough to pay for the extra passes (see ``CHUNK_CFG``), into
    about ``TARGET_PROGS`` programs and chunks of at least ``MIN_TC`` steps; and the backward of a sequence
    longer than ``LONG_L`` always, in chunks of at most ``LONG_TC`` (accuracy, see ``CHUNK_CFG``).
    ``split``: the forward would run its directions as two concurrent launches (a graph capture), which
    doubles the step-serial programs in flight.
    """
    setting = forced if forced is not None else settings.current().scan_chunk
    if setting not in ("auto", "tune"):  # "tune": this rule, then scan_fwd measures other lengths (scan_tune)
        try:
            tc = int(setting)
        except ValueError:
            raise ValueError(f"scan_chunk {setting!r} (RMEETO_SCAN_CHUNK): use auto, tune, 0 or a chunk length") \
                from None
        return L if tc <= 0 else min(tc, L)
    chunk_progs = cdiv(E, block_e) * batch * (ndir if phase == "bwd" else 1)  # per chunk, in the chunked launches
    progs = chunk_progs * (2 if split and phase == "fwd" else 1)  # of the step-serial launch(es)
    min_tc = CHUNK_CFG["MIN_TC"]
    chain = L * (1 if phase == "bwd" or split else ndir)  # forward: the directions run one after the other
    tc = L
    if (progs < CHUNK_CFG["MIN_PROGS_" + phase.upper()] and L >= 2 * min_tc
            and (phase == "bwd" or chain >= CHUNK_CFG["MIN_CHAIN_FWD"])):
        # the chunked forward walks both directions in each program whether or not the serial one would split
        nc = min(cdiv(L, min_tc), cdiv(CHUNK_CFG["TARGET_PROGS"], chunk_progs))
        tc = cdiv(cdiv(L, nc), 16) * 16
    if phase == "bwd" and L > CHUNK_CFG["LONG_L"]:
        tc = min(tc, CHUNK_CFG["LONG_TC"])
    return min(tc, L)


def scan_fwd(u: Tensor, delta: Tensor, B: Tensor, C: Tensor, z: Optional[Tensor], A: Tensor,
             D: Tensor, bias: Tensor, out: Tensor, softplus: bool, scale: float, cfg=None,
             for_backward: bool = True) -> Tensor:
    """u, delta: (ndir, b, L, E); B, C: (ndir, b, L, N); z, out: (b, L, E); A: (ndir, E, N) fp32, any strides
    (the models pass a view of an (ndir, N, E) tensor, which ``stack_params`` gives; the chunked path reads A with the
    states contiguous and copies it unless it comes so); D, bias: (ndir, E) fp32.
    Writes ``out = scale * sum_dir y_dir``. Step-serial or chunked as :func:`chunk_len` says.
    ``for_backward=False`` (a forward that will not be differentiated) lets ``SPLIT="auto"`` pick the two-stream
    launch of the step-serial scan during a CUDA graph capture."""
    cfg = dict(FWD_CFG, **(cfg or {}))
    ndir, batch, L, E = u.shape
    N = A.shape[-1]
    if L == 0 or batch == 0 or E == 0:
        return out
    BE = min(cfg["BLOCK_E"], next_pow2(E))
    capturing = u.is_cuda and torch.cuda.is_current_stream_capturing()
    setting = cfg.get("SPLIT", split_setting())
    helps = capturing and split_helps(E, batch, BE, sm_count(u.device), cfg)
    if setting == "tune" and ndir == 2 and not for_backward and cfg.get("TC") is None and can_time(u):
        def run(form: bool) -> None:
            scan_fwd(u, delta, B, C, z, A, D, bias, out, softplus, scale, dict(cfg, SPLIT=form), for_backward=False)
        key = ("split", L, batch, E, N, u.dtype, z is not None, u.device)
        helps = scan_tune.tuned_split(key, split_helps(E, batch, BE, sm_count(u.device), cfg), run, capturing)
    split = use_split(setting, for_backward, capturing, helps) and ndir == 2
    TC = chunk_len("fwd", L, batch, E, ndir, BE, cfg.get("TC"), split)
    if TC < L and cfg.get("TC") is None and settings.current().scan_chunk == "tune" and can_time(u):
        key = (L, batch, E, N, ndir, BE, u.dtype, z is not None, u.device)
        TC = scan_tune.tuned_chunk_len(key, TC, L, lambda tc: scan_fwd(
            u, delta, B, C, z, A, D, bias, out, softplus, scale, dict(cfg, TC=tc), for_backward), capturing)
    BN = max(2, next_pow2(N))
    meta = dict(NDIR=ndir, HAS_Z=z is not None, SOFTPLUS=bool(softplus), HAS_H0=TC < L, BLOCK_E=BE,
                BLOCK_N=BN, EVEN=E % BE == 0 and N == BN, num_warps=cfg["num_warps"])
    one_dir = dict(meta, NDIR=1, **fwd_regcap(cfg, one_direction=True, chunked=TC < L))
    h0 = None
    if TC < L:
        h0, _ = chunk_states(u, delta, B, C, z, None, A.contiguous(), bias, softplus, scale, TC, BE, cfg["num_warps"],
                             False)
    grid = (cdiv(E, BE), batch, cdiv(L, TC))
    if TC >= L and split:
        _scan_fwd_split(u, delta, B, C, z, A, D, bias, out, float(scale), split_meta(cfg, meta, E, N, batch, u.device),
                        bool(cfg["SUM_GATE"]))
    else:
        launch(_scan_fwd_seq_kernel, grid, *_s4(u), *_s4(delta), *_s4(B), *_s4(C), *_s3(z), *_s3(out), *_s3(A), D, bias,
               h0, L, E, N, TC, float(scale), **(one_dir if ndir == 1 else meta))
    return out


_SM_COUNT: dict = {}


def sm_count(device: torch.device) -> int:
    """Streaming multiprocessors of a CUDA ``device`` (cached: the query costs host time); 1 elsewhere (Triton's
    interpreter)."""
    if device.type != "cuda":
        return 1
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _SM_COUNT:
        _SM_COUNT[index] = torch.cuda.get_device_properties(index).multi_processor_count
    return _SM_COUNT[index]


def split_meta(cfg: dict, meta: dict, E: int, N: int, batch: int, device: torch.device) -> dict:
    """The launch options of the split forward's one-direction launches (see ``FWD_CFG``). When the gate follows the
    sum (``SUM_GATE``): the ``SPLIT_MAXNREG`` cap, and ``SPLIT_WIDE_BLOCK_E`` channels per program where the two
    launches' programs reach ``SPLIT_WIDE_PROGS_PER_SM`` per multiprocessor. Otherwise ``maxnreg`` and ``BLOCK_E``."""
    if not cfg["SUM_GATE"]:
        return dict(meta, NDIR=1, **_regcap(cfg))
    wide = min(cfg["SPLIT_WIDE_BLOCK_E"], next_pow2(E))
    be = meta["BLOCK_E"]
    if wide > be and 2 * batch * cdiv(E, wide) >= cfg["SPLIT_WIDE_PROGS_PER_SM"] * sm_count(device):
        be = wide
    cap = cfg["SPLIT_MAXNREG"]
    return dict(meta, NDIR=1, BLOCK_E=be, EVEN=E % be == 0 and N == meta["BLOCK_N"], **({"maxnreg": cap} if cap else {}))


def _regcap(cfg: dict) -> dict:
    """The launch option for ``cfg``'s register cap, if it has one."""
    return {"maxnreg": cfg["maxnreg"]} if cfg.get("maxnreg") else {}


def fwd_regcap(cfg: dict, one_direction: bool, chunked: bool) -> dict:
    """The register-cap launch option of a forward launch: ``cfg``'s cap for step-serial one-direction launches,
    none for the others (see ``FWD_CFG``)."""
    return _regcap(cfg) if one_direction and not chunked else {}


def can_time(u: Tensor) -> bool:
    """Whether the tuners (:mod:`.scan_tune`) may time forwards on ``u``: a real CUDA tensor, not the fake or
    functional tensor of a trace (``compile_ops="traced"`` traces this function, which runs no kernel then)."""
    return u.is_cuda and type(u) is torch.Tensor


def split_helps(E: int, batch: int, block_e: int, sms: int, cfg=None) -> bool:
    """Whether a captured forward of inner width ``E`` runs faster on two streams than in one launch, as measured
    (``FWD_CFG``'s ``SPLIT_MAX_PROGS_PER_SM``): where the one-launch grid of ``block_e``-channel programs leaves
    ``sms`` multiprocessors with fewer than that many programs each."""
    return cdiv(E, block_e) * batch < (cfg or FWD_CFG)["SPLIT_MAX_PROGS_PER_SM"] * sms


def use_split(setting, for_backward: bool, capturing: bool, helps: bool = True) -> bool:
    """Whether the forward scan runs its two directions on two streams. ``"auto"``: only for a forward
    that will not be differentiated and is being captured in a CUDA graph, at a shape where two streams were
    measured faster (``helps``: see ``FWD_CFG``'s ``SPLIT_MAX_PROGS_PER_SM``). Eagerly, the second stream's launch
    and synchronisation cost CPU time, which made a merged Vim-S 14 % slower (6306 vs 7317 im/s, H100, 2026-11-27)."""
    if setting in ("auto", "tune"):
        return not for_backward and capturing and helps
    return bool(setting)


def _one_dir(x: Optional[Tensor], d: Optional[int], reverse: bool) -> tuple:
    """Kernel arguments for one direction of a (ndir, b, L, C) tensor (``d``) or of a shared
    (b, L, C) one (``d=None``). ``reverse`` starts at position L-1 with a negated sequence stride, so
    the kernel's forward walk visits L-1, ..., 0: the reverse direction without a flipped copy."""
    if x is None:
        return (None, 0, 0, 0)
    v = x[d:d + 1] if d is not None else x
    strides = list(v.stride())
    if reverse:
        v = v[..., v.shape[-2] - 1:, :]
        strides[-2] = -strides[-2]
    return (v, *strides)


def _scan_fwd_split(u, delta, B, C, z, A, D, bias, out, scale: float, meta, sum_gates: bool = True) -> None:
    """Default for captured inference (``SPLIT="auto"``; 1.13x faster on an H100): the two directions as two
    launches of the one-direction kernel on two CUDA streams, so both run at once with twice the resident
    programs and half the serial chain each; then ``out = (y_0 + y_1) * silu(z)`` in one pass, so the scans compute
    no gate (``sum_gates``; otherwise each scan gates its own output and they are added). Capturable in a CUDA graph.
    ``meta``: the one-direction kernel's (:func:`split_meta`)."""
    L, E, N = u.shape[2], u.shape[3], A.shape[-1]
    grid = (cdiv(E, meta["BLOCK_E"]), u.shape[1], 1)
    other = torch.empty(out.shape, device=out.device, dtype=out.dtype)
    zs = None if sum_gates else z
    meta = dict(meta, HAS_Z=zs is not None)

    def one_direction(d: int, dst: Tensor) -> None:
        rev = d == 1
        launch(_scan_fwd_seq_kernel, grid, *_one_dir(u, d, rev), *_one_dir(delta, d, rev), *_one_dir(B, d, rev),
               *_one_dir(C, d, rev), *_one_dir(zs, None, rev), *_one_dir(dst, None, rev),
               *_s3(A[d:d + 1]), D[d:d + 1], bias[d:d + 1], None, L, E, N, L, scale, **meta)

    if u.is_cuda:
        main = torch.cuda.current_stream(u.device)
        side = _SIDE_STREAMS.get(u.device)
        if side is None:
            side = _SIDE_STREAMS[u.device] = torch.cuda.Stream(u.device)
        side.wait_stream(main)
        one_direction(0, out)
        with torch.cuda.stream(side):
            one_direction(1, other)
        main.wait_stream(side)
    else:  # Triton's interpreter
        one_direction(0, out)
        one_direction(1, other)
    sum_gate(out, other, z if sum_gates else None)


@triton.jit
def _sum_gate_kernel(out_ptr, s_o_b, s_o_l, s_o_e, other_ptr, s_t_b, s_t_l, s_t_e, z_ptr, s_z_b, s_z_l, s_z_e, L, E,
                     HAS_Z: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_E: tl.constexpr):
    """``out = (out + other) * silu(z)`` (``out + other`` without ``HAS_Z``) on a (positions, channels) tile of one
    batch element."""
    t = tl.program_id(0) * BLOCK_L + tl.arange(0, BLOCK_L)
    e = tl.program_id(1) * BLOCK_E + tl.arange(0, BLOCK_E)
    b = tl.program_id(2).to(tl.int64)
    m = (t < L)[:, None] & (e < E)[None, :]
    optr = out_ptr + b * s_o_b + t[:, None] * s_o_l + e[None, :] * s_o_e
    y = tl.load(optr, mask=m, other=0.0).to(tl.float32)
    y += tl.load(other_ptr + b * s_t_b + t[:, None] * s_t_l + e[None, :] * s_t_e, mask=m, other=0.0).to(tl.float32)
    if HAS_Z:
        zv = tl.load(z_ptr + b * s_z_b + t[:, None] * s_z_l + e[None, :] * s_z_e, mask=m, other=0.0).to(tl.float32)
        y = y * zv * tl.sigmoid(zv)
    tl.store(optr, y.to(out_ptr.dtype.element_ty), mask=m)


# 8 warps: 1.002x (Vim-S unmerged) and 1.003x (r=11) against 4 in CUDA graphs on one H200, the best of four blockings
# (2026-12-03, docs/benchmarks/2026-12-03-h200-scan-pair, run 59)
SUM_GATE_CFG = dict(BLOCK_L=8, BLOCK_E=256, num_warps=8)


def sum_gate(out: Tensor, other: Tensor, z: Optional[Tensor]) -> None:
    """``out = (out + other) * silu(z)`` in place (``out += other`` for ``z`` None), for (b, L, E) tensors of any
    strides (``z`` may be a view into ``xz``); fastest with the channels contiguous."""
    batch, L, E = out.shape
    if out.numel() == 0:
        return
    bl, be = min(SUM_GATE_CFG["BLOCK_L"], next_pow2(L)), min(SUM_GATE_CFG["BLOCK_E"], next_pow2(E))
    launch(_sum_gate_kernel, (cdiv(L, bl), cdiv(E, be), batch), out, *out.stride(), other, *other.stride(),
           *_s3(z), L, E, HAS_Z=z is not None, BLOCK_L=bl, BLOCK_E=be, num_warps=SUM_GATE_CFG["num_warps"])


def scan_bwd(u, delta, B, C, z, A, D, bias, gout, du, ddelta, dz, softplus: bool,
             scale: float, cfg=None):
    """Gradients of :func:`scan_fwd`. ``du, ddelta``: (ndir, b, L, E) outputs; ``dz``: (b, L, E)
    or None. Returns (dBC (ndir, b, L, 2N) fp32 = [dB | dC], dA, dD, dbias) fp32, summed over
    batch for the parameters. dB/dC are summed over channel blocks from per-block partials, and
    with two directions ``dz`` from per-direction fp32 buffers (deterministic, no atomics).
    Step-serial or chunked (phases 1-2 in :mod:`rmeeto.ops.triton.scan_chunk`) as :func:`chunk_len` says."""
    cfg = dict(BWD_CFG, **(cfg or {}))
    A = A.contiguous()  # unlike the forward, the backward kernel is fastest with the states contiguous
    ndir, batch, L, E = u.shape
    N = A.shape[-1]
    f32 = dict(device=u.device, dtype=torch.float32)
    BE = min(cfg["BLOCK_E"], next_pow2(E))
    neb = cdiv(E, BE) if E > 0 else 1
    empty = L * batch * E == 0
    TC = 1 if empty else chunk_len("bwd", L, batch, E, ndir, BE, cfg.get("TC"))
    NC = 1 if empty else cdiv(L, TC)
    alloc = torch.zeros if empty else torch.empty  # otherwise the kernel writes every element
    pg = alloc(ndir, NC, batch, E, N + 2, **f32)  # one buffer, so one reduction: [dA | dD | d delta_bias]
    part = alloc(neb, ndir, batch, L, 2 * N, **f32)
    if not empty:
        BN = max(2, next_pow2(N))
        T = min(cfg["T"], max(2, next_pow2(TC)))
        grid = (neb, batch, ndir * NC)
        nprog = grid[0] * grid[1] * grid[2]
        ck = torch.empty(nprog * cdiv(TC, T) * BE * BN, **f32)
        hb = torch.empty(nprog * T * BE * BN, **f32)
        h0 = g0 = cs = None
        if NC > 1:
            cs = torch.empty(nprog * cdiv(TC, T) * BE, **f32)
            h0, g0 = chunk_states(u, delta, B, C, z, gout, A, bias, softplus, scale, TC, BE, cfg["num_warps"],
                                  True, (ck, cs, T))
        if z is None:
            dz_args = (None, 0, 0, 0, 0)
            dzp = None
        elif ndir == 1:
            dz_args = (dz, 0, *dz.stride())
            dzp = None
        else:
            dzp = torch.empty(ndir, batch, L, E, **f32)
            dz_args = _s4(dzp)
        launch(_scan_bwd_seq_kernel, grid,
               *_s4(u), *_s4(delta), *_s4(B), *_s4(C), *_s3(z), *_s3(gout), *_s3(A), D, bias,
               *_s4(du), *_s4(ddelta), part[..., :N], *part.stride(), part[..., N:], *part.stride(),
               *dz_args, pg, ck, hb, h0, g0, cs, L, E, N, batch, TC, NC, float(scale),
               HAS_Z=z is not None, SOFTPLUS=bool(softplus), HAS_H0=NC > 1,
               BLOCK_E=BE, BLOCK_N=BN, T=T, num_warps=cfg["num_warps"],
               **_regcap(cfg))
        if dzp is not None:
            dz.copy_(dzp.sum(0))
    pg = pg.sum((1, 2))
    return part.sum(0), pg[..., :N], pg[..., N], pg[..., N + 1]


# ----------------------------------------------------------------------------------------------
# official-layout single-direction entry point
# ----------------------------------------------------------------------------------------------
def _contract_fwd(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Optional[Tensor], z: Optional[Tensor],
                  delta_bias: Optional[Tensor], delta_softplus: bool) -> tuple[Tensor, tuple]:
    """The contract's forward: ``(out (b, d, l), what the backward reads)``."""
    batch, dim, L = u.shape
    dev = u.device
    A32 = A.float().contiguous()  # (d, N) with the states contiguous: what the backward kernel reads
    D32 = (D.float() if D is not None else torch.zeros(dim, device=dev)).contiguous()
    b32 = (delta_bias.float() if delta_bias is not None else torch.zeros(dim, device=dev)).contiguous()
    u, delta, B, C, z = to_channels_last(u, delta, B, C, z)
    out = torch.empty(batch, L, dim, device=dev, dtype=u.dtype)
    scan_fwd(u[None], delta[None], B[None], C[None], z, A32[None], D32[None], b32[None], out, delta_softplus, 1.0)
    return out.transpose(1, 2), (u, delta, A32, B, C, D32, z, b32)


class _SelectiveScanFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, z, delta_bias, delta_softplus):
        out, saved = _contract_fwd(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
        ctx.save_for_backward(*saved)
        ctx.flags = (D is not None, delta_bias is not None, delta_softplus)
        return out

    @staticmethod
    def backward(ctx, gout):
        u, delta, A32, B, C, D32, z, b32 = ctx.saved_tensors
        has_D, has_bias, softplus = ctx.flags
        N = A32.shape[1]
        du, dd = torch.empty_like(u), torch.empty_like(delta)
        dz = torch.empty_like(z) if z is not None else None
        dBC, dA, dD, db = scan_bwd(u[None], delta[None], B[None], C[None], z, A32[None], D32[None], b32[None],
                                   to_channels_last(gout)[0], du[None], dd[None], dz, softplus, 1.0)
        dBC = dBC[0].to(B.dtype) if B.dtype == C.dtype else dBC[0]  # one cast for both
        dB, dC = dBC[:, :, :N].transpose(1, 2), dBC[:, :, N:].transpose(1, 2)
        return (du.transpose(1, 2), dd.transpose(1, 2), dA[0], dB.to(B.dtype), dC.to(C.dtype),
                dD[0] if has_D else None, dz.transpose(1, 2) if dz is not None else None,
                db[0] if has_bias else None, None)


def selective_scan_triton(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor,
                          D: Optional[Tensor] = None, z: Optional[Tensor] = None,
                          delta_bias: Optional[Tensor] = None,
                          delta_softplus: bool = False) -> Tensor:
    """``selective_scan_fn`` contract (see :mod:`rmeeto.ops.scan_ref`), Triton forward + backward.

    Variable ``B``/``C`` of shape (b, n, l) (or (b, 1, n, l)) run on Triton; fixed (d, n) or
    multi-group B/C and complex A fall back to :func:`selective_scan_torch`. The kernels read one step of every
    channel at a time, so l-contiguous inputs are copied channels-last once (:mod:`.layout`'s tiled copy), and the
    output (shape (b, d, l)) and the input gradients come back as views of channels-last memory.
    """
    def _norm(X):
        if X.dim() == 4 and X.shape[1] == 1:
            return X[:, 0]
        return X

    Bn, Cn = _norm(B), _norm(C)
    if (Bn.dim() != 3 or Cn.dim() != 3 or A.is_complex() or not u.is_cuda and not interpreting()):
        return selective_scan_torch(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    if not needs_grad(u, delta, A, Bn, Cn, D, z, delta_bias):  # no autograd node to build: its cost is host time
        return _contract_fwd(u, delta, A, Bn, Cn, D, z, delta_bias, delta_softplus)[0]
    return _SelectiveScanFn.apply(u, delta, A, Bn, Cn, D, z, delta_bias, delta_softplus)
