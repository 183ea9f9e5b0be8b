"""Time the bidirectional core's front alone: conv + SiLU, ``x_proj`` and ``dt_proj``, fused in one kernel
(:mod:`rmeeto.ops.triton.conv_proj`) at several block configurations against the unfused conv kernel and two
cuBLAS matmuls. Device time from CUDA-graph replays (``triton.testing.do_bench_cudagraph``), with the bytes the front
must move (x read once; u, x_dbl and delta written) as an achieved bandwidth, and the largest difference of the fused
outputs from the unfused ones. Prints a table; asserts nothing.

    PYTHONPATH=src python scripts/bench_front.py [--shapes 128x768x197] [--dtype fp16] [--cfgs 64/64/4/3,64/32/8/2]

A shape is batch x width E x length, with Vim's dt rank E/16 and 16 states.
"""
from __future__ import annotations

import argparse
import sys

import torch

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def _inputs(batch: int, E: int, L: int, dtype: torch.dtype, N: int = 16, K: int = 4):
    from rmeeto.ops.triton.bimamba import _pad_bc_rows

    g = torch.Generator(device="cuda").manual_seed(0)
    R = -(-E // 16)
    xz = torch.randn(batch, L, 2 * E, device="cuda", generator=g).to(dtype)
    w = torch.randn(2, E, K, device="cuda", generator=g) * 0.5
    b = torch.randn(2, E, device="cuda", generator=g) * 0.1
    xw = _pad_bc_rows((torch.randn(2, R + 2 * N, E, device="cuda", generator=g) / E ** 0.5).to(dtype), N)
    dw = (torch.randn(2, E, R, device="cuda", generator=g) / R ** 0.5).to(dtype)
    return xz[..., :E], w, b, xw, dw


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="128x768x197,128x384x197,128x1536x197,32x768x1569,8x1152x1569")
    ap.add_argument("--dtype", default="fp16", choices=sorted(DTYPES))
    ap.add_argument("--cfgs", default="64/64/4/3,64/32/8/2,64/16/4/2,128/32/8/2,64/32/4/2",
                    help="BLOCK_M/BLOCK_E/num_warps/num_stages each")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark", file=sys.stderr)
        return 2
    import triton
    from triton.testing import do_bench_cudagraph

    from rmeeto.ops import settings
    from rmeeto.ops.triton import bimamba, conv_proj

    dt = DTYPES[args.dtype]
    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | triton {triton.__version__} | {args.dtype} | "
          f"default {conv_proj.CONV_PROJ_CFG}; median device ms (CUDA graph)")
    print(f"{'shape':>14} {'front':>16} | {'ms':>7} {'GB/s':>6} {'vs unfused':>10} | max |diff| u / x_dbl / delta")
    for shape in args.shapes.split(","):
        batch, E, L = (int(v) for v in shape.split("x"))
        x, w, b, xw, dw = _inputs(batch, E, L, dt)
        item = x.element_size()
        moved = (batch * L * E * (1 + 4) + 2 * batch * L * xw.shape[1]) * item
        with settings.using(fused_proj=False):
            ref = bimamba.front(x, w, b, xw, dw, None)
            base = do_bench_cudagraph(lambda: bimamba.front(x, w, b, xw, dw, None))
        print(f"{shape:>14} {'unfused':>16} | {base:7.4f} {moved / base / 1e6:6.0f} {1.0:10.2f} |")
        for spec in args.cfgs.split(","):
            bm, be, nw, ns = (int(v) for v in spec.split("/"))
            cfg = dict(BLOCK_M=bm, BLOCK_E=be, num_warps=nw, num_stages=ns)
            try:
                got = conv_proj.conv_proj_fwd(x, w, b, xw, dw, cfg=cfg)
                ms = do_bench_cudagraph(lambda: conv_proj.conv_proj_fwd(x, w, b, xw, dw, cfg=cfg))
            except Exception as e:  # a configuration that does not compile (shared memory) is reported, not fatal
                print(f"{shape:>14} {spec:>16} | failed: {type(e).__name__}: {str(e).splitlines()[0][:80]}")
                continue
            diffs = " / ".join(f"{(g.float() - r.float()).abs().max().item():.2e}" for g, r in zip(got, ref))
            print(f"{shape:>14} {spec:>16} | {ms:7.4f} {moved / ms / 1e6:6.0f} {base / ms:10.2f} | {diffs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
