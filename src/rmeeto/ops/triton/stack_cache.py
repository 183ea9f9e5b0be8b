"""The stacked weights of inference, cached per block, and what a CUDA graph captured around them reads.

Stacking both directions' weights (:func:`rmeeto.ops.triton.bimamba.stack_params`) on every call cost host time in
eager inference of small models and GPU time in compiled inference, so forwards without autograd reuse the stacks while
no weight changes (:func:`cached_stack_params`; each weight's data pointer and version are the key, so a write through
``.data``, which keeps the version, goes unnoticed, as it does for autograd).

A CUDA graph replays with no host code of ours, so a graph must not read stacks that an in-place weight change (an
optimizer step, ``load_state_dict``) has made stale. Three ways, by who captures the graph:

- by default a capture stacks inside the graph, one kernel per block per replay;
- a graph captured by :func:`rmeeto.cuda_graphs.graphed` reads the cached stacks, and its replay brings them up to date
  first (:func:`stacks_read_by_capture`, :func:`refresh_for_replay`): host work only, and none on the GPU unless a
  weight changed;
- the setting ``graph_weights="frozen"`` lets any capture read the cached stacks, for weights that never change.
"""
from __future__ import annotations

import contextlib
import threading
import weakref
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
from torch import Tensor

from .. import settings
from ..bimamba import DirectionParams
from .bimamba import stack_params
from .stack import stack_params_launched

# id(forward A_log) -> (weak reference to it, key, stacked); an entry goes when its A_log does (a tensor cannot key a
# WeakKeyDictionary: its == is elementwise)
_stacked: dict[int, tuple] = {}


@dataclass
class GraphRead:
    """One block's cached stacks as a captured graph reads them, and the versions of the weights they hold."""
    fwd: DirectionParams
    bwd: DirectionParams
    cdt: torch.dtype
    stacks: tuple[Tensor, ...]
    weights: list[Tensor]
    versions: list[int]


# While :func:`stacks_read_by_capture` is open: what the capture read
_read_by_capture: Optional[list[GraphRead]] = None


def _weights(fwd, bwd) -> list[Tensor]:
    return [t for p in (fwd, bwd) for t in p.tensors() if t is not None]


def _key(fwd, bwd, cdt: torch.dtype) -> tuple:
    """What the stacks of ``fwd`` and ``bwd`` in ``cdt`` depend on, short of the values."""
    weights = _weights(fwd, bwd)
    try:
        return (cdt, tuple([(t.data_ptr(), t._version) for t in weights]))
    except RuntimeError:  # an inference tensor (a weight frozen in under inference mode) has no version counter
        return (cdt, tuple([(t.data_ptr(), 0 if t.is_inference() else t._version) for t in weights]))


def cached_stack_params(fwd, bwd, cdt: torch.dtype) -> tuple[Tensor, ...]:
    """:func:`stack_params` for forwards without autograd, reused while no weight changes. A miss stacks by the
    one-launch kernel on CUDA, by torch ops elsewhere, and refreshes the cached tensors in place where it can, so that a
    CUDA graph captured with them reads the new values instead of freed memory.

    During a CUDA graph's capture the stacks come from inside the graph, unless the cached ones are current and either
    ``graph_weights="frozen"`` or :func:`stacks_read_by_capture` lets the graph read them (see the module's notes)."""
    key = _key(fwd, bwd, cdt)
    owner = fwd.A_log
    hit = _stacked.get(id(owner))
    known = hit is not None and hit[0]() is owner
    if _capturing(owner):
        frozen = _graph_weights_frozen()
        if known and hit[1] == key and (frozen or _read_by_capture is not None):
            if not frozen:
                weights = _weights(fwd, bwd)
                _read_by_capture.append(GraphRead(fwd, bwd, cdt, hit[2], weights, [t._version for t in weights]))
            return hit[2]
        with torch.no_grad():  # the stacking's memory belongs to the graph, which replays it
            # the one-launch kernel only where a forward outside the capture compiled it (see below)
            return (stack_params_launched if known and hit[1][0] == cdt else stack_params)(fwd, bwd, cdt)
    if not known or hit[1] != key:
        stacked = _stack_outside_graph_pools(fwd, bwd, cdt)
        if not known:
            weakref.finalize(owner, _stacked.pop, id(owner), None)
        elif _same_layout(hit[2], stacked):
            _copy_into(hit[2], stacked)
            stacked = hit[2]
        hit = (weakref.ref(owner), key, stacked)
        _stacked[id(owner)] = hit
    return hit[2]


