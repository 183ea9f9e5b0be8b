"""The two-direction forward scan with the directions interleaved: two independent chains per program.

The one-launch forward (:func:`rmeeto.ops.triton.scan._scan_fwd_seq_kernel`) walks direction 0 over the sequence
and then direction 1, a chain of ``2 L`` dependent steps per program. Here step ``i`` advances direction 0 at
position ``i`` and direction 1 at position ``L-1-i``. The two recurrences do not depend on each other, so the
program has ``L`` steps with two chains to overlap. Each position is reached twice, once by each direction. The
first half of the steps stores each direction's ``scale * y`` (ungated). After one barrier, the second half adds
the other direction's stored value, applies ``silu(z)`` to the sum and stores the result. At an odd length both
directions reach the middle position at the same step, and it is finished there. Chunk segments (``HAS_H0``) work
the same way within their chunk.

It is opt-in: ``FWD_CFG["PAIR"]`` of :mod:`rmeeto.ops.triton.scan`, or ``scripts/ab_scan_cfg.py --configs
";fwd.PAIR=1"``. Two state tiles take twice the registers, so its programs hold ``FWD_CFG["PAIR_BLOCK_E"]``
channels (32 by default, against the one-launch forward's 64). It is exact against the reference on Triton's
interpreter (``tests/test_scan_chunk.py``). It had not run on a GPU as of 2026-12-06.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .common import _dt_delta, _fwd_step_inputs, _load, _sigmoid, _softplus, fwd_direction


@triton.jit
def _direction(d: tl.constexpr, pid_b, c, e, n, emask, nmask, u_ptr, s_u_d, s_u_b, s_u_e, dl_ptr, s_dl_d, s_dl_b,
               s_dl_e, B_ptr, s_B_d, s_B_b, s_B_n, C_ptr, s_C_d, s_C_b, s_C_n, A_ptr, s_A_d, s_A_e, s_A_n, D_ptr,
               bias_ptr, h0_ptr, dtw_ptr, s_w_d, s_w_e, s_w_r, E, N, R,
               HAS_H0: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_R: tl.constexpr):
    """Direction ``d``'s constants and row bases (:func:`fwd_direction`) and its state entering the chunk."""
    A2, Dv, bias, W2, rmask, u_base, dl_base, B_base, C_base = fwd_direction(
        d, pid_b, e, n, emask, nmask, u_ptr, s_u_d, s_u_b, s_u_e, dl_ptr, s_dl_d, s_dl_b, s_dl_e, B_ptr, s_B_d, s_B_b,
        s_B_n, C_ptr, s_C_d, s_C_b, s_C_n, A_ptr, s_A_d, s_A_e, s_A_n, D_ptr, bias_ptr, dtw_ptr, s_w_d, s_w_e, s_w_r,
        E, R, BLOCK_E, BLOCK_R)
    if HAS_H0:
        row = (d * tl.num_programs(1) + pid_b) * tl.num_programs(2) + c
        h = tl.load(h0_ptr + row * E * N + n[:, None] * E + e[None, :], mask=nmask[:, None] & emask[None, :],
                    other=0.0)
    else:
        h = tl.zeros((BLOCK_N, BLOCK_E), dtype=tl.float32)
    return A2, Dv, bias, W2, rmask, h, u_base, dl_base, B_base, C_base


@triton.jit
def _step(h, u_n, dl_n, B_n, C_n, A2, W2, Dv, bias, scale, SOFTPLUS: tl.constexpr, BLOCK_R: tl.constexpr):
    """One step of one direction: the new state and ``scale * y`` of the position (ungated)."""
    u = u_n.to(tl.float32)
    if BLOCK_R > 0:
        dl = _dt_delta(dl_n, W2) + bias
    else:
        dl = dl_n.to(tl.float32) + bias
    if SOFTPLUS:
        dl = _softplus(dl)
    h = tl.exp2(dl[None, :] * A2) * h + (dl * u)[None, :] * B_n.to(tl.float32)[:, None]
    return h, (tl.sum(h * C_n.to(tl.float32)[:, None], axis=0) + Dv * u) * scale


@triton.jit
def _finish(y, optr, z_base, s_z_l, pos, emask, HAS_Z: tl.constexpr, EVEN: tl.constexpr):
    """Store a finished position: the sum of both directions, gated by ``silu(z)``."""
    if HAS_Z:
        zv = _load(z_base + pos * s_z_l, emask, EVEN).to(tl.float32)
        y = y * zv * _sigmoid(zv)
    _store(optr, y, emask, EVEN)


@triton.jit
def _store(optr, y, emask, EVEN: tl.constexpr):
    if EVEN:
        tl.store(optr, y.to(optr.dtype.element_ty))
    else:
        tl.store(optr, y.to(optr.dtype.element_ty), mask=emask)


