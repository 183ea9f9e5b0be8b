"""Host (Python) time of the per-block and per-merge-block work of an eager forward, on this machine's CPU.

Eager forwards of small models are bound by host time (see docs/benchmarks/2026-12-01-h200-compile/), so these
parts matter even though they move no data. Kernel launches are replaced by a no-op, so what is timed is the
Python around them: argument checks, allocations, cache keys. Median of ``--repeat`` timeit rounds, in us per
call; prints a table, asserts nothing.

    PYTHONPATH=src python scripts/bench_host_parts.py [--model vim_tiny_patch16_224] [--r 5]
    TRITON_INTERPRET=1 PYTHONPATH=src python scripts/bench_host_parts.py --forward   # whole forwards, r=0 and r
    PYTHONPATH=src python scripts/bench_host_parts.py --launch    # the launch cache's key and its cached path
    TRITON_INTERPRET=1 PYTHONPATH=src python scripts/bench_host_parts.py --count-ops --batch 2   # ATen calls, by op
    PYTHONPATH=src python scripts/bench_host_parts.py --device cuda --batch 128   # the parts on a GPU host's allocator

On a GPU host, ``--device cuda`` times the merge block's parts with CUDA tensors (launches still stubbed), beside
the add + RMSNorm a merge block replaces, one allocation and the stream-capture query: where a merged eager forward's
extra host time goes that this package's CPU machine cannot show.

``--launch`` times :func:`rmeeto.ops.triton.launch.launch`'s cache key for the forward scan kernel's leading
arguments (every one but the constexprs), against a per-argument function (the key before 2026-12-01's change),
and a whole cached launch with a no-op compiled kernel in place of Triton's launcher.

``--forward`` times whole eager forwards on the Triton path instead (blocks of width 16, so the matmuls cost
next to nothing; every Triton launch a no-op; r=0 and ``--r`` alternately): the host time a GPU forward would
spend before its first wait, less the launches themselves. At its batch of 1 the scan's chunking rule sends the
unmerged forward's 197-token scans to the chunked kernels (three launches a block instead of one) and the merged
forward's shorter ones mostly not; ``RMEETO_SCAN_CHUNK=0`` compares the step-serial path that Vim-Ti takes at batch
128 on one H200.
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import timeit
from collections import Counter
from typing import Callable, Iterator, Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode

import rmeeto


def _us(fn: Callable[[], object], number: int, repeat: int) -> float:
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=5)
    ap.add_argument("--number", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--forward", action="store_true", help="time whole forwards (needs TRITON_INTERPRET=1)")
    ap.add_argument("--launch", action="store_true", help="time the launch cache's key and cached path")
    ap.add_argument("--count-ops", action="store_true", help="count ATen calls per forward (needs TRITON_INTERPRET=1)")
    ap.add_argument("--device", default="cpu", help="where the parts' tensors live (cuda: a GPU host's allocator)")
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args(argv)
    if args.forward:
        return _forwards(args)
    if args.launch:
        return _launch_parts(args)
    if args.count_ops:
        return _op_counts(args)
    import triton

    from rmeeto.ops import dispatch
    from rmeeto.ops.triton import library
    from rmeeto.ops.triton import merge as tm
    from rmeeto.ops.triton import merge_once, norm, stack_cache
    from rmeeto.ops.triton import launch as launch_mod
    from rmeeto.ops.triton.launch import cdiv

    tm.launch = merge_once.launch = norm.launch = lambda *a, **k: None  # the kernels themselves are not what is timed
    dev = torch.device(args.device)
    model = rmeeto.patch(rmeeto.create_model(args.model), r=args.r).eval().to(dev)
    mixer = model.layers[0].mixer
    fwd, bwd = mixer.direction_params(False), mixer.direction_params(True)
    T, C, B = model.num_tokens, model.embed_dim, args.batch
    h, res = torch.randn(B, T, C, device=dev).half(), torch.randn(B, T, C, device=dev)
    size, weight = torch.ones(B, T, 1, device=dev), torch.ones(C, device=dev)
    read = _read_by_a_graph(model)
    with torch.inference_mode():
        plan = tm.plan(h, args.r, T // 2, size)
        parts = {
            "add + RMSNorm, launch stubbed (what a merge block replaces)": lambda: library.add_rmsnorm(
                h, res, weight, 1e-5),
            "a merge block's dispatch checks (fused_merge, merge_once_applies)": lambda: (
                dispatch.fused_merge("triton", "triton", h, h, res, T // 2, "merge", "keep", "cosine", "proportional"),
                library.merge_once_applies(h, h, res, weight, "merge")),
            "torch.empty of one (batch, T, C) fp32 tensor": lambda: torch.empty(B, T, C, device=dev),
            "merge_once.capturing (a stream-capture query on CUDA)": lambda: merge_once.capturing(h),
            "mixer.direction_params (2 per block)": lambda: mixer.direction_params(False),
            "stack_cache.cached_stack_params (1 per block)": lambda: stack_cache.cached_stack_params(fwd, bwd,
                                                                                                   torch.half),
            "graphed replay's restack check, no change (all blocks)":
                lambda: stack_cache.refresh_for_replay(read),
            "patched model's new_state (1 per forward)": lambda: model.new_state(T // 2),
            "fused merge plan, launch stubbed (1 per merge block)": lambda: tm.plan(h, args.r, T // 2, size),
            "fused apply + add + norm, launch stubbed": lambda: tm.apply_add_norm(plan, h, res, weight, 1e-5),
            "one-launch plan + merge + add + norm, launch stubbed": lambda: merge_once.plan_add_norm(
                h, h, res, weight, 1e-5, args.r, T // 2, size, "merge"),
            "launch.interpreting (1 per launch)": launch_mod.interpreting,
            f"dispatch.resolve_backend of a resolved name on {dev.type} (1 per block)":
                lambda: dispatch.resolve_backend(dev.type, "triton" if dev.type == "cuda" else "torch"),
            "triton.cdiv (a constexpr function)": lambda: triton.cdiv(T, 16),
            "rmeeto.ops.triton.launch.cdiv": lambda: cdiv(T, 16),
        }
        print(f"{args.model} r={args.r}, batch {B}, {dev.type} tensors, torch {torch.__version__}; us per call, "
              f"median of {args.repeat}")
        for name, fn in parts.items():
            fn()
            print(f"{name:66s} {_us(fn, args.number, args.repeat):8.1f}")
    return 0


def _read_by_a_graph(model) -> list:
    """What a CUDA graph captured by :func:`rmeeto.cuda_graphs.graphed` reads of ``model``'s cached stacks (the capture
    faked: this needs no GPU)."""
    from unittest import mock

    from rmeeto.ops.triton import stack_cache

    pairs = [(b.mixer.direction_params(False), b.mixer.direction_params(True)) for b in model.layers]
    for fwd, bwd in pairs:
        stack_cache.cached_stack_params(fwd, bwd, torch.half)
    with mock.patch.object(stack_cache, "_capturing", lambda t: True), stack_cache.stacks_read_by_capture() as read:
        for fwd, bwd in pairs:
            stack_cache.cached_stack_params(fwd, bwd, torch.half)
    return read


def _spec_each(arg):
    """The launch key's entry for one argument, one call per argument (the key before 2026-12-01's change)."""
    if isinstance(arg, torch.Tensor):
        return arg.dtype, arg.data_ptr() % 16 == 0
    return float if isinstance(arg, float) else arg


class _NoOpCompiled:
    def __init__(self, launched: Optional[list]) -> None:
        self.function = self.packed_metadata = None
        self.launched = launched

    def run(self, *args) -> None:
        if self.launched is not None:  # a mark, not the arguments: kept tensors would stay allocated
            self.launched.append(None)


class _AlwaysHit(dict):
    """A launch cache in which every key hits."""

    def __init__(self, compiled: _NoOpCompiled) -> None:
        super().__init__()
        self.hit = (compiled, (), None)

    def get(self, key, default=None):
        hash(key)  # what a real lookup costs first
        return self.hit


@contextlib.contextmanager
def no_op_launcher(launched: Optional[list] = None) -> Iterator[None]:
    """:func:`rmeeto.ops.triton.launch.launch`'s cached path on any machine: the cache key is built and looked up as on
    a GPU, every lookup hits, and the compiled kernel's launcher does nothing but append one mark to ``launched``.
    The kernels' modules keep checking ``TRITON_INTERPRET`` themselves."""
    from unittest import mock

    from rmeeto.ops.triton import launch as L

    with mock.patch.object(L, "_COMPILED", _AlwaysHit(_NoOpCompiled(launched))), \
            mock.patch.object(L, "_KNOWN", True), mock.patch.object(L, "interpreting", lambda: False), \
            mock.patch.object(torch.cuda, "current_device", lambda: 0), \
            mock.patch.object(torch._C, "_cuda_getCurrentRawStream", lambda device: 0, create=True):
        yield


