"""Registers and spills of the forward scan kernel compiled for sm_90, on any machine with Triton's CUDA back end
(no GPU needed): Triton compiles the kernel to PTX with the specialisation of a Vim forward at fp16 (that of
``tests/test_kernel_layout.py``), and its bundled ``ptxas -v`` assembles it. One line each for two directions and
one. ``--const NAME=INT`` fixes another constexpr, for trees whose kernel has more of them.

    PYTHONPATH=src python scripts/scan_registers.py [--const NAME=INT]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

import triton

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import test_kernel_layout as layout  # noqa: E402  (the Vim specialisation and the compile of the layout test)


def _ptxas() -> str:
    return os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "ptxas")


def registers(ndir: int, extra: dict) -> str:
    """``ptxas -v``'s register and spill figures for one form of the kernel."""
    fixed = dict(layout.CONSTANTS, NDIR=ndir, **extra)
    ptx = layout.compile_forward_scan(layout.ALIGNED, fixed).asm["ptx"]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scan.ptx")
        with open(path, "w") as f:
            f.write(ptx)
        info = subprocess.run([_ptxas(), "-v", "--gpu-name=sm_90a", path, "-o", os.path.join(tmp, "scan.cubin")],
                              capture_output=True, text=True).stderr
    regs = re.findall(r"Used (\d+) registers", info)
    spills = re.findall(r"(\d+) bytes spill stores", info)
    return f"{regs[0] if regs else '?'} registers, {spills[0] if spills else '?'} bytes spilled"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--const", action="append", default=[], metavar="NAME=INT")
    args = ap.parse_args()
    extra = {k: int(v) for k, v in (c.split("=", 1) for c in args.const)}
    print(f"triton {triton.__version__}; forward scan for sm_90, fp16, 64 channels, 1 warp; {extra or 'defaults'}")
    for ndir in (2, 1):
        print(f"directions {ndir}: {registers(ndir, extra)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
