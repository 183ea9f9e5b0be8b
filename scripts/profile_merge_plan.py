"""Where the fused merge plan spends its GPU time, per kernel, at VideoMamba's token counts.

Runs ``rmeeto.ops.triton.merge.plan`` (``--tiled`` picks the multi-launch plan; the default lets the dispatch
choose) under ``torch.profiler`` on random fp16 hidden states with tracked sizes, and prints the CUDA time per
kernel name, per plan call. Asserts nothing.

    PYTHONPATH=src python scripts/profile_merge_plan.py [--batch 32] [--dim 384] [--lens 1569,3137] [--r 88,88] \
        [--modes merge,prune] [--configs ";book.few_r=0"]

``--configs``: ';'-separated overrides of the kernels' block configurations (``scripts/with_scan_cfg.py``), each
profiled in turn; an empty one is the defaults.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from with_scan_cfg import overridden  # noqa: E402


def profile_plan(batch: int, tokens: int, dim: int, r: int, iters: int, mode: str = "merge") -> dict[str, float]:
    """Microseconds of CUDA time per plan call, by kernel name."""
    from torch.profiler import ProfilerActivity, profile

    from rmeeto.ops.triton import merge as triton_merge

    g = torch.Generator(device="cuda").manual_seed(0)
    h = torch.randn(batch, tokens, dim, device="cuda", generator=g).half()
    size = torch.ones(batch, tokens, 1, device="cuda")
    for _ in range(3):
        triton_merge.plan(h, r, 0, size, mode, tiled=True)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(iters):
            triton_merge.plan(h, r, 0, size, mode, tiled=True)
        torch.cuda.synchronize()
    per_kernel: dict[str, float] = defaultdict(float)
    for ev in prof.key_averages():
        if ev.device_type == torch.autograd.DeviceType.CUDA:
            per_kernel[ev.key[:60]] += ev.device_time_total / iters
    return dict(per_kernel)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--lens", default="1569,3137")
    ap.add_argument("--r", default="88,88")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--modes", default="merge", help="comma list of merge modes, e.g. merge,prune")
    ap.add_argument("--configs", default="", help="';'-separated kernel configurations (with_scan_cfg.py)")
    args = ap.parse_args(argv)
    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | batch {args.batch} dim {args.dim} fp16, "
          "tiled plan, us of CUDA time per call")
    for cfg in args.configs.split(";"):
        with overridden(cfg.split()):
            for mode in args.modes.split(","):
                for tokens, r in zip((int(v) for v in args.lens.split(",")), (int(v) for v in args.r.split(","))):
                    times = profile_plan(args.batch, tokens, args.dim, r, args.iters, mode)
                    print(f"[{cfg or 'defaults'}] {mode} tokens {tokens} r {r}: total {sum(times.values()):.1f} us")
                    for name, us in sorted(times.items(), key=lambda kv: -kv[1]):
                        print(f"  {us:8.1f}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
