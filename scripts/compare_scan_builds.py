"""Compare the forward scan's PTX as eager launches build it, between two source trees, without a GPU.

Each tree's ``_scan_fwd_seq_kernel`` is compiled for sm_90 with the arguments ``tests/test_kernel_layout.py`` marks
aligned; ``--unmarked-a`` (per tree) leaves ``A_ptr`` unmarked, as Triton's launcher did while the kernel had
``do_not_specialize=["A_ptr"]``. Prints the PTX line counts (locations and debug sections left out), the lines that
differ in order, and whether the two are the same multiset of instructions.

    git archive 9aa8a29 src | tar -x -C /tmp/old
    python scripts/compare_scan_builds.py /tmp/old/src src --unmarked-a 0
"""
from __future__ import annotations

import argparse
import collections
import difflib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ptx_of(src: str, unmarked_a: bool) -> list[str]:
    """The scan's PTX lines from the tree ``src``, built in a fresh interpreter (one ``rmeeto`` per process)."""
    code = f"""
import sys, re
sys.path[:0] = [{src!r}, {os.path.join(ROOT, 'tests')!r}]
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from test_kernel_layout import CONSTANTS, POINTERS
from rmeeto.ops.triton import scan
k = scan._scan_fwd_seq_kernel
names = k.arg_names
sig = {{n: "constexpr" if n in CONSTANTS else POINTERS.get(n, "fp32" if n == "scale" else "i32") for n in names}}
marked = set(POINTERS) | {{"s_u_d", "s_u_b", "s_u_l", "s_dl_d", "s_dl_b", "s_dl_l", "s_A_d", "s_A_n", "E"}}
if {unmarked_a!r}:
    marked.discard("A_ptr")
c = triton.compile(ASTSource(k, sig, {{(names.index(n),): v for n, v in CONSTANTS.items()}},
                             {{(names.index(n),): [["tt.divisibility", 16]] for n in marked}}),
                   target=GPUTarget("cuda", 90, 32), options=dict(num_warps=1))
print(c.asm["ptx"])
"""
    ptx = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    ptx = ptx.split(".section\t.debug")[0]
    return [line for line in ptx.splitlines() if line.strip() and not re.match(r"\s*(\.loc|\.file|//)", line)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first")
    ap.add_argument("second")
    ap.add_argument("--unmarked-a", type=int, action="append", default=[], choices=(0, 1),
                    help="leave A_ptr unmarked in tree 0 (first) or 1 (second); repeatable")
    a = ap.parse_args()
    p0, p1 = (ptx_of(src, i in a.unmarked_a) for i, src in enumerate((a.first, a.second)))
    moved = [line for line in difflib.unified_diff(p0, p1, lineterm="", n=0) if line[:1] in "+-" and line[:3] not in
             ("+++", "---")]
    print(f"PTX lines: {len(p0)} / {len(p1)}; lines differing in order: {len(moved)}")
    print("same instructions (as a multiset):", collections.Counter(p0) == collections.Counter(p1))


if __name__ == "__main__":
    main()
