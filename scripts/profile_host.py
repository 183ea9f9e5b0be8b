"""Where an eager forward spends host (CPU) time: the top operators by self CPU time, and every CUDA
runtime call that waits for the device (synchronize, blocking copies, frees).

``--sync-check`` also runs one forward under ``torch.cuda.set_sync_debug_mode("warn")`` and prints every
synchronizing call torch reports; ``--python N`` prints the N Python functions with the most cumulative time
in the timed forwards (cProfile).

    PYTHONPATH=src python scripts/profile_host.py --model videomamba_tiny_patch16_224 --r 88 --batch 32 \
        [--sync-check] [--python 25]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
import warnings

import torch
from torch.profiler import ProfilerActivity, profile

import rmeeto

WAITS = ("Synchronize", "Memcpy", "cudaFree", "cudaMalloc", "cudaHostAlloc", "EventSynchronize")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="videomamba_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=88)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--sync-check", action="store_true", help="report synchronizing calls in one forward")
    ap.add_argument("--python", type=int, default=0, metavar="N", help="top N Python functions by cumulative time")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to profile")
        return 2
    m = rmeeto.create_model(args.model)
    if args.r:
        rmeeto.patch(m, r=args.r)
    m = m.cuda().eval().half()
    x = torch.randn(args.batch, *m.input_shape, device="cuda", dtype=torch.float16)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        for _ in range(5):
            m(x)
        torch.cuda.synchronize()
        if args.sync_check:
            _sync_check(m, x)
        cprof = cProfile.Profile() if args.python else None
        t0 = time.perf_counter()
        if cprof:
            cprof.enable()
        for _ in range(args.iters):
            m(x)
        host = (time.perf_counter() - t0) / args.iters  # host time to enqueue, if nothing waits
        if cprof:
            cprof.disable()
        torch.cuda.synchronize()
        wall = (time.perf_counter() - t0) / args.iters
        if cprof:
            out = io.StringIO()
            pstats.Stats(cprof, stream=out).sort_stats("cumulative").print_stats(args.python)
            print(f"# Python functions, cumulative, {args.iters} forwards (cProfile; its overhead included)")
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(cprof, stream=out).sort_stats("tottime").print_stats(args.python)
            print(f"# Python functions, own time, {args.iters} forwards")
            print(out.getvalue())
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(args.iters):
                m(x)
            torch.cuda.synchronize()
    print(f"# {args.model} r={args.r} batch {args.batch}: enqueue {host * 1e3:.2f} ms, wall {wall * 1e3:.2f} ms "
          f"per forward")
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    print(f"{'op':60s} {'calls/fwd':>9s} {'self CPU ms/fwd':>15s}")
    for ev in rows[:20]:
        print(f"{ev.key[:60]:60s} {ev.count / args.iters:9.1f} {ev.self_cpu_time_total / 1e3 / args.iters:15.3f}")
    print("waiting calls:")
    for ev in rows:
        if any(w in ev.key for w in WAITS):
            print(f"  {ev.key[:58]:58s} {ev.count / args.iters:9.1f} {ev.self_cpu_time_total / 1e3 / args.iters:15.3f}")
    return 0


def _sync_check(m, x) -> None:
    """One forward with torch's sync debug mode: each call that makes the host wait for the device is reported."""
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m(x)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message).lower()]
    print(f"# synchronizing calls in one forward: {len(syncs)}")
    for w in syncs[:20]:
        print(f"  {w.filename}:{w.lineno}: {str(w.message).splitlines()[0][:120]}")


if __name__ == "__main__":
    raise SystemExit(main())
