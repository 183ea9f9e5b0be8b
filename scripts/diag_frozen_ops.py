"""Which kernel call first gives NaN in a frozen compile of a merged tiny Vim on CUDA, as the GPU test runs it.

Runs the GPU test's sequence (``tests/test_gpu_compile.py::test_frozen_compile_matches_eager_on_the_triton_path``,
``--cases`` in order, in one process) and, during the compiled calls, wraps the Python functions the opaque ops call:
the stacked-weight cache, the bidirectional core and the one-launch merge step. Each wrapped call synchronises and
reports NaN in its tensor inputs or outputs, and the cache reports hits and misses. ``--nanfill`` fills new memory,
Inductor's buffers included, with NaN, so a read of memory nothing wrote shows; ``--watch none`` runs unwrapped.

    python scripts/diag_frozen_ops.py --cases default:0,default:5
"""
from __future__ import annotations

import argparse
import contextlib
import pathlib
from typing import Any, Callable, Iterator

import torch
from torch._inductor.utils import run_and_get_code

import rmeeto
from diag_frozen_compile import rel, tiny_vim
from rmeeto.ops.triton import bimamba as tb
from rmeeto.ops.triton import merge_once, stack_cache


def tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors(v)]
    if hasattr(value, "tensors"):  # DirectionParams
        return [t for t in value.tensors() if t is not None]
    return []


def nan_where(values: Any) -> list[int]:
    return [i for i, t in enumerate(tensors(values)) if t.is_floating_point() and bool(t.isnan().any())]


def cache_state(fwd, bwd, cdt: torch.dtype) -> str:
    """What the stacked-weight cache will do for these weights: ``miss``, ``hit`` or ``stale`` (restack in place)."""
    hit = stack_cache._stacked.get(id(fwd.A_log))
    if hit is None or hit[0]() is not fwd.A_log:
        return "miss"
    return "hit" if hit[1] == stack_cache._key(fwd, bwd, cdt) else "stale"


@contextlib.contextmanager
def watched(log: list[str]) -> Iterator[None]:
    """Wraps the ops' Python functions; each call appends a line to ``log`` where NaN is in or out."""
    originals: list[tuple[Any, str, Callable]] = []

    def wrap(module: Any, name: str) -> None:
        fn = getattr(module, name)

        def wrapper(*args, **kwargs):
            state = cache_state(*args) if name == "cached_stack_params" else ""
            out = fn(*args, **kwargs)
            torch.cuda.synchronize()
            bad_in, bad_out = nan_where(args), nan_where(out)
            inference = sum(t.is_inference() for t in tensors(args))
            layout = ""
            if bad_out and not bad_in:  # where the NaN was made: the tensor inputs' shapes and strides
                layout = " inputs " + " ".join(f"{tuple(t.shape)}/{t.stride()}" for t in tensors(args)[:4])
            log.append(f"{name} {state} in-NaN {bad_in} out-NaN {bad_out} inference-inputs {inference}{layout}")
            return out

        originals.append((module, name, fn))
        setattr(module, name, wrapper)

    wrap(stack_cache, "cached_stack_params")
    wrap(tb, "bimamba_fwd")
    wrap(merge_once, "plan_add_norm")
    try:
        yield
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)


@contextlib.contextmanager
def watched_stacks(records: list) -> Iterator[None]:
    """Wraps the stacked-weight cache without any GPU work: each call's hit or miss, its weights and its stacks are
    kept for :func:`check_stacks` after the compiled call."""
    fn = stack_cache.cached_stack_params

    def wrapper(fwd, bwd, cdt):
        state = cache_state(fwd, bwd, cdt)
        out = fn(fwd, bwd, cdt)
        records.append((state, fwd, bwd, cdt, out))
        return out

    stack_cache.cached_stack_params = wrapper
    try:
        yield
    finally:
        stack_cache.cached_stack_params = fn


