"""Export a model for inference, list this package's ops in the program, compile it with AOTInductor, compare logits.

Each stage prints a line before it starts, so a crash in native code (run with ``python -X faulthandler``) is
placed. On a machine without CUDA, ``--triton-on-cpu`` (with ``TRITON_INTERPRET=1``) puts the Triton path on CPU
tensors, as the kernel tests do: the program then holds the same custom ops as on a GPU.

    PYTHONPATH=src python -X faulthandler scripts/probe_aoti.py --model vim_tiny_patch16_224 --r 5 [--batch-size 8]
    TRITON_INTERPRET=1 PYTHONPATH=src python scripts/probe_aoti.py --triton-on-cpu --depth 4 --embed-dim 16 --img 32
"""
from __future__ import annotations

import argparse
import collections
import os
import tempfile
import time

import torch

import rmeeto


def _stage(text: str) -> float:
    print(text, flush=True)
    return time.perf_counter()


def _model(a: argparse.Namespace) -> torch.nn.Module:
    """The model asked for, patched with ``--r``, on the Triton path of CPU tensors with ``--triton-on-cpu``."""
    extra = {k: v for k, v in (("depth", a.depth), ("embed_dim", a.embed_dim)) if v is not None}
    if a.img:
        extra.update(img_size=a.img, patch_size=8, stride=8)
    if a.triton_on_cpu:
        from check_kernel_bounds import triton_on_cpu  # sets TRITON_INTERPRET=1 on import: CPU runs only

        triton_on_cpu()
    m = rmeeto.create_model(a.model, **extra).eval()
    if a.r:
        rmeeto.patch(m, r=a.r)
    if a.triton_on_cpu:
        m.backend, m.merge_impl = "triton", "triton"
    return m


def probe(m: torch.nn.Module, x: torch.Tensor) -> None:
    """Export, list this package's ops in the program, AOT-compile, load, call; prints each stage as it starts."""
    with torch.no_grad():
        want = m(x).float()
        t0 = _stage("export")
        program = torch.export.export(m, (x,))
        ops = collections.Counter(str(n.target) for n in program.graph.nodes if n.op == "call_function")
        print(f"  {time.perf_counter() - t0:.0f} s; this package's ops and higher-order ops in the program:")
        for name, count in sorted(ops.items()):
            if "rmeeto" in name or "higher_order" in name:
                print(f"  {count:4d} {name}")
        t0 = _stage("aoti_compile_and_package")
        path = torch._inductor.aoti_compile_and_package(program, package_path=os.path.join(
            tempfile.mkdtemp(), "model.pt2"))
        _stage(f"  {time.perf_counter() - t0:.0f} s; aoti_load_package")
        runner = torch._inductor.aoti_load_package(path)
        _stage("first call")
        got = runner(x).float()
    err = ((got - want).abs().max() / want.abs().max()).item()
    print(f"logits against eager: relative error {err:.2e} (NaN: {int(got.isnan().sum())})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--depth", type=int, default=None)
    ap.add_argument("--embed-dim", type=int, default=None)
    ap.add_argument("--img", type=int, default=None, help="a smaller input (patch and stride 8)")
    ap.add_argument("--triton-on-cpu", action="store_true")
    a = ap.parse_args()
    cuda = torch.cuda.is_available() and not a.triton_on_cpu
    dev, dt = ("cuda", torch.float16) if cuda else ("cpu", torch.float32)
    m = _model(a).to(dev, dt)
    probe(m, torch.randn(a.batch_size, *m.input_shape, device=dev, dtype=dt))


if __name__ == "__main__":
    main()
