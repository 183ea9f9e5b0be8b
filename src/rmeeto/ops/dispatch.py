"""Backend selection for the selective scan and the fused bidirectional Mamba core.

Backends:

- ``ref``: step-by-step pure PyTorch (the test oracle; slow).
- ``torch``: vectorised pure PyTorch (CPU default; autograd).
- ``triton``: fused Triton kernels (CUDA default when Triton imports).
- ``mamba_ssm``: ``mamba_ssm.selective_scan_fn`` if that package is installed (never required;
  chosen automatically on CUDA only when Triton is missing).

Choose with ``RMEETO_BACKEND=<name>`` or the ``backend=`` argument; ``auto`` (the default)
picks per device.
"""
from __future__ import annotations

import functools
import importlib.util
import logging
import os
from typing import Optional

from torch import Tensor

from .scan_ref import selective_scan_ref, selective_scan_torch

log = logging.getLogger("rmeeto.ops")
BACKENDS = ("ref", "torch", "triton", "mamba_ssm")


@functools.lru_cache(maxsize=None)
def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=None)
def triton_usable() -> bool:
    """True when Triton and a CUDA device are both present."""
    import torch

    return torch.cuda.is_available() and _has("triton")


def available_backends(device_type: str = "cpu") -> list[str]:
    """Backends that can run on ``device_type`` in this environment."""
    out = ["ref", "torch"]
    if device_type == "cuda":
        if triton_usable():
            out.append("triton")
        if _has("mamba_ssm"):
            out.append("mamba_ssm")
    return out


_announced: set = set()


def resolve_backend(device_type: str, backend: Optional[str] = None) -> str:
    """Turn ``backend`` (or ``$RMEETO_BACKEND``, or auto) into a backend that can run here.

    An explicit choice that cannot run raises; ``auto`` falls back quietly and logs its choice once.
    """
    choice = (backend or os.environ.get("RMEETO_BACKEND") or "auto").lower()
    if choice not in BACKENDS + ("auto",):
        raise ValueError(f"unknown backend {choice!r}; choose one of {BACKENDS + ('auto',)}")
    usable = available_backends(device_type)
    if choice == "auto":
        choice = next(b for b in ("triton", "mamba_ssm", "torch") if b in usable)
        key = (device_type, choice)
        if key not in _announced:
            _announced.add(key)
            log.info("rmeeto.ops: %s tensors use the %r backend (usable: %s)", device_type, choice, usable)
        return choice
    if choice not in usable:
        hint = {"triton": "pip install triton and run on a CUDA device",
                "mamba_ssm": "pip install mamba-ssm (needs a CUDA build)"}.get(choice, "")
        raise RuntimeError(f"backend {choice!r} cannot run on {device_type} here (usable: {usable}). {hint}")
    return choice


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor,
                   D: Optional[Tensor] = None, z: Optional[Tensor] = None,
                   delta_bias: Optional[Tensor] = None, delta_softplus: bool = False,
                   backend: Optional[str] = None) -> Tensor:
    """Selective scan in the official (batch, dim, length) layout; see :mod:`rmeeto.ops.scan_ref`."""
    name = resolve_backend(u.device.type, backend)
    if name == "ref":
        return selective_scan_ref(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    if name == "mamba_ssm":
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

        return selective_scan_fn(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    if name == "triton":
        from .triton_scan import selective_scan_triton

        return selective_scan_triton(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    return selective_scan_torch(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