def _launch_parts(args) -> int:
    """us per call of the launch key (both forms) and of a whole cached launch whose launcher does nothing."""
    from rmeeto.ops.triton import launch as L
    from rmeeto.ops.triton.scan import _scan_fwd_seq_kernel as kernel

    t = torch.randn(2, 4, 8, 16)
    params = [p for p in kernel.params if not p.is_constexpr]  # tensors for pointers, a float scale, int strides
    leading = tuple(t if p.name.endswith("_ptr") else 1.0 if p.name == "scale" else 16 * (i + 1)
                    for i, p in enumerate(params))
    meta = {n: 1 for n in kernel.arg_names[len(leading):]}
    print(f"forward scan kernel, {len(leading)} leading arguments; us per call, median of {args.repeat}")
    per_argument = _us(lambda: tuple(map(_spec_each, leading)), args.number, args.repeat)
    print(f"{'key, one call per argument':55s} {per_argument:8.1f}")
    comprehension = _us(lambda: L._specs(leading), args.number, args.repeat)
    print(f"{'key, one comprehension (launch._specs)':55s} {comprehension:8.1f}")
    with no_op_launcher():
        cached = lambda: L.launch(kernel, (12, 8, 1), *leading, **meta)  # noqa: E731
        print(f"{'whole cached launch, no-op launcher':55s} {_us(cached, args.number, args.repeat):8.1f}")
    return 0


