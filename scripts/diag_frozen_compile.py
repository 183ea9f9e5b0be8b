"""Where a frozen compile of a merged tiny Vim goes wrong on CUDA: one line per case, each compiled call against eager.

Cases: eager with every ``torch.empty`` filled with NaN (reads of memory no kernel wrote show up as NaN), default
``torch.compile``, frozen (Inductor's ``freezing`` on while compiling), frozen without constant folding, frozen
without the freezing passes, and frozen with ``compile_ops="traced"``; each in fp32 and fp16 autocast, on the
initialised weights and on weights with noise added (no two blocks' weights equal). ``--dump DIR`` writes Inductor's
code of every case there.

    python scripts/diag_frozen_compile.py --r 5 --dump out/
"""
from __future__ import annotations

import argparse
import contextlib
import pathlib

import torch
import torch._inductor.config as inductor_config
import torch._inductor.freezing as inductor_freezing
from torch._inductor.utils import run_and_get_code

import rmeeto
from rmeeto.ops import settings

DEVICE = "cuda"


def tiny_vim(r: int, noisy: bool) -> torch.nn.Module:
    torch.manual_seed(0)
    m = rmeeto.create_model("vim_tiny_patch16_224", img_size=64, depth=4, num_classes=10)
    if noisy:
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn_like(p) * 0.02)
    return (rmeeto.patch(m, r=r) if r else m).to(DEVICE).eval()


@contextlib.contextmanager
def patched(obj, name: str, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


@contextlib.contextmanager
def case_context(case: str):
    """The settings of one case, on while it compiles and runs."""
    with contextlib.ExitStack() as stack:
        if case.startswith("frozen"):
            stack.enter_context(patched(inductor_config, "freezing", True))
        if case == "frozen-nofold":
            stack.enter_context(patched(inductor_freezing, "constant_fold", lambda gm: None))
        if case == "frozen-nopasses":
            stack.enter_context(patched(inductor_freezing, "freezing_passes", lambda gm, inputs: None))
        if case == "frozen-traced":
            stack.enter_context(settings.using(compile_ops="traced"))
        if case == "frozen-nanasserts":
            stack.enter_context(patched(inductor_config, "nan_asserts", True))
        yield


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()


def run_case(m: torch.nn.Module, x: torch.Tensor, case: str, fp16: bool, dump: pathlib.Path | None, tag: str) -> str:
    amp = torch.autocast(DEVICE, dtype=torch.float16) if fp16 else contextlib.nullcontext()
    with torch.inference_mode(), amp:
        want = m(x).clone()
        if case == "eager-nanfill":
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.utils.deterministic.fill_uninitialized_memory = True
            try:
                got = [m(x).clone() for _ in range(3)]
            finally:
                torch.use_deterministic_algorithms(False)
                torch.utils.deterministic.fill_uninitialized_memory = False
            codes = []
        else:
            torch._dynamo.reset()
            compiled = torch.compile(m)
            with case_context(case):
                try:
                    first, codes = run_and_get_code(compiled, x)
                    got = [first.clone()] + [compiled(x).clone() for _ in range(2)]
                except Exception as err:  # a case that fails says how, and the next runs
                    return f"{tag}: {type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}"
    if dump is not None and codes:
        (dump / f"{tag.replace(' ', '_')}.py").write_text("\n\n".join(codes))
    nans = [int(g.isnan().sum()) for g in got]
    return f"{tag}: rel {' '.join(f'{rel(g, want):.2e}' for g in got)}  NaN {nans}  |want| {want.abs().max():.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--r", type=int, nargs="+", default=[5, 0])
    ap.add_argument("--cases", default="eager-nanfill,default,frozen,frozen-nofold,frozen-nopasses,frozen-traced,"
                                        "frozen-nanasserts")
    ap.add_argument("--dump", type=pathlib.Path, default=None)
    ap.add_argument("--precisions", default="fp16,fp32")
    ap.add_argument("--weights", default="init,noisy")
    ap.add_argument("--device", default="cuda", help="cpu: a check of the script itself (torch path)")
    args = ap.parse_args()
    global DEVICE
    DEVICE = args.device
    if args.dump is not None:
        args.dump.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1)
    x = torch.randn(2, 3, 64, 64, device=DEVICE)
    for r in args.r:
        for noisy in [w == "noisy" for w in args.weights.split(",")]:
            m = tiny_vim(r, noisy)
            for fp16 in [p == "fp16" for p in args.precisions.split(",")]:
                for case in args.cases.split(","):
                    tag = f"r={r} {'noisy' if noisy else 'init'} {'fp16' if fp16 else 'fp32'} {case}"
                    print(run_case(m, x, case, fp16, args.dump, tag), flush=True)


if __name__ == "__main__":
    main()
