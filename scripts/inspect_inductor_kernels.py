"""How Inductor builds this package's Triton kernels when it traces through the ``*_traced`` ops (the
``compile_ops="traced"`` setting), against eager.

1. Compiles a patched model's no-grad forward (default Inductor) and prints, for each of our kernels in the
   generated code, the ``triton_meta`` and ``inductor_meta`` it was compiled with (cut to ``--width`` characters).
2. Reads Triton's cache (``$TRITON_CACHE_DIR``, which must be set and empty) for the compile options of every
   variant of the kernels named by ``--kernels`` that eager and compiled forwards built: debug, warps, stages, cap.
3. Times the forward scan alone at the model's first block shape, launched through Triton's own path with the
   ``debug`` option off and on, alternately (median of ``--reps`` launches each, CUDA events; since 2026-12-04 also
   with Inductor's ``sanitize_overflow`` off, through ``probe_traced_scan.py``).

    TRITON_CACHE_DIR=/tmp/tc python scripts/inspect_inductor_kernels.py --model vim_tiny_patch16_224 --r 5
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re

import torch

import rmeeto


def kernel_metas(code: str, names: list[str], width: int) -> None:
    """Print the decorator arguments of each user kernel in Inductor's generated ``code``."""
    for block in code.split("@triton_heuristics.")[1:]:
        head = block[:block.find("def ")] if "def " in block else block[:2000]
        fn = re.search(r"def (\w+)\(", block)
        if fn is None or not any(n in fn.group(1) for n in names):
            continue
        print(f"--- {fn.group(1)}")
        for key in ("triton_meta", "inductor_meta"):
            m = re.search(key + r"=(\{.*?\})\s*[,)]\s*\n", head, re.S)
            print(f"  {key}: {(m.group(1) if m else '(not found)')[:width]}")


def cached_options(names: list[str]) -> None:
    """Compile options of every cached variant of the kernels in ``names``."""
    root = os.environ.get("TRITON_CACHE_DIR")
    if not root:
        print("TRITON_CACHE_DIR is not set: no cache to read")
        return
    for path in sorted(glob.glob(os.path.join(root, "*", "*.json"))):
        try:
            meta = json.load(open(path))
        except (OSError, ValueError):
            continue
        name = meta.get("name", "")
        if any(n in name for n in names) and "num_warps" in meta:
            keys = ("debug", "sanitize_overflow", "num_warps", "num_stages", "maxnreg", "enable_fp_fusion", "shared")
            folder = os.path.basename(os.path.dirname(path))[:12]
            print(f"  {name} ({folder}): " + ", ".join(f"{k}={meta.get(k)}" for k in keys))


def time_scan_debug(model: torch.nn.Module, x: torch.Tensor, reps: int) -> None:
    """The first block's forward scan alone, Triton's launch path, with eager's and Inductor's build options
    (:func:`probe_traced_scan.time_scan_builds`)."""
    from probe_traced_scan import capture_core, capture_scan, time_scan_builds

    time_scan_builds(capture_scan(capture_core(model, x)), reps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--kernels", default="_scan_fwd_seq_kernel,_once_kernel,_biconv_fwd_kernel,_stack_kernel")
    ap.add_argument("--width", type=int, default=1500)
    ap.add_argument("--reps", type=int, default=20)
    a = ap.parse_args()
    names = a.kernels.split(",")
    from rmeeto.ops import settings

    settings.configure(compile_ops="traced")
    m = rmeeto.create_model(a.model).cuda().eval().half()
    if a.r:
        rmeeto.patch(m, r=a.r)
    x = torch.randn(a.batch_size, *m.input_shape, device="cuda", dtype=torch.half)
    from torch._inductor.utils import run_and_get_code

    with torch.inference_mode():
        m(x)
        _, codes = run_and_get_code(torch.compile(m), x)
    print(f"Inductor's code: {len(codes)} file(s), {sum(len(c) for c in codes)} characters")
    for code in codes:
        kernel_metas(code, names, a.width)
    print("compile options in Triton's cache (eager and compiled variants):")
    cached_options(names)
    time_scan_debug(m, x, a.reps)


if __name__ == "__main__":
    main()
