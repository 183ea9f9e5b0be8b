"""Analytic FLOPs in the R-MeeTo paper's convention (a multiply-add is one FLOP).

Per block processing ``l`` tokens (C width, E = 2C, R = dt rank, N = state size, K = conv width):
``l*C*4C + l*C*2C + (l+K-1)*E*K + l*E*(R+2N) + l*R*E + 9*l*E*N + 2*E*l``; the scan and its
projections are counted once, not per direction. Each merge of ``t`` tokens removing ``r`` adds
``6*t*C + E*(t/2)**2 + r*C``. Patch embedding ``tokens*C*p*p*channels`` and head ``C*classes``.
"""
from __future__ import annotations

from torch import nn

from .patch import schedule_of


def block_flops(tokens: float, dim: int, d_state: int = 16, dt_rank: int | None = None, d_conv: int = 4) -> float:
    e = 2 * dim
    r = dt_rank if dt_rank is not None else -(-dim // 16)
    n = d_state
    return (tokens * dim * 4 * dim + tokens * dim * 2 * dim + (tokens + d_conv - 1) * e * d_conv
            + tokens * e * (r + 2 * n) + tokens * r * e + 9 * tokens * e * n + 2 * e * tokens)


def merge_flops(tokens: float, removed: int, dim: int) -> float:
    return 6 * tokens * dim + 2 * dim * (tokens / 2) ** 2 + removed * dim


def flops(model: nn.Module) -> float:
    """FLOPs of one image through ``model`` as patched now (or unpatched)."""
    c = model.embed_dim
    mixer = model.layers[0].mixer
    t = model.num_tokens
    p = model.patch_embed.patch_size
    total = t * c * p * p * model.in_chans + c * max(model.num_classes, 0)
    for r in schedule_of(model):
        if r > 0:
            total += merge_flops(t, r, c)
            t -= r
        total += block_flops(t, c, mixer.d_state, mixer.dt_rank, mixer.d_conv)
    return float(total)


def gflops(model: nn.Module) -> float:
    """:func:`flops` in units of 1e9."""
    return flops(model) / 1e9
