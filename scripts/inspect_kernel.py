"""Compile one Triton kernel of the package for sm_90 on a machine without a GPU and print what ptxas gives it.

The kernel is specialised as ``scripts/inspect_scan_sass.py`` does (fp16 activation pointers unless ``--fp32``
names them, 16-byte aligned pointers, strides and widths divisible by 16, the constexprs given). Prints one line:
registers, spilled bytes, shared memory, SASS instructions in all and global loads (LDG), asynchronous copies to
shared memory (LDGSTS, what a pipelined loop issues), stores and barriers among them. Static
counts only: they say nothing about time. Asserts nothing.

    PYTHONPATH=src python scripts/inspect_kernel.py rmeeto.ops.triton.bimamba:_biconv_fwd_kernel \\
        --const K=4 BLOCK_L=16 BLOCK_E=128 s_x_e=1 s_u_e=1 --fp32 w_ptr,b_ptr --warps 4 [--stages 3]
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inspect_scan_sass import compile_sass, loop_counts  # noqa: E402


def _value(text: str):
    return {"True": True, "False": False}.get(text, int(text) if text.lstrip("-").isdigit() else text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kernel", help="module:function, e.g. rmeeto.ops.triton.bimamba:_biconv_fwd_kernel")
    ap.add_argument("--const", nargs="*", default=[], help="NAME=VALUE for every constexpr (and unit strides)")
    ap.add_argument("--fp32", default="", help="comma-separated pointer arguments that are fp32")
    ap.add_argument("--int32", default="", help="comma-separated pointer arguments that are int32")
    ap.add_argument("--int64", default="", help="comma-separated pointer arguments that are int64")
    ap.add_argument("--loops", action="store_true", help="also one line per loop: its instructions and the most "
                    "frequent opcodes")
    ap.add_argument("--divisible", default="", help="comma-separated integer arguments divisible by 16 at the launch "
                    "(those named s_*, E and N are taken as such already)")
    ap.add_argument("--warps", type=int, default=4)
    ap.add_argument("--stages", type=int, default=0, help="num_stages (0: Triton's default)")
    args = ap.parse_args(argv)
    module, _, name = args.kernel.partition(":")
    fn = getattr(importlib.import_module(module), name)
    consts = {k: _value(v) for k, _, v in (c.partition("=") for c in args.const)}
    fp32 = frozenset(p for p in args.fp32.split(",") if p)
    int32 = frozenset(p for p in args.int32.split(",") if p)
    report, sass, shared = compile_sass(fn, consts, args.warps, tempfile.mkdtemp(), fp32_ptrs=fp32,
                                        num_stages=args.stages, int32_ptrs=int32,
                                        divisible_ints=frozenset(p for p in args.divisible.split(",") if p),
                                        int64_ptrs=frozenset(p for p in args.int64.split(",") if p))
    regs = re.search(r"Used (\d+) registers", report)
    spill = re.search(r"(\d+) bytes spill stores", report)
    ops = [m.group(1) for m in re.finditer(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z0-9_.]+)", sass)]
    print(f"{name} {' '.join(args.const)} warps={args.warps} stages={args.stages or 'default'}: "
          f"registers {regs.group(1) if regs else '?'}, spilled {spill.group(1) if spill else '?'} B, "
          f"shared {shared} B, {len(ops)} instructions, LDG {sum(o.startswith('LDG') and not o.startswith('LDGSTS') for o in ops)}, "
          f"LDGSTS {sum(o.startswith('LDGSTS') for o in ops)}, "
          f"STG {sum(o.startswith('STG') for o in ops)}, BAR {sum(o.startswith('BAR') for o in ops)}")
    if args.loops:
        for loop in loop_counts(sass):
            top = ", ".join(f"{op} {n}" for op, n in loop["opcodes"][:8])
            print(f"  loop {loop['start']}-{loop['end']}: {loop['instructions']} instructions ({top})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
