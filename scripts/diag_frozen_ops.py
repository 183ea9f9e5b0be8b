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
from rmeeto.ops.triton import bimamba as tb
from rmeeto.ops.triton import merge_once, stack_cache

QUIET = False
WATCH = "ops"


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


@contextlib.contextmanager
def watched(log: list[str]) -> Iterator[None]:
    """Wraps the ops' Python functions; each call appends a line to ``log`` where NaN is in or out."""
    originals: list[tuple[Any, str, Callable]] = []

    def wrap(module: Any, name: str) -> None:
        fn = getattr(module, name)

        def wrapper(*args, **kwargs):
            if name == "cached_stack_params":
                hit = stack_cache._stacked.get(id(args[0].A_log))
                known = hit is not None and hit[0]() is args[0].A_log
                state = "miss" if not known else ("hit" if hit[1] == stack_cache._key(*args) else "stale")
            else:
                state = ""
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
        hit = stack_cache._stacked.get(id(fwd.A_log))
        known = hit is not None and hit[0]() is fwd.A_log
        state = "miss" if not known else ("hit" if hit[1] == stack_cache._key(fwd, bwd, cdt) else "stale")
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


def tiny_vim(r: int) -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    m = rmeeto.create_model("vim_tiny_patch16_224", img_size=64, depth=4, num_classes=10)
    return (rmeeto.patch(m, r=r) if r else m).cuda().eval(), torch.randn(2, 3, 64, 64, device="cuda")


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()


def run(mode: str, r: int, a: argparse.Namespace) -> None:
    torch._dynamo.reset()
    if a.between == "clear-stacks":
        stack_cache._stacked.clear()
    elif a.between == "gc":
        import gc
        gc.collect()
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
    m, x = tiny_vim(r)
    compiled = torch.compile(m, mode=mode) if a.plain else rmeeto.compile_for_inference(m, mode=mode)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        want = m(x)
        for call in range(3):
            log: list[str] = []
            records: list = []
            watch = watched(log) if WATCH == "ops" else watched_stacks(records) if WATCH == "stacks" else \
                contextlib.nullcontext()
            with watch:
                if call == 0:
                    got, codes = run_and_get_code(compiled, x)
                    if a.dump:
                        pathlib.Path(a.dump).mkdir(parents=True, exist_ok=True)
                        (pathlib.Path(a.dump) / f"{mode}_r{r}.py").write_text("\n\n".join(codes))
                else:
                    got = compiled(x)
                got = got.clone()
                if a.sync_calls:
                    torch.cuda.synchronize()
            print(f"{mode} r={r} call {call}: rel {rel(got, want):.2e}", flush=True)
            torch.cuda.synchronize()
            log += check_stacks(records, m)
            for line in log:
                if not QUIET or "in-NaN [] out-NaN []" not in line:
                    print("   ", line, flush=True)


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
    args = ap.parse_args()
    if args.nanfill:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = True
    global QUIET, WATCH
    QUIET, WATCH = args.quiet, args.watch
    for case in args.cases.split(","):
        mode, r = case.split(":")
        run(mode, int(r), args)


if __name__ == "__main__":
    main()
