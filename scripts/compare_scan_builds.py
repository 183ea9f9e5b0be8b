"""Compare the forward scan's PTX as eager launches build it, between two source trees, without a GPU.

Each tree's ``_scan_fwd_seq_kernel`` is compiled for sm_90 by ``tests/test_kernel_layout.py`` (this checkout's),
with the arguments it marks aligned; ``--unmarked-a`` (per tree) leaves ``A_ptr`` unmarked, as Triton's launcher did
while the kernel had ``do_not_specialize=["A_ptr"]``. Prints the PTX line counts (locations and debug sections left
out), the lines that differ in order, and whether the two are the same multiset of instructions.

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
import sys
sys.path[:0] = [{src!r}, {os.path.join(ROOT, 'tests')!r}]
from test_kernel_layout import ALIGNED, compile_forward_scan
print(compile_forward_scan(ALIGNED - {{"A_ptr"}} if {unmarked_a!r} else ALIGNED).asm["ptx"])
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
