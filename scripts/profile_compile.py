"""Default-mode ``torch.compile`` against eager on one GPU: interleaved timing, then a kernel profile of each.

Eager and compiled forwards alternate in rounds (``--rounds`` x ``--iters`` timed forwards each), so a drift of the
machine hits both alike; the ratio of each round is printed, first with every forward synchronised (as ``rmeeto
bench`` times), then with the round's forwards enqueued back to back. Then ``torch.profiler`` records ``--prof-iters``
forwards of each and prints, per forward: kernels launched, their summed device time, the host wall time, and
the kernels by total device time (compiled and eager side by side).

    python scripts/profile_compile.py --model vim_tiny_patch16_224 --r 0 --batch-size 128 [--skip-module-guards]
        [--inductor size_asserts=False ...]

``--traced-ops`` compiles with the ``compile_ops="traced"`` setting: Inductor traces the Triton kernels' ops down to
the kernels and launches them itself (``--opaque-ops``, the default: opaque custom ops that launch them from Python
on every call). ``--compiled-two-op-merge`` traces the merge step of a no-grad forward as the plan op and the merge + add + norm op,
as compiled forwards did before one op took it (eager forwards keep their one launch). ``--skip-module-guards``
compiles with ``options={"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe}``
(docs/benchmarks/2026-12-02-cpu-guards). ``--inductor KEY=VALUE`` (repeatable) sets an Inductor option for the
compile, the value read as a Python literal (``freezing=True``). ``--stack-torch``: the traced ops stack the weights
with torch ops, which freezing may fold into constants, instead of one stacking kernel per block and call. Also
prints how many graphs were compiled and each model's host time per call: from the call to its return, nothing
synchronised inside, the GPU idle at the start (so the kernels it enqueues do not hold it up). ``--guard-rounds N``
adds N alternating rounds of compiled calls with Dynamo's guards evaluated and not (the same compiled code,
:func:`profile_guards.guard_eval_rounds`): host time per call, then synchronised time per call.
"""
from __future__ import annotations

import argparse
import ast
import collections
import statistics
import time

import torch
from torch.profiler import ProfilerActivity, profile

import rmeeto


def call_seconds(fn, x: torch.Tensor, iters: int, wait: bool) -> float:
    """Median seconds of ``iters`` calls, each starting on an idle GPU; ``wait``: until the GPU is done, else until
    the call returns (its host time)."""
    times = []
    for _ in range(iters):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(x)
        if wait:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    torch.cuda.synchronize()
    return statistics.median(times)


def timed(fn, x: torch.Tensor, iters: int) -> float:
    """Median images/s of ``iters`` forwards, each synchronised."""
    return x.shape[0] / call_seconds(fn, x, iters, wait=True)


def back_to_back(fn, x: torch.Tensor, iters: int) -> float:
    """Images/s of ``iters`` forwards enqueued back to back, one synchronisation at the end: a call's fixed host cost
    before its first kernel overlaps the previous call's kernels, as in a serving loop."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn(x)
    torch.cuda.synchronize()
    return x.shape[0] * iters / (time.perf_counter() - t0)


def compare_rounds(label: str, measure, eager, compiled, x: torch.Tensor, rounds: int, iters: int) -> None:
    """Print eager's and the compiled model's images/s from ``measure`` round by round, alternating, and the median
    ratio."""
    ratios = []
    prefix = f"{label}, " if label else ""
    for rnd in range(rounds):
        e, c = measure(eager, x, iters), measure(compiled, x, iters)
        ratios.append(c / e)
        print(f"{prefix}round {rnd}: {e:8.0f} {c:8.0f} {c / e:6.3f}x", flush=True)
    print(f"median compiled/eager{', ' + label if label else ''} {statistics.median(ratios):.3f}x")


def compile_options(skip_module_guards: bool, inductor: list[str]) -> dict:
    """``torch.compile``'s ``options`` from the flags: the guard filter and ``KEY=VALUE`` Inductor settings."""
    options: dict = {}
    if skip_module_guards:
        options["guard_filter_fn"] = torch.compiler.skip_guard_on_all_nn_modules_unsafe
    for item in inductor:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--inductor {item!r}: use KEY=VALUE, e.g. --inductor size_asserts=False")
        options[key] = ast.literal_eval(value)
    return options


def use_torch_stacking() -> None:
    """Let the traced inference op stack the two directions' weights with torch ops, which Inductor's freezing may
    fold into constants, instead of launching its stacking kernel on every call."""
    from rmeeto.ops.triton import bimamba as tb
    from rmeeto.ops.triton import library

    library.stack_params_launched = tb.stack_params


def kernel_table(fn, x: torch.Tensor, iters: int) -> tuple[dict, float]:
    """``{kernel name: (launches, total us)}`` over ``iters`` forwards, and the host wall ms per forward."""
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(iters):
            fn(x)
        torch.cuda.synchronize()
        wall = (time.perf_counter() - t0) / iters * 1e3
    table: dict = collections.defaultdict(lambda: [0, 0.0])
    for ev in prof.events():
        if ev.device_type == torch.autograd.DeviceType.CUDA and ev.device_time_total > 0:
            row = table[ev.name[:70]]
            row[0] += 1
            row[1] += ev.device_time_total
    return {k: (n / iters, us / iters) for k, (n, us) in table.items()}, wall


