"""Where a compiled forward's host time goes outside its kernels, on this machine's CPU (torch path).

Compiles ``--model`` (small images, so that the kernels are cheap and the per-call overhead shows) with the default
guards (``--guards default``) or with ``torch.compiler.skip_guard_on_all_nn_modules_unsafe`` (``--guards skip``),
then: median ms per call of eager and compiled forwards in alternating rounds, and a cProfile of ``--calls`` compiled
calls split into

- ``entry``: the own time of ``nn.Module._call_impl`` calls, the Python frames that enter the compiled forward.
  Dynamo's guards run in C when the forward's frame starts, and cProfile books C time to the calling frame, so the
  difference between the two guard settings is the guards' cost. Compare them in two processes: a second
  ``torch.compile`` of the same model in one process reuses the first one's compiled code, guards included;
- ``generated``: the own time of Inductor's generated ``call`` (its Python between kernels);
- ``views`` and ``allocs``: the generated code's ``reinterpret_tensor`` and ``empty_strided`` calls;
- ``rest``: everything else in the call (kernels, ops, wrappers).

Then the guards in place: ``--guard-rounds`` alternating rounds of compiled calls with the guards evaluated and not
(:func:`profile_guards.guard_eval_rounds`, the same compiled code), beside a guard check timed in a loop.
``--embed-dim`` narrows the model, so that its kernels cost less.

    PYTHONPATH=src python scripts/profile_compiled_call.py --model vim_tiny_patch16_224 --r 1 [--embed-dim 16]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

import torch

import rmeeto
from profile_guards import guard_eval_rounds, hot_guard_check_us, print_guard_rounds
from torch._C._dynamo.eval_frame import _debug_get_cache_entry_list

PARTS = {"entry": ("module.py", "_call_impl"), "generated": ("torchinductor", "call"),
         "views": ("~", "_reinterpret_tensor"), "allocs": ("~", "_empty_strided_cpu")}


def ms_per_call(fn, x: torch.Tensor, calls: int = 20) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn(x)
    return (time.perf_counter() - t0) / calls * 1e3


def profile_parts(fn, x: torch.Tensor, calls: int) -> dict:
    """ms per call of each of :data:`PARTS` (own time) and of the whole call, under cProfile."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn(x)
    prof.disable()
    stats = pstats.Stats(prof).stats  # {(file, line, name): (calls, prim calls, own s, cumulative s, callers)}
    parts = {name: 0.0 for name in PARTS}
    for (path, _line, func), (_n, _p, own, _cum, _callers) in stats.items():
        for name, (where, what) in PARTS.items():
            if where in path and (func == what or (where == "~" and what in func)):  # "~": built-ins
                parts[name] += own
    total = sum(own for (_n, _p, own, _c, _r) in stats.values())
    parts["rest"] = total - sum(parts.values())
    return {k: v / calls * 1e3 for k, v in parts.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=1)
    ap.add_argument("--img-size", type=int, default=32, help="with patch and stride 8: (img/8)^2 + 1 tokens")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--guards", default="default", choices=["default", "skip"], help="skip: module guards skipped")
    ap.add_argument("--embed-dim", type=int, default=None, help="the model's width (default: its own)")
    ap.add_argument("--guard-rounds", type=int, default=15, help="rounds with guards evaluated and not (0: none)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    width = {} if a.embed_dim is None else {"embed_dim": a.embed_dim}
    m = rmeeto.create_model(a.model, img_size=a.img_size, patch_size=8, stride=8, **width).eval()
    if a.r:
        rmeeto.patch(m, r=a.r)
    x = torch.randn(1, *m.input_shape)
    skip = {"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe}
    print(f"{a.model} r={a.r} img {a.img_size} width {m.embed_dim} batch 1, torch {torch.__version__}, one thread")
    with torch.inference_mode():
        name = {"default": "default guards", "skip": "module guards skipped"}[a.guards]
        t0 = time.perf_counter()
        compiled = torch.compile(m, options=skip) if a.guards == "skip" else torch.compile(m)
        compiled(x)
        print(f"{name}: compiled in {time.perf_counter() - t0:.0f} s", flush=True)
        m(x)
        rows = {"eager": [], name: []}
        for _ in range(a.rounds):
            rows["eager"].append(ms_per_call(m, x))
            rows[name].append(ms_per_call(compiled, x))
        for label, times in rows.items():
            print(f"{label:22s} ms per call, median of {a.rounds} rounds: {statistics.median(times):7.3f}  "
                  f"(rounds {', '.join(f'{t:.2f}' for t in times)})")
        print(f"compiled entries for the model's forward: {len(_debug_get_cache_entry_list(type(m).forward.__code__))}")
        print(f"{'cProfile, ms per call':22s} " + " ".join(f"{k:>9s}" for k in (*PARTS, "rest")))
        parts = profile_parts(compiled, x, a.calls)
        print(f"{name:22s} " + " ".join(f"{parts[k]:9.3f}" for k in (*PARTS, "rest")))
        if a.guard_rounds:
            print(f"guard check in a loop: {hot_guard_check_us(m, x):.1f} us; in place, ms per call:")
            print_guard_rounds(guard_eval_rounds(lambda: ms_per_call(compiled, x), a.guard_rounds), "ms per call")


if __name__ == "__main__":
    main()
