"""Benchmark the bidirectional Mamba core: PyTorch reference path vs the Triton fast path.

Vim-S-like shapes (batch 128, E=768, N=16, R=24, L in 197/131/87) by default. Prints a table of
median times (CUDA events via triton.testing.do_bench) for forward and forward+backward, and a
rough achieved-bandwidth estimate for the Triton path (bytes it moves / time). No asserts.

    PYTHONPATH=src python scripts/bench_kernels.py [--batch 128] [--lens 197,131,87]
        [--dtype bf16|fp32] [--no-ref] [--sweep]
"""
from __future__ import annotations

import argparse
import sys

import torch


def _params(E, N, R, K, dev):
    from rmeeto.ops.bimamba import DirectionParams

    def p(*s, scale=1.0, shift=0.0):
        return (torch.randn(*s, device=dev) * scale + shift).requires_grad_()

    A_log = torch.log(torch.arange(1, N + 1, device=dev, dtype=torch.float32)).repeat(E, 1)
    return DirectionParams(p(E, 1, K, scale=0.5), p(E, scale=0.1), p(R + 2 * N, E, scale=E ** -0.5),
                           p(E, R, scale=R ** -0.5), p(E, scale=0.5, shift=-2.0),
                           A_log.requires_grad_(), p(E, shift=1.0))


