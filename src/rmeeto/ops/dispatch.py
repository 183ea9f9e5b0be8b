"""The one place that picks kernels: the scan, the bidirectional core, add + RMSNorm and the fused merge.

Backends:

- ``ref``: step-by-step pure PyTorch (the test oracle; slow).
- ``torch``: vectorised pure PyTorch (CPU default; autograd).
- ``triton``: fused Triton kernels (CUDA default when Triton imports); under ``torch.compile`` and
  ``torch.export`` they run as the custom ops of :mod:`rmeeto.ops.triton.library`.
- ``mamba_ssm``: ``mamba_ssm.selective_scan_fn`` if that package is installed (never required;
  chosen automatically on CUDA only when Triton is missing).

The choice comes from a model's ``backend`` argument, else the ``backend`` setting
(:mod:`rmeeto.ops.settings`, ``$RMEETO_BACKEND``); ``auto`` picks per device. What can run is probed
once, at import, so that deciding costs nothing inside a traced forward.
"""
from __future__ import annotations

import importlib.util
import logging
from typing import Optional

import torch
from torch import Tensor

from . import settings
from .bimamba import DirectionParams, SSMAux, bimamba_v2_inner_ref
from .norm import add_rmsnorm_ref
from .scan_ref import selective_scan_ref, selective_scan_torch
from .settings import BACKENDS

try:
    from .triton import library as triton_ops
    from .triton.bimamba import bc_offset, compute_dtype, stack_params
    from .triton.merge import supported as fused_merge_supported
    from .triton.scan import selective_scan_triton
except ImportError:  # a PyTorch build without Triton
    triton_ops = None

log = logging.getLogger("rmeeto.ops")
_HAS_MAMBA_SSM = importlib.util.find_spec("mamba_ssm") is not None
_announced: set = set()


def triton_usable() -> bool:
    """True when Triton and a CUDA device are both present."""
    return triton_ops is not None and torch.cuda.is_available()


_usable: dict[str, tuple[str, ...]] = {}  # device type -> its backends, once CUDA has been seen (see below)


def available_backends(device_type: str = "cpu") -> list[str]:
    """Backends that can run on ``device_type`` in this environment. Kept once a CUDA device has been found: every
    eager block asks, and the answer cannot change."""
    compiling = torch.compiler.is_compiling()
    # compiling: neither read nor fill the cache; a traced read becomes a guard that the fill then fails
    known = None if compiling else _usable.get(device_type)
    if known is not None:
        return list(known)
    out = ["ref", "torch"]
    if device_type == "cuda":
        cuda = torch.cuda.is_available()
        if cuda and triton_ops is not None:
            out.append("triton")
        if _HAS_MAMBA_SSM:
            out.append("mamba_ssm")
        if not cuda:  # asked again next time
            return out
    if not compiling:
        _usable[device_type] = tuple(out)
    return out


def resolve_backend(device_type: str, backend: Optional[str] = None) -> str:
    """Turn ``backend`` (or the ``backend`` setting, or auto) into a backend that can run here.

    An explicit choice that cannot run raises; ``auto`` falls back quietly and logs its choice once.
    """
    choice = (backend or settings.current().backend).lower()
    if choice not in BACKENDS + ("auto",):
        raise ValueError(f"unknown backend {choice!r}; choose one of {BACKENDS + ('auto',)}")
    usable = available_backends(device_type)
    if choice == "auto":
        choice = next(b for b in ("triton", "mamba_ssm", "torch") if b in usable)
        # compiling first: a traced read of _announced becomes a guard, which an eager forward's announcement fails
        if not torch.compiler.is_compiling() and (device_type, choice) not in _announced:
            _announced.add((device_type, choice))
            log.info("rmeeto.ops: %s tensors use the %r backend (usable: %s)", device_type, choice, usable)
        return choice
    if choice not in usable:
        hint = {"triton": "pip install triton and run on a CUDA device",
                "mamba_ssm": "pip install mamba-ssm (needs a CUDA build)"}.get(choice, "")
        raise RuntimeError(f"backend {choice!r} cannot run on {device_type} here (usable: {usable}). {hint}")
    return choice