def check_stacks(records: list, model: torch.nn.Module) -> list[str]:
    """Each recorded call's stacks against stacks made afresh from its weights, and whether its weights are the
    model's own tensors."""
    own = {id(p) for p in model.parameters()}
    lines = []
    for state, fwd, bwd, cdt, out in records:
        fresh = tb.stack_params(fwd, bwd, cdt)
        diff = max(((a.float() - b.float()).abs().max().item() for a, b in zip(out, fresh) if a is not None), default=0)
        weights = [t for p in (fwd, bwd) for t in p.tensors() if t is not None]
        lines.append(f"stacks {state} vs fresh {diff:.3g}, weights the model's own {sum(id(t) in own for t in weights)}"
                     f"/{len(weights)}, A_log inference {fwd.A_log.is_inference()}")
    return lines


def compiled_call(compiled, x: torch.Tensor, first: bool, a: argparse.Namespace, tag: str) -> torch.Tensor:
    """One compiled call (the first through ``run_and_get_code``, its code written to ``--dump``)."""
    if not first:
        got = compiled(x).clone()
    else:
        got, codes = run_and_get_code(compiled, x)
        got = got.clone()
        if a.dump:
            pathlib.Path(a.dump).mkdir(parents=True, exist_ok=True)
            (pathlib.Path(a.dump) / f"{tag}.py").write_text("\n\n".join(codes))
    if a.sync_calls:
        torch.cuda.synchronize()
    return got


def run(mode: str, r: int, a: argparse.Namespace) -> None:
    """One case: a fresh model patched with ``r``, eager once, then three compiled calls, each reported."""
    torch._dynamo.reset()
    if a.between == "clear-stacks":
        stack_cache._stacked.clear()
    elif a.between == "gc":
        import gc
        gc.collect()
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
    m = tiny_vim(r, noisy=False)
    x = torch.randn(2, 3, 64, 64, device="cuda")  # after the model, as the GPU test draws it
    compiled = torch.compile(m, mode=mode) if a.plain else rmeeto.compile_for_inference(m, mode=mode)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        want = m(x)
        for call in range(3):
            log: list[str] = []
            records: list = []
            watch = {"ops": lambda: watched(log), "stacks": lambda: watched_stacks(records),
                     "none": contextlib.nullcontext}[a.watch]
            with watch():
                got = compiled_call(compiled, x, call == 0, a, f"{mode}_r{r}")
            print(f"{mode} r={r} call {call}: rel {rel(got, want):.2e}, NaN in compiled {int(got.isnan().sum())}, "
                  f"in eager {int(want.isnan().sum())}", flush=True)
            torch.cuda.synchronize()
            for line in log + check_stacks(records, m):
                if not a.quiet or "in-NaN [] out-NaN []" not in line:
                    print("   ", line, flush=True)


def pollute(kind: str) -> None:
    """Leaves blocks of every size from 512 B to 32 MiB in the caching allocator, filled with NaN (``nan``) or with
    1e30 (``big``, a large int32 too), so that a later read of memory nothing wrote sees that value."""
    value = {"nan": float("nan"), "big": 1e30}[kind]
    held = [torch.full((n // 4,), value, device="cuda") for k in range(9, 26) for n in [2 ** k] * 8]
    torch.cuda.synchronize()
    del held


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="default:0,default:5", help="mode:r, in order, one process")
    ap.add_argument("--nanfill", action="store_true", help="fill every new tensor (and Inductor's buffers) with NaN")
    ap.add_argument("--watch", default="ops", choices=["ops", "stacks", "none"],
                    help="stacks: the cache's hits and its stacks checked after each call, no GPU work inside it")
    ap.add_argument("--between", default="none", choices=["none", "clear-stacks", "gc"],
                    help="before each case: nothing, empty the stacked-weight cache, or collect and free memory")
    ap.add_argument("--plain", action="store_true", help="torch.compile without freezing")
    ap.add_argument("--sync-calls", action="store_true", help="synchronise after each compiled call")
    ap.add_argument("--dump", default=None, help="a folder for Inductor's code of each case's graph")
    ap.add_argument("--quiet", action="store_true", help="log only the op calls with NaN")
    ap.add_argument("--pollute", default="none", choices=["none", "nan", "big"],
                    help="before the first case, fill the allocator's cached blocks with NaN or 1e30")
    args = ap.parse_args()
    if args.pollute != "none":
        pollute(args.pollute)
    if args.nanfill:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = True
    for case in args.cases.split(","):
        mode, r = case.split(":")
        run(mode, int(r), args)


if __name__ == "__main__":
    main()
