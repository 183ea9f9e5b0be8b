"""Where a Vim forward spends its GPU time, by kernel family, against a roofline estimate.

Profiles ``--iters`` forwards, eager or (``--cuda-graph``) replayed from a CUDA graph (fp16, batch 128) with
``torch.profiler``, sums the CUDA kernel time per family (GEMM, scan, conv, add+norm, merge,
other) and sets it beside analytic bytes moved / FLOPs for that family, so each row reads as a
roofline point: achieved GB/s or TFLOP/s and the share of the GPU's peak. The estimates count
the unavoidable traffic of our kernels' layouts (fp16 activations, fp32 residual); they are
estimates, not counters.

    PYTHONPATH=src python scripts/profile_forward.py [--model vim_small_patch16_224] [--r 0,11] [--cuda-graph]
"""
from __future__ import annotations

import argparse
import re

import torch

from profile_train import MERGE_KERNELS  # scripts/ is first on sys.path when a script in it runs

FAMILIES = [("merge", MERGE_KERNELS + r"|sort|scatter|gather|cumsum|index"),
            ("scan", r"_scan_|_chunk_local|_chunk_carry|_sum_gate"), ("conv", r"_biconv"), ("add+norm", r"rmsnorm"),
            ("gemm", r"gemm|nvjet|xmma|cutlass|cublas|sm90|sm80")]
PEAKS = {"H100": (3.35e12, 989e12), "H200": (4.8e12, 989e12)}  # HBM bytes/s, dense fp16 FLOP/s


def family(name: str) -> str:
    for fam, pat in FAMILIES:
        if re.search(pat, name, re.I):
            return fam
    return "other"


def estimates(model, batch: int) -> dict:
    """Analytic per-forward bytes (fp16 activations, fp32 residual) and FLOPs per family."""
    from rmeeto.patch import schedule_of

    C = model.embed_dim
    mx = model.layers[0].mixer
    E, N, R = mx.d_inner, mx.d_state, mx.dt_rank
    sched = schedule_of(model)
    t = model.num_tokens
    est = {k: {"bytes": 0.0, "flops": 0.0} for k in ("gemm", "scan", "conv", "add+norm", "merge")}
    for r in sched:
        if r:
            est["merge"]["bytes"] += batch * (t + (t - r)) * C * 6
            est["merge"]["flops"] += batch * 2 * (t // 2) ** 2 * C
            t -= r
        tok = batch * t
        w = C * 4 * C + 2 * (E * (R + 2 * N) + R * E) + E * C
        est["gemm"]["flops"] += 2 * tok * w
        est["gemm"]["bytes"] += 2 * w + tok * 2 * (C + 4 * C + 2 * (E + R + 2 * N + E) + E + C)
        est["scan"]["bytes"] += tok * 2 * (2 * (2 * E + 2 * N) + 2 * E)
        est["scan"]["flops"] += tok * 2 * 9 * E * N
        est["conv"]["bytes"] += tok * 2 * 3 * E
        est["add+norm"]["bytes"] += tok * 12 * C
    return est


def profile(model, batch: int, iters: int, cuda_graph: bool = False) -> dict:
    from torch.profiler import ProfilerActivity, profile as tprof

    from rmeeto.cuda_graphs import graphed

    x = torch.randn(batch, *model.input_shape, device="cuda", dtype=torch.float16)
    model.cuda().eval().half()

    def fwd():
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
            return model(x)
    step = graphed(fwd, torch.device("cuda"), idempotent=True) if cuda_graph else fwd
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    with tprof(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(iters):
            step()
        torch.cuda.synchronize()
    per, kernels = {}, {}
    launches = 0
    for ev in prof.key_averages():
        us = getattr(ev, "self_device_time_total", 0) or 0
        if us <= 0:
            continue
        fam = family(ev.key)
        per[fam] = per.get(fam, 0.0) + us / 1e3 / iters
        kernels[ev.key] = (us / 1e3 / iters, ev.count / iters)
        launches += ev.count
    return {"ms": per, "launches": launches / iters, "kernels": kernels}


def main(argv=None) -> int:
    import rmeeto

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="vim_small_patch16_224")
    ap.add_argument("--r", default="0,11")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--top", type=int, default=0, help="also list the N kernels with the most time")
    ap.add_argument("--cuda-graph", action="store_true", help="profile replays of the forward captured in a CUDA graph "
                    "(the split forward scan and its sum-and-gate pass, as in rmeeto bench --cuda-graph)")
    args = ap.parse_args(argv)
    name = torch.cuda.get_device_name()
    bw, fl = next((v for k, v in PEAKS.items() if k in name), PEAKS["H100"])
    mode = "CUDA graph" if args.cuda_graph else "eager"
    print(f"# {args.model}, batch {args.batch}, fp16, {mode}; {name}; peaks assumed {bw / 1e12:.2f} TB/s, "
          f"{fl / 1e12:.0f} TFLOP/s")
    for r in (int(v) for v in args.r.split(",")):
        m = rmeeto.create_model(args.model)
        if r:
            rmeeto.patch(m, r=r)
        est = estimates(m, args.batch)
        prof = profile(m, args.batch, args.iters, args.cuda_graph)
        total = sum(prof["ms"].values())
        print(f"\nr={r}: GPU kernel time {total:.2f} ms per forward ({args.batch / total * 1e3:.0f} im/s if "
              f"back-to-back), {prof['launches']:.0f} kernel launches per forward")
        print(f"{'family':9s} {'ms':>7s} {'share':>6s} {'est GB':>7s} {'GB/s':>7s} {'%BW':>5s} "
              f"{'est TFLOP':>9s} {'TFLOP/s':>8s} {'%peak':>6s}")
        for fam in ("gemm", "scan", "conv", "add+norm", "merge", "other"):
            ms = prof["ms"].get(fam, 0.0)
            e = est.get(fam, {"bytes": 0.0, "flops": 0.0})
            gbs = e["bytes"] / (ms / 1e3) / 1e9 if ms else 0.0
            tfs = e["flops"] / (ms / 1e3) / 1e12 if ms else 0.0
            print(f"{fam:9s} {ms:7.2f} {ms / total:6.1%} {e['bytes'] / 1e9:7.3f} {gbs:7.0f} {gbs * 1e9 / bw:5.0%} "
                  f"{e['flops'] / 1e12:9.3f} {tfs:8.1f} {tfs * 1e12 / fl:6.1%}")
        for name, (ms, n) in sorted(prof["kernels"].items(), key=lambda kv: -kv[1][0])[:args.top]:
            print(f"  {ms:7.3f} ms {n:4.0f}x {ms / n * 1e3:7.1f} us each  {name[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
