"""Time the split forward's closing pass alone: ``out = (out + other) * silu(z)`` (:func:`rmeeto.ops.triton.scan.sum_gate`)
against ``out.add_(other)``, the pass it replaced, on the shapes of a Mamba core's output (``z`` a view of ``xz``).

    PYTHONPATH=src python scripts/bench_sum_gate.py [--shapes 128x197x768,128x197x384] [--rep 30]
        [--cfgs 8/256/4,16/256/4]

``--cfgs``: also the pass with z under other ``SUM_GATE_CFG`` blockings, each ``BLOCK_L/BLOCK_E/warps``.
"""
from __future__ import annotations

import argparse
import sys

import torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="128x197x768,128x197x384,128x197x1536,32x1569x768")
    ap.add_argument("--rep", type=int, default=30, help="do_bench rep (ms)")
    ap.add_argument("--cfgs", default="", help="other blockings of the pass with z, BLOCK_L/BLOCK_E/warps, by commas")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark")
        return 0
    from triton.testing import do_bench

    from rmeeto.ops.triton.scan import SUM_GATE_CFG, sum_gate

    print(f"{torch.cuda.get_device_name()} | fp16 | median us (do_bench) | GB/s counts each tensor read or written once")
    for shape in args.shapes.split(","):
        b, L, E = (int(v) for v in shape.split("x"))
        xz = torch.randn(b, L, 2 * E, device="cuda", dtype=torch.float16)
        out, other = torch.randn(2, b, L, E, device="cuda", dtype=torch.float16).unbind(0)
        z = xz[..., E:]
        nbytes = out.numel() * out.element_size()
        for name, fn, tensors in (("out.add_(other)", lambda: out.add_(other), 3),
                                  ("sum_gate, no z", lambda: sum_gate(out, other, None), 3),
                                  ("sum_gate with z", lambda: sum_gate(out, other, z), 4)):
            ms = do_bench(fn, warmup=10, rep=args.rep, return_mode="median")
            print(f"{shape:>14} {name:18s} {ms * 1e3:8.1f} us {tensors * nbytes / ms / 1e6:8.0f} GB/s", flush=True)
        default = dict(SUM_GATE_CFG)
        for c in filter(None, args.cfgs.split(",")):
            bl, be, nw = (int(v) for v in c.split("/"))
            SUM_GATE_CFG.update(BLOCK_L=bl, BLOCK_E=be, num_warps=nw)
            try:
                ms = do_bench(lambda: sum_gate(out, other, z), warmup=10, rep=args.rep, return_mode="median")
            finally:
                SUM_GATE_CFG.update(default)
            print(f"{shape:>14} {'with z ' + c:18s} {ms * 1e3:8.1f} us {4 * nbytes / ms / 1e6:8.0f} GB/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
