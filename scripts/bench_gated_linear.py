"""Time ``out_proj`` with the gated sum in its prologue (:func:`rmeeto.ops.triton.gated_linear.gated_linear`) against
what it would replace: the split forward's sum-and-gate pass (``scan.sum_gate``) followed by cuBLAS's ``F.linear``.

Shapes are ``batch x length x inner width x model width`` (``K`` = inner width, ``N`` = model width); each
configuration is ``BLOCK_M/BLOCK_N/BLOCK_K/warps/stages``. Prints median microseconds (``triton.testing.do_bench``),
the ratio to the two-pass path and the largest difference of the output from it, relative to its largest value.

    PYTHONPATH=src python scripts/bench_gated_linear.py [--shapes 128x197x768x384] [--cfgs 128/128/64/8/3,...]
"""
from __future__ import annotations

import argparse
import sys

import torch

SHAPES = "128x197x384x192,128x197x768x384,128x197x1536x768,128x109x768x384,32x1569x768x384"
CFGS = "128/128/64/8/3,128/128/64/4/3,64/128/64/4/3,128/64/64/4/3,128/256/64/8/3,64/256/64/8/3,256/128/64/8/3"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--cfgs", default=CFGS)
    ap.add_argument("--rep", type=int, default=30, help="do_bench rep (ms)")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark")
        return 0
    import torch.nn.functional as F
    from triton.testing import do_bench

    from rmeeto.ops.triton.gated_linear import gated_linear
    from rmeeto.ops.triton.scan import sum_gate

    print(f"{torch.cuda.get_device_name()} | fp16 | median us (do_bench)")
    for shape in args.shapes.split(","):
        b, L, K, N = (int(v) for v in shape.split("x"))
        g = torch.Generator(device="cuda").manual_seed(0)
        y0, y1 = (torch.randn(b, L, K, device="cuda", generator=g).half() for _ in range(2))
        z = torch.randn(b, L, 2 * K, device="cuda", generator=g).half()[..., K:]
        w = (torch.randn(N, K, device="cuda", generator=g) * K ** -0.5).half()
        ref_in = y0.clone()
        sum_gate(ref_in, y1, z)
        want = F.linear(ref_in, w).float()
        scratch = y0.clone()

        def two_pass():
            sum_gate(scratch, y1, z)  # in place, as in the forward; the values are not used
            return F.linear(scratch, w)

        base = do_bench(two_pass, warmup=10, rep=args.rep, return_mode="median")
        print(f"{shape:>18} sum_gate + F.linear       {base * 1e3:8.1f} us", flush=True)
        for c in args.cfgs.split(","):
            bm, bn, bk, nw, ns = (int(v) for v in c.split("/"))
            cfg = dict(BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, num_warps=nw, num_stages=ns)
            try:
                got = gated_linear(y0, y1, z, w, cfg).float()
                ms = do_bench(lambda: gated_linear(y0, y1, z, w, cfg), warmup=10, rep=args.rep, return_mode="median")
            except Exception as exc:  # a configuration the GPU cannot hold (shared memory)
                print(f"{shape:>18} gated_linear {c:14s} failed: {str(exc).splitlines()[0][:100]}")
                continue
            err = ((got - want).abs().max() / want.abs().max()).item()
            print(f"{shape:>18} gated_linear {c:14s} {ms * 1e3:8.1f} us  {base / ms:5.2f}x  diff {err:.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
