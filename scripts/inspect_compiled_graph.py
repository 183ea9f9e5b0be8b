"""What Inductor's default ``torch.compile`` runs for a small model on the Triton path, counted on a CPU.

The Triton custom ops run under Triton's interpreter (``TRITON_INTERPRET=1``, set here before Triton is imported) and
Inductor generates C++ for the rest, so the structure of the compiled graph can be read without a GPU: how often
each ``torch.ops.rmeeto`` op is called, how many matmuls go to external kernels, and which fused kernels Inductor
adds around them (names list the ATen ops each one fuses). Prints counts; asserts nothing but that the compiled
logits match eager.

    PYTHONPATH=src python scripts/inspect_compiled_graph.py [--r 6] [--depth 4]
"""
from __future__ import annotations

import argparse
import collections
import os
import re

os.environ["TRITON_INTERPRET"] = "1"

import torch  # noqa: E402
from torch._inductor.utils import run_and_get_code  # noqa: E402

import rmeeto  # noqa: E402
from rmeeto.models import vim  # noqa: E402
from rmeeto.ops import dispatch  # noqa: E402
from rmeeto.ops.triton import library  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--r", type=int, default=6)
    ap.add_argument("--depth", type=int, default=4)
    a = ap.parse_args()
    # the Triton path on CPU tensors, as on CUDA
    dispatch.available_backends = lambda device_type="cpu": ["ref", "torch", "triton"]
    vim.add_norm = lambda h, r, w, eps, backend=None: library.add_rmsnorm(h, r, w, eps)
    torch.manual_seed(0)
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=a.depth, embed_dim=32, img_size=32, patch_size=4, stride=4,
                            num_classes=5)
    m = (rmeeto.patch(m, r=a.r) if a.r else m).eval()
    m.backend, m.merge_impl = "triton", "triton"
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        want = m(x)
        got, codes = run_and_get_code(torch.compile(m), x)
    code = "\n".join(codes)
    call = code[code.index("def call("):]
    ops = collections.Counter(re.findall(r"= (torch\.ops\.rmeeto\.\w+)\.default\(", call))
    fused = collections.Counter(re.findall(r"^\s+(cpp_fused_\w+|triton_\w+)\(", call, re.M))
    print(f"vim_tiny depth {a.depth} width 32, r={a.r}: compiled against eager, max |diff| "
          f"{(got - want).abs().max().item():.2e}")
    for name, n in sorted(ops.items()):
        print(f"{n:4d}  {name}")
    matmuls = len(re.findall(r"extern_kernels\.(?:mm|addmm|bmm)\(", call))
    print(f"{matmuls:4d}  external matmuls")
    for name, n in sorted(fused.items()):
        print(f"{n:4d}  {name}")


if __name__ == "__main__":
    main()
