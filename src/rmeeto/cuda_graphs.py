"""CUDA graphs: a forward replayed for inference timing (:func:`graphed`), and a micro-batch's forward, loss and
backward captured once and replayed in training (:class:`GraphedStep`, ``rmeeto train --cuda-graph``).

The training graph accumulates into gradients that exist before it is captured, so everything after the backward stays
eager and unchanged: the optimizer step, gradient clipping, the fp16 loss scaler, the EMA, accumulation over
micro-batches. A batch the graph does not fit (another shape or dtype) runs eagerly into the same gradients.
Between optimizer steps the gradients must be zeroed in place, never set to None: the graph writes into those
tensors. Replays draw the same random numbers as eager steps (dropout, drop path): the CUDA generator's seed and
offset are read at every replay, and the warm-up leaves the generator as it found it.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterable, Optional

import torch
from torch import Tensor


_WARMUP_STREAMS: dict = {}


def warmup_stream(device: torch.device) -> torch.cuda.Stream:
    """The side stream on which every capture of ``device`` warms up, created once. cuBLAS keeps a workspace for each
    stream a product has run on, for the life of the process, so a new stream per capture left one more workspace
    behind each time (a long benchmark process's later rows then showed a higher peak)."""
    device = torch.device(device)
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _WARMUP_STREAMS:
        _WARMUP_STREAMS[index] = torch.cuda.Stream(index)
    return _WARMUP_STREAMS[index]


def graphed(fn: Callable[[], object], device: torch.device, idempotent: bool = False) -> Callable[[], None]:
    """Capture ``fn`` (no arguments, static shapes) in a CUDA graph; returns a replay callable.

    An inference forward in ``fn`` reads its blocks' cached stacked weights. Each replay first checks, on the host,
    which blocks' weights changed in place since (an optimizer step, ``load_state_dict``) and restacks those on the
    replay's stream: the graph computes with the weights of the replay without a stacking kernel inside it
    (:mod:`rmeeto.ops.triton.stack_cache`). ``idempotent=True`` says that running ``fn`` twice in a row does what
    running it once does (it only overwrites its outputs, as a forward does): the check then runs after the replay is
    enqueued, while the GPU computes, and a replay that read stale stacks is followed by a restack and a second one.
    A synchronised forward then no longer waits for the check: on one H200 the check-first replay cost 59-280 us
    per Vim forward, the idempotent one nothing measurable (docs/benchmarks/2026-12-05-h200-graph-refresh/)."""
    stream = warmup_stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream(device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with _stacks_read_by_capture() as read, torch.cuda.graph(graph):
        fn()
    if not read:
        return graph.replay
    from rmeeto.ops.triton.stack_cache import refresh_for_replay

    return replay_with_refresh(graph.replay, lambda: refresh_for_replay(read), idempotent)


def replay_with_refresh(replay: Callable[[], None], refresh: Callable[[], bool],
                        idempotent: bool) -> Callable[[], None]:
    """``replay`` after ``refresh`` (which brings what the graph reads up to date and says whether it changed
    anything); for an idempotent graph, ``refresh`` after ``replay``, and ``replay`` again if it changed anything."""
    if not idempotent:
        def refreshed_then_replayed() -> None:
            refresh()
            replay()
        return refreshed_then_replayed

    def replayed_then_checked() -> None:
        replay()
        if refresh():  # the first replay read stale stacks; this one overwrites its outputs
            replay()
    return replayed_then_checked


def _stacks_read_by_capture() -> contextlib.AbstractContextManager:
    """:func:`rmeeto.ops.triton.stack_cache.stacks_read_by_capture` where Triton is installed."""
    try:
        from rmeeto.ops.triton.stack_cache import stacks_read_by_capture
    except ImportError:  # no Triton: no kernel reads stacked weights
        return contextlib.nullcontext([])
    return stacks_read_by_capture()


# Warm-up steps before the capture (the CUDA graphs notes ask for a few, on a side stream): they compile the Triton
# kernels and let cuBLAS and the allocator settle; their gradients are zeroed afterwards.
WARMUP_STEPS = 2


class GraphedStep:
    """Call as ``step(x, y)`` -> the loss (a detached copy that the next replay does not overwrite).

    ``fn(x, y)`` runs the forward, the loss and its backward (scaled as the caller wants) and returns the loss,
    detached; under autocast it must not cache casts (``cache_enabled=False``). ``params``: the parameters whose
    gradients the backward accumulates. The first call captures the graph and must come at the start of an optimizer
    step, with the gradients zero or None; a parameter whose gradient is None then and that the backward does not
    reach keeps None. The graph reads its own copy of the first batch, refilled at every call;
    ``static_inputs=True`` (a benchmark that passes the same two tensors every time) reads the caller's tensors
    instead and saves that copy's memory. ``warmup_steps``: eager calls of ``fn`` on a side stream before the capture
    (a DDP model needs :data:`rmeeto.train.dist.GRAPH_WARMUP_STEPS`). ``stream``: the side stream for the warm-up
    and the capture; a DDP model must have been built on it (:func:`rmeeto.train.dist.wrap_ddp`), or autograd sees
    its gradient hooks on one stream and the backward on another."""

    def __init__(self, fn: Callable[[Tensor, Tensor], Tensor], params: Iterable[Tensor], static_inputs: bool = False,
                 warmup_steps: int = WARMUP_STEPS, stream: Optional[torch.cuda.Stream] = None):
        self.fn = fn
        self.static_inputs = static_inputs
        self.warmup_steps = warmup_steps
        self.stream = stream
        self.params = [p for p in params if p.requires_grad]
        self.graph: Optional[torch.cuda.CUDAGraph] = None
        self.replays = 0
        self.eager_steps = 0

    def fits(self, x: Tensor, y: Tensor) -> bool:
        """Whether the captured graph can take this batch."""
        return all(a.shape == b.shape and a.dtype == b.dtype and a.device == b.device
                   for a, b in ((x, self.x), (y, self.y)))

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        if self.graph is None:
            self._capture(x, y)
        elif not self.fits(x, y):
            self.eager_steps += 1
            return self.fn(x, y)
        self._check_grads()
        for mine, given in ((self.x, x), (self.y, y)):
            if given is not mine:
                mine.copy_(given)
        self.graph.replay()
        self.replays += 1
        return self.loss.clone()

    def _capture(self, x: Tensor, y: Tensor) -> None:
        if x.device.type != "cuda":
            raise ValueError(f"--cuda-graph needs CUDA tensors, got a batch on {x.device}: drop --cuda-graph")
        self.x, self.y = (x, y) if self.static_inputs else (x.clone(), y.clone())
        held = [p.grad for p in self.params if p.grad is not None]
        if held and torch.stack(torch._foreach_norm(held)).sum().item() != 0:
            raise ValueError("the first call of a GraphedStep captures its graph and must come at the start of an "
                             "optimizer step: zero the gradients first")
        rng = torch.cuda.get_rng_state(x.device)
        main = torch.cuda.current_stream(x.device)
        side = self.stream or warmup_stream(x.device)
        side.wait_stream(main)
        with torch.cuda.stream(side):
            for _ in range(self.warmup_steps):
                self.fn(self.x, self.y)
        main.wait_stream(side)
        # the warm-up created the gradients the backward reaches; a parameter it does not reach keeps None, as in an
        # eager step, so that the optimizer skips it instead of decaying it
        self.grads = [p.grad for p in self.params]
        torch._foreach_zero_([g for g in self.grads if g is not None])  # undo the warm-up's gradients
        torch.cuda.set_rng_state(rng, x.device)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, stream=self.stream):
            self.loss = self.fn(self.x, self.y)

    def _check_grads(self) -> None:
        """The graph writes into the gradients it was captured with; a caller that replaced them (``zero_grad()``
        with ``set_to_none=True``) would silently stop training."""
        if any(p.grad is not g for p, g in zip(self.params, self.grads)):
            raise RuntimeError("a parameter's .grad was replaced after the CUDA graph was captured: zero gradients "
                               "with optimizer.zero_grad(set_to_none=False) when training with --cuda-graph")
