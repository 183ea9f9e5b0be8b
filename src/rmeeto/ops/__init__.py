"""Kernels behind one interface. See :mod:`rmeeto.ops.dispatch` for backend selection."""
from .dispatch import available_backends, resolve_backend, selective_scan
from .scan_ref import selective_scan_ref, selective_scan_torch

__all__ = ["selective_scan", "selective_scan_ref", "selective_scan_torch", "resolve_backend",
           "available_backends"]