@contextlib.contextmanager
def stacks_read_by_capture() -> Iterator[list[GraphRead]]:
    """Within: a CUDA graph captured here reads the cached stacks where they are current, instead of stacking inside
    the graph. Yields the list of what it read, which :func:`refresh_for_replay` brings up to date before each replay.
    One capture at a time."""
    global _read_by_capture
    if _read_by_capture is not None:
        raise RuntimeError("stacks_read_by_capture is already open: capture one CUDA graph at a time")
    _read_by_capture = []
    try:
        yield _read_by_capture
    finally:
        _read_by_capture = None


def refresh_for_replay(read: list[GraphRead]) -> bool:
    """Restack, into the very tensors the graph reads, every block whose weights changed in place since the capture or
    the last refresh (on the current stream, so before a replay enqueued next); whether any was restacked here (not
    by an eager forward in between, which restacks in place too). Only versions are compared: a weight
    that moved to other memory (``.data =``, ``module.to``) leaves the graph reading freed memory anyway, stacks or
    not, as it does for every CUDA graph."""
    restacked = False
    for read_one in read:
        versions = [t._version for t in read_one.weights]
        if versions == read_one.versions:
            continue
        fwd, bwd, cdt, stacks = read_one.fwd, read_one.bwd, read_one.cdt, read_one.stacks
        hit = _stacked.get(id(fwd.A_log))
        if hit is None or hit[1] != _key(fwd, bwd, cdt) or hit[2] is not stacks:  # else refreshed by a forward
            fresh = _stack_outside_graph_pools(fwd, bwd, cdt)
            if not _same_layout(stacks, fresh):
                raise ValueError("a weight of a CUDA-graphed model changed shape or layout since the capture: "
                                 "capture the graph again (rmeeto.cuda_graphs.graphed)")
            _copy_into(stacks, fresh)
            restacked = True
        read_one.versions = versions
    return restacked


def _copy_into(old: tuple[Tensor, ...], new: tuple[Tensor, ...]) -> None:
    with torch.no_grad():
        for a, b in zip(old, new):
            a.copy_(b)


def _capturing(t: Tensor) -> bool:
    """Whether a CUDA graph is being captured on ``t``'s device's current stream."""
    return t.is_cuda and torch.cuda.is_current_stream_capturing()


def _graph_weights_frozen() -> bool:
    """Whether the settings let a CUDA graph read the stacked weights cached when it was captured."""
    choice = settings.current().graph_weights
    if choice not in settings.GRAPH_WEIGHTS:
        raise ValueError(f"graph_weights {choice!r} (RMEETO_GRAPH_WEIGHTS): choose one of {settings.GRAPH_WEIGHTS}")
    return choice == "frozen"


def _same_layout(old: tuple[Tensor, ...], new: tuple[Tensor, ...]) -> bool:
    """Whether ``new`` can be copied into ``old`` tensor by tensor, strides and all."""
    return all(a.shape == b.shape and a.stride() == b.stride() and a.dtype == b.dtype for a, b in zip(old, new))


def _stack_outside_graph_pools(fwd, bwd, cdt: torch.dtype) -> tuple[Tensor, ...]:
    """:func:`stack_params`; on CUDA its one-launch form, on the caller's stream but from another thread. A cached
    tensor must not come from a CUDA graph's private pool: ``torch.compile(mode="reduce-overhead")`` sends every
    allocation of the calling thread there while it warms a graph up, and then finds the cache's tensors alive in its
    pool and refuses to run."""
    device = fwd.A_log.device
    if device.type != "cuda":
        with torch.no_grad():
            return stack_params(fwd, bwd, cdt)
    stream, out = torch.cuda.current_stream(device), []

    def work() -> None:
        try:
            with torch.cuda.device(device), torch.cuda.stream(stream), torch.no_grad():
                out.append(stack_params_launched(fwd, bwd, cdt))
        except BaseException as err:  # re-raised on the caller's thread
            out.append(err)

    helper = threading.Thread(target=work, name="rmeeto-stack-params")
    helper.start()
    helper.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]
