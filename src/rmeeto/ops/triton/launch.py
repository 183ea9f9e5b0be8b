"""Kernel launches with less host time than ``kernel[grid](...)``.

Triton's own launch path re-derives the kernel's specialisation from every argument and builds a string
cache key on each call: about 60 us of host time for our kernels of 20-60 arguments (one H200 host,
2026-12-01, ``docs/benchmarks/2026-12-01-h200-compile/host_ti.txt``). Eager forwards of small models
are bound by that time. :func:`launch` keys the compiled kernel on what Triton specialises on (the
dtype and 16-byte alignment of each tensor, the value of each integer, the constexpr arguments) and,
once Triton has compiled and launched it through the normal path, calls its launcher directly.

Profiler hooks, Triton's interpreter, the ``fast_launch`` setting turned off (``RMEETO_FAST_LAUNCH=0``) and a
Triton outside :data:`KNOWN_LAUNCHERS` take Triton's path every time. Within that range a compiled kernel's
launcher takes ``(grid x, y, z, stream, function, metadata, launch metadata, enter hook, exit hook, *every
argument)``; the cache was checked on a GPU with Triton 3.6.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator

import torch
import triton
from torch import Tensor

from .. import settings

try:
    from triton import knobs as _knobs
except ImportError:  # older Triton: no hooks to honour
    _knobs = None

_COMPILED: dict = {}
_TRACEABLE = [False]  # see traceable_launches
KNOWN_LAUNCHERS = ((3, 3), (3, 8))  # Triton versions, first and last, whose launcher takes the call above


def _triton_version() -> tuple[int, int]:
    try:
        major, minor = triton.__version__.split(".")[:2]
        return int(major), int(minor)
    except ValueError:  # a build with an unusual version string
        return (0, 0)


_KNOWN = KNOWN_LAUNCHERS[0] <= _triton_version() <= KNOWN_LAUNCHERS[1]


def cdiv(a: int, b: int) -> int:
    """``ceil(a / b)`` for launch grids: ``triton.cdiv``'s value without its constexpr-function wrapper, which
    costs 2.7 us of host time per call against 0.1 (this package's CPU machine, Triton 3.8, 2026-12-01,
    ``scripts/bench_host_parts.py``)."""
    return (a + b - 1) // b


def next_pow2(n: int) -> int:
    """The smallest power of 2 at least ``n`` (0 for 0), as ``triton.next_power_of_2`` gives it, without its wrapper."""
    return 0 if n <= 0 else 1 << (n - 1).bit_length()


# Triton decides at ``triton.jit`` whether a kernel is interpreted, so what counts is the variable when this package's
# kernels were defined (at import), not its value now; reading it on every launch cost 1.1-2.0 us on this package's
# CPU machine (2026-12-05, docs/benchmarks/2026-12-05-cpu-host-allocs)
_INTERPRETING = os.environ.get("TRITON_INTERPRET", "0") == "1"


def interpreting() -> bool:
    """Whether Triton's interpreter runs the kernels (``TRITON_INTERPRET=1`` when they were defined)."""
    return _INTERPRETING


def _enabled() -> bool:
    return _KNOWN and settings.current().fast_launch and not interpreting()


def _specs(args: tuple) -> list:
    """What Triton specialises a kernel on, per argument: a tensor's dtype and 16-byte alignment, an integer's value,
    ``float`` for a float. One comprehension with the common cases first: 4-8 us for the forward scan kernel's 40
    arguments against 12-23 us through a function per argument (this package's 2-core CPU machine, 2026-12-01, five runs,
    ``scripts/bench_host_parts.py --launch``)."""
    return [a if type(a) is int else (a.dtype, a.data_ptr() & 15 == 0) if isinstance(a, Tensor)
            else float if type(a) is float else a for a in args]


def _active(hook: Any) -> bool:
    """A launch hook that would run: Triton 3.6 keeps an empty ``HookChain`` there when none is set."""
    return hook is not None and bool(getattr(hook, "calls", True))


def _hooked() -> bool:
    rt = getattr(_knobs, "runtime", None)
    return rt is not None and (_active(rt.launch_enter_hook) or _active(rt.launch_exit_hook))


@contextlib.contextmanager
def traceable_launches() -> Iterator[None]:
    """Within the block, :func:`launch` goes through ``torch.library.wrap_triton``, so that the body of a
    ``torch.library.triton_op`` puts each launch into Inductor's graph (which then launches it from its own code)
    instead of running it. A register cap (``maxnreg``) is left out there: Inductor's configurations for a user's
    kernel carry ``num_warps`` and ``num_stages`` only."""
    before = _TRACEABLE[0]
    _TRACEABLE[0] = True
    try:
        yield
    finally:
        _TRACEABLE[0] = before


def launch(kernel: Callable, grid: tuple, *args: Any, **meta: Any) -> None:
    """``kernel[grid](*args, **meta)``, with the compiled kernel reused through a cheap key.

    ``args`` are the kernel's leading parameters in order; ``meta`` names every remaining one (the
    constexprs) plus launch options such as ``num_warps``."""
    if _TRACEABLE[0]:
        meta.pop("maxnreg", None)
        torch.library.wrap_triton(kernel)[tuple(grid)](*args, **meta)
        return
    if not _enabled() or _hooked():
        kernel[grid](*args, **meta)
        return
    device = torch.cuda.current_device()
    # id(): a JITFunction's hash is a hash of its source-derived cache key, taken under a lock, on every call
    key = (id(kernel), device, *_specs(args), *meta.items())
    hit = _COMPILED.get(key)
    if hit is None:
        if len(_COMPILED) > 4096:  # shapes that keep changing: start over rather than grow without bound
            _COMPILED.clear()
        compiled = kernel[grid](*args, **meta)
        if hasattr(compiled, "result"):  # a Triton that compiles asynchronously hands back a future
            compiled = compiled.result()
        names = kernel.arg_names[len(args):]
        # a parameter left to its default, or no compiled kernel handed back: keep Triton's path
        if compiled is not None and all(n in meta for n in names):
            _COMPILED[key] = (compiled, tuple(meta[n] for n in names), kernel)  # kernel: keeps its id unique
        return
    compiled, tail, _ = hit
    g = (tuple(grid) + (1, 1))[:3]
    stream = torch._C._cuda_getCurrentRawStream(device)
    compiled.run(g[0], g[1], g[2], stream, compiled.function, compiled.packed_metadata, None, None, None,
                 *args, *tail)
