"""Time the Triton selective scan alone: another version of ``triton_scan.py`` (``--old``, e.g. the
step-serial kernel before the chunked scan) against the current dispatch and forced chunk lengths.

For each shape (batch x inner width x length), each number of directions and each variant it prints the
median forward time and forward+backward time (``triton.testing.do_bench``, CUDA events, after warm-up),
and with ``--check`` the largest relative difference of the output and of every gradient from the old
kernel on the same fp32 inputs. Mamba-like inputs: ``A = -(1..N)``, ``delta`` bias from ``dt`` in
[1e-3, 1e-1], the gate ``z``, D; ``out_scale`` 0.5.

    PYTHONPATH=src python scripts/bench_scan.py --old path/to/old/triton_scan.py \
        [--shapes 128x768x197,8x1152x1569] [--dirs 1,2] [--tc auto,0,64] [--be 32,16] [--fwd-cfgs 'SUM_GATE=0;'] [--dtype fp16]
        [--check] [--json out.json]

``--tc``: ``auto`` = the dispatch's own choice (``chunk_len``), ``0`` = step-serial, ``n`` = chunks of n.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import sys

import torch

SHAPES = "128x768x197,128x1536x197,32x768x1569,16x768x3137,8x1152x1569"


def _inputs(ndir, batch, E, L, N, dtype, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    dev = torch.device("cuda")

    def r(*s, scale=1.0):
        return torch.randn(*s, generator=g, device=dev) * scale

    dt = torch.exp(torch.rand(ndir, E, generator=g, device=dev) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    t = dict(u=r(ndir, batch, L, E), delta=r(ndir, batch, L, E, scale=0.5), B=r(ndir, batch, L, N),
             C=r(ndir, batch, L, N), z=r(batch, L, E), gout=r(batch, L, E))
    t = {k: v.to(dtype) for k, v in t.items()}
    t.update(A=-torch.arange(1, N + 1, device=dev, dtype=torch.float32).repeat(ndir, E, 1),
             D=torch.ones(ndir, E, device=dev), bias=dt + torch.log(-torch.expm1(-dt)))
    return t


def _run(mod, t, cfg, backward):
    ndir, batch, L, E = t["u"].shape
    out = torch.empty(batch, L, E, device="cuda", dtype=t["u"].dtype)
    A = t["A"]
    if mod.__name__.startswith("rmeeto.ops.triton."):  # any strides; (ndir, N, E) memory is the fast layout
        A = A.transpose(1, 2).contiguous().transpose(1, 2)
    args = (t["u"], t["delta"], t["B"], t["C"], t["z"], A, t["D"], t["bias"])
    mod.scan_fwd(*args, out, True, 0.5, cfg=cfg)
    if not backward:
        return (out,)
    du, ddl = torch.empty_like(t["u"]), torch.empty_like(t["u"])
    dz = torch.empty_like(t["z"])
    bcfg = dict(cfg or {}, **(cfg or {}).get("bwd", {}))
    dBC, dA, dD, db = mod.scan_bwd(*args, t["gout"], du, ddl, dz, True, 0.5, cfg=bcfg)
    return out, du, ddl, dz, dBC, dA, dD, db


def _rel(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30)).item()


def _load(path):
    """A scan module from a file path, or by its dotted name (a copy placed inside the package, so that its
    relative imports resolve)."""
    if not path.endswith(".py"):
        return importlib.import_module(path)
    spec = importlib.util.spec_from_file_location("old_triton_scan", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _variants(args, new, old):
    out = [("old", old, None)] if old is not None else []
    for be_nw in args.be.split(","):
        be, nw, mr = (be_nw.split("/") + ["", ""])[:3]
        for tc in args.tc.split(","):
            cfg = dict(TC=tc if tc == "auto" else int(tc))
            if be != "default":  # the forward's and the backward's own blocks otherwise
                cfg["BLOCK_E"] = int(be)
            if nw:
                cfg["num_warps"] = int(nw)
            if mr:  # the forward's register cap; 0 lifts it
                cfg["maxnreg"] = int(mr) or None
            if args.split:
                cfg["SPLIT"] = True
            for extra in args.fwd_cfgs.split(";"):  # more FWD_CFG entries, KEY=INT separated by spaces
                tag = (f"new TC={tc}" + (f" BE={be_nw}" if be != "default" else "") + (" split" if args.split else "")
                       + (f" {extra}" if extra else ""))
                more = {k: int(v) for k, v in (item.split("=") for item in extra.split())}
                out.append((tag, new, dict(cfg, **more)))
    for spec in filter(None, args.bwd_cfg.split(",")):  # the backward alone re-blocked: BE/warps/T[/maxnreg]
        be, nw, T, *mr = (int(v) for v in spec.split("/"))
        bwd = dict(BLOCK_E=be, num_warps=nw, T=T, maxnreg=mr[0] if mr else None)
        out.append((f"new bwd={spec}", new, dict(TC="auto", bwd=bwd)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", default=None, help="path of the triton_scan.py to compare with")
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--dirs", default="1,2")
    ap.add_argument("--tc", default="auto,0,64,128")
    ap.add_argument("--be", default="default",
                    help="channel blocks to try, each optionally /num_warps[/maxnreg] (32,64/2,64/1/0); "
                    "default: the kernels' own")
    ap.add_argument("--fwd-only", action="store_true", help="time the forward alone")
    ap.add_argument("--bwd-cfg", default="", help="also the backward alone re-blocked, each BE/warps/T[/maxnreg], "
                    "e.g. 32/1/8/168,16/1/8 (the forward keeps its own)")
    ap.add_argument("--split", action="store_true", help="the forward's two directions as two launches on two "
                    "streams (what a CUDA graph of an inference forward runs)")
    ap.add_argument("--fwd-cfgs", default="", help="variants of other FWD_CFG entries, separated by ';', each "
                    "KEY=INT pairs separated by spaces (e.g. 'SUM_GATE=0;SUM_GATE=1'); each variant's forward output "
                    "is compared with the first's")
    ap.add_argument("--N", type=int, default=16)
    ap.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
    ap.add_argument("--rep", type=int, default=60, help="do_bench rep (ms)")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark")
        return 0
    import triton
    from triton.testing import do_bench

    from rmeeto.ops.triton import scan as new

    old = _load(args.old) if args.old else None
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    print(f"device: {torch.cuda.get_device_name()} | torch {torch.__version__} | triton {triton.__version__} | "
          f"{args.dtype} N={args.N} | median ms (do_bench)")
    rows = []
    for shape in args.shapes.split(","):
        batch, E, L = (int(x) for x in shape.split("x"))
        for ndir in [int(x) for x in args.dirs.split(",")]:
            t = _inputs(ndir, batch, E, L, args.N, dtype)
            t32 = _inputs(ndir, batch, E, L, args.N, torch.float32) if args.check else None
            ref = _run(old, t32, None, True) if args.check and old is not None else None
            first = None
            for tag, mod, cfg in _variants(args, new, old):
                row = dict(shape=shape, ndir=ndir, variant=tag)
                out = _run(mod, t, cfg, False)[0].float()
                first = out if first is None else first
                row["fwd_max_diff_vs_first"] = (out - first).abs().max().item()
                if mod is new:
                    tc = cfg["TC"] if cfg["TC"] != "auto" else None
                    for phase, dflt in (("fwd", new.FWD_CFG), ("bwd", new.BWD_CFG)):
                        own = cfg.get("bwd", cfg) if phase == "bwd" else cfg
                        be = min(own.get("BLOCK_E", dflt["BLOCK_E"]), triton.next_power_of_2(E))
                        row["tc_" + phase] = new.chunk_len(phase, L, batch, E, ndir, be, tc)
                row["fwd_ms"] = do_bench(lambda: _run(mod, t, cfg, False), warmup=10, rep=args.rep,
                                         return_mode="median")
                row["fwdbwd_ms"] = float("nan") if args.fwd_only else do_bench(
                    lambda: _run(mod, t, cfg, True), warmup=10, rep=args.rep, return_mode="median")
                if ref is not None and mod is new:
                    got = _run(mod, t32, cfg, True)
                    row["max_rel_vs_old_fp32"] = max(_rel(a, b) for a, b in zip(got, ref))
                rows.append(row)
                print(_fmt(row), flush=True)
            del t, t32, ref
            torch.cuda.empty_cache()
    _summary(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


def _fmt(r: dict) -> str:
    tc = f" tc fwd/bwd {r['tc_fwd']}/{r['tc_bwd']}" if "tc_fwd" in r else ""
    chk = f" | rel.diff vs old {r['max_rel_vs_old_fp32']:.1e}" if "max_rel_vs_old_fp32" in r else ""
    return (f"{r['shape']:>13} dirs={r['ndir']} {r['variant']:<22} fwd {r['fwd_ms']:8.3f}  fwd+bwd "
            f"{r['fwdbwd_ms']:8.3f}{tc}{chk} | out vs first {r['fwd_max_diff_vs_first']:.1e}")


def _summary(rows) -> None:
    """Old against the current default (TC=auto, default block) per shape and direction count."""
    print("\nshape          dirs | old fwd  new fwd  speedup | old f+b  new f+b  speedup")
    for r in rows:
        if r["variant"] != "new TC=auto":
            continue
        o = next((x for x in rows if x["variant"] == "old" and x["shape"] == r["shape"] and x["ndir"] == r["ndir"]),
                 None)
        if o is None:
            continue
        print(f"{r['shape']:>13}  {r['ndir']}   | {o['fwd_ms']:7.3f} {r['fwd_ms']:8.3f} {o['fwd_ms'] / r['fwd_ms']:7.2f}x"
              f" | {o['fwdbwd_ms']:7.3f} {r['fwdbwd_ms']:8.3f} {o['fwdbwd_ms'] / r['fwdbwd_ms']:7.2f}x")


if __name__ == "__main__":
    sys.exit(main())
