"""Small Triton device functions shared by the scan kernels."""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _softplus(x):
    """torch.nn.functional.softplus (beta=1, threshold=20) as ``max(x, 0) + log1p(exp(-|x|))``.

    ``log1p(y)``, ``y`` in (0, 1], is ``2 atanh(s)`` with ``s = y / (2 + y)`` in (0, 1/3]: an odd series whose
    terms fall by at least 9x each, so eight terms give fp32 accuracy (``tests/test_triton_ops.py``). A dozen
    multiply-adds and one approximate division replace the precise ``log`` and division, which the scan
    kernels would otherwise run once per channel and step."""
    ax = tl.abs(x)
    y = tl.exp2(ax * -1.4426950408889634)
    s = tl.fdiv(y, 2.0 + y)
    s2 = s * s
    p = 1.0 / 17.0
    p = p * s2 + 1.0 / 15.0
    p = p * s2 + 1.0 / 13.0
    p = p * s2 + 1.0 / 11.0
    p = p * s2 + 1.0 / 9.0
    p = p * s2 + 1.0 / 7.0
    p = p * s2 + 1.0 / 5.0
    p = p * s2 + 1.0 / 3.0
    l1p = 2.0 * s * (p * s2 + 1.0)
    return tl.where(x > 20.0, x, tl.maximum(x, 0.0) + l1p)
