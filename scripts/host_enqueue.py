"""How long an eager forward takes to enqueue while the GPU is busy with something else, on one GPU.

Each timed call starts behind a ``torch.cuda._sleep`` long enough (``--sleep-ms``) that the GPU is still asleep when
the forward's last launch returns. So the time to that return is the forward's pure host time: nothing it enqueues
can start, and no launch can wait for the GPU unless the launch queue fills (then the call takes about as long as
the sleep, and the script says so). Unpatched and merged models alternate, ``--rounds`` times; for each, prints the
median host time, the median synchronised time of a plain forward (started on an idle GPU), and how many calls
returned only after the sleep had ended. Asserts nothing.

    python scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5 [--batch-size 128] [--rounds 30]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import rmeeto
from profile_compile import call_seconds  # scripts/ is first on sys.path when a script in it runs


def cycles_per_ms() -> float:
    """GPU clock cycles per millisecond of ``torch.cuda._sleep``, measured once."""
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.cuda._sleep(10_000_000)
    end.record()
    end.synchronize()
    return 10_000_000 / start.elapsed_time(end)


def host_seconds_behind_sleep(fn, sleep_cycles: int) -> tuple[float, bool]:
    """(seconds for ``fn()`` to return while the GPU sleeps, whether the sleep had ended by then)."""
    torch.cuda.synchronize()
    woke = torch.cuda.Event()
    torch.cuda._sleep(sleep_cycles)
    woke.record()
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    late = woke.query()
    torch.cuda.synchronize()
    return seconds, late


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--r", default="0,5", help="comma list of r; 0 is unpatched")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--sleep-ms", type=float, default=150.0)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("host_enqueue.py needs a CUDA GPU (it times enqueuing behind a GPU sleep)")
    models = {}
    for r in (int(v) for v in a.r.split(",")):
        m = rmeeto.create_model(a.model).cuda().half().eval()
        models[r] = rmeeto.patch(m, r=r) if r else m
    x = torch.randn(a.batch_size, *models[0 if 0 in models else next(iter(models))].input_shape,
                    device="cuda", dtype=torch.float16)
    sleep = int(a.sleep_ms * cycles_per_ms())
    host = {r: [] for r in models}
    synced = {r: [] for r in models}
    late = {r: 0 for r in models}
    # as rmeeto bench times inference: fp16 weights under fp16 autocast
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        for m in models.values():
            for _ in range(5):
                m(x)
        for _ in range(a.rounds):
            for r, m in models.items():
                seconds, was_late = host_seconds_behind_sleep(lambda: m(x), sleep)
                host[r].append(seconds)
                late[r] += was_late
                synced[r].append(call_seconds(m, x, iters=1, wait=True))
    print(f"{a.model}, batch {a.batch_size}, fp16 (autocast), {a.rounds} rounds; GPU asleep {a.sleep_ms:.0f} ms "
          "before each host-timed call")
    for r in models:
        print(f"r={r:<3d} host {statistics.median(host[r]) * 1e3:7.2f} ms (min {min(host[r]) * 1e3:6.2f}, "
              f"max {max(host[r]) * 1e3:6.2f}); synchronised {statistics.median(synced[r]) * 1e3:7.2f} ms; "
              f"calls that returned after the sleep ended: {late[r]} of {a.rounds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
