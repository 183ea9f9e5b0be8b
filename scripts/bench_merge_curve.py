"""The merge-cost curve: images/s merged against unmerged at r across 1..(t-1)//2, eager and in a CUDA graph.

Where the speed-up is below 1, merging costs more than it saves at that r.

    python scripts/bench_merge_curve.py --models vim_tiny_patch16_224,vim_small_patch16_224 --batch-size 128

``--rounds N`` times the CUDA-graph curve interleaved instead: one graph per r (r=0 first) of the same model and
input, replayed in turns, in a rotating order, for N rounds of ``--iters`` iterations each. Each r's speed-up is the
median over the rounds of its rate over r=0's in the same round, with the lowest and highest such ratio beside it,
so a drift of the GPU's speed between one r and the next does not show as a cost or a saving. ``--r all`` takes
every r in 1..(t-1)//2. With ``--check`` the script exits with status 1, naming each model and r, where an
interleaved median speed-up is below 1 (merging cost more than it saved).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import rmeeto
from rmeeto.bench import for_inference, measure
from rmeeto.cuda_graphs import graphed

R_VALUES = (1, 2, 3, 5, 8, 11, 16, 24, 32, 48, 64, 98)


def _rate(step, batch: int, iters: int) -> float:
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    torch.cuda.synchronize()
    return batch * iters / (time.perf_counter() - t0)


def interleaved(name: str, rs: list[int], batch: int, dtype: str, rounds: int, iters: int) -> list[list[float]]:
    """Images per second of every r (r=0 first) in every round, each r replayed from its own CUDA graph."""
    dt = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
    dev = torch.device("cuda")
    model = rmeeto.create_model(name).to(dev)
    xin = for_inference(model, torch.randn(batch, *model.input_shape, device=dev), dt)

    def fwd():
        with torch.no_grad(), torch.autocast("cuda", dtype=dt, enabled=dt != torch.float32):
            return model(xin)
    steps = []
    for r in rs:
        rmeeto.unpatch(model)
        if r:
            rmeeto.patch(model, r=r)
        steps.append(graphed(fwd, dev, idempotent=True))  # a graph keeps the kernels of the r it was captured with
    rmeeto.unpatch(model)
    for step in steps:
        _rate(step, batch, 3)
    rates: list[list[float]] = [[] for _ in rs]
    for k in range(rounds):
        for i in [(k + j) % len(rs) for j in range(len(rs))]:
            rates[i].append(_rate(steps[i], batch, iters))
    return rates


def _print_interleaved(name: str, rs: list[int], rates: list[list[float]]) -> list[int]:
    """Print each r's median rate and speed-up over r=0; return the r whose median speed-up is below 1."""
    losing = []
    for r, got in zip(rs, rates):
        ratios = [a / b for a, b in zip(got, rates[0])]
        speedup = statistics.median(ratios)
        if r and speedup < 1:
            losing.append(r)
        print(f"{name:24s} graph {r:3d} {statistics.median(got):9.1f} {speedup:8.3f}x "
              f"{min(ratios):7.3f} {max(ratios):7.3f}", flush=True)
    return losing


def _r_values(spec: str, top: int) -> list[int]:
    if spec == "all":
        return list(range(1, top + 1))
    return sorted({min(int(v), top) for v in spec.split(",")} - {0})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="vim_tiny_patch16_224,vim_small_patch16_224,vim_base_patch16_224")
    ap.add_argument("--r", default=",".join(map(str, R_VALUES)), help="comma list (capped at (t-1)//2), or all")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--dtype", default="fp16")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--modes", default="eager,graph")
    ap.add_argument("--rounds", type=int, default=0, help="time the CUDA-graph curve interleaved, this many rounds")
    ap.add_argument("--check", action="store_true", help="with --rounds: exit 1 where a median speed-up is below 1")
    a = ap.parse_args()
    if a.check and not a.rounds:
        ap.error("--check needs --rounds N: only the interleaved curve is steady enough to judge")
    if a.rounds:
        print(f"{'model':24s} {'mode':5s} {'r':>3s} {'im/s':>9s} {'speed-up':>9s} {'lowest':>7s} {'highest':>7s}"
              f"   (median over {a.rounds} interleaved rounds of {a.iters} iterations)")
    else:
        print(f"{'model':24s} {'mode':5s} {'r':>3s} {'ratio':>6s} {'GFLOPs':>7s} {'im/s':>8s} {'speed-up':>8s}")
    losing: list[str] = []
    for name in a.models.split(","):
        model = rmeeto.create_model(name)
        rs = _r_values(a.r, (model.num_tokens - 1) // 2)
        if a.rounds:
            rates = interleaved(name, [0, *rs], a.batch_size, a.dtype, a.rounds, a.iters)
            losing += [f"{name} r={r}" for r in _print_interleaved(name, [0, *rs], rates)]
            continue
        for mode in a.modes.split(","):
            rmeeto.unpatch(model)
            base = measure(model, a.batch_size, "cuda", a.dtype, False, a.warmup, a.iters, mode == "graph")
            print(f"{name:24s} {mode:5s} {0:3d} {0:6.3f} {base['gflops']:7.3f} {base['im_per_s']:8.0f} {1:8.2f}x")
            for r in rs:
                rmeeto.patch(model, r=r)
                res = measure(model, a.batch_size, "cuda", a.dtype, False, a.warmup, a.iters, mode == "graph")
                print(f"{name:24s} {mode:5s} {r:3d} {res['ratio']:6.3f} {res['gflops']:7.3f} {res['im_per_s']:8.0f} "
                      f"{res['im_per_s'] / base['im_per_s']:8.2f}x", flush=True)
    if a.check:
        print("merging cost more than it saved at: " + ", ".join(losing) if losing else
              "merging saved at every r timed")
        raise SystemExit(1 if losing else 0)


if __name__ == "__main__":
    main()
