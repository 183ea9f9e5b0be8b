"""RMSNorm and the residual add + RMSNorm of a Vim block, in plain PyTorch (the CPU path and the test oracle)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def rms_norm_ref(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """RMSNorm computed in fp32 (as mamba_ssm's reference), returned in ``x``'s dtype."""
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * weight.float()).to(x.dtype)


def add_rmsnorm_ref(hidden: Tensor, residual: Optional[Tensor], weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """``residual += hidden``, then RMSNorm of it cast to ``weight``'s dtype (as the official block does).
    Returns ``(normed in weight's dtype, residual fp32)``."""
    residual = hidden if residual is None else residual + hidden
    return rms_norm_ref(residual.to(weight.dtype), weight, eps), residual.float()
