"""Where an eager forward spends host (CPU) time: the top operators by self CPU time, and every CUDA
runtime call that waits for the device (synchronize, blocking copies, frees).

    PYTHONPATH=src python scripts/profile_host.py --model videomamba_tiny_patch16_224 --r 88 --batch 32
"""
from __future__ import annotations

import argparse
import time

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
    args = ap.parse_args(argv)
    m = rmeeto.create_model(args.model)
    if args.r:
        rmeeto.patch(m, r=args.r)
    m = m.cuda().eval().half()
    x = torch.randn(args.batch, *m.input_shape, device="cuda", dtype=torch.float16)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        for _ in range(5):
            m(x)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(args.iters):
            m(x)
        host = (time.perf_counter() - t0) / args.iters  # host time to enqueue, if nothing waits
        torch.cuda.synchronize()
        wall = (time.perf_counter() - t0) / args.iters
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


if __name__ == "__main__":
    raise SystemExit(main())
