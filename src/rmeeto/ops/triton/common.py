"""Small Triton device functions shared by the scan kernels."""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _softplus(x):
    # torch.nn.functional.softplus (beta=1, threshold=20) with an accurate log1p
    ax = tl.abs(x)
    y = tl.exp(-ax)
    w = 1.0 + y
    l1p = tl.where(w == 1.0, y, tl.log(w) * y / (w - 1.0))
    return tl.where(x > 20.0, x, tl.maximum(x, 0.0) + l1p)
