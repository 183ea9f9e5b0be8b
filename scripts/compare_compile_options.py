"""Eager against ``torch.compile`` under several option sets, all in one process and timed in alternating rounds.

Each option set compiles its own instance of the model (Dynamo keeps one cache entry per compile backend, so the
sets never share compiled code). Every round times each variant in turn: the host time of one call with the GPU idle
at the start (up to the call's return), then the synchronised time of one call; ``--iters`` calls each, medians;
then the mean time of ``--iters`` calls enqueued back to back with one synchronisation after the last (ToMe's
loop, ``rmeeto bench --timing pipelined``), where a call's host work overlaps the GPU work of the one before.
Timing all variants inside one process keeps the host's speed, which moves between processes, out of their
differences.

Option sets (``--variants``, comma-separated):

- ``default``: ``torch.compile(model)``;
- ``no-asserts``: Inductor's ``size_asserts`` and ``alignment_asserts`` off (the generated code checks the size,
  stride and alignment of every graph input, each weight included, on every call);
- ``no-module-guards``: ``guard_filter_fn=torch.compiler.skip_guard_on_all_nn_modules_unsafe``;
- ``lean``: both of the above;
- ``frozen``: :func:`rmeeto.compile_for_inference`, Inductor's ``freezing`` (inference only: the weights become
  constants of the compiled graph, so they are no longer graph inputs to check on every call) and, since
  2026-12-06, Dynamo's module guards skipped but one weight's identity;
- ``frozen-via-dynamo``: ``frozen`` with ``direct_calls=False``: every call enters Dynamo (as before 2026-12-07,
  when ``frozen`` began to call an adopted graph directly);
- ``frozen-lean``: ``freezing`` and the options of ``lean``;
- ``cpp-wrapper``: Inductor's ``cpp_wrapper`` (the generated code that launches the kernels is C++, not Python);
- ``frozen-cpp``: ``frozen`` with ``cpp_wrapper``;
- ``frozen-static``: ``frozen`` with Inductor's ``static_launch_user_defined_triton_kernels`` (its C++ launcher for
  kernels given to it through ``wrap_triton``: this package's ``*_traced`` ops, so only with
  ``RMEETO_COMPILE_OPS=traced``);
- ``frozen-autotune``: ``frozen`` with the options of ``mode="max-autotune-no-cudagraphs"`` (Inductor times its
  own Triton matmul templates against cuBLAS for every matmul shape and keeps the fastest; minutes of compile);
- ``aoti``: ``torch.export`` then AOTInductor (``torch._inductor.aoti_compile_and_package``, loaded with
  ``aoti_load_package``): no Dynamo and no Python wrapper at call time, the kernels launched from C++;
- ``aoti-traced``: ``aoti``, exported with this package's ``*_traced`` ops (``compile_ops="traced"``), whose Triton
  kernels AOTInductor then launches itself, where ``aoti`` calls back into Python for each opaque op.

Every instance starts from the same seed, so each variant's logits are also compared with eager's (relative error
of the largest difference, printed before the timings).

    PYTHONPATH=src python scripts/compare_compile_options.py --model vim_small_patch16_224 --r 11 \
        [--variants default,no-asserts,lean] [--device cpu --img-size 32 --embed-dim 16]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch._inductor.config as inductor_config

import rmeeto
from rmeeto.bench import _timeit
from rmeeto.ops import settings


def no_asserts() -> dict:
    """Inductor options that drop the per-call input checks this torch version has."""
    return {k: False for k in ("size_asserts", "alignment_asserts") if hasattr(inductor_config, k)}


def variant_options(name: str) -> dict:
    """``torch.compile``'s ``options`` for one option set."""
    skip = {"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe}
    lean = {**no_asserts(), **skip}
    table = {"default": {}, "no-asserts": no_asserts(), "no-module-guards": skip, "lean": lean,
             "frozen": {"freezing": True}, "frozen-via-dynamo": {"freezing": True, "direct_calls": False},
             "frozen-lean": {"freezing": True, **lean},
             "cpp-wrapper": {"cpp_wrapper": True}, "frozen-cpp": {"freezing": True, "cpp_wrapper": True},
             "frozen-static": {"freezing": True, "static_launch_user_defined_triton_kernels": True},
             "frozen-autotune": {"freezing": True, **torch._inductor.list_mode_options("max-autotune-no-cudagraphs")}}
    if name not in table:
        raise SystemExit(f"--variants: {name!r} is unknown; choose from {','.join(table)}")
    missing = [k for k in table[name] if k not in ("freezing", "guard_filter_fn", "direct_calls") and not hasattr(inductor_config, k)]
    if missing:
        raise SystemExit(f"--variants {name}: torch {torch.__version__} has no Inductor option {missing[0]!r}")
    return table[name]


def build(a: argparse.Namespace) -> torch.nn.Module:
    """A fresh model in fp16 (fp32 on the CPU), patched with ``--r``; the same weights on every call."""
    torch.manual_seed(0)
    extra = {}
    if a.img_size:
        extra.update(img_size=a.img_size, patch_size=8, stride=8)
    if a.embed_dim:
        extra["embed_dim"] = a.embed_dim
    m = rmeeto.create_model(a.model, **extra).eval().to(a.device)
    if a.device == "cuda":
        m = m.half()
    if a.r:
        rmeeto.patch(m, r=a.r)
    return m


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def call_ms(fn, x: torch.Tensor, iters: int, wait: bool) -> float:
    """Median ms of ``iters`` calls, each from an idle GPU: to the call's return, or (``wait``) to the GPU's end."""
    times = []
    for _ in range(iters):
        sync(x.device.type)
        t0 = time.perf_counter()
        fn(x)
        if wait:
            sync(x.device.type)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def pipelined_ms(fn, x: torch.Tensor, iters: int) -> float:
    """Mean ms per call of ``iters`` calls enqueued back to back (``rmeeto bench --timing pipelined``'s loop)."""
    times, _host = _timeit(lambda: fn(x), x.device, 0, iters, timing="pipelined")
    return times[0] * 1e3


def aot_compiled(model: torch.nn.Module, x: torch.Tensor, compile_ops: str = "opaque"):
    """``model`` exported at ``x``'s shape (taking ``compile_ops``' form of this package's ops) and compiled ahead of
    time by AOTInductor, loaded back as a callable."""
    import tempfile

    with settings.using(compile_ops=compile_ops):
        program = torch.export.export(model, (x,))
    path = torch._inductor.aoti_compile_and_package(program, package_path=os.path.join(
        tempfile.mkdtemp(), "model.pt2"))
    return torch._inductor.aoti_load_package(path)


def compiled_variant(name: str, a: argparse.Namespace, x: torch.Tensor):
    """One option set's compiled model, on its own model instance (not yet called)."""
    if name in ("aoti", "aoti-traced"):
        return aot_compiled(build(a), x, "traced" if name == "aoti-traced" else "opaque")
    options = variant_options(name)
    frozen = options.pop("freezing", False)  # a compile option alone freezes nothing: compile_for_inference
    direct_calls = options.pop("direct_calls", None)
    if frozen:
        return rmeeto.compile_for_inference(build(a), options=options, direct_calls=direct_calls)
    return torch.compile(build(a), options=options)


def compiled_variants(a: argparse.Namespace, x: torch.Tensor) -> dict:
    """``{name: compiled model}`` for every option set, each compiled here by a first call."""
    fns = {}
    for name in a.variants.split(","):
        t0 = time.perf_counter()
        fns[name] = compiled_variant(name, a, x)
        fns[name](x)
        print(f"{name}: compiled in {time.perf_counter() - t0:.0f} s", flush=True)
    return fns


Row = tuple[float, float, float]  # host, synchronised and pipelined ms per call


def timed_rounds(fns: dict, x: torch.Tensor, rounds: int, iters: int) -> dict[str, list[Row]]:
    """Per variant and round: (host, synchronised, pipelined) ms per call, the variants taking turns in each round."""
    rows: dict[str, list[Row]] = {name: [] for name in fns}
    for rnd in range(rounds):
        for name, fn in fns.items():
            rows[name].append((call_ms(fn, x, iters, wait=False), call_ms(fn, x, iters, wait=True),
                               pipelined_ms(fn, x, iters)))
        print(f"round {rnd}: " + "  ".join(f"{n} " + "/".join(f"{v:.3f}" for v in r[-1]) for n, r in rows.items()),
              flush=True)
    return rows


def report(rows: dict[str, list[Row]]) -> None:
    """Medians over the rounds, and each variant's speed against eager (synchronised and pipelined), overall and
    over the rounds."""
    eager = [statistics.median(r[k] for r in rows["eager"]) for k in range(3)]
    for name, r in rows.items():
        host, synced, piped = (statistics.median(row[k] for row in r) for k in range(3))
        per_round = [[e[k] / v[k] for e, v in zip(rows["eager"], r)] for k in (1, 2)]
        print(f"{name:17s} host {host:8.3f}  synchronised {synced:8.3f} ({eager[1] / synced:6.3f}x eager, rounds "
              f"{min(per_round[0]):.3f}-{max(per_round[0]):.3f}x)  pipelined {piped:8.3f} ({eager[2] / piped:6.3f}x, "
              f"rounds {min(per_round[1]):.3f}-{max(per_round[1]):.3f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--variants", default="default,no-asserts")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--iters", type=int, default=15)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--img-size", type=int, default=None, help="a smaller input (patch and stride 8)")
    ap.add_argument("--embed-dim", type=int, default=None, help="a narrower model")
    a = ap.parse_args()
    eager = build(a)
    x = torch.randn(a.batch_size, *eager.input_shape, device=a.device,
                    dtype=torch.half if a.device == "cuda" else torch.float)
    with torch.inference_mode():
        fns = {"eager": eager, **compiled_variants(a, x)}
        from torch._C._dynamo.eval_frame import _debug_get_cache_entry_list
        print(f"cache entries for the forward: {len(_debug_get_cache_entry_list(type(eager).forward.__code__))}")
        want = eager(x).float()
        for name, fn in fns.items():
            got = fn(x).float()
            print(f"{name}: logits vs eager, relative error {((got - want).abs().max() / want.abs().max()).item():.2e}"
                  f" (NaN: {int(got.isnan().sum())})", flush=True)
        for fn in fns.values():
            for _ in range(5):
                fn(x)
        rows = timed_rounds(fns, x, a.rounds, a.iters)
    print(f"{a.model} r={a.r} batch {a.batch_size} on {a.device}, torch {torch.__version__}: "
          "ms per call, medians over rounds (host to return / synchronised / pipelined), eager over variant")
    report(rows)


if __name__ == "__main__":
    main()
