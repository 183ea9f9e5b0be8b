"""The Vim training step (bf16 autocast, cross-entropy, backward, AdamW) five ways: eager; the forward and backward
replayed from a CUDA graph with the optimizer eager (``rmeeto.cuda_graphs.GraphedStep``, as ``rmeeto train
--cuda-graph`` runs it); the whole step in one CUDA graph, optimizer included (capturable AdamW with a tensor learning
rate); ``torch.compile`` (default mode); ``torch.compile(mode="reduce-overhead")``.

Every way gets its own model, built from the same seed, and its own optimizer, and trains on one fixed batch. Prints,
per way: the losses of its first and eighth steps (the same weights, inputs and updates everywhere, so the ways must
agree to bf16 precision), the peak memory its set-up and first eight steps add, and then images/s as the median of
timed steps, the ways interleaved in rounds. Numbers only.

    PYTHONPATH=src python scripts/bench_train_modes.py [--model vim_small_patch16_224] [--r 0,11] [--batch 128]
        [--ways eager,graph,graph-all,compile,compile-ro] [--rounds 3] [--iters 15]
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import torch

import rmeeto
from rmeeto.cuda_graphs import GraphedStep

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from profile_train import timed  # noqa: E402  (median seconds of synchronised steps)

LR = 1e-4  # large enough that eight steps move the loss visibly


def build(name: str, r: int, seed: int = 0):
    torch.manual_seed(seed)
    model = rmeeto.create_model(name).cuda()
    if r:
        rmeeto.patch(model, r=r)
    return model.train()


def eager_step(model, x, y, dtype, compile_mode=None):
    fwd = torch.compile(model, mode=compile_mode) if compile_mode else model
    opt = torch.optim.AdamW(model.parameters(), lr=LR, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    out = {}

    def step():
        with torch.autocast("cuda", dtype=dtype):
            loss = loss_fn(fwd(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        out["loss"] = loss
    return step, out


def graphed_step(model, x, y, dtype):
    """Forward and backward from a CUDA graph (the library's), the optimizer step eager."""
    opt = torch.optim.AdamW(model.parameters(), lr=LR, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    out = {}

    def loss_and_backward(xb, yb):
        with torch.autocast("cuda", dtype=dtype, cache_enabled=False):
            loss = loss_fn(model(xb), yb)
        loss.backward()
        return loss.detach()
    micro = GraphedStep(loss_and_backward, model.parameters())

    def step():
        out["loss"] = micro(x, y)
        opt.step()
        opt.zero_grad(set_to_none=False)
    return step, out


def whole_graph_step(model, x, y, dtype):
    """The whole step in one CUDA graph: capturable AdamW with a tensor learning rate, autocast without its weight
    cache, three warm-up steps on a side stream first."""
    lr = torch.tensor(LR, device="cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, fused=True, capturable=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    out = {}

    def body():
        with torch.autocast("cuda", dtype=dtype, cache_enabled=False):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            out.setdefault("losses", []).append(body().item())
    torch.cuda.current_stream().wait_stream(side)
    opt.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_loss = body()

    def step():
        graph.replay()
        out["loss"] = static_loss
    step.keep = (model, opt)  # the graph reads and writes their memory: they must outlive it
    return step, out


def setup(way: str, name: str, r: int, x, y, dtype):
    model = build(name, r)
    if way == "eager":
        return eager_step(model, x, y, dtype)
    if way == "graph":
        return graphed_step(model, x, y, dtype)
    if way == "graph-all":
        return whole_graph_step(model, x, y, dtype)
    if way == "compile":
        return eager_step(model, x, y, dtype, "default")
    if way == "compile-ro":
        return eager_step(model, x, y, dtype, "reduce-overhead")
    raise SystemExit(f"unknown way {way!r}: use eager, graph, graph-all, compile, compile-ro")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vim_small_patch16_224")
    ap.add_argument("--r", default="0,11")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--ways", default="eager,graph,graph-all,compile,compile-ro")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=15)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    a = ap.parse_args()
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    torch.manual_seed(1)
    x = torch.randn(a.batch, 3, 224, 224, device="cuda")
    y = torch.randint(0, 1000, (a.batch,), device="cuda")
    steps = {}
    for r in (int(v) for v in a.r.split(",")):
        for way in a.ways.split(","):
            gc.collect()
            torch.cuda.empty_cache()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            step, out = setup(way, a.model, r, x, y, dtype)
            losses = out.get("losses", [])
            while len(losses) < 8:
                step()
                losses.append(out["loss"].item())
            torch.cuda.synchronize()
            peak = (torch.cuda.max_memory_allocated() - base) / 2 ** 30
            print(f"r={r:<3d} {way:10s} set-up + 8 steps {time.perf_counter() - t0:7.1f} s, losses of steps 1 and 8 "
                  f"{losses[0]:.6f} {losses[7]:.6f}, peak added {peak:.2f} GiB", flush=True)
            steps[(r, way)] = step
    for rnd in range(a.rounds):
        for (r, way), step in steps.items():
            sec = timed(step, 0, a.iters)
            print(f"round {rnd} r={r:<3d} {way:10s} {sec * 1e3:8.2f} ms/step {a.batch / sec:8.1f} im/s", flush=True)


if __name__ == "__main__":
    main()
