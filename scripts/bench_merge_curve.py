"""The merge-cost curve: images/s merged against unmerged at r across 1..(t-1)//2, eager and in a CUDA graph.

Where the speed-up is below 1, merging costs more than it saves at that r.

    python scripts/bench_merge_curve.py --models vim_tiny_patch16_224,vim_small_patch16_224 --batch-size 128
"""
from __future__ import annotations

import argparse

import rmeeto
from rmeeto.bench import measure

R_VALUES = (1, 2, 3, 5, 8, 11, 16, 24, 32, 48, 64, 98)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="vim_tiny_patch16_224,vim_small_patch16_224,vim_base_patch16_224")
    ap.add_argument("--r", default=",".join(map(str, R_VALUES)), help="comma list (capped at (t-1)//2)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--dtype", default="fp16")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--modes", default="eager,graph")
    a = ap.parse_args()
    print(f"{'model':24s} {'mode':5s} {'r':>3s} {'ratio':>6s} {'GFLOPs':>7s} {'im/s':>8s} {'speed-up':>8s}")
    for name in a.models.split(","):
        model = rmeeto.create_model(name)
        top = (model.num_tokens - 1) // 2
        for mode in a.modes.split(","):
            rmeeto.unpatch(model)
            base = measure(model, a.batch_size, "cuda", a.dtype, False, a.warmup, a.iters, mode == "graph")
            print(f"{name:24s} {mode:5s} {0:3d} {0:6.3f} {base['gflops']:7.3f} {base['im_per_s']:8.0f} {1:8.2f}x")
            for r in sorted({min(int(v), top) for v in a.r.split(",")}):
                rmeeto.patch(model, r=r)
                res = measure(model, a.batch_size, "cuda", a.dtype, False, a.warmup, a.iters, mode == "graph")
                print(f"{name:24s} {mode:5s} {r:3d} {res['ratio']:6.3f} {res['gflops']:7.3f} {res['im_per_s']:8.0f} "
                      f"{res['im_per_s'] / base['im_per_s']:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
