"""Time the Mamba core's front (both convs + SiLU, x_proj, dt_proj) as one kernel against the conv kernel and two
batched cuBLAS matmuls, at each block configuration of the fused kernel.

Device time from CUDA-graph replays (``triton.testing.do_bench_cudagraph``, median), and the bytes the fused kernel
must move (x read once, u and delta written, x_dbl written) as an achieved bandwidth. Prints a table; asserts
nothing.

    PYTHONPATH=src python scripts/bench_front.py [--shapes 128x768x197x24,32x768x1569x24] [--dtype fp16]
        [--cfgs 64/64/4,32/64/4,64/64/8]

A shape is batch x inner width E x length x dt rank R (d_state 16, conv width 4).
"""
from __future__ import annotations

import argparse
import sys

import torch

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}
SHAPES = "128x384x197x12,128x768x197x24,128x1536x197x48,32x768x1569x24,8x1152x1569x36,16x768x3137x24"


def _inputs(batch: int, E: int, L: int, R: int, dtype: torch.dtype, N: int = 16, K: int = 4):
    from rmeeto.ops.bimamba import DirectionParams
    from rmeeto.ops.triton.bimamba import stack_params

    g = torch.Generator(device="cuda").manual_seed(0)

    def r(*s, scale=1.0):
        return torch.randn(*s, device="cuda", generator=g) * scale

    dirs = [DirectionParams(r(E, 1, K, scale=0.5), r(E, scale=0.1), r(R + 2 * N, E, scale=E ** -0.5),
                            r(E, R, scale=R ** -0.5), r(E), -r(E, N).abs(), r(E)) for _ in range(2)]
    cw, cb, xw, dw = stack_params(*dirs, dtype)[:4]
    xz = r(batch, L, 2 * E).to(dtype)
    return xz[..., :E], cw, cb, xw, dw


def _registers(kernel) -> str:
    """Registers per thread and spilled bytes of ``kernel``'s newest compiled variant in the launch cache."""
    from rmeeto.ops.triton.launch import _COMPILED

    hits = [compiled for compiled, _, k in _COMPILED.values() if k is kernel]
    return f"{hits[-1].n_regs}r/{hits[-1].n_spills}s" if hits else "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default=SHAPES, help="batch x width x length x dt rank, comma-separated")
    ap.add_argument("--dtype", default="fp16", choices=sorted(DTYPES))
    ap.add_argument("--cfgs", default="64/64/4/3,64/64/4/1,32/64/4/1,16/64/4/1,32/32/4/1,16/32/2/1,32/64/8/1,16/128/4/1",
                    help="BLOCK_R/BLOCK_E/num_warps/num_stages each")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark", file=sys.stderr)
        return 2
    import triton
    from triton.runtime.errors import OutOfResources
    from triton.testing import do_bench_cudagraph

    from rmeeto.ops import settings
    from rmeeto.ops.triton import bimamba as tb
    from rmeeto.ops.triton import front

    dtype = DTYPES[args.dtype]
    default = dict(front.FRONT_CFG)
    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | triton {triton.__version__} | "
          f"{args.dtype} | fused default {default}; median device ms (CUDA graph)")
    print(f"{'shape':>20s} {'three launches':>15s} | " + " | ".join(f"{c:>26s}" for c in args.cfgs.split(",")))
    for shape in args.shapes.split(","):
        batch, E, L, R = (int(v) for v in shape.split("x"))
        x, cw, cb, xw, dw = _inputs(batch, E, L, R, dtype)
        moved = (batch * L * E * (1 + 4) + 2 * batch * L * xw.shape[1]) * x.element_size()
        with settings.using(fused_front=False):
            base = do_bench_cudagraph(lambda: tb._front(x, cw, cb, xw, dw), rep=50, return_mode="median")
        cells = []
        try:
            for cfg in args.cfgs.split(","):
                br, be, w, st = (int(v) for v in cfg.split("/"))
                front.FRONT_CFG.update(BLOCK_R=br, BLOCK_E=be, num_warps=w, num_stages=st)
                try:
                    with settings.using(fused_front=True):
                        ms = do_bench_cudagraph(lambda: tb._front(x, cw, cb, xw, dw), rep=50, return_mode="median")
                except OutOfResources:
                    cells.append("out of resources")
                    continue
                cells.append(f"{ms:.4f} {moved / ms / 1e6:5.0f}GB/s {_registers(front._front_fwd_kernel)}")
        finally:
            front.FRONT_CFG.clear()
            front.FRONT_CFG.update(default)
        print(f"{shape:>20s} {base:15.4f} | " + " | ".join(f"{c:>26s}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
