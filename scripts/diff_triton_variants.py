"""Differences between the compiled variants of one Triton kernel in Triton's cache (``$TRITON_CACHE_DIR``): every
metadata field that differs, the vector loads and stores in each variant's PTX, and a unified diff of their TTIR.

    TRITON_CACHE_DIR=/tmp/tc python scripts/diff_triton_variants.py _scan_fwd_seq_kernel [--lines 150]
"""
from __future__ import annotations

import argparse
import difflib
import glob
import json
import os
import re


def variants(name: str) -> list[dict]:
    out = []
    for path in sorted(glob.glob(os.path.join(os.environ["TRITON_CACHE_DIR"], "*", name + ".json"))):
        folder = os.path.dirname(path)
        meta = json.load(open(path))
        text = {ext: open(os.path.join(folder, name + "." + ext)).read()
                for ext in ("ttir", "ptx") if os.path.exists(os.path.join(folder, name + "." + ext))}
        out.append(dict(folder=os.path.basename(folder), meta=meta, **text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name")
    ap.add_argument("--lines", type=int, default=150)
    a = ap.parse_args()
    found = variants(a.name)
    print(f"{len(found)} variant(s) of {a.name}")
    for v in found:
        ptx = v.get("ptx", "")
        counts = {k: len(re.findall(k, ptx)) for k in (r"ld\.global\.v4", r"ld\.global\.v2", r"st\.global\.v4",
                                                         r"st\.global\.v2", r"ld\.global", r"\.f64")}
        print(f"  {v['folder']}: debug={v['meta'].get('debug')} " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    for i in range(1, len(found)):
        a0, a1 = found[0], found[i]
        keys = sorted(set(a0["meta"]) | set(a1["meta"]))
        diff = {k: (a0["meta"].get(k), a1["meta"].get(k)) for k in keys if a0["meta"].get(k) != a1["meta"].get(k)}
        print(f"--- metadata differing between {a0['folder']} and {a1['folder']}:")
        for k, (x, y) in diff.items():
            print(f"  {k}: {str(x)[:300]} | {str(y)[:300]}")
        lines = list(difflib.unified_diff(a0.get("ttir", "").splitlines(), a1.get("ttir", "").splitlines(),
                                          lineterm="", n=0))
        print(f"--- TTIR diff, {len(lines)} lines (first {a.lines}):")
        print("\n".join(line[:240] for line in lines[:a.lines]))


if __name__ == "__main__":
    main()
