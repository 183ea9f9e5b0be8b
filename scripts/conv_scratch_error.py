"""The core's errors against fp64 with the conv backward's pre-activation gradient kept in each scratch dtype.

Runs the Triton kernels under Triton's interpreter on the CPU (the shapes of ``tests/test_triton_ops.py``'s bf16
case) under fp16 and bf16 autocast, once with the scratch in fp32 and once in the autocast dtype, and prints the
relative errors of ``dx`` and of the conv weights' gradients, and the worst error of all; then the PyTorch path under
the same autocast, the yardstick for half precision. Asserts nothing.

    PYTHONPATH=src python scripts/conv_scratch_error.py
"""
from __future__ import annotations

import functools
import os
import sys

os.environ["TRITON_INTERPRET"] = "1"  # before triton is imported

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from test_triton_ops import _bimamba_errors  # noqa: E402

from rmeeto.ops.triton import bimamba as tb  # noqa: E402


def _row(dtype: str, scratch: str, e: dict) -> None:
    print(f"{dtype:9s} {scratch:9s} {e['d_xz']:.2e}  {e['d_conv_weight_f']:.2e} {e['d_conv_weight_b']:.2e}    "
          f"{max(e.values()):.2e}")


def main() -> int:
    default = tb.biconv_bwd
    print("autocast  scratch   d_xz      d_conv_weight (f, b)   worst of all")
    for dt in (torch.float16, torch.bfloat16):
        for scratch in (torch.float32, dt):
            tb.biconv_bwd = functools.partial(default, scratch_dtype=scratch)
            try:
                e = _bimamba_errors(2, 19, 24, 4, 3, 4, device=torch.device("cpu"), dtype=dt)
            finally:
                tb.biconv_bwd = default
            _row(str(dt)[6:], str(scratch)[6:], e)
        _row(str(dt)[6:], "(torch)", _bimamba_errors(2, 19, 24, 4, 3, 4, device=torch.device("cpu"), dtype=dt,
                                                     backend="torch"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
