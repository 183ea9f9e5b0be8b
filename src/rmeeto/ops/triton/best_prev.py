"""The tiled plan's score kernel as it was at commit ecd43f7 (a division per score, separate max and argmax), kept
beside the kernels for a timing against the current one in the same process (``scripts/with_scan_cfg.py``
``swap.merge_tiled._best_kernel=rmeeto.ops.triton.best_prev``). Temporary: removed once timed."""
from __future__ import annotations

import triton
import triton.language as tl

from .merge_tiled import accumulate_dots


@triton.jit
def _best_kernel(x_ptr, best_ptr, dst_ptr, T, C, cls_idx, sxb, sxt,
                 NORM_ONLY: tl.constexpr, IEEE: tl.constexpr, BS: tl.constexpr, BK: tl.constexpr, BD: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    S = T // 2  # source k sits at non-class position 2k, destination k at 2k + 1
    D = (T - 1) // 2
    i = tl.program_id(1) * BS + tl.arange(0, BS)
    ms = i < S
    fs = 2 * i + (2 * i >= cls_idx).to(tl.int32)
    xb = x_ptr + b * sxb
    na = tl.zeros((BS,), dtype=tl.float32)
    for k0 in range(0, C, BK):
        kk = k0 + tl.arange(0, BK)
        a = tl.load(xb + fs[:, None] * sxt + kk[None, :], mask=ms[:, None] & (kk < C)[None, :], other=0.0)
        af = a.to(tl.float32)
        na += tl.sum(af * af, axis=1)
    top = tl.full((BS,), float("-inf"), tl.float32)
    arg = tl.zeros((BS,), dtype=tl.int32)
    if NORM_ONLY:  # prune-norm: the lowest-norm sources go first
        top = tl.where(ms, -tl.sqrt(na), top)
    else:
        sa = tl.sqrt(tl.where(ms, na, 1.0))  # padding rows: no 0/0
        for d0 in range(0, D, BD):
            j = d0 + tl.arange(0, BD)
            md = j < D
            fd = 2 * j + 1 + (2 * j + 1 >= cls_idx).to(tl.int32)
            acc = tl.zeros((BS, BD), dtype=tl.float32)
            nb = tl.zeros((BD,), dtype=tl.float32)
            for k0 in range(0, C, BK):
                kk = k0 + tl.arange(0, BK)
                mk = kk < C
                a = tl.load(xb + fs[:, None] * sxt + kk[None, :], mask=ms[:, None] & mk[None, :], other=0.0)
                acc, nb = accumulate_dots(acc, nb, a, xb, fd, sxt, kk, md, mk, IEEE)
            cos = acc / (sa[:, None] * tl.sqrt(tl.where(md, nb, 1.0))[None, :])
            cos = tl.where(md[None, :], cos, float("-inf"))
            m = tl.max(cos, axis=1)
            am = tl.argmax(cos, axis=1, tie_break_left=True).to(tl.int32) + d0
            up = m > top  # strictly: an equal score in a later block has a higher index
            top = tl.where(up, m, top)
            arg = tl.where(up, am, arg)
    tl.store(best_ptr + b * S + i, top, mask=ms)
    tl.store(dst_ptr + b * S + i, arg, mask=ms)