@contextlib.contextmanager
def stubbed_triton_path() -> Iterator[None]:
    """Within: models whose ``backend`` and ``merge_impl`` are ``"triton"`` take the Triton path on any device, as on
    CUDA, and every kernel launch is a no-op."""
    from unittest import mock

    from rmeeto.models import vim
    from rmeeto.ops import dispatch
    from rmeeto.ops.triton import bimamba, library, merge, merge_once, merge_tiled, norm, scan, scan_chunk

    with contextlib.ExitStack() as stack:
        for mod in (bimamba, merge, merge_once, merge_tiled, norm, scan, scan_chunk):
            stack.enter_context(mock.patch.object(mod, "launch", lambda *a, **k: None))
        stack.enter_context(mock.patch.object(dispatch, "available_backends",
                                              lambda device_type="cpu": ["ref", "torch", "triton"]))
        stack.enter_context(mock.patch.object(  # the add + norm of CUDA
            vim, "add_norm", lambda h, r, w, eps, backend=None: library.add_rmsnorm(h, r, w, eps)))
        yield


def stubbed_models(name: str, r: int) -> dict:
    """Vim models of width 16 set for the Triton path (see :func:`stubbed_triton_path`), unmerged and at ``r``."""
    models = {}
    for rr in (0, r):
        m = rmeeto.create_model(name, embed_dim=16).eval()
        m.backend, m.merge_impl = "triton", "triton"
        models[rr] = rmeeto.patch(m, r=rr) if rr else m
    return models


class CountOps(TorchDispatchMode):
    """A dispatch mode that counts ATen calls by op (``self.calls``)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.calls[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))


def op_counts(name: str, r: int, batch: int) -> dict:
    """ATen calls by op of one eager forward (after a first one), unmerged and at ``r``; within
    :func:`stubbed_triton_path` for the Triton path."""
    models = stubbed_models(name, r)
    x = torch.randn(batch, *models[0].input_shape)
    counts = {}
    with torch.inference_mode():
        for rr, m in models.items():
            m(x)
            with CountOps() as c:
                m(x)
            counts[rr] = c.calls
    return counts


def _forwards(args) -> int:
    """Host ms per eager forward on the Triton path with every launch a no-op, r=0 against ``args.r``."""
    with stubbed_triton_path():
        models = stubbed_models(args.model, args.r)
        x = torch.randn(1, *models[0].input_shape)
        print(f"{args.model} (width 16), batch 1, torch {torch.__version__}; host ms per forward, launches stubbed")
        with torch.inference_mode():
            for rnd in range(3):
                row = {r: _us(lambda: m(x), 10, args.repeat) / 1e3 for r, m in models.items()}
                print(f"round {rnd}: " + ", ".join(f"r={r} {ms:.2f}" for r, ms in row.items()))
    return 0


def _op_counts(args) -> int:
    """Prints :func:`op_counts` on the Triton path: the allocations among the calls cost a GPU host's allocator more
    than this CPU's."""
    with stubbed_triton_path():
        counts = op_counts(args.model, args.r, args.batch)
    print(f"{args.model} (width 16), batch {args.batch}, torch {torch.__version__}; ATen calls per forward")
    print(f"{'op':32s} " + " ".join(f"{'r=' + str(r):>7s}" for r in counts))
    for op in sorted(set().union(*counts.values())):
        print(f"{op:32s} " + " ".join(f"{c[op]:7d}" for c in counts.values()))
    print(f"{'total':32s} " + " ".join(f"{sum(c.values()):7d}" for c in counts.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
