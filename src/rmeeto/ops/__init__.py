"""Kernels behind one interface: :mod:`rmeeto.ops.dispatch` picks them, :mod:`rmeeto.ops.settings` configures them."""
from .dispatch import available_backends, resolve_backend, selective_scan
from .scan_ref import selective_scan_ref, selective_scan_torch
from .settings import KernelSettings, configure, using

__all__ = ["selective_scan", "selective_scan_ref", "selective_scan_torch", "resolve_backend",
           "available_backends", "KernelSettings", "configure", "using"]
