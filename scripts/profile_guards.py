"""Host time of Dynamo's guards for a compiled model, on any machine: what ``torch.compile`` checks before every call.

The model is compiled with ``backend="eager"`` (Dynamo only) and called three times, then the guards of the compiled
entry that accepts the call are timed alone (``guard_manager.check`` on the call's locals), with the default guards
and with ``options={"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe}``, which PyTorch's
"Reducing Guard Overhead" page offers for models whose modules do not change between calls, and as
:func:`rmeeto.compile_for_inference` guards its frozen graphs (one weight's identity kept, or with
``module_guards=True`` every module guard). Also prints how many
times each was compiled (the kernel settings are read before, as a program that used the package first would have).
Asserts nothing.

    PYTHONPATH=src python scripts/profile_guards.py [--model vim_small_patch16_224] [--r 0]

A guard check timed in a loop finds the guards' data in the CPU caches; inside a real call it may not.
:func:`guard_eval_rounds` measures them in place: one compiled model's calls in alternating rounds with the guards
evaluated and with ``torch.compiler.set_stance(skip_guard_eval_unsafe=True)``, which runs the same compiled code
without evaluating them (``scripts/profile_compiled_call.py`` and ``scripts/profile_compile.py`` use it).
``--evict-mb N`` (repeatable) also times single checks each made right after writing an N MB buffer, which pushes the
guards' data out of the CPU caches as a forward that streams N MB would.
"""
from __future__ import annotations

import argparse
import statistics
import time
import timeit
from typing import Callable

import torch

import rmeeto


def guard_time(model: torch.nn.Module, x: torch.Tensor, number: int, repeat: int, evict_mb: tuple = (),
               compile_fn: Callable = torch.compile, **compile_kw) -> tuple:
    """(us per guard check, guard code lines, compiled entries, {MB: us per check after writing MB}) of ``model``
    compiled by ``compile_fn`` with ``compile_kw``."""
    from torch._C._dynamo.eval_frame import _debug_get_cache_entry_list

    torch._dynamo.reset()
    compiled = compile_fn(model, backend="eager", **compile_kw)
    with torch.inference_mode():
        for _ in range(3):
            compiled(x)
        entries = _debug_get_cache_entry_list(type(model).forward.__code__)
        guards, _ = accepting_guards(model, x)
        us = hot_guard_check_us(model, x, number, repeat)
        evicted = {mb: evicted_guard_check_us(model, x, mb) for mb in evict_mb}
    return us, len(guards.code_parts), len(entries), evicted


def accepting_guards(model: torch.nn.Module, x: torch.Tensor) -> tuple:
    """(guard manager, forward locals) of ``model``'s compiled entry that accepts ``model(x)``."""
    from torch._C._dynamo.eval_frame import _debug_get_cache_entry_list

    local = {"self": model, "x": x}
    entries = _debug_get_cache_entry_list(type(model).forward.__code__)
    return next(e.guard_manager for e in entries if e.guard_manager.check(local)), local


def hot_guard_check_us(model: torch.nn.Module, x: torch.Tensor, number: int = 200, repeat: int = 7) -> float:
    """us per check of the guards of ``model``'s compiled entry that accepts ``x``, checked in a loop."""
    guards, local = accepting_guards(model, x)
    return statistics.median(timeit.repeat(lambda: guards.check(local), number=number, repeat=repeat)) / number * 1e6


def evicted_guard_check_us(model: torch.nn.Module, x: torch.Tensor, evict_mb: int, repeat: int = 50) -> float:
    """Median us of single guard checks (as :func:`hot_guard_check_us`), each right after ``evict_mb`` MB are written."""
    guards, local = accepting_guards(model, x)
    buffer = torch.zeros(evict_mb * 2 ** 18)  # float32: 4 bytes each
    times = []
    for _ in range(repeat):
        buffer.add_(1.0)
        t0 = time.perf_counter()
        guards.check(local)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def guard_eval_rounds(per_call: Callable[[], float], rounds: int) -> dict[str, list[float]]:
    """``per_call()`` (ms per call of a compiled model that has one compiled entry) in alternating rounds, with
    Dynamo's guards evaluated and without (``set_stance(skip_guard_eval_unsafe=True)``: the same compiled code)."""
    rows: dict[str, list[float]] = {"guards evaluated": [], "guards not evaluated": []}
    for _ in range(rounds):
        rows["guards evaluated"].append(per_call())
        with torch.compiler.set_stance("default", skip_guard_eval_unsafe=True):
            rows["guards not evaluated"].append(per_call())
    return rows


def print_guard_rounds(rows: dict[str, list[float]], what: str) -> None:
    """Median and lowest ``what`` of each setting of :func:`guard_eval_rounds`, and their differences."""
    for name, times in rows.items():
        print(f"{name:22s} {what}: median {statistics.median(times):8.3f}, lowest {min(times):8.3f}  "
              f"(rounds {', '.join(f'{t:.3f}' for t in times)})")
    on, off = rows.values()
    print(f"{'guards cost':22s} {what}: {statistics.median(on) - statistics.median(off):8.3f} between the medians, "
          f"{min(on) - min(off):.3f} between the lowest")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="vim_small_patch16_224")
    ap.add_argument("--r", type=int, default=0)
    ap.add_argument("--number", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--evict-mb", type=int, action="append", default=[], help="also time checks after writing N MB")
    args = ap.parse_args(argv)
    from rmeeto.ops import settings

    settings.current()  # read at the first use; a first use inside the compiled call would cost a second compile
    torch.manual_seed(0)
    model = rmeeto.create_model(args.model).eval()
    if args.r:
        rmeeto.patch(model, r=args.r)
    x = torch.randn(1, *model.input_shape)
    skip = {"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe}
    print(f"{args.model} r={args.r}, {sum(1 for _ in model.parameters())} parameters, torch {torch.__version__}; "
          f"us per guard check, median of {args.repeat} x {args.number}")
    frozen = rmeeto.compile_for_inference
    for name, kw in (("default guards", {}), ("module guards skipped", {"options": skip}),
                     ("frozen, one weight identity", {"compile_fn": frozen}),
                     ("frozen, module guards", {"compile_fn": frozen, "module_guards": True})):
        us, lines, entries, evicted = guard_time(model, x, args.number, args.repeat, tuple(args.evict_mb), **kw)
        print(f"{name:24s} {us:8.1f} us  ({lines} guard lines, compiled {entries}x)" +
              "".join(f"; after writing {mb} MB: {t:.1f} us" for mb, t in evicted.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
