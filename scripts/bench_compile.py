"""Eager against ``torch.compile`` on the CUDA (Triton) path: images/s, median of timed forwards, and graph breaks.

    python scripts/bench_compile.py --model vim_small_patch16_224 --r 0,11 --batch-size 128
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import rmeeto


def images_per_second(fn, x: torch.Tensor, warmup: int, iters: int) -> float:
    times = []
    for i in range(warmup + iters):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(x)
        torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return x.shape[0] / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vim_small_patch16_224")
    ap.add_argument("--r", default="0,11")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--mode", default="default", help="torch.compile mode")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--iters", type=int, default=30)
    a = ap.parse_args()
    print(f"{'model':24s} {'r':>3s} {'breaks':>6s} {'eager im/s':>10s} {'compiled im/s':>13s} {'compiled/eager':>14s}")
    for r in (int(v) for v in a.r.split(",")):
        torch._dynamo.reset()
        m = rmeeto.create_model(a.model).cuda().eval().half()
        if r:
            rmeeto.patch(m, r=r)
        x = torch.randn(a.batch_size, *m.input_shape, device="cuda", dtype=torch.half)
        compiled = torch.compile(m, mode=a.mode)
        with torch.inference_mode():
            breaks = torch._dynamo.explain(m)(x[:2]).graph_break_count
            torch._dynamo.reset()
            eager = images_per_second(m, x, a.warmup, a.iters)
            comp = images_per_second(compiled, x, a.warmup, a.iters)
        print(f"{a.model:24s} {r:3d} {breaks:6d} {eager:10.0f} {comp:13.0f} {comp / eager:14.2f}x", flush=True)


if __name__ == "__main__":
    main()
