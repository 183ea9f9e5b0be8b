"""Differences between the compiled variants of one Triton kernel in Triton's cache (``$TRITON_CACHE_DIR``): every
metadata field that differs, the vector loads and stores in each variant's PTX, a unified diff of their TTIR and
PTX with source locations and debug sections left out (so that a kernel copied into another file compares equal to
itself), and the PTX opcodes whose counts differ.

    TRITON_CACHE_DIR=/tmp/tc python scripts/diff_triton_variants.py _scan_fwd_seq_kernel [--lines 150]
"""
from __future__ import annotations

import argparse
import collections
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
                for ext in ("ttir", "ttgir", "ptx") if os.path.exists(os.path.join(folder, name + "." + ext))}
        out.append(dict(folder=os.path.basename(folder), meta=meta, **text))
    return out


def bare_ttir(text: str) -> list[str]:
    """TTIR lines without location attributes and location aliases."""
    return [re.sub(r"\s*loc\(.*$", "", line) for line in text.splitlines() if not line.startswith("#loc")]


def bare_ptx(text: str) -> list[str]:
    """PTX lines without ``.loc`` / ``.file`` directives, comments and the debug sections at the end."""
    text = text.split(".section\t.debug")[0].split(".section .debug")[0]
    return [line for line in text.splitlines()
            if line.strip() and not re.match(r"\s*(\.loc|\.file|//|\$L__)", line)]


def opcodes(lines: list[str]) -> collections.Counter:
    return collections.Counter(m.group(1) for line in lines if (m := re.match(r"\s*(?:@%\w+\s+)?([a-z][\w.]*)", line)))


def show_diff(label: str, x: list[str], y: list[str], limit: int) -> None:
    lines = list(difflib.unified_diff(x, y, lineterm="", n=0))
    print(f"--- {label} diff, {len(lines)} lines (first {limit}):")
    print("\n".join(line[:240] for line in lines[:limit]))


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
        heads = [line for line in v.get("ttgir", "").splitlines() if line.startswith(("#blocked", "#shared", "#linear",
                                                                                    "#slice", "module"))]
        heads += re.findall(r"^\.(?:version|target) .*$", ptx, re.M)
        print("\n".join("      " + re.sub(r"\s*loc\(.*$", "", line)[:300] for line in heads))
    # compare against eager's build (debug off, Triton's default overflow checks) where there is one
    found.sort(key=lambda v: (v["meta"].get("debug") is not False, v["meta"].get("sanitize_overflow") is False))
    for i in range(1, len(found)):
        a0, a1 = found[0], found[i]
        keys = sorted(set(a0["meta"]) | set(a1["meta"]))
        diff = {k: (a0["meta"].get(k), a1["meta"].get(k)) for k in keys if a0["meta"].get(k) != a1["meta"].get(k)}
        print(f"--- metadata differing between {a0['folder']} and {a1['folder']}:")
        for k, (x, y) in diff.items():
            print(f"  {k}: {str(x)[:300]} | {str(y)[:300]}")
        show_diff("TTIR (no locations)", bare_ttir(a0.get("ttir", "")), bare_ttir(a1.get("ttir", "")), a.lines)
        show_diff("TTGIR (no locations)", bare_ttir(a0.get("ttgir", "")), bare_ttir(a1.get("ttgir", "")), a.lines)
        p0, p1 = bare_ptx(a0.get("ptx", "")), bare_ptx(a1.get("ptx", ""))
        show_diff("PTX (no locations)", p0, p1, a.lines)
        c0, c1 = opcodes(p0), opcodes(p1)
        moved = {k: (c0[k], c1[k]) for k in sorted(set(c0) | set(c1)) if c0[k] != c1[k]}
        print(f"--- PTX opcodes whose counts differ ({len(p0)} / {len(p1)} lines): {moved or 'none'}")


if __name__ == "__main__":
    main()
