"""How many inputs Inductor's compiled code takes, and checks, per call: default ``torch.compile``, Inductor's
``freezing`` passed as a compile option, and :func:`rmeeto.compile_for_inference`; with the logits' difference to
eager.

Dynamo decides whether the weights become graph inputs while it traces, from the global ``freezing`` setting; a
compile option reaches Inductor only, after that decision.

    PYTHONPATH=src python scripts/count_graph_inputs.py [--model vim_tiny_patch16_224 --r 1 --device cpu]
"""
from __future__ import annotations

import argparse

import torch
from torch._inductor.utils import run_and_get_code

import rmeeto
from rmeeto.compile import inductor_call_inputs


def compiled_code(a: argparse.Namespace, how: str) -> tuple[str, float]:
    """Inductor's generated code for the model compiled ``how``, and the largest logit difference to eager."""
    torch._dynamo.reset()
    m = rmeeto.create_model(a.model, img_size=32, patch_size=8, stride=8, embed_dim=16).eval().to(a.device)
    if a.r:
        rmeeto.patch(m, r=a.r)
    x = torch.randn(1, *m.input_shape, device=a.device)
    compilers = {"default": lambda: torch.compile(m), "freezing option": lambda: torch.compile(m, options={
        "freezing": True}), "compile_for_inference": lambda: rmeeto.compile_for_inference(m)}
    with torch.inference_mode():
        out, codes = run_and_get_code(compilers[how](), x)
        return "\n".join(codes), (out - m(x)).abs().max().item()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    print(f"{a.model} r={a.r} (embed_dim 16, 32 px) on {a.device}, torch {torch.__version__}; "
          f"{sum(1 for _ in rmeeto.create_model(a.model).parameters())} parameter tensors at full size")
    for how in ("default", "freezing option", "compile_for_inference"):
        code, diff = compiled_code(a, how)
        n_inputs = inductor_call_inputs(code)
        print(f"{how:22s} graph inputs {n_inputs:4d}  input asserts {code.count('assert_size_stride('):4d}  "
              f"max |logit - eager| {diff:.1e}")


if __name__ == "__main__":
    main()
