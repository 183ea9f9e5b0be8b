"""Where a synchronised forward's time goes on one GPU: before its first kernel, between kernels, after its last.

For eager and ``torch.compile`` (each called ``--iters`` times, one call at a time, the GPU idle at the start),
``torch.profiler`` records each call in a ``record_function`` range. Per call, on the profiler's clock:

- ``lead``: from the call's start to the first kernel's start on the GPU (the host work before the first launch,
  plus the launch's latency);
- ``idle``: the GPU's time with no kernel running between the first kernel's start and the last one's end (where
  the host fell behind the GPU), and the gaps that make up most of it, named by the kernel after them;
- ``busy``: the time at least one kernel ran; ``tail``: from the last kernel's end to the call's return after
  synchronising.

The profiler slows the host down, so ``lead`` and ``idle`` read larger than without it; they compare eager and
compiled, and show where the host, not the GPU, sets the pace.

    python scripts/gpu_idle_gaps.py --model vim_tiny_patch16_224 --r 5 --traced-ops --inductor freezing=True
        [--stack-torch]

``--stack-torch``: the traced inference op stacks the two directions' weights with torch ops (which Inductor's
freezing may fold into constants) instead of the one stacking kernel it launches on every call.
"""
from __future__ import annotations

import argparse
import statistics

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from profile_compile import add_model_args, eager_and_compiled

CALL = "rmeeto_timed_call"


def profile_calls(fn, x: torch.Tensor, iters: int) -> list:
    """The profiler's events of ``iters`` synchronised calls, each in its own ``CALL`` range."""
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        for _ in range(iters):
            torch.cuda.synchronize()
            with record_function(CALL):
                fn(x)
                torch.cuda.synchronize()
    return list(prof.events())


def split_calls(events: list) -> list[tuple]:
    """``[(call start, call end, [(kernel start, kernel end, name), ...]), ...]`` in us, kernels sorted by start."""
    calls = sorted((e.time_range.start, e.time_range.end) for e in events
                   if e.name == CALL and e.device_type == torch.autograd.DeviceType.CPU)
    kernels = sorted((e.time_range.start, e.time_range.end, e.name) for e in events  # not the range's GPU copy
                     if e.device_type == torch.autograd.DeviceType.CUDA and e.name != CALL
                     and e.time_range.end > e.time_range.start)
    return [(s, t, [k for k in kernels if s <= k[0] < t]) for s, t in calls]


def call_parts(call: tuple, top: int) -> dict:
    """``lead``, ``idle``, ``busy``, ``tail`` (us) of one call and its ``top`` largest gaps."""
    start, end, kernels = call
    busy = idle = 0.0
    gaps = []
    reach = kernels[0][0]
    for k_start, k_end, name in kernels:
        if k_start > reach:
            idle += k_start - reach
            gaps.append((k_start - reach, name))
        busy += max(0.0, k_end - max(k_start, reach))
        reach = max(reach, k_end)
    return {"lead": kernels[0][0] - start, "idle": idle, "busy": busy, "tail": end - reach, "kernels": len(kernels),
            "gaps": sorted(gaps, reverse=True)[:top]}


def report(name: str, parts: list[dict]) -> None:
    """Median of each part over the calls, and the largest gaps of the median call."""
    med = {k: statistics.median(p[k] for p in parts) for k in ("lead", "idle", "busy", "tail", "kernels")}
    total = med["lead"] + med["idle"] + med["busy"] + med["tail"]
    print(f"{name:9s} {med['kernels']:5.0f} kernels  lead {med['lead']:7.0f}  idle {med['idle']:7.0f}  "
          f"busy {med['busy']:7.0f}  tail {med['tail']:5.0f}  (sum {total:7.0f} us, medians over {len(parts)} calls)")
    typical = sorted(parts, key=lambda p: p["idle"])[len(parts) // 2]
    print("  largest gaps: " + ", ".join(f"{us:.0f} us before {kname[:40]}" for us, kname in typical["gaps"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(ap)
    ap.add_argument("--iters", type=int, default=9)
    ap.add_argument("--top", type=int, default=5)
    a = ap.parse_args()
    fns, x, option_names = eager_and_compiled(a)
    print(f"{a.model} r={a.r} batch {a.batch_size}, traced ops {a.traced_ops}, torch stacking {a.stack_torch}, "
          f"options {option_names} {a.inductor}")
    with torch.inference_mode():
        for fn in fns.values():
            for _ in range(5):
                fn(x)
        for _ in range(2):  # twice, in turns: the host's speed drifts
            for name, fn in fns.items():
                calls = split_calls(profile_calls(fn, x, a.iters))
                report(name, [call_parts(c, a.top) for c in calls if c[2]])


if __name__ == "__main__":
    main()
