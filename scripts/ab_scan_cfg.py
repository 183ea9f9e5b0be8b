"""Time scan configurations against each other at the model level, interleaved, in one process.

Timings of one configuration after another drift with the GPU's state (on one H200, 2026-12-01, the same code
measured 10 % apart minutes apart). Here every configuration's forward is captured in its own CUDA graph of
the same model and input (or, with ``--train``, its training step runs eagerly), and the configurations take
turns, in a rotating order, for ``--rounds`` rounds of ``--iters`` timed iterations each. ``--eager`` times the
eager forward instead of a graph (its host time included), each configuration in force while it runs. Prints each
configuration's median, lowest and highest images per second over the rounds and its median ratio to the first,
and for forwards how far its fp16 logits are from the first configuration's (:func:`_differences`).

    PYTHONPATH=src python scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 \\
        --configs "fwd.maxnreg=128;fwd.maxnreg=0" [--rounds 7] [--iters 20] [--batch 128] [--train | --eager]

A configuration is a space-separated list of ``fwd.KEY=INT`` / ``bwd.KEY=INT`` / ``set.FIELD=VALUE``
(``scripts/with_scan_cfg.py``);
an empty one is the defaults. A configuration may repeat: each copy gets its own graph, and so its own memory, so
a repeated one (``";;fwd.maxnreg=0"``) measures how much the buffers' placement alone moves a result.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from with_scan_cfg import overridden  # noqa: E402


def _steps(model, configs: list[list[str]], batch: int, train: bool, eager: bool = False) -> tuple[list, list]:
    """One callable per configuration: a graph replay of the fp16 forward (the eager forward with ``eager``), or an
    eager bf16 training step; and one holder per configuration of the latest logits its forward gave (empty when
    training)."""
    from rmeeto.bench import for_inference, training_step
    from rmeeto.cuda_graphs import graphed

    dev = torch.device("cuda")
    model.to(dev)
    x = torch.randn(batch, *model.input_shape, device=dev)
    if train:
        step = training_step(model, x, torch.bfloat16)
        return [step for _ in configs], []
    xin = for_inference(model, x, torch.float16)
    holders: list[list] = [[None] for _ in configs]

    def forward_into(holder: list):
        def fwd() -> None:
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
                holder[0] = model(xin)
        return fwd
    out = []
    for cfg, holder in zip(configs, holders):
        fwd = forward_into(holder)
        if eager:
            out.append(fwd)
            continue
        with overridden(cfg):
            out.append(graphed(fwd, dev, idempotent=True))
    return out, holders


def _differences(steps: list, holders: list, configs: list[list[str]]) -> list[tuple[float, float]]:
    """Each configuration's logit difference from the first's, relative to the first's largest logit of the same
    image: the largest over the batch and the median image's. A merged model's merge choices are discrete, so a
    rounding difference that flips one image's choice moves that image's logits far (the largest) while the rest
    agree to rounding (the median)."""
    logits = []
    for cfg, step, holder in zip(configs, steps, holders):
        with overridden(cfg):
            step()
        logits.append(holder[0].float().clone())
    base = logits[0]
    scale = base.abs().amax(1).clamp_min(1e-12)
    per_image = [(y - base).abs().amax(1) / scale for y in logits]
    return [(d.max().item(), d.median().item()) for d in per_image]


def _time(step, iters: int) -> float:
    """Mean seconds per step of ``iters`` steps enqueued back to back (``rmeeto bench --timing pipelined``)."""
    from rmeeto.bench import _timeit

    return _timeit(step, torch.device("cuda"), 0, iters, timing="pipelined")[0][0]


def compare(model_name: str, setting: dict, configs: list[list[str]], batch: int, rounds: int, iters: int,
            train: bool, eager: bool = False) -> tuple[list[list[float]], list[float]]:
    """Images per second of every configuration in every round, and (forwards only) each configuration's largest
    logit differences from the first's (:func:`_differences`)."""
    import rmeeto

    model = rmeeto.create_model(model_name)
    if setting:
        rmeeto.patch(model, **setting)
    steps, holders = _steps(model, configs, batch, train, eager)
    for cfg, step in zip(configs, steps):  # warm-up (and, for training, compilation) of each configuration
        with overridden(cfg):
            _time(step, 3)
    rates: list[list[float]] = [[] for _ in configs]
    for k in range(rounds):
        order = [(k + i) % len(configs) for i in range(len(configs))]
        for i in order:
            with overridden(configs[i]):
                rates[i].append(batch / _time(steps[i], iters))
    return rates, _differences(steps, holders, configs) if holders else []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="vim_small_patch16_224")
    ap.add_argument("--r", default="0", help="comma list of merge r (0: unmerged)")
    ap.add_argument("--configs", required=True, help="';'-separated configurations, the first the baseline")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iters", type=int, default=20)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--train", action="store_true", help="the bf16 AdamW training step, eager")
    mode.add_argument("--eager", action="store_true", help="the fp16 forward without a CUDA graph")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to time")
        return 0
    configs = [c.split() for c in args.configs.split(";")]
    timed = "bf16 training step" if args.train else "fp16 forward, eager" if args.eager else "fp16 forward, CUDA graph"
    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | {args.model} batch {args.batch} {timed} | "
          f"{args.rounds} rounds x {args.iters} iterations, images/s")
    for r in (int(v) for v in args.r.split(",")):
        rates, diffs = compare(args.model, {"r": r} if r else {}, configs, args.batch, args.rounds, args.iters,
                               args.train, args.eager)
        base = rates[0]
        for k, (cfg, rs) in enumerate(zip(configs, rates)):
            ratio = statistics.median(a / b for a, b in zip(rs, base))
            diff = f"  logits vs first: max {diffs[k][0]:.1e} median {diffs[k][1]:.1e}" if diffs else ""
            print(f"r={r:<3d} {' '.join(cfg) or 'defaults':28s} median {statistics.median(rs):9.1f}  "
                  f"min {min(rs):9.1f}  max {max(rs):9.1f}  vs first {ratio:.3f}x{diff}", flush=True)
        _print_measured_splits()
    return 0


def _print_measured_splits() -> None:
    """The captured forms that ``set.scan_split=tune`` measured (``rmeeto.ops.triton.scan_tune``), then forgets them."""
    from rmeeto.ops.triton import scan_tune

    for key, split in list(scan_tune._TUNED.items()):
        if key[0] == "split":
            print(f"  tune: length {key[1]} batch {key[2]} width {key[3]}: {'two streams' if split else 'one launch'}")
    scan_tune.forget()


if __name__ == "__main__":
    sys.exit(main())
