"""The bidirectional ("bimamba v2") Mamba core between ``in_proj`` and ``out_proj``.

Given ``xz = in_proj(h)`` of shape (batch, length, 2*E) it returns (batch, length, E):

    x, z = split(xz)
    fwd  = scan(silu(conv(x)), ...params...,  z)            # left to right
    bwd  = flip(scan(silu(conv(flip(x))), ...params_b..., flip(z)))  # right to left
    out  = (fwd + bwd) * out_scale     # 1/2 in Vim, 1 in VideoMamba

The reference path below is written with plain PyTorch ops around a scan function. The Triton path
(:mod:`rmeeto.ops.triton.bimamba`) computes the same thing without flipped copies;
:func:`rmeeto.ops.dispatch.bimamba_v2_inner` picks between them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class DirectionParams:
    """Weights of one scan direction, in the official shapes."""

    conv_weight: Tensor  # (E, 1, K)
    conv_bias: Optional[Tensor]  # (E,)
    x_proj_weight: Tensor  # (R + 2N, E)
    dt_proj_weight: Tensor  # (E, R)
    dt_proj_bias: Tensor  # (E,)
    A_log: Tensor  # (E, N)
    D: Tensor  # (E,)

    def tensors(self) -> list[Optional[Tensor]]:
        """The weights in field order (``DirectionParams(*p.tensors())`` rebuilds ``p``)."""
        return [self.conv_weight, self.conv_bias, self.x_proj_weight, self.dt_proj_weight, self.dt_proj_bias,
                self.A_log, self.D]


@dataclass
class SSMAux:
    """Per-token SSM quantities of the forward direction, for merge metrics: (batch, length, ·)."""

    delta: Tensor
    B: Tensor
    C: Tensor


def causal_conv1d_silu(x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    """Depthwise causal conv along dim 1 of a (batch, length, E) tensor, then SiLU."""
    length = x.shape[1]
    k = weight.shape[-1]
    y = F.conv1d(x.transpose(1, 2), weight, bias, padding=k - 1, groups=weight.shape[0])
    return F.silu(y[..., :length]).transpose(1, 2)


def _direction_ref(x: Tensor, z: Tensor, p: DirectionParams, scan: Callable):
    dt_rank = p.dt_proj_weight.shape[1]
    n = p.A_log.shape[1]
    u = causal_conv1d_silu(x, p.conv_weight, p.conv_bias)  # (b, l, E)
    x_dbl = F.linear(u, p.x_proj_weight)  # (b, l, R + 2N)
    dt, Bm, Cm = torch.split(x_dbl, [dt_rank, n, n], dim=-1)
    delta = F.linear(dt, p.dt_proj_weight)  # (b, l, E), bias goes into the scan
    A = -torch.exp(p.A_log.float())
    y = scan(u.transpose(1, 2), delta.transpose(1, 2), A, Bm.transpose(1, 2), Cm.transpose(1, 2), p.D.float(),
             z.transpose(1, 2), p.dt_proj_bias.float(), True)
    return y.transpose(1, 2), SSMAux(delta, Bm, Cm)


def bimamba_v2_inner_ref(xz: Tensor, fwd: DirectionParams, bwd: DirectionParams, scan: Callable,
                         want_aux: bool = False, out_scale: float = 0.5):
    """Bidirectional core with ``scan`` (a ``selective_scan_fn``-like function); returns ``(out, aux)``,
    ``aux`` None unless ``want_aux``. ``out_scale`` multiplies the sum of the two directions: 0.5 (Vim's
    mean) or 1.0 (VideoMamba)."""
    x, z = xz.chunk(2, dim=-1)
    y_f, aux = _direction_ref(x, z, fwd, scan)
    y_b, _ = _direction_ref(x.flip(1), z.flip(1), bwd, scan)
    out = (y_f + y_b.flip(1)) * out_scale
    return out, (aux if want_aux else None)