@triton.jit
def scan_fwd_pair_kernel(
    u_ptr, s_u_d, s_u_b, s_u_l, s_u_e,
    dl_ptr, s_dl_d, s_dl_b, s_dl_l, s_dl_e,
    B_ptr, s_B_d, s_B_b, s_B_l, s_B_n,
    C_ptr, s_C_d, s_C_b, s_C_l, s_C_n,
    z_ptr, s_z_b, s_z_l, s_z_e,
    out_ptr, s_o_b, s_o_l, s_o_e,
    A_ptr, s_A_d, s_A_e, s_A_n, D_ptr, bias_ptr,
    h0_ptr, dtw_ptr, s_w_d, s_w_e, s_w_r,
    L, E, N, R, TC, scale,
    HAS_Z: tl.constexpr, SOFTPLUS: tl.constexpr, HAS_H0: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr, EVEN: tl.constexpr, BLOCK_R: tl.constexpr,
):
    """Program (channel block, batch element, chunk); the arguments are those of the one-launch forward kernel
    (``NDIR`` 2)."""
    scale = tl.cast(scale, tl.float32)
    pid_b = tl.program_id(1).to(tl.int64)
    c = tl.program_id(2)
    e = tl.program_id(0) * BLOCK_E + tl.arange(0, BLOCK_E)
    n = tl.arange(0, BLOCK_N)
    emask, nmask = e < E, n < N
    t0 = c * TC
    clen = tl.minimum(TC, L - t0)
    t1 = t0 + clen - 1
    A2a, Da, ba, Wa, rma, ha, ua, dla, Ba, Ca = _direction(
        0, pid_b, c, e, n, emask, nmask, u_ptr, s_u_d, s_u_b, s_u_e, dl_ptr, s_dl_d, s_dl_b, s_dl_e, B_ptr, s_B_d,
        s_B_b, s_B_n, C_ptr, s_C_d, s_C_b, s_C_n, A_ptr, s_A_d, s_A_e, s_A_n, D_ptr, bias_ptr, h0_ptr, dtw_ptr, s_w_d,
        s_w_e, s_w_r, E, N, R, HAS_H0, BLOCK_E, BLOCK_N, BLOCK_R)
    A2b, Db, bb, Wb, rmb, hb, ub, dlb, Bb, Cb = _direction(
        1, pid_b, c, e, n, emask, nmask, u_ptr, s_u_d, s_u_b, s_u_e, dl_ptr, s_dl_d, s_dl_b, s_dl_e, B_ptr, s_B_d,
        s_B_b, s_B_n, C_ptr, s_C_d, s_C_b, s_C_n, A_ptr, s_A_d, s_A_e, s_A_n, D_ptr, bias_ptr, h0_ptr, dtw_ptr, s_w_d,
        s_w_e, s_w_r, E, N, R, HAS_H0, BLOCK_E, BLOCK_N, BLOCK_R)
    if HAS_Z:
        z_base = z_ptr + pid_b * s_z_b + e * s_z_e
    else:
        z_base = ua  # a placeholder: nothing reads it
    o_base = out_ptr + pid_b * s_o_b + e * s_o_e
    # each direction's next row is loaded a step ahead; the loads past the walk's end re-read its last row
    u_a, dl_a, B_a, C_a, _ = _fwd_step_inputs(ua, dla, Ba, Ca, ua, s_u_l, s_dl_l, s_B_l, s_C_l, 0, t0, emask, nmask,
                                              rma, False, EVEN, BLOCK_R)
    u_b, dl_b, B_b, C_b, _ = _fwd_step_inputs(ub, dlb, Bb, Cb, ub, s_u_l, s_dl_l, s_B_l, s_C_l, 0, t1, emask, nmask,
                                              rmb, False, EVEN, BLOCK_R)
    half = clen // 2
    mid = half + clen % 2  # the first step of the second visits
    for i in range(0, clen):
        pa, pb = t0 + i, t1 - i
        cu_a, cdl_a, cB_a, cC_a = u_a, dl_a, B_a, C_a
        cu_b, cdl_b, cB_b, cC_b = u_b, dl_b, B_b, C_b
        u_a, dl_a, B_a, C_a, _ = _fwd_step_inputs(ua, dla, Ba, Ca, ua, s_u_l, s_dl_l, s_B_l, s_C_l, 0,
                                                  tl.minimum(pa + 1, t1), emask, nmask, rma, False, EVEN, BLOCK_R)
        u_b, dl_b, B_b, C_b, _ = _fwd_step_inputs(ub, dlb, Bb, Cb, ub, s_u_l, s_dl_l, s_B_l, s_C_l, 0,
                                                  tl.maximum(pb - 1, t0), emask, nmask, rmb, False, EVEN, BLOCK_R)
        ha, ya = _step(ha, cu_a, cdl_a, cB_a, cC_a, A2a, Wa, Da, ba, scale, SOFTPLUS, BLOCK_R)
        hb, yb = _step(hb, cu_b, cdl_b, cB_b, cC_b, A2b, Wb, Db, bb, scale, SOFTPLUS, BLOCK_R)
        oa, ob = o_base + pa * s_o_l, o_base + pb * s_o_l
        if i < half:  # each position's first visit: store the direction's part
            _store(oa, ya, emask, EVEN)
            _store(ob, yb, emask, EVEN)
        elif i < mid:  # odd length: both directions at the middle position
            _finish(ya + yb, oa, z_base, s_z_l, pa, emask, HAS_Z, EVEN)
        else:  # the second visit: add the stored part, gate, store
            if i == mid:
                tl.debug_barrier()  # every first-visit store before any second visit reads one
            _finish(ya + _load(oa, emask, EVEN).to(tl.float32), oa, z_base, s_z_l, pa, emask, HAS_Z, EVEN)
            _finish(yb + _load(ob, emask, EVEN).to(tl.float32), ob, z_base, s_z_l, pb, emask, HAS_Z, EVEN)
