"""How long an eager forward takes to enqueue while the GPU is busy with something else, on one GPU.

Each timed call starts behind a ``torch.cuda._sleep`` long enough (``--sleep-ms``) that the GPU is still asleep when
the forward's last launch returns. So the time to that return is the forward's pure host time: nothing it enqueues
can start, and no launch can wait for the GPU unless the launch queue fills (then the call takes about as long as
the sleep, and the script says so). Unpatched and merged models alternate, ``--rounds`` times; for each, prints the
median host time, the median synchronised time of a plain forward (started on an idle GPU), and how many calls
returned only after the sleep had ended. Asserts nothing.

    python scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5 [--batch-size 128] [--rounds 30]
        [--configs ";once.max_tokens=0"]

``--configs``: one ';'-separated entry per ``--r`` entry, each a space-separated list of kernel configuration overrides
(``scripts/with_scan_cfg.py``) in force during that model's calls, so that an r may appear twice, with and without
an override (``--r 0,5,5 --configs ";;once.max_tokens=0"``).

``--no-gc`` turns Python's cyclic garbage collector off for the timed rounds (after one collection), to see how much
of the host time its collections take. ``--python N`` profiles the host-timed calls of each r with cProfile and
prints the N functions with the most own and cumulative time (cProfile's overhead is in those calls' times then).
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import time

import torch

import rmeeto
from profile_compile import call_seconds  # scripts/ is first on sys.path when a script in it runs
from with_scan_cfg import overridden


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
    ap.add_argument("--no-gc", action="store_true", help="Python's garbage collector off for the timed rounds")
    ap.add_argument("--python", type=int, default=0, metavar="N", help="cProfile: top N functions by own time, per r")
    ap.add_argument("--configs", default=None, help="';'-separated overrides, one entry per --r entry")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("host_enqueue.py needs a CUDA GPU (it times enqueuing behind a GPU sleep)")
    rs = [int(v) for v in a.r.split(",")]
    cfgs = a.configs.split(";") if a.configs is not None else [""] * len(rs)
    if len(cfgs) != len(rs):
        raise SystemExit(f"--configs has {len(cfgs)} entries for {len(rs)} values of --r; give one per r")
    models, overrides = {}, {}
    for r, cfg in zip(rs, cfgs):
        m = rmeeto.create_model(a.model).cuda().half().eval()
        label = f"r={r}" + (f" [{cfg}]" if cfg else "")
        models[label], overrides[label] = (rmeeto.patch(m, r=r) if r else m), cfg.split()
    x = torch.randn(a.batch_size, *next(iter(models.values())).input_shape, device="cuda", dtype=torch.float16)
    sleep = int(a.sleep_ms * cycles_per_ms())
    host = {r: [] for r in models}
    synced = {r: [] for r in models}
    late = {r: 0 for r in models}
    prof = {r: cProfile.Profile() for r in models} if a.python else {}
    # as rmeeto bench times inference: fp16 weights under fp16 autocast
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        for r, m in models.items():
            with overridden(overrides[r]):
                for _ in range(5):
                    m(x)
        gc.collect()
        if a.no_gc:
            gc.disable()
        for _ in range(a.rounds):
            for r, m in models.items():
                with overridden(overrides[r]):
                    seconds, was_late = host_seconds_behind_sleep(lambda: _profiled(prof.get(r), m, x), sleep)
                    host[r].append(seconds)
                    late[r] += was_late
                    synced[r].append(call_seconds(m, x, iters=1, wait=True))
        gc.enable()
    print(f"{a.model}, batch {a.batch_size}, fp16 (autocast), {a.rounds} rounds; GPU asleep {a.sleep_ms:.0f} ms "
          f"before each host-timed call; garbage collector {'off' if a.no_gc else 'on'}"
          f"{'; cProfile on' if a.python else ''}")
    for r in models:
        print(f"{r:<6s} host {statistics.median(host[r]) * 1e3:7.2f} ms (min {min(host[r]) * 1e3:6.2f}, "
              f"max {max(host[r]) * 1e3:6.2f}); synchronised {statistics.median(synced[r]) * 1e3:7.2f} ms; "
              f"calls that returned after the sleep ended: {late[r]} of {a.rounds}")
    for r, p in prof.items():
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(p, stream=out).sort_stats(order).print_stats(a.python)
            print(f"# {r}: Python functions by {order} over {a.rounds} host-timed calls (cProfile)")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:8000])
    return 0


def _profiled(prof, m, x):
    if prof is None:
        return m(x)
    prof.enable()
    try:
        return m(x)
    finally:
        prof.disable()


if __name__ == "__main__":
    raise SystemExit(main())
