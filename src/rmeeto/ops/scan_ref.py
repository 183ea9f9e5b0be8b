"""Pure-PyTorch selective scans: a step-by-step oracle and a faster vectorised twin.

Both follow the official ``selective_scan_fn`` contract (mamba_ssm):

- ``u, delta, z``: (batch, dim, length)
- ``A``: (dim, dstate), real
- ``B, C``: (dim, dstate) [fixed], (batch, dstate, length) or (batch, groups, dstate, length)
- ``D, delta_bias``: (dim,)

``delta <- softplus(delta + delta_bias)``, ``h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t``,
``y_t = C_t h_t + D u_t``, ``out = y * silu(z)``. The state is kept in fp32 and the output is
cast back to the dtype of ``u``.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def _expand_bc(X: Tensor, dim: int) -> Tensor:
    """Bring B or C to (batch, dim, dstate, length) or leave a fixed (dim, dstate) alone."""
    if X.dim() == 3:  # (b, n, l): shared by all channels
        return X.unsqueeze(1)
    if X.dim() == 4:  # (b, g, n, l): one per group of channels
        g = X.shape[1]
        if dim % g:
            raise ValueError(f"B/C has {g} groups, which does not divide dim={dim}")
        return X.repeat_interleave(dim // g, dim=1)
    return X


def _up(x: Tensor) -> Tensor:
    """At least fp32 (fp64 stays fp64, so that gradcheck can run)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _prepare(u, delta, A, B, C, delta_bias, delta_softplus):
    u = _up(u)
    delta = _up(delta)
    if delta_bias is not None:
        delta = delta + _up(delta_bias)[..., None]
    if delta_softplus:
        delta = F.softplus(delta)
    if A.is_complex():
        raise NotImplementedError("complex A is not supported")
    dim = A.shape[0]
    return u, delta, _up(A), _expand_bc(_up(B), dim), _expand_bc(_up(C), dim)


def _finish(y: Tensor, u: Tensor, D, z, dtype) -> Tensor:
    if D is not None:
        y = y + u * _up(D)[:, None]
    if z is not None:
        y = y * F.silu(_up(z))
    return y.to(dtype)


def selective_scan_ref(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor,
                       D: Optional[Tensor] = None, z: Optional[Tensor] = None,
                       delta_bias: Optional[Tensor] = None, delta_softplus: bool = False) -> Tensor:
    """The oracle: one time step at a time, written to be obviously right."""
    dtype = u.dtype
    u, delta, A, B, C = _prepare(u, delta, A, B, C, delta_bias, delta_softplus)
    batch, dim, length = u.shape
    h = u.new_zeros(batch, dim, A.shape[1])
    ys = []
    for t in range(length):
        dA = torch.exp(delta[:, :, t, None] * A)
        Bt = B[..., t] if B.dim() == 4 else B
        Ct = C[..., t] if C.dim() == 4 else C
        h = dA * h + delta[:, :, t, None] * Bt * u[:, :, t, None]
        ys.append((h * Ct).sum(-1))
    y = torch.stack(ys, dim=2) if ys else u.new_zeros(batch, dim, 0)
    return _finish(y, u, D, z, dtype)


def selective_scan_torch(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor,
                         D: Optional[Tensor] = None, z: Optional[Tensor] = None,
                         delta_bias: Optional[Tensor] = None, delta_softplus: bool = False) -> Tensor:
    """Vectorised reference: all decays and inputs at once, then a tight time-major recurrence.

    The tensors are laid out (length, batch, dim, dstate) so that each step reads contiguous
    slices; the loop body is one fused multiply-add and one small matmul.
    """
    dtype = u.dtype
    u, delta, A, B, C = _prepare(u, delta, A, B, C, delta_bias, delta_softplus)
    batch, dim, length = u.shape
    n = A.shape[1]
    dA = torch.exp(delta.permute(2, 0, 1).unsqueeze(-1) * A)  # (l, b, d, n)
    Bl = B.permute(3, 0, 1, 2) if B.dim() == 4 else B.expand(length, 1, dim, n)  # (l, b|1, d|1, n)
    Cl = C.permute(3, 0, 1, 2) if C.dim() == 4 else C.expand(length, 1, dim, n)
    dBu = (delta * u).permute(2, 0, 1).unsqueeze(-1) * Bl  # (l, b, d, n)
    h = u.new_zeros(batch, dim, n)
    hs = []
    # unbind once: indexing inside the loop would make autograd build a full-size zero tensor per step
    for dA_t, dBu_t in zip(dA.unbind(0), dBu.unbind(0)):
        h = torch.addcmul(dBu_t, dA_t, h)
        hs.append(h)
    if not hs:
        return _finish(u.new_zeros(batch, dim, 0), u, D, z, dtype)
    y = (torch.stack(hs, dim=0) * Cl).sum(-1).permute(1, 2, 0)  # (b, d, l)
    return _finish(y, u, D, z, dtype)
