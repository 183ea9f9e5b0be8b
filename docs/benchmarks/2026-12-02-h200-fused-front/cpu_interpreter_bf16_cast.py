"""Does Triton's interpreter round fp32 to bf16 as torch does (to nearest), or truncate? Run on this project's CPU
machine: TRITON_INTERPRET=1 python docs/benchmarks/2026-12-02-h200-fused-front/cpu_interpreter_bf16_cast.py"""
import torch
import triton
import triton.language as tl


@triton.jit
def _cast(a_ptr, b_ptr, BLOCK: tl.constexpr):
    i = tl.arange(0, BLOCK)
    tl.store(b_ptr + i, tl.load(a_ptr + i).to(tl.bfloat16))


a = torch.randn(1024, generator=torch.Generator().manual_seed(0))
b = torch.empty(1024, dtype=torch.bfloat16)
_cast[(1,)](a, b, BLOCK=1024)
want = a.to(torch.bfloat16)
print(f"triton {triton.__version__}, torch {torch.__version__}: {(b != want).sum().item()} of 1024 values differ "
      f"from torch's rounding; largest relative error {((b.float() - a).abs() / a.abs()).max().item():.2e} "
      f"(torch's {((want.float() - a).abs() / a.abs()).max().item():.2e})")
