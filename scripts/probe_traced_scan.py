"""Why the forward scan runs slower when Inductor launches it (``compile_ops="traced"``) than when eager does.

On one block's inputs of a patched model (its first Mamba core, captured from one eager forward):

1. the forward scan alone through Triton's launch path, built with eager's options, with ``debug`` on (Triton's
   default ``sanitize_overflow``), and with ``debug`` on and ``sanitize_overflow`` off (what Inductor builds),
   in turns: median ms of CUDA-event timed launches;
2. the whole core eagerly against the traced op compiled alone, once per Inductor option set (``--inductor
   KEY=VALUE;KEY=VALUE``, repeatable; the first set is the default): device us per call of each kernel from
   ``torch.profiler``, and the generated code's launch of the scan;
3. the compile options of every variant of the scan in Triton's cache (``$TRITON_CACHE_DIR``, set and empty).

If (1) shows Inductor's build as fast as eager's, and (2) shows the scan slower in the compiled core, the difference
lies in how the kernel is launched or fed, not in its code.

    TRITON_CACHE_DIR=/tmp/tc python scripts/probe_traced_scan.py --model vim_tiny_patch16_224 --r 5 \\
        --inductor "" --inductor "assert_indirect_indexing=False"
"""
from __future__ import annotations

import argparse
import statistics
import traceback

import torch

import rmeeto
from rmeeto.ops import settings
from rmeeto.ops.triton import library as lib
from rmeeto.ops.triton import scan as ts

SCAN = "_scan_fwd_seq_kernel"


def capture_core(model: torch.nn.Module, x: torch.Tensor) -> tuple:
    """``(xz, fwd, bwd, cdt, out_scale)`` of the first core call of one eager no-grad forward."""
    seen: list = []
    original = lib.bimamba_inference

    def spy(*args):
        seen.append(args)
        return original(*args)

    lib.bimamba_inference = spy
    try:
        with torch.inference_mode():
            model(x)
    finally:
        lib.bimamba_inference = original
    xz, fwd, bwd, cdt, scale = seen[0]
    return xz.clone(), fwd, bwd, cdt, scale


def capture_scan(core: tuple) -> tuple:
    """``(args, kwargs)`` of the scan call inside one eager core call."""
    from rmeeto.ops.triton import bimamba as tb

    seen: list = []
    original = tb.scan_fwd

    def spy(*args, **kwargs):
        seen.append((args, kwargs))
        return original(*args, **kwargs)

    tb.scan_fwd = spy
    try:
        with torch.inference_mode():
            lib.bimamba_inference(*core)
    finally:
        tb.scan_fwd = original
    return seen[0]


def time_scan_builds(scan_call: tuple, reps: int) -> None:
    """The scan alone, launched through Triton's path with each option set in turn."""
    args, kwargs = scan_call
    variants = {"eager build": {}, "debug": {"debug": True},
                "debug, sanitize_overflow off (Inductor's)": {"debug": True, "sanitize_overflow": False}}
    real = ts.launch
    times: dict = {k: [] for k in variants}
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for rnd in range(6):
        for name, extra in variants.items():
            ts.launch = lambda kernel, grid, *a, _x=extra, **meta: kernel[grid](*a, **meta, **_x)
            try:
                for _ in range(3):
                    ts.scan_fwd(*args, **kwargs)
                torch.cuda.synchronize()
                for _ in range(reps):
                    start.record()
                    ts.scan_fwd(*args, **kwargs)
                    end.record()
                    end.synchronize()
                    if rnd:
                        times[name].append(start.elapsed_time(end))
            finally:
                ts.launch = real
    u = args[0]
    print(f"scan alone, (ndir, batch, L, E) {tuple(u.shape)} {u.dtype}, median ms of {5 * reps}:")
    for name, t in times.items():
        print(f"  {name:45s} {statistics.median(t):.4f}")


def kernel_us(fn, iters: int) -> dict:
    """``{kernel name: device us per call}``, the mean over ``iters`` calls (:func:`profile_compile.kernel_table`)."""
    from profile_compile import kernel_table

    table, _ = kernel_table(lambda _: fn(), None, iters)
    return {name: us for name, (_, us) in table.items()}


def parse_options(text: str) -> dict:
    """``torch.compile`` options from ``KEY=VALUE;KEY=VALUE`` (:func:`profile_compile.compile_options`)."""
    from profile_compile import compile_options

    return compile_options(False, [item.strip() for item in text.split(";") if item.strip()])


def compare_cores(core: tuple, option_sets: list[str], iters: int) -> None:
    """The core eagerly against the traced op compiled alone, per Inductor option set."""
    from torch._inductor.utils import run_and_get_code

    xz, fwd, bwd, cdt, scale = core
    weights = (*fwd.tensors(), *bwd.tensors())

    def eager():
        return lib.bimamba_inference(xz, fwd, bwd, cdt, scale)

    def traced(x):
        return torch.ops.rmeeto.bimamba_inference_traced(x, *weights, cdt, float(scale))

    rows = {"eager": None}
    with torch.inference_mode():
        for _ in range(3):
            eager()
        rows["eager"] = kernel_us(eager, iters)
        for text in option_sets:
            torch._dynamo.reset()
            compiled = torch.compile(traced, options=parse_options(text))
            _, codes = run_and_get_code(compiled, xz)
            for code in codes:
                for line in code.splitlines():
                    if SCAN in line and ".run(" in line:
                        print(f"[{text or 'default'}] generated launch: {line.strip()}")
            for _ in range(3):
                compiled(xz)
            rows[f"compiled [{text or 'default'}]"] = kernel_us(lambda: compiled(xz), iters)
            diff = (compiled(xz)[0].float() - eager()[0].float()).abs().max().item()
            print(f"[{text or 'default'}] compiled core against eager: max abs difference {diff}")
    names = sorted({k for r in rows.values() for k in r}, key=lambda k: -rows["eager"].get(k, 0.0))
    print(f"device us per core call (mean over {iters} calls): " + " | ".join(rows))
    for name in names:
        print(f"  {name:60s} " + " ".join(f"{r.get(name, 0.0):9.1f}" for r in rows.values()))


def cached_variants() -> None:
    """The compile options of the scan's variants in Triton's cache (:func:`inspect_inductor_kernels.cached_options`)."""
    from inspect_inductor_kernels import cached_options

    print(f"variants of {SCAN} in Triton's cache:")
    cached_options([SCAN])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--inductor", action="append", default=None, metavar="KEY=VALUE;...",
                    help="an Inductor option set for the compiled core (repeatable; '' is the default)")
    a = ap.parse_args()
    settings.configure(compile_ops="traced")
    m = rmeeto.create_model(a.model).cuda().eval().half()
    if a.r:
        rmeeto.patch(m, r=a.r)
    x = torch.randn(a.batch_size, *m.input_shape, device="cuda", dtype=torch.half)
    core = capture_core(m, x)
    # one part failing (a Triton that rejects an option, say) leaves the others to run
    for part in (lambda: time_scan_builds(capture_scan(core), a.reps),
                 lambda: compare_cores(core, a.inductor or [""], a.iters), cached_variants):
        try:
            part()
        except Exception:  # noqa: BLE001 - a probe reports and goes on
            traceback.print_exc()


if __name__ == "__main__":
    main()