def _bench(fn, warmup=25, rep=100):
    from triton.testing import do_bench

    return do_bench(fn, warmup=warmup, rep=rep, return_mode="median")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--E", type=int, default=768)
    ap.add_argument("--N", type=int, default=16)
    ap.add_argument("--R", type=int, default=24)
    ap.add_argument("--K", type=int, default=4)
    ap.add_argument("--lens", default="197,131,87")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--no-ref", action="store_true", help="skip the (slow, memory-hungry) torch path")
    ap.add_argument("--sweep", action="store_true", help="also time scan kernel block configs")
    ap.add_argument("--old-scan", default=None,
                    help="path of another triton_scan.py (e.g. the previous version) whose scan_bwd "
                         "is timed beside the current one on the same inputs")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark")
        return 0

    from rmeeto.ops.triton import scan as triton_scan
    from rmeeto.ops.dispatch import bimamba_v2_inner

    dev = torch.device("cuda")
    dt = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    es = torch.tensor([], dtype=dt).element_size()
    torch.manual_seed(0)
    b, E, N, R, K = args.batch, args.E, args.N, args.R, args.K
    pf, pb = _params(E, N, R, K, dev), _params(E, N, R, K, dev)
    params = [t for p in (pf, pb) for t in vars(p).values() if t is not None]
    print(f"device: {torch.cuda.get_device_name()} | torch {torch.__version__} | "
          f"triton {__import__('triton').__version__} | batch {b} E {E} N {N} R {R} K {K} {args.dtype}")
    rows = []
    for L in [int(x) for x in args.lens.split(",")]:
        xz = torch.randn(b, L, 2 * E, device=dev, dtype=dt).requires_grad_()
        g = torch.randn(b, L, E, device=dev, dtype=dt)

        def fwd(backend):
            with torch.autocast("cuda", dtype=dt, enabled=dt != torch.float32):
                return bimamba_v2_inner(xz, pf, pb, backend=backend)[0]

        def fwd_nograd(backend):
            with torch.no_grad():
                return fwd(backend)

        def fwdbwd(backend):
            out = fwd(backend)
            out.backward(g)
            xz.grad = None
            for t in params:
                t.grad = None

        # bytes the Triton forward moves (conv: read x, write u; matmuls: read u; scan: read u,
        # delta, z, B, C, write out) and backward (roughly 3x); a rough lower-level estimate
        tok = b * L
        fwd_bytes = tok * es * (E + 2 * E + 2 * E + 2 * E + 2 * E + 2 * E + E + E) + tok * 2 * (R + 2 * N) * es * 3
        res = {"L": L}
        for backend in (["torch"] if not args.no_ref else []) + ["triton"]:
            try:
                res[f"{backend}_fwd"] = _bench(lambda: fwd_nograd(backend))
                res[f"{backend}_fb"] = _bench(lambda: fwdbwd(backend), warmup=5, rep=30)
            except torch.cuda.OutOfMemoryError:
                res[f"{backend}_fwd"] = res.get(f"{backend}_fwd", float("nan"))
                res[f"{backend}_fb"] = float("nan")
                torch.cuda.empty_cache()
        res["GBs"] = fwd_bytes / (res["triton_fwd"] * 1e-3) / 1e9
        # scan kernel alone (forward), with its own byte count
        u = torch.randn(2, b, L, E, device=dev, dtype=dt)
        delta = torch.randn(2, b, L, E, device=dev, dtype=dt)
        xd = torch.randn(2, b, L, R + 2 * N, device=dev, dtype=dt)
        z = torch.randn(b, L, E, device=dev, dtype=dt)
        A = -torch.rand(2, E, N, device=dev) - 0.5
        D = torch.randn(2, E, device=dev)
        bias = torch.randn(2, E, device=dev)
        out = torch.empty(b, L, E, device=dev, dtype=dt)
        scan_bytes = tok * es * (2 * E + 2 * E + E + E + 2 * 2 * N)
        configs = [None]
        if args.sweep:
            configs += [dict(BLOCK_E=32, num_warps=1), dict(BLOCK_E=64, num_warps=2),
                        dict(BLOCK_E=16, num_warps=1), dict(BLOCK_E=128, num_warps=4),
                        dict(SPLIT=True), dict(SPLIT=True, BLOCK_E=16)]
        for cfg in configs:
            ms = _bench(lambda: triton_scan.scan_fwd(u, delta, xd[..., R:R + N], xd[..., R + N:], z,
                                                     A, D, bias, out, True, 0.5, cfg=cfg))
            tag = "default" if cfg is None else str(cfg)
            res.setdefault("scan", []).append((tag, ms, scan_bytes / (ms * 1e-3) / 1e9))
        du = torch.empty(2, b, L, E, device=dev, dtype=torch.float32)
        ddl = torch.empty(2, b, L, E, device=dev, dtype=torch.float32)
        dz = torch.empty(b, L, E, device=dev, dtype=dt)
        bwd_impls = [("", triton_scan, [None])]
        if args.sweep:
            bwd_impls[0][2].extend([dict(BLOCK_E=16, T=16, num_warps=1), dict(BLOCK_E=32, T=8, num_warps=1),
                                    dict(BLOCK_E=32, T=32, num_warps=1), dict(BLOCK_E=64, T=16, num_warps=2),
                                    dict(BLOCK_E=16, T=8, num_warps=1)])
        if args.old_scan:
            import importlib.util

            spec = importlib.util.spec_from_file_location("old_triton_scan", args.old_scan)
            old_mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(old_mod)
            bwd_impls.append(("old ", old_mod, [None]))
        for label, mod, cfgs in bwd_impls:
            for cfg in cfgs:
                ms = _bench(lambda: mod.scan_bwd(
                    u, delta, xd[..., R:R + N], xd[..., R + N:], z, A, D, bias, g, du, ddl,
                    dz, True, 0.5, cfg=cfg), warmup=5, rep=30)
                res.setdefault("scan_bwd", []).append((label + ("default" if cfg is None else str(cfg)), ms))
        rows.append(res)
        del xz, g, u, delta, xd, z, out
        torch.cuda.empty_cache()

    print()
    hdr = f"{'L':>5} | {'torch fwd':>10} {'triton fwd':>10} {'speedup':>7} | {'torch f+b':>10} {'triton f+b':>10} {'speedup':>7} | {'fwd GB/s':>8}"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        tf, xf = r.get("torch_fwd", float("nan")), r["triton_fwd"]
        tb, xb = r.get("torch_fb", float("nan")), r["triton_fb"]
        print(f"{r['L']:>5} | {tf:>9.3f}m {xf:>9.3f}m {tf / xf:>6.1f}x | {tb:>9.3f}m {xb:>9.3f}m "
              f"{tb / xb:>6.1f}x | {r['GBs']:>8.0f}")
    print("\n(times in ms, median of CUDA-event timed runs; GB/s = estimated bytes of the Triton "
          "forward / time)")
    print("\nscan kernel alone (forward, both directions):")
    for r in rows:
        for tag, ms, gbs in r["scan"]:
            print(f"  L={r['L']:>4} {tag:<45} {ms:8.3f} ms {gbs:7.0f} GB/s")
    print("\nscan backward alone (both directions, incl. the torch sums of its partials):")
    for r in rows:
        for tag, ms in r["scan_bwd"]:
            print(f"  L={r['L']:>4} {tag:<45} {ms:8.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
