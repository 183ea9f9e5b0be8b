"""Chunk states for the sequence-parallel selective scan (phases 1 and 2 of three).

The sequence is cut into chunks of ``TC`` positions (chunk ``c`` covers ``[c*TC, (c+1)*TC)``, the last one
may be shorter). A direction walks the chunks in its scan order: direction 0 from chunk 0 up, direction 1
from the last chunk down, each chunk right to left. Because ``A`` does not vary in time, the state
entering a chunk is carried over whole chunks with one decay each, ``exp2(A2 * S_c)``, where ``S_c`` is
the sum of the (softplus'd) ``delta`` over the chunk:

- phase 1 (``_chunk_local_kernel``, one program per channel block x batch element x direction x chunk, less a
  direction's last chunk in scan order for the forward): the chunk's end state from a zero start and, for the
  backward, the chunk's adjoint carry ``a_first * dh_first`` from a zero adjoint at its end (``ADJ``;
  ``dh_t = C_t dy_t + a_{t+1} dh_{t+1}``, walked in reverse scan order, in the same loop as the state: two independent
  chains), plus ``S_c``;
- phase 2 (``_chunk_carry_kernel``, one program per channel block x batch element x direction): a pass
  over the chunks, ``H_c = exp2(A2 S_c) H_{c-1} + h_c`` in scan order and ``G_{c-1} = exp2(A2 S_c) G_c +
  P_c`` in reverse, written in place: afterwards slot ``c`` holds the state entering chunk ``c`` and the
  adjoint entering it from its end. It takes ``K`` chunks per load, combined with ``tl.associative_scan``.

Phase 3 is the step-serial kernel of :mod:`rmeeto.ops.triton.scan` run on every chunk at once from these
states. The exponents are ``<= 0`` throughout, so nothing overflows as chunks grow.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import _sigmoid, _softplus, load_A2, program_tile
from .launch import cdiv, launch, next_pow2

# Phase 2's programs: channels per program, chunks combined per load (K: the forward's state alone; K_ADJ: the
# backward's state and adjoint), warps. Its own blocks, not the scan's: each program holds K x BLOCK_E x N values per
# tensor. On one H200 (2026-12-01, fp16, N 16, one direction at 8x1152x1569, 16x768x3137 and 32x768x1569;
# docs/benchmarks/2026-12-01-h200-scan-contract, run 3) the forward's carry took 14-28 us with K=8, 25-49 us with
# K=16, 22-69 us with the other blocks tried, 56-219 us one chunk per load. K=4 for the forward (56 registers instead
# of 100: nine programs a multiprocessor instead of five): VideoMamba-Ti in a CUDA graph 1.007x unmerged, 1.005x at
# r=88 (one H200, 2026-12-04, docs/benchmarks/2026-12-04-h200-scan-narrow, run 85).
CARRY_CFG = dict(BLOCK_E=16, K=4, K_ADJ=8, num_warps=4)


@triton.jit
def _chunk_local_kernel(
    u_ptr, s_u_d, s_u_b, s_u_l, s_u_e,
    dl_ptr, s_dl_d, s_dl_b, s_dl_l, s_dl_e,
    B_ptr, s_B_d, s_B_b, s_B_l, s_B_n,
    C_ptr, s_C_d, s_C_b, s_C_l, s_C_n,
    z_ptr, s_z_b, s_z_l, s_z_e,
    g_ptr, s_g_b, s_g_l, s_g_e,
    A_ptr, s_A_d, s_A_e, s_A_n, bias_ptr,
    hs_ptr, gs_ptr, S_ptr,  # (ndir, batch, NC, N, E) or (..., E, N) if ADJ, same, (ndir, batch, NC, E) fp32
    ck_ptr, cs_ptr,  # (ADJ) per program: the state from zero and the sum of delta before every T-th step
    L, E, N, TC, NC, scale,
    ADJ: tl.constexpr, HAS_Z: tl.constexpr, SOFTPLUS: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr, T: tl.constexpr,
):
    """Phase 1: one chunk of one direction from zero (state) and from a zero adjoint (adjoint carry). Without
    ``ADJ`` a direction's last chunk in scan order has no program: no chunk follows it, so its end state is unused."""
    scale = tl.cast(scale, tl.float32)  # whatever the caller typed it: Inductor passes a Python float as fp64
    e, n, emask, nmask, pid_b, d, c = program_tile(E, N, NC if ADJ else NC - 1, BLOCK_E, BLOCK_N)
    if not ADJ:
        c += d  # direction 0 stops before chunk NC-1, direction 1 (which walks down) before chunk 0
    pid_e, pid2 = tl.program_id(0), tl.program_id(2)
    en_mask = emask[:, None] & nmask[None, :]
    t0 = c * TC
    clen = tl.minimum(TC, L - t0)
    sgn = 1 - 2 * d
    pf = t0 + d * (clen - 1)  # first position in scan order
    pr = t0 + (1 - d) * (clen - 1)  # last position in scan order (the adjoint walk starts there)
    A2 = load_A2(A_ptr, s_A_d, s_A_e, s_A_n, d, e, n, en_mask)
    bias = tl.load(bias_ptr + d * E + e, mask=emask, other=0.0)
    dl_base = dl_ptr + d * s_dl_d + pid_b * s_dl_b + e * s_dl_e
    S = tl.zeros((BLOCK_E,), dtype=tl.float32)
    u_base = u_ptr + d * s_u_d + pid_b * s_u_b + e * s_u_e
    B_base = B_ptr + d * s_B_d + pid_b * s_B_b + n * s_B_n
    h = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
    u_n = tl.load(u_base + pf * s_u_l, mask=emask, other=0.0)
    dl_n = tl.load(dl_base + pf * s_dl_l, mask=emask, other=0.0)
    B_n = tl.load(B_base + pf * s_B_l, mask=nmask, other=0.0)
    if ADJ:  # the backward's scratch, laid out as the step-serial backward kernel reads it
        prog = (pid2 * tl.num_programs(1) + pid_b) * tl.num_programs(0) + pid_e
        ck = ck_ptr + prog * tl.cdiv(TC, T) * BLOCK_E * BLOCK_N \
            + tl.arange(0, BLOCK_E)[:, None] * BLOCK_N + n[None, :]
        cs = cs_ptr + prog * tl.cdiv(TC, T) * BLOCK_E + tl.arange(0, BLOCK_E)
        C_base = C_ptr + d * s_C_d + pid_b * s_C_b + n * s_C_n
        g_base = g_ptr + pid_b * s_g_b + e * s_g_e
        if HAS_Z:
            z_base = z_ptr + pid_b * s_z_b + e * s_z_e
            z_r = tl.load(z_base + pr * s_z_l, mask=emask, other=0.0)
        dh = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
        a_nx = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
        dl_r = tl.load(dl_base + pr * s_dl_l, mask=emask, other=0.0)
        C_r = tl.load(C_base + pr * s_C_l, mask=nmask, other=0.0)
        g_r = tl.load(g_base + pr * s_g_l, mask=emask, other=0.0)
    for i in range(0, clen):
        more = (i + 1) < clen
        if ADJ:
            if i % T == 0:
                tl.store(ck + (i // T) * BLOCK_E * BLOCK_N, h)
                tl.store(cs + (i // T) * BLOCK_E, S)
        u = u_n.to(tl.float32)
        dl = dl_n.to(tl.float32) + bias
        Bt = B_n.to(tl.float32)
        pn = pf + sgn * (i + 1)
        u_n = tl.load(u_base + pn * s_u_l, mask=emask & more, other=0.0)
        dl_n = tl.load(dl_base + pn * s_dl_l, mask=emask & more, other=0.0)
        B_n = tl.load(B_base + pn * s_B_l, mask=nmask & more, other=0.0)
        if SOFTPLUS:
            dl = _softplus(dl)
        S += dl
        h = tl.exp2(dl[:, None] * A2) * h + (dl * u)[:, None] * Bt[None, :]
        if ADJ:
            dlr = dl_r.to(tl.float32) + bias
            Ct = C_r.to(tl.float32)
            gy = g_r.to(tl.float32) * scale
            pn = pr - sgn * (i + 1)
            dl_r = tl.load(dl_base + pn * s_dl_l, mask=emask & more, other=0.0)
            C_r = tl.load(C_base + pn * s_C_l, mask=nmask & more, other=0.0)
            g_r = tl.load(g_base + pn * s_g_l, mask=emask & more, other=0.0)
            if HAS_Z:
                zv = z_r.to(tl.float32)
                z_r = tl.load(z_base + pn * s_z_l, mask=emask & more, other=0.0)
                gy = gy * zv * _sigmoid(zv)
            if SOFTPLUS:
                dlr = _softplus(dlr)
            dh = Ct[None, :] * gy[:, None] + a_nx * dh
            a_nx = tl.exp2(dlr[:, None] * A2)
    row = (d * tl.num_programs(1) + pid_b) * NC + c
    if ADJ:  # (E, N) per row for the backward kernel, (N, E) for the forward one: each reads its own layout
        tile = row * E * N + e[:, None] * N + n[None, :]
    else:
        tile = row * E * N + n[None, :] * E + e[:, None]
    tl.store(hs_ptr + tile, h, mask=en_mask)
    if ADJ:
        tl.store(gs_ptr + tile, a_nx * dh, mask=en_mask)
    tl.store(S_ptr + row * E + e, S, mask=emask)


@triton.jit
def _then(a1, b1, a2, b2):
    """Two steps ``H -> a H + b`` of a linear recurrence as one: ``(a1, b1)`` then ``(a2, b2)``."""
    return a1 * a2, a2 * b1 + b2


@triton.jit
def _carry_block(buf_ptr, S_ptr, A2, H, row0, j0, NC, NLOC, REV, e, tile, emask, en_mask, E, N, K: tl.constexpr):
    """Scan steps ``j0 .. j0+K-1`` of one carry pass (``REV``: scan step ``j`` is chunk ``NC-1-j``): writes the
    carry entering each of those chunks over the chunk's own (local) value, and returns the carry leaving the last.
    Only the first ``NLOC`` scan steps have local values (phase 1 wrote them); later ones count as the identity.

    All ``K`` chunks are loaded at once and combined by ``tl.associative_scan``, so the pass waits on memory once
    per ``K`` chunks rather than once per chunk. Element ``k`` holds chunk step ``j0+k-1`` (so the scan is exclusive),
    element 0 the incoming carry; steps past the end are the identity ``(1, 0)``."""
    k = tl.arange(0, K)
    j = j0 + k - 1
    live = (k >= 1) & (j < NLOC)
    rows = row0 + j + REV * (NC - 1 - 2 * j)
    m3 = live[:, None, None] & en_mask[None, :, :]
    local = tl.load(buf_ptr + rows[:, None, None] * E * N + tile[None, :, :], mask=m3, other=0.0)
    S = tl.load(S_ptr + rows[:, None] * E + e[None, :], mask=live[:, None] & emask[None, :], other=0.0)
    a = tl.where(k[:, None, None] == 0, 0.0, tl.exp2(A2[None, :, :] * S[:, :, None]))
    b = tl.where(k[:, None, None] == 0, H[None, :, :], local)
    jl = j0 + K - 1  # the block's last chunk: its local value is overwritten below but carries into the next block
    rl = row0 + jl + REV * (NC - 1 - 2 * jl)
    last_ok = jl < NLOC
    last = tl.load(buf_ptr + rl * E * N + tile, mask=en_mask & last_ok, other=0.0)
    S_last = tl.load(S_ptr + rl * E + e, mask=emask & last_ok, other=0.0)
    tl.debug_barrier()  # every load of the block before any store over it
    _, entering = tl.associative_scan((a, b), 0, _then)
    jo = j0 + k
    rows_out = row0 + jo + REV * (NC - 1 - 2 * jo)
    tl.store(buf_ptr + rows_out[:, None, None] * E * N + tile[None, :, :], entering,
             mask=(jo < NC)[:, None, None] & en_mask[None, :, :])
    H_last = tl.sum(tl.where(k[:, None, None] == K - 1, entering, 0.0), axis=0)
    return tl.exp2(A2 * S_last[:, None]) * H_last + last


@triton.jit
def _chunk_carry_kernel(
    hs_ptr, gs_ptr, S_ptr, A_ptr, s_A_d, s_A_e, s_A_n, E, N, NC,
    ADJ: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr, K: tl.constexpr,
):
    """Phase 2: carry the state over the chunks in scan order and the adjoint in reverse, in place, ``K`` chunks at
    a time."""
    pid_e = tl.program_id(0)
    pid_b = tl.program_id(1).to(tl.int64)
    d = tl.program_id(2)
    e = pid_e * BLOCK_E + tl.arange(0, BLOCK_E)
    n = tl.arange(0, BLOCK_N)
    emask = e < E
    en_mask = emask[:, None] & (n < N)[None, :]
    A2 = load_A2(A_ptr, s_A_d, s_A_e, s_A_n, d, e, n, en_mask)
    row0 = (d * tl.num_programs(1) + pid_b) * NC
    if ADJ:
        tile = e[:, None] * N + n[None, :]
    else:
        tile = n[None, :] * E + e[:, None]
    H = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
    G = tl.zeros((BLOCK_E, BLOCK_N), dtype=tl.float32)
    for j0 in range(0, NC, K):
        # the state walks the chunks in the direction's scan order, the adjoint against it
        H = _carry_block(hs_ptr, S_ptr, A2, H, row0, j0, NC, NC if ADJ else NC - 1, d, e, tile, emask, en_mask,
                         E, N, K)
        if ADJ:
            G = _carry_block(gs_ptr, S_ptr, A2, G, row0, j0, NC, NC, 1 - d, e, tile, emask, en_mask, E, N, K)


def chunk_states(u: Tensor, delta: Tensor, B: Tensor, C: Tensor, z: Optional[Tensor], gout: Optional[Tensor],
                 A: Tensor, bias: Tensor, softplus: bool, scale: float, TC: int, block_e: int,
                 num_warps: int, adjoint: bool, scratch: Optional[tuple] = None) -> tuple[Tensor, Optional[Tensor]]:
    """States entering every chunk, ``(ndir, batch, NC, N, E)`` fp32 (``E, N`` with ``adjoint``), and with
    ``adjoint`` the adjoints entering every chunk from its end. Tensors as in :func:`rmeeto.ops.triton.scan.scan_fwd`.
    With ``adjoint``, ``scratch = (ck, cs, T)``: the backward kernel's checkpoint buffers, filled with the
    chunk-local states and delta sums before every ``T``-th step."""
    ndir, batch, L, E = u.shape
    N = A.shape[-1]
    NC = cdiv(L, TC)
    f32 = dict(device=u.device, dtype=torch.float32)
    rows = (E, N) if adjoint else (N, E)
    hs = torch.empty(ndir, batch, NC, *rows, **f32)
    gs = torch.empty(ndir, batch, NC, *rows, **f32) if adjoint else None
    S = torch.empty(ndir, batch, NC, E, **f32)
    neb = cdiv(E, block_e)
    meta = dict(BLOCK_E=block_e, BLOCK_N=max(2, next_pow2(N)), num_warps=num_warps)
    zargs = (z, *z.stride()) if z is not None else (None, 0, 0, 0)
    gargs = (gout, *gout.stride()) if adjoint else (None, 0, 0, 0)
    ck, cs, T = scratch if adjoint else (None, None, 1)
    launch(_chunk_local_kernel, (neb, batch, ndir * (NC if adjoint else NC - 1)),
           u, *u.stride(), delta, *delta.stride(), B, *B.stride(), C, *C.stride(), *zargs, *gargs, A, *A.stride(), bias,
           hs, gs, S, ck, cs, L, E, N, TC, NC, float(scale),
           ADJ=adjoint, HAS_Z=z is not None, SOFTPLUS=bool(softplus), T=T, **meta)
    be = min(CARRY_CFG["BLOCK_E"], next_pow2(E))
    launch(_chunk_carry_kernel, (cdiv(E, be), batch, ndir), hs, gs, S, A, *A.stride(), E, N, NC, ADJ=adjoint,
           BLOCK_E=be, BLOCK_N=meta["BLOCK_N"], K=CARRY_CFG["K_ADJ" if adjoint else "K"],
           num_warps=CARRY_CFG["num_warps"])
    return hs, gs
