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
