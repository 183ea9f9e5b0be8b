"""Kernel settings: which backend runs, and the knobs of the Triton kernels.

They are read from the environment at import and again by :func:`reset`, and can be changed explicitly with
:func:`configure` (or, for a block of code, :func:`using`). A model's own ``backend`` and ``merge_impl`` attributes
take precedence over them. They are never read lazily: a compiled forward whose trace found them unread, and read them
meanwhile in a custom op's shape function, failed to build its guards (torch 2.11).

| variable | field | values |
|---|---|---|
| ``RMEETO_BACKEND`` | ``backend`` | ``auto``, ``ref``, ``torch``, ``triton``, ``mamba_ssm`` |
| ``RMEETO_MERGE`` | ``merge`` | ``auto``, ``torch``, ``triton`` |
| ``RMEETO_SCAN_SPLIT`` | ``scan_split`` | ``auto``, ``tune`` (captured form measured per shape), ``1`` (on), ``0`` (off) |
| ``RMEETO_SCAN_CHUNK`` | ``scan_chunk`` | ``auto``, ``tune`` (measured per shape), ``0`` (step-serial), a chunk length |
| ``RMEETO_GRAD_FP32`` | ``grad_fp32`` | ``0``, ``1`` |
| ``RMEETO_FAST_LAUNCH`` | ``fast_launch`` | ``1`` (default), ``0`` (Triton's own launch every time) |
| ``RMEETO_MERGE_NORM`` | ``merge_norm`` | ``1`` (default), ``0`` (the fused merge writes the merged tensors) |
| ``RMEETO_COMPILE_OPS`` | ``compile_ops`` | ``opaque`` (default), ``traced`` (Inductor launches the kernels itself) |
| ``RMEETO_GRAPH_WEIGHTS`` | ``graph_weights`` | ``live`` (default), ``frozen`` (graphs miss weight changes) |
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Iterator, Mapping

BACKENDS = ("ref", "torch", "triton", "mamba_ssm")
MERGE_IMPLS = ("auto", "torch", "triton")
ENV = {"backend": "RMEETO_BACKEND", "merge": "RMEETO_MERGE", "scan_split": "RMEETO_SCAN_SPLIT",
       "scan_chunk": "RMEETO_SCAN_CHUNK", "grad_fp32": "RMEETO_GRAD_FP32", "fast_launch": "RMEETO_FAST_LAUNCH",
       "merge_norm": "RMEETO_MERGE_NORM", "compile_ops": "RMEETO_COMPILE_OPS", "graph_weights": "RMEETO_GRAPH_WEIGHTS"}
COMPILE_OPS = ("opaque", "traced")
GRAPH_WEIGHTS = ("live", "frozen")


@dataclasses.dataclass(frozen=True)
class KernelSettings:
    """What the dispatch in :mod:`rmeeto.ops.dispatch` and the Triton kernels read."""

    backend: str = "auto"
    merge: str = "auto"
    scan_split: str = "auto"  # two concurrent launches for the two scan directions: auto, tune, on, off
    scan_chunk: str = "auto"  # sequence-parallel scan: auto, tune (measured per shape), a chunk length (0: serial)
    # fp32 du/ddelta and gradient matmuls: the default until a profile on an H100 (2026-11-27) put those
    # matmuls (no tensor cores) at 26 % of a Vim-S training step; in the compute dtype it ran 1.28x faster
    grad_fp32: bool = False
    fast_launch: bool = True  # reuse compiled kernels through rmeeto.ops.triton.launch's cheap key
    merge_norm: bool = True  # the fused merge also does the block's residual add + RMSNorm (one pass, not two)
    # how a compiled no-grad forward calls the kernels: opaque custom ops that launch them from Python on every call,
    # or ops that Inductor traces down to the kernels and launches itself (less host time; 1-2 % more GPU time: in
    # torch 2.11 Inductor compiles them without register caps, and the weights are stacked on every call:
    # docs/benchmarks/2026-12-04-h200-traced-scan)
    compile_ops: str = "opaque"
    # what a CUDA graph captured around an inference forward reads: the weights as they are at each replay (stacked
    # inside the graph, or by rmeeto.cuda_graphs.graphed's replay on the host when one changed), or the stacks cached at
    # capture time, for weights that never change (rmeeto.ops.triton.stack_cache)
    graph_weights: str = "live"

    def __post_init__(self) -> None:  # values are checked where they are used, so one bad knob breaks only its user
        object.__setattr__(self, "backend", str(self.backend).lower())
        object.__setattr__(self, "merge", str(self.merge).lower())
        object.__setattr__(self, "compile_ops", str(self.compile_ops).lower())
        object.__setattr__(self, "graph_weights", str(self.graph_weights).lower())


def from_env(environ: Mapping[str, str] = os.environ) -> KernelSettings:
    """The settings the environment asks for (unset variables keep the defaults)."""
    split = {"1": "on", "0": "off"}.get(environ.get(ENV["scan_split"], "auto"), environ.get(ENV["scan_split"], "auto"))
    return KernelSettings(backend=environ.get(ENV["backend"], "auto") or "auto",
                          merge=environ.get(ENV["merge"], "auto") or "auto", scan_split=split,
                          scan_chunk=environ.get(ENV["scan_chunk"], "auto") or "auto",
                          grad_fp32=environ.get(ENV["grad_fp32"], "0") == "1",
                          fast_launch=environ.get(ENV["fast_launch"], "1") != "0",
                          merge_norm=environ.get(ENV["merge_norm"], "1") != "0",
                          compile_ops=environ.get(ENV["compile_ops"], "opaque") or "opaque",
                          graph_weights=environ.get(ENV["graph_weights"], "live") or "live")


_current: KernelSettings = from_env()


def current() -> KernelSettings:
    """The settings in force: the environment's, unless :func:`configure` changed them."""
    return _current


def configure(**changes) -> KernelSettings:
    """Change some settings for the rest of the process (``configure(merge="torch")``); returns the old ones."""
    global _current
    old = current()
    _current = dataclasses.replace(old, **changes)
    return old


def reset() -> None:
    """Forget explicit changes and read the environment again."""
    global _current
    _current = from_env()


@contextlib.contextmanager
def using(**changes) -> Iterator[KernelSettings]:
    """``with using(backend="torch"): ...`` runs the block with these settings, then restores the old ones."""
    global _current
    old = configure(**changes)
    try:
        yield current()
    finally:
        _current = old
