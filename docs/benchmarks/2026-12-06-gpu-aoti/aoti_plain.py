"""AOTInductor on a plain torch module (no custom ops) and on a tiny Vim with and without merging, each loaded in
the process that compiled it; the case number from the command line, so that a crash ends only that case. With a
second argument, a package path: ``compile`` writes the package there and stops, ``load`` loads and calls it (in a
fresh process).

    python aoti_plain.py CASE [compile|load PATH]
"""
import os
import sys
import tempfile

import torch

import rmeeto


def case(n: int):
    if n == 0:
        return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.GELU()).cuda().half().eval(), (8, 64)
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=4).cuda().half().eval()
    if n == 2:
        rmeeto.patch(m, r=5)
    return m, (8, *m.input_shape)


n = int(sys.argv[1])
stage, path = sys.argv[2:4] if len(sys.argv) > 3 else ("both", os.path.join(tempfile.mkdtemp(), "m.pt2"))
torch.manual_seed(0)
m, shape = case(n)
x = torch.randn(*shape, device="cuda", dtype=torch.half)
with torch.no_grad():
    if stage != "load":
        program = torch.export.export(m, (x,))
        path = torch._inductor.aoti_compile_and_package(program, package_path=path)
        print(f"case {n}: compiled", flush=True)
    if stage == "compile":
        sys.exit(0)
    print(f"case {n}: loading", flush=True)
    runner = torch._inductor.aoti_load_package(path)
    print(f"case {n}: loaded", flush=True)
    err = ((runner(x) - m(x)).abs().max() / m(x).abs().max()).item()
    print(f"case {n}: relative error {err:.2e}", flush=True)