def guard_rounds(compiled, model: torch.nn.Module, x: torch.Tensor, rounds: int, iters: int) -> None:
    """The guards' cost in place: host ms per compiled call, then synchronised ms, with them evaluated and not."""
    from profile_guards import guard_eval_rounds, hot_guard_check_us, print_guard_rounds

    print(f"guard check in a loop: {hot_guard_check_us(model, x):.1f} us")
    for what, wait in (("host ms per call", False), ("synchronised ms per call", True)):
        rows = guard_eval_rounds(lambda: call_seconds(compiled, x, iters, wait) * 1e3, rounds)
        print_guard_rounds(rows, what)


def add_model_args(ap: argparse.ArgumentParser) -> None:
    """The flags that choose the model, its input and how it is compiled (see :func:`eager_and_compiled`)."""
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--skip-module-guards", action="store_true", help="compile without Dynamo's module guards")
    ap.add_argument("--inductor", action="append", default=[], metavar="KEY=VALUE", help="an Inductor option")
    ap.add_argument("--stack-torch", action="store_true", help="the traced op stacks the weights with torch ops")
    ops = ap.add_mutually_exclusive_group()
    ops.add_argument("--traced-ops", action="store_true", help="compile_ops='traced': Inductor launches the kernels")
    ops.add_argument("--opaque-ops", action="store_true", help="compile_ops='opaque' (the default)")


def eager_and_compiled(a: argparse.Namespace) -> tuple[dict, torch.Tensor, list[str]]:
    """``({"eager": model, "compiled": torch.compile(model, ...)}, input, option names)`` from
    :func:`add_model_args`' flags: the model in fp16 on the GPU, patched with ``--r``, the settings applied."""
    from rmeeto.ops import settings

    settings.configure(compile_ops="traced" if a.traced_ops else "opaque")
    if a.stack_torch:
        use_torch_stacking()
    options = compile_options(a.skip_module_guards, a.inductor)
    m = rmeeto.create_model(a.model).cuda().eval().half()
    if a.r:
        rmeeto.patch(m, r=a.r)
    x = torch.randn(a.batch_size, *m.input_shape, device="cuda", dtype=torch.half)
    option_names = sorted(options)  # before torch.compile, which takes guard_filter_fn out of the dict
    compiled = torch.compile(m, options=options) if options else torch.compile(m)
    return {"eager": m, "compiled": compiled}, x, option_names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(ap)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--prof-iters", type=int, default=5)
    ap.add_argument("--top", type=int, default=14)
    ap.add_argument("--guard-rounds", type=int, default=0, help="rounds with guards evaluated and not (0: none)")
    ap.add_argument("--compiled-two-op-merge", action="store_true",
                    help="compiled forwards plan and merge in two ops, as before 2026-12-04 (eager keeps one launch)")
    a = ap.parse_args()
    if a.compiled_two_op_merge:
        from rmeeto.ops.triton import library

        one_op = library.merge_once_applies
        library.merge_once_applies = lambda *args: not torch.compiler.is_compiling() and one_op(*args)
    fns, x, option_names = eager_and_compiled(a)
    m, compiled = fns["eager"], fns["compiled"]
    with torch.inference_mode():
        for fn in fns.values():
            for _ in range(5):
                fn(x)
        from torch._C._dynamo.eval_frame import _debug_get_cache_entry_list
        graphs = len(_debug_get_cache_entry_list(type(m).forward.__code__))
        print(f"compiled {graphs} graph(s) for the model's forward; options {option_names}")
        print("host us per call, GPU idle at the start: " + ", ".join(
            f"{name} {call_seconds(fn, x, 30, wait=False) * 1e6:.0f}" for name, fn in fns.items()))
        print(f"{a.model} r={a.r} batch {a.batch_size}: images/s per round, eager / compiled / ratio")
        compare_rounds("", timed, m, compiled, x, a.rounds, a.iters)
        compare_rounds("back to back", back_to_back, m, compiled, x, a.rounds, a.iters)
        if a.guard_rounds:
            guard_rounds(compiled, m, x, a.guard_rounds, a.iters)
        tables = {}
        for name, fn in fns.items():
            tables[name], wall = kernel_table(fn, x, a.prof_iters)
            n = sum(v[0] for v in tables[name].values())
            us = sum(v[1] for v in tables[name].values())
            print(f"{name:9s} per forward: {n:6.1f} kernels, {us / 1e3:7.3f} ms device, {wall:7.3f} ms wall (profiled)")
    names = sorted(set(tables["eager"]) | set(tables["compiled"]),
                   key=lambda k: -max(tables["eager"].get(k, (0, 0))[1], tables["compiled"].get(k, (0, 0))[1]))
    print(f"{'kernel':70s} {'eager n':>8s} {'eager us':>9s} {'comp n':>7s} {'comp us':>9s}")
    for k in names[:a.top]:
        (en, eu), (cn, cu) = tables["eager"].get(k, (0, 0)), tables["compiled"].get(k, (0, 0))
        print(f"{k:70s} {en:8.1f} {eu:9.1f} {cn:7.1f} {cu:9.1f}")
    only = [k for k in names if k not in tables["eager"]]
    print("only in compiled: " + ", ".join(f"{k} ({tables['compiled'][k][0]:.0f}x, {tables['compiled'][k][1]:.0f} us)"
                                            for k in only))


if __name__ == "__main__":
    main()
