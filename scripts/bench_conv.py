"""Time the fused bidirectional conv kernels alone (forward; backward = both passes) at each block configuration.

Device time from CUDA-graph replays (``triton.testing.do_bench_cudagraph``), with the bytes each kernel must move
as an achieved bandwidth: the forward reads x and writes both directions' u; the backward reads x and both
gradients and writes dx, through a scratch of the pre-activation gradient (fp16 for fp16 gradients since
2026-12-02, else fp32). Prints a table; asserts nothing.

    PYTHONPATH=src python scripts/bench_conv.py [--shapes 128x768x197,128x384x197] [--dtype fp16]
        [--cfgs 32/64/4,64/64/4,16/128/4/96] [--module rmeeto.ops.triton.bimamba]

``--module`` times the conv functions of another copy of the kernels' module (an earlier version put beside it).
"""
from __future__ import annotations

import argparse
import sys

import torch

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def _inputs(batch: int, E: int, L: int, dtype: torch.dtype, K: int = 4):
    g = torch.Generator(device="cuda").manual_seed(0)
    xz = torch.randn(batch, L, 2 * E, device="cuda", generator=g).to(dtype)
    w = torch.randn(2, E, K, device="cuda", generator=g) * 0.5
    b = torch.randn(2, E, device="cuda", generator=g) * 0.1
    g1 = torch.randn(2, batch, L, E, device="cuda", generator=g).to(dtype)
    g2 = torch.randn(2, batch, L, E, device="cuda", generator=g).to(dtype)
    return xz[..., :E], w, b, g1, g2, torch.empty(batch, L, E, device="cuda", dtype=dtype)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="128x768x197,128x384x197,32x768x1569", help="batch x width x length")
    ap.add_argument("--dtype", default="fp16", choices=sorted(DTYPES))
    ap.add_argument("--module", default="rmeeto.ops.triton.bimamba", help="the module whose kernels are timed")
    ap.add_argument("--cfgs", default="32/64/4,16/64/4,64/64/4,32/128/4,16/128/4,32/256/4,64/128/8,32/64/2",
                    help="BLOCK_L/BLOCK_E/num_warps[/maxnreg] each")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark", file=sys.stderr)
        return 2
    import importlib

    import triton
    from triton.testing import do_bench_cudagraph

    tb = importlib.import_module(args.module)

    defaults = dict(tb.CONV_FWD_CFG), dict(tb.CONV_BWD_CFG)
    dt = DTYPES[args.dtype]
    print(f"{args.module} | {torch.cuda.get_device_name()} | torch {torch.__version__} | triton {triton.__version__} | "
          f"{args.dtype} | "
          f"defaults fwd {defaults[0]} bwd {defaults[1]}; median device ms (CUDA graph)")
    print(f"{'shape':>14} {'L/E/warps':>10} | {'fwd ms':>7} {'GB/s':>6} | {'bwd ms':>7} {'GB/s':>6}")
    for shape in args.shapes.split(","):
        batch, E, L = (int(v) for v in shape.split("x"))
        x, w, b, g1, g2, dx = _inputs(batch, E, L, dt)
        n, item = batch * L * E, x.element_size()
        fwd_bytes = n * item * 3  # x once, u twice
        # x, g1 x2, g2 x2, dx; the pre-activation gradient written and read for both directions (fp16 for fp16)
        bwd_bytes = n * item * 6 + n * (2 if dt == torch.float16 else 4) * 4
        for spec in args.cfgs.split(","):
            bl, be, nw, cap = ([int(v) for v in spec.split("/")] + [0])[:4]
            for cfg in (tb.CONV_FWD_CFG, tb.CONV_BWD_CFG):
                cfg.update(BLOCK_L=bl, BLOCK_E=be, num_warps=nw, maxnreg=cap)
            fwd = do_bench_cudagraph(lambda: tb.biconv_fwd(x, w, b, dt), rep=50, return_mode="median")
            bwd = do_bench_cudagraph(lambda: tb.biconv_bwd(x, w, b, g1, g2, dx), rep=50, return_mode="median")
            print(f"{shape:>14} {spec:>10} | {fwd:7.4f} {fwd_bytes / fwd / 1e6:6.0f} | {bwd:7.4f} "
                  f"{bwd_bytes / bwd / 1e6:6.0f}", flush=True)
        for cfg, default in zip((tb.CONV_FWD_CFG, tb.CONV_BWD_CFG), defaults):
            cfg.clear()
            cfg.update(default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
