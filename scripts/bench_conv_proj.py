"""Time the conv and both projections of a core (forward): the one launch of ``rmeeto.ops.triton.conv_proj`` at each
block configuration against the conv kernel and two batched cuBLAS matmuls it replaces.

Device time from CUDA-graph replays (``triton.testing.do_bench_cudagraph``, median), and the largest difference of
the fused ``u`` / ``x_dbl`` / ``delta`` from the three launches' (relative to each tensor's largest value). Prints a
table; asserts nothing.

    PYTHONPATH=src python scripts/bench_conv_proj.py [--shapes 128x384x197x12,128x768x197x24] [--dtype fp16]
        [--cfgs 64/64/64/4,32/64/64/4,64/128/64/8]

A shape is batch x inner width x length x dt rank (16 states); a configuration BLOCK_M/BLOCK_E/BLOCK_EO/num_warps/
num_stages, with ``/t`` after it to read x_proj from a transposed copy (channels contiguous).
"""
from __future__ import annotations

import argparse
import sys

import torch

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
SHAPES = "128x384x197x12,128x768x197x24,128x1536x197x48,32x768x1569x24,8x1152x1569x36,16x768x3137x24"


def _inputs(batch: int, E: int, L: int, R: int, dtype: torch.dtype, N: int = 16, K: int = 4):
    from rmeeto.ops.triton.bimamba import _pad_bc_rows

    g = torch.Generator(device="cuda").manual_seed(0)
    xz = torch.randn(batch, L, 2 * E, device="cuda", generator=g).to(dtype)
    w = torch.randn(2, E, K, device="cuda", generator=g) * 0.5
    b = torch.randn(2, E, device="cuda", generator=g) * 0.1
    xw = _pad_bc_rows((torch.randn(2, R + 2 * N, E, device="cuda", generator=g) * E ** -0.5).to(dtype), N)
    dtw = (torch.randn(2, E, R, device="cuda", generator=g) * R ** -0.5).to(dtype)
    return xz[..., :E], w, b, xw, dtw


def _three_launches(x, w, b, xw, dtw):
    from rmeeto.ops.triton.bimamba import biconv_fwd

    batch, L, E = x.shape
    u = biconv_fwd(x, w, b, xw.dtype)
    x_dbl = torch.bmm(u.view(2, batch * L, E), xw.transpose(1, 2))
    delta = torch.bmm(x_dbl[..., :dtw.shape[-1]], dtw.transpose(1, 2)).view(2, batch, L, E)
    return u, x_dbl, delta


def _rel(a: torch.Tensor, ref: torch.Tensor) -> float:
    return ((a.float() - ref.float()).abs().max() / ref.float().abs().max().clamp_min(1e-30)).item()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default=SHAPES, help="batch x width x length x dt rank, comma-separated")
    ap.add_argument("--dtype", default="fp16", choices=sorted(DTYPES))
    ap.add_argument("--cfgs", default="64/64/64/4/1,64/64/64/4/2,32/64/64/4/1,64/32/64/4/1,128/64/64/8/1,"
                    "64/64/64/8/1,32/32/32/2/1,16/64/64/2/1",
                    help="BLOCK_M/BLOCK_E/BLOCK_EO/num_warps/num_stages each; a trailing /t reads x_proj transposed")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark", file=sys.stderr)
        return 2
    import triton
    from triton.testing import do_bench_cudagraph

    from rmeeto.ops.triton import conv_proj as cp

    default = dict(cp.CONV_PROJ_CFG)
    dt = DTYPES[args.dtype]
    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | triton {triton.__version__} | {args.dtype} | "
          f"default {default}; median device ms (CUDA graph)")
    print(f"{'shape':>18} {'cfg':>13} | {'ms':>7} {'x 3 launches':>12} | rel diff u / x_dbl / delta")
    for shape in args.shapes.split(","):
        batch, E, L, R = (int(v) for v in shape.split("x"))
        inputs = _inputs(batch, E, L, R, dt)
        ref = _three_launches(*inputs)
        base = do_bench_cudagraph(lambda: _three_launches(*inputs), rep=50, return_mode="median")
        print(f"{shape:>18} {'3 launches':>13} | {base:7.4f}", flush=True)
        for spec in args.cfgs.split(","):
            fields = spec.split("/")
            bm, be, beo, nw, ns = (int(v) for v in fields[:5])
            cp.CONV_PROJ_CFG.update(BLOCK_M=bm, BLOCK_E=be, BLOCK_EO=beo, num_warps=nw, num_stages=ns)
            x, w, b, xw, dtw = inputs
            if fields[5:] == ["t"]:  # the same values, channels contiguous per row of x_proj^T
                xw = xw.transpose(1, 2).contiguous().transpose(1, 2)
            try:
                got = cp.conv_proj(x, w, b, xw, dtw)
            except Exception as exc:  # a configuration that does not fit this GPU: say so and go on
                print(f"{shape:>18} {spec:>13} | {type(exc).__name__}: {str(exc)[:80]}", flush=True)
                continue
            ms = do_bench_cudagraph(lambda: cp.conv_proj(x, w, b, xw, dtw), rep=50, return_mode="median")
            diffs = " / ".join(f"{_rel(a, r):.1e}" for a, r in zip(got, ref))
            print(f"{shape:>18} {spec:>13} | {ms:7.4f} {base / ms:11.2f}x | {diffs}", flush=True)
        cp.CONV_PROJ_CFG.clear()
        cp.CONV_PROJ_CFG.update(default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
