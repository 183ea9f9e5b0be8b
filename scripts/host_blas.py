"""Host time of each kind of call in an eager Vim block, and of whole eager forwards, under each cuBLAS front end.

An eager Vim-Ti forward at batch 128 is bound by its host time (``docs/benchmarks/``), and half of its calls per
block are matrix products that torch hands to cuBLAS or cuBLASLt (``torch.backends.cuda.preferred_blas_library``).
For each library this prints, behind a GPU sleep (so nothing waits on the GPU): us of host time per call of
``F.linear`` and ``torch.bmm`` at the block's four product shapes, of one cached Triton launch (add + RMSNorm) and of
``torch.empty``; the CUDA runtime calls each product makes (torch profiler); then the host and synchronised ms of
whole eager forwards, unmerged and merged, the libraries and models alternating. Asserts nothing.

    python scripts/host_blas.py [--model vim_tiny_patch16_224] [--r 5] [--batch 128] [--rounds 15]
"""
from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import rmeeto
from host_enqueue import cycles_per_ms, host_seconds_behind_sleep  # scripts/ is first on sys.path
from profile_compile import call_seconds

LIBRARIES = ("cublas", "cublaslt")


def _products(model, batch: int) -> dict:
    """The block's four matrix products at this model's shapes, as the Triton path calls them."""
    mixer = model.layers[0].mixer
    T, C, E = model.num_tokens, model.embed_dim, mixer.d_inner
    R, N = mixer.dt_rank, mixer.d_state
    P = R + (-(R + 2 * N) % 16)  # dt rows padded as stack_params pads them
    h = torch.randn(batch, T, C, device="cuda", dtype=torch.half)
    y = torch.randn(batch, T, E, device="cuda", dtype=torch.half)
    u = torch.randn(2, batch * T, E, device="cuda", dtype=torch.half)
    w_in, w_out = mixer.in_proj.weight, mixer.out_proj.weight
    w_x = torch.randn(2, P + 2 * N, E, device="cuda", dtype=torch.half)
    w_dt = torch.randn(2, E, R, device="cuda", dtype=torch.half)
    x_dbl = torch.bmm(u, w_x.transpose(1, 2))
    return {
        f"in_proj F.linear ({batch}x{T}x{C} -> {2 * E})": lambda: F.linear(h, w_in),
        f"x_proj bmm (2x{batch * T}x{E} -> {P + 2 * N})": lambda: torch.bmm(u, w_x.transpose(1, 2)),
        f"dt_proj bmm (2x{batch * T}x{R} -> {E})": lambda: torch.bmm(x_dbl[..., :R], w_dt.transpose(1, 2)),
        f"out_proj F.linear ({batch}x{T}x{E} -> {C})": lambda: F.linear(y, w_out),
    }


def _others(model, batch: int) -> dict:
    from rmeeto.ops.triton import library

    T, C = model.num_tokens, model.embed_dim
    h = torch.randn(batch, T, C, device="cuda", dtype=torch.half)
    res = torch.randn(batch, T, C, device="cuda")
    w = torch.ones(C, device="cuda")
    return {
        "add + RMSNorm (one cached Triton launch)": lambda: library.add_rmsnorm(h, res, w, 1e-5),
        f"torch.empty ({batch}x{T}x{C} fp32)": lambda: torch.empty(batch, T, C, device="cuda"),
    }


def _host_us(fn, sleep: int, calls: int, rounds: int) -> float:
    """Median over ``rounds`` of the host us per call of ``calls`` calls behind one GPU sleep."""
    times = [host_seconds_behind_sleep(lambda: [fn() for _ in range(calls)], sleep)[0] for _ in range(rounds)]
    return statistics.median(times) / calls * 1e6


def _runtime_calls(fn) -> str:
    """The CUDA runtime/driver calls one ``fn()`` makes, as the torch profiler names them."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
        torch.cuda.synchronize()
    names = [e.key for e in prof.key_averages() if e.key.startswith(("cu", "Memset"))
             and e.key != "cudaDeviceSynchronize"]
    return ", ".join(sorted(names)) or "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=50)
    a = ap.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("host_blas.py needs a CUDA GPU (it times enqueuing behind a GPU sleep)")
    sleep = int(150.0 * cycles_per_ms())
    before = torch.backends.cuda.preferred_blas_library()
    print(f"{a.model}, batch {a.batch}, fp16; torch {torch.__version__}; default library: {before}")
    unmerged = rmeeto.create_model(a.model).cuda().half().eval()
    merged = rmeeto.patch(rmeeto.create_model(a.model).cuda().half().eval(), r=a.r)
    with torch.inference_mode():
        products, others = _products(unmerged, a.batch), _others(unmerged, a.batch)
        for lib in LIBRARIES:
            torch.backends.cuda.preferred_blas_library(lib)
            for name, fn in {**products, **others}.items():
                fn()
                print(f"[{lib:8s}] {name:48s} {_host_us(fn, sleep, a.calls, a.rounds):7.1f} us/call")
            for name, fn in products.items():
                print(f"[{lib:8s}] {name:48s} runtime calls: {_runtime_calls(fn)}")
        x = torch.randn(a.batch, *unmerged.input_shape, device="cuda", dtype=torch.half)
        _forwards({"r=0": unmerged, f"r={a.r}": merged}, x, sleep, a.rounds)
    torch.backends.cuda.preferred_blas_library(before)
    return 0


def _forwards(models: dict, x, sleep: int, rounds: int) -> None:
    """Host and synchronised ms per eager forward, each (library, model) pair once a round, as ``rmeeto bench`` runs
    inference (fp16 weights, fp16 autocast)."""
    host = {(lib, k): [] for lib in LIBRARIES for k in models}
    synced = {key: [] for key in host}
    with torch.autocast("cuda", dtype=torch.float16):
        for lib in LIBRARIES:
            torch.backends.cuda.preferred_blas_library(lib)
            for m in models.values():
                for _ in range(3):
                    m(x)
        for _ in range(rounds):
            for lib, k in host:
                torch.backends.cuda.preferred_blas_library(lib)
                host[lib, k].append(host_seconds_behind_sleep(lambda: models[k](x), sleep)[0])
                synced[lib, k].append(call_seconds(models[k], x, iters=1, wait=True))
    for (lib, k), times in host.items():
        print(f"[{lib:8s}] {k:5s} forward: host {statistics.median(times) * 1e3:6.2f} ms (min {min(times) * 1e3:6.2f});"
              f" synchronised {statistics.median(synced[lib, k]) * 1e3:6.2f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