def _scan_fn(name: str):
    if name == "ref":
        return selective_scan_ref
    if name == "mamba_ssm":
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn  # optional, never a dependency

        return selective_scan_fn
    return selective_scan_triton if name == "triton" else selective_scan_torch


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor,
                   D: Optional[Tensor] = None, z: Optional[Tensor] = None,
                   delta_bias: Optional[Tensor] = None, delta_softplus: bool = False,
                   backend: Optional[str] = None) -> Tensor:
    """Selective scan in the official (batch, dim, length) layout; see :mod:`rmeeto.ops.scan_ref`."""
    fn = _scan_fn(resolve_backend(u.device.type, backend))
    return fn(u, delta, A, B, C, D, z, delta_bias, delta_softplus)


def bimamba_v2_inner(xz: Tensor, fwd: DirectionParams, bwd: DirectionParams, backend: Optional[str] = None,
                     want_aux: bool = False, out_scale: float = 0.5) -> tuple[Tensor, Optional[SSMAux]]:
    """The bidirectional core between ``in_proj`` and ``out_proj`` (see :mod:`rmeeto.ops.bimamba`);
    returns ``(out, aux)``, ``aux`` (detached on the Triton path) only if ``want_aux``."""
    name = resolve_backend(xz.device.type, backend)
    if name != "triton":
        return bimamba_v2_inner_ref(xz, fwd, bwd, _scan_fn(name), want_aux, out_scale)
    return bimamba_v2_inner_triton(xz, fwd, bwd, want_aux, out_scale)


def bimamba_v2_inner_triton(xz: Tensor, fwd: DirectionParams, bwd: DirectionParams, want_aux: bool = False,
                            out_scale: float = 0.5) -> tuple[Tensor, Optional[SSMAux]]:
    """:func:`bimamba_v2_inner` on the Triton kernels, whatever the device (the CPU runs them under
    ``TRITON_INTERPRET=1``, for tests)."""
    cdt = compute_dtype(xz)
    # autograd runs a function's forward with grad off, so whether a backward can follow is decided here
    for_backward = torch.is_grad_enabled() and (xz.requires_grad or any(
        t is not None and t.requires_grad for p in (fwd, bwd) for t in p.tensors()))
    if for_backward:
        out, x_dbl, delta = triton_ops.bimamba(xz, stack_params(fwd, bwd, cdt), out_scale, True,
                                               settings.current().grad_fp32)
    else:
        out, x_dbl, delta = triton_ops.bimamba_inference(xz, fwd, bwd, cdt, out_scale)
    if not want_aux:
        return out, None
    N = fwd.A_log.shape[1]
    P = bc_offset(x_dbl, N)
    xd = x_dbl[0].view(xz.shape[0], xz.shape[1], -1)
    return out, SSMAux(delta[0], xd[..., P:P + N], xd[..., P + N:])


def add_norm(hidden: Tensor, residual: Optional[Tensor], weight: Tensor, eps: float,
             backend: Optional[str] = None) -> tuple[Tensor, Tensor]:
    """``residual += hidden`` (fp32), then RMSNorm: ``(normed, residual)``; one fused kernel on Triton."""
    if hidden.is_cuda and (backend or resolve_backend("cuda")) == "triton":
        return triton_ops.add_rmsnorm(hidden, residual, weight, eps)
    return add_rmsnorm_ref(hidden, residual, weight, eps)


def merge_impl(choice: Optional[str] = None) -> str:
    """The merge implementation: ``choice`` (a model's ``merge_impl``), else the ``merge`` setting
    (``$RMEETO_MERGE``): ``auto`` (the fused Triton merge where the blocks run Triton), ``torch`` or ``triton``."""
    choice = (choice or settings.current().merge).lower()
    if choice not in settings.MERGE_IMPLS:
        raise ValueError(f"merge implementation {choice!r} (model.merge_impl or RMEETO_MERGE): "
                         "choose auto, torch or triton")
    return choice


def fused_merge(impl: str, backend: str, metric: Tensor, hidden: Tensor, residual: Optional[Tensor],
                cls_index, mode: str, order: str, distance: str, cls: str):
    """The fused Triton merge (:mod:`rmeeto.ops.triton.library`'s ``merge_plan``/``merge_apply``) where it
    applies, else None (use the reference in :mod:`rmeeto.merge`). ``impl`` is :func:`merge_impl`'s answer."""
    if triton_ops is None or impl == "torch" or (impl == "auto" and (backend != "triton" or not hidden.is_cuda)):
        return None
    if not fused_merge_supported(metric, cls_index, mode, order, distance, cls):
        return None
    if residual is not None and residual.shape != hidden.shape:
        return None
    return triton_ops
