"""Which launch options of a user's Triton kernel reach Triton when Inductor compiles a ``torch.library.triton_op``.

Compiles one small op three times, its kernel launched through ``wrap_triton`` with ``debug=False`` and ``maxnreg``,
with ``debug=False`` alone, and with neither, and prints each variant's options from Triton's cache
(``$TRITON_CACHE_DIR``, which must be set and empty) and whether the compile raised.

    TRITON_CACHE_DIR=/tmp/tc python scripts/probe_inductor_launch_options.py
"""
from __future__ import annotations

import glob
import json
import os

import torch
import triton
import triton.language as tl


def make_kernel(tag: str):
    src = f'''
@triton.jit
def probe_{tag}(x_ptr, o_ptr, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    tl.store(o_ptr + i, tl.load(x_ptr + i, mask=m) * 2, mask=m)
'''
    path = f"/tmp/probe_{tag}.py"
    with open(path, "w") as f:
        f.write("import triton\nimport triton.language as tl\n" + src)
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"probe_{tag}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, f"probe_{tag}")


def main() -> None:
    import torch._inductor.runtime.triton_heuristics as th
    print("torch", torch.__version__, "triton", triton.__version__)
    print("backend_options in triton_heuristics:", "backend_options" in open(th.__file__).read())
    variants = {"debug_and_cap": dict(debug=False, maxnreg=64), "debug": dict(debug=False), "none": {}}
    for tag, extra in variants.items():
        kernel = make_kernel(tag)

        @torch.library.triton_op(f"probe::{tag}", mutates_args=())
        def op(x: torch.Tensor) -> torch.Tensor:
            o = torch.empty_like(x)
            torch.library.wrap_triton(kernel)[(triton.cdiv(x.numel(), 128),)](x, o, x.numel(), BLOCK=128,
                                                                              num_warps=4, **extra)
            return o

        x = torch.randn(1000, device="cuda")
        try:
            got = torch.compile(lambda t: op(t) + 1)(x)
            print(f"{tag}: compiled, correct={torch.allclose(got, 2 * x + 1)}")
        except Exception as e:  # noqa: BLE001 - the probe reports whatever the compile raised
            print(f"{tag}: raised {type(e).__name__}: {str(e)[:300]}")
    for path in sorted(glob.glob(os.path.join(os.environ["TRITON_CACHE_DIR"], "*", "*.json"))):
        try:
            meta = json.load(open(path))
        except (OSError, ValueError):
            continue
        if meta.get("name", "").startswith("probe_"):
            print(f"  {meta['name']}: debug={meta.get('debug')} maxnreg={meta.get('maxnreg')} "
                  f"num_warps={meta.get('num_warps')}")


if __name__ == "__main__":
    main()
