"""Compile a selective-scan kernel for sm_90 on a machine without a GPU and count what its loops execute.

Compiles ``_scan_bwd_seq_kernel`` or ``_scan_fwd_seq_kernel`` with the specialisation a real launch gets on
Vim-S-like inputs (fp16 activations; 16-byte aligned pointers except the kernel's ``do_not_specialize`` ones;
strides, width and state count divisible by 16; unit channel/state strides as constants), then runs Triton's
bundled ``ptxas`` and ``cuobjdump``. Prints the registers and spills, and for every loop of the SASS (a backward
branch) its instructions per iteration and the barriers, shuffles and special-function instructions among them.
Static counts only: they say nothing about time. Asserts nothing.

    PYTHONPATH=src python scripts/inspect_scan_sass.py [--kernel bwd|fwd] [--block-e 32] [--warps 1] [--T 8]
        [--h0] [--ndir 1|2] [--maxnreg N] [--bc-fp32] [--opcodes] [--a-contiguous channels|states] [--no-z]
        [--uneven] [--loads] [--keep DIR]
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

# pointers that are fp32 (the rest are fp16 activations)
FP32_PTRS = {"A_ptr", "D_ptr", "bias_ptr", "dB_ptr", "dC_ptr", "dz_ptr", "dA_ptr", "dD_ptr", "dbias_ptr", "ck_ptr",
             "hb_ptr", "h0_ptr", "g0_ptr", "cs_ptr"}
# unit strides (channel-contiguous activations, state-contiguous B/C); A's is --a-contiguous
UNIT_STRIDES = {"s_u_e", "s_dl_e", "s_B_n", "s_C_n", "s_z_e", "s_g_e", "s_o_e", "s_du_e", "s_ddl_e", "s_dB_n",
                "s_dC_n", "s_dz_e"}


def compile_sass(fn, constexprs: dict, num_warps: int, workdir: str, maxnreg: int = 0,
                 fp32_ptrs: frozenset = frozenset(), num_stages: int = 0,
                 int32_ptrs: frozenset = frozenset(), divisible_ints: frozenset = frozenset(),
                 int64_ptrs: frozenset = frozenset()) -> tuple[str, str, int]:
    """(ptxas -v report, SASS listing, shared memory bytes) of ``fn`` specialised like a launch on aligned,
    16-divisible inputs; ``fp32_ptrs`` names activation pointers that are fp32 too, ``int32_ptrs`` / ``int64_ptrs``
    index pointers;
    ``num_stages`` 0: Triton's default; ``divisible_ints`` names more integer arguments that a launch would find
    divisible by 16 (Triton specialises every such integer, whatever its name)."""
    import triton
    from triton.backends.compiler import GPUTarget

    params = [p for p in fn.params]
    signature, attrs = {}, {}
    for i, p in enumerate(params):
        if p.name in constexprs:
            signature[p.name] = "constexpr"
        elif p.name.endswith("_ptr"):
            signature[p.name] = ("*i64" if p.name in int64_ptrs else "*i32" if p.name in int32_ptrs else
                                 "*fp32" if p.name in FP32_PTRS | fp32_ptrs else "*fp16")
        elif p.name == "scale":
            signature[p.name] = "fp32"
        else:
            signature[p.name] = "i32"
        divisible = (p.name.endswith("_ptr") or p.name.startswith("s_") or p.name in ("E", "N")
                     or p.name in divisible_ints)
        if p.name not in constexprs and divisible and not p.do_not_specialize:
            attrs[(i,)] = [["tt.divisibility", 16]]
    src = triton.compiler.ASTSource(fn=fn, signature=signature, constexprs=constexprs, attrs=attrs)
    options = {"num_warps": num_warps, **({"maxnreg": maxnreg} if maxnreg else {}),
               **({"num_stages": num_stages} if num_stages else {})}
    kernel = triton.compile(src, target=GPUTarget("cuda", 90, 32), options=options)
    tools = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")
    ptx, cubin = os.path.join(workdir, "kernel.ptx"), os.path.join(workdir, "kernel.cubin")
    with open(ptx, "w") as f:
        f.write(kernel.asm["ptx"])
    report = subprocess.run([os.path.join(tools, "ptxas"), "-arch=sm_90a", "-v", ptx, "-o", cubin],
                            capture_output=True, text=True, check=True).stderr
    sass = subprocess.run([os.path.join(tools, "cuobjdump"), "-sass", cubin], capture_output=True, text=True,
                          check=True).stdout
    return report, sass, kernel.metadata.shared


def loop_counts(sass: str) -> list[dict]:
    """Per backward branch (a loop), the instructions between its target and the branch, and some of their kinds."""
    rows = [(int(m.group(1), 16), m.group(2)) for m in
            (re.match(r"\s+/\*([0-9a-f]{4,})\*/\s+(.*?);", line) for line in sass.splitlines()) if m]
    loops = []
    for addr, text in rows:
        m = re.search(r"\bBRA (0x[0-9a-f]+)", text)
        if not m or int(m.group(1), 16) >= addr:
            continue
        start = int(m.group(1), 16)
        ops = [re.sub(r"^@!?U?P\w+\s+", "", t).split()[0] for a, t in rows if start <= a <= addr]
        loads = [f"{o} {i / len(ops):.0%}" for i, o in enumerate(ops) if o.startswith("LDG")]
        loops.append(dict(start=hex(start), end=hex(addr), instructions=len(ops),
                          **{k: sum(o.startswith(k) for o in ops) for k in ("BAR", "SHFL", "MUFU", "LDS", "STS")},
                          opcodes=collections.Counter(o.split(".")[0] for o in ops).most_common(), loads=loads))
    return loops


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default="bwd", choices=["bwd", "fwd"])
    ap.add_argument("--block-e", type=int, default=None, help="default: the kernel's own (BWD_CFG / FWD_CFG)")
    ap.add_argument("--warps", type=int, default=None)
    ap.add_argument("--T", type=int, default=None, help="backward checkpoint interval")
    ap.add_argument("--h0", action="store_true", help="the chunked (segment) variant")
    ap.add_argument("--ndir", type=int, default=2, help="forward: directions per program (1: the two-stream launch)")
    ap.add_argument("--maxnreg", type=int, default=None, help="register cap (default: the one the launch gets; 0: none)")
    ap.add_argument("--a-contiguous", default=None, choices=["channels", "states"],
                    help="A's unit-stride axis as scan_fwd / scan_bwd pass it (default: channels for the forward, "
                         "states for the backward, which gets A.contiguous())")
    ap.add_argument("--bc-fp32", action="store_true",
                    help="B and C in fp32 instead of fp16 (docs/benchmarks/2026-12-02-h200-bc-dtype)")
    ap.add_argument("--opcodes", action="store_true", help="also print each loop's instructions by opcode")
    ap.add_argument("--loads", action="store_true", help="also print where in each loop body its global loads sit")
    ap.add_argument("--no-z", action="store_true", help="without the z gate (HAS_Z=False, z_ptr None)")
    ap.add_argument("--uneven", action="store_true", help="masked loads (EVEN=False: a ragged last channel block)")
    ap.add_argument("--keep", default=None, help="write the PTX and cubin here instead of a temporary folder")
    args = ap.parse_args(argv)
    try:
        from rmeeto.ops.triton import scan as S
    except ImportError as exc:
        print(f"needs triton: {exc}", file=sys.stderr)
        return 2
    cfg = S.BWD_CFG if args.kernel == "bwd" else S.FWD_CFG
    block_e = args.block_e or cfg["BLOCK_E"]
    warps = args.warps or cfg["num_warps"]
    fn = S._scan_bwd_seq_kernel if args.kernel == "bwd" else S._scan_fwd_seq_kernel
    a_unit = {"channels": "s_A_e", "states": "s_A_n"}[args.a_contiguous or
                                                      ("states" if args.kernel == "bwd" else "channels")]
    consts = {n: 1 for n in UNIT_STRIDES | {a_unit} if any(p.name == n for p in fn.params)}
    consts.update(HAS_Z=not args.no_z, SOFTPLUS=True, HAS_H0=args.h0, BLOCK_E=block_e, BLOCK_N=16)
    if args.no_z:  # a launch without z passes None for its pointer, which Triton makes a constant
        consts["z_ptr"] = None
    if any(p.name == "EVEN" for p in fn.params):  # the width divides into channel blocks, N = BLOCK_N
        consts["EVEN"] = not args.uneven
    if args.kernel == "bwd":
        consts["T"] = args.T or cfg["T"]
    else:
        consts["NDIR"] = args.ndir
    workdir = args.keep or tempfile.mkdtemp()
    os.makedirs(workdir, exist_ok=True)
    if args.maxnreg is not None:
        maxnreg = args.maxnreg
    elif args.kernel == "fwd":  # the cap scan_fwd would launch this variant with
        maxnreg = S.fwd_regcap(cfg, args.ndir == 1, args.h0).get("maxnreg", 0)
    else:
        maxnreg = cfg.get("maxnreg") or 0
    fp32 = frozenset({"B_ptr", "C_ptr"} if args.bc_fp32 else ())
    report, sass, _ = compile_sass(fn, consts, warps, workdir, maxnreg, fp32)
    print(f"{fn.__name__} BLOCK_E={block_e} warps={warps} {'HAS_H0 ' if args.h0 else ''}"
          f"{'NDIR=%d ' % args.ndir if args.kernel == 'fwd' else ''}maxnreg={maxnreg or 'none'} sm_90a")
    print("\n".join(line.split(":", 1)[-1].strip() for line in report.splitlines()
                    if "registers" in line or "spill" in line))
    for loop in loop_counts(sass):
        print("loop {start}-{end}: {instructions} instructions, BAR {BAR}, SHFL {SHFL}, MUFU {MUFU}, "
              "LDS {LDS}, STS {STS}".format(**loop))
        if args.opcodes:
            print("  " + ", ".join(f"{op} {n}" for op, n in loop["opcodes"]))
        if args.loads:
            print("  global loads at (share of the loop body before them): " + ", ".join(loop["loads"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
