"""Host time of one call of each custom op that a compiled forward calls, with the kernels stubbed out.

The launches inside the ops are replaced by functions that return preallocated tensors, so what is timed is the
route from ``torch.ops.rmeeto.<op>`` to the op's Python body and back: the op registered through ``custom_op``
(with the autograd formula where the op has one, and without one, as a twin in a probe namespace) against the op
registered without autograd (what a compiled forward without autograd calls), and the plain Python call of the
body. CPU tensors under ``torch.no_grad``, the ways interleaved in rounds, median per way. Numbers only.

    PYTHONPATH=src python scripts/bench_op_dispatch.py [--repeats 20000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch


def per_call_us(ways: list, args, calls: int, rounds: int) -> list[float]:
    """Median microseconds per call of each way, the ways interleaved in every round."""
    times: list[list[float]] = [[] for _ in ways]
    with torch.no_grad():
        for _ in range(rounds):
            for i, (_, fn) in enumerate(ways):
                t0 = time.perf_counter()
                for _ in range(calls):
                    fn(*args)
                times[i].append((time.perf_counter() - t0) / calls * 1e6)
    return [statistics.median(t) for t in times]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()

    from rmeeto.models.mixer import BiMambaMixer
    from rmeeto.ops.triton import bimamba as tb, library, merge as tm, norm as tn, stack_cache

    B, T, C = 2, 9, 16
    h, res, w = torch.randn(B, T, C), torch.randn(B, T, C), torch.randn(C)
    out = (torch.empty(B, T, C), torch.empty(B, T, C))
    tn.add_rmsnorm_fwd = lambda *args: out
    norm_args = (h, res, w, 1e-5)
    slot, owner = torch.zeros(B, T, dtype=torch.int32), torch.zeros(B, T - 3, dtype=torch.int32)
    idx = torch.zeros(B, 3, dtype=torch.int32)
    merged_out = (torch.empty(B, T - 3, C), torch.empty(B, T - 3, C))
    tm._add_norm_launch = lambda *args: merged_out
    merge_args = (h, res, w, slot, torch.ones(B, T), owner, idx, owner.clone(), owner.clone(), True, 1e-5)
    mix = BiMambaMixer(C, d_state=4)
    fwd, bwd = mix.direction_params(False), mix.direction_params(True)
    core_out = (torch.empty(B, T, C), torch.empty(2, B * T, 16), torch.empty(2, B, T, C))
    stack_cache.cached_stack_params = lambda *args: (None,) * 7
    tb.bimamba_fwd = lambda *args: core_out
    core_args = (torch.randn(B, T, 2 * C), *fwd.tensors(), *bwd.tensors(), torch.float32, 0.5)

    def custom_op_twin(name, impl, fake):
        """The body registered through custom_op without an autograd formula (how bimamba_inference and merge_plan
        were registered before 2026-12-02)."""
        op = torch.library.custom_op(f"rmeeto_probe::{name}", impl, mutates_args=())
        op.register_fake(fake)
        return getattr(torch.ops.rmeeto_probe, name).default

    ops = torch.ops.rmeeto
    rows = [
        ("add_rmsnorm", [("custom_op, with autograd", ops.add_rmsnorm.default),
                         ("custom_op, no formula", custom_op_twin("add_rmsnorm", library._add_rmsnorm_impl,
                                                                  library._add_rmsnorm_fake)),
                         ("without autograd", ops.add_rmsnorm_inference.default),
                         ("Python body", library._add_rmsnorm_impl)], norm_args),
        ("merge_add_rmsnorm", [("custom_op, with autograd", ops.merge_add_rmsnorm.default),
                               ("custom_op, no formula",
                                custom_op_twin("merge_add_rmsnorm", library._merge_add_rmsnorm_impl,
                                               library._merge_add_rmsnorm_fake)),
                               ("without autograd", ops.merge_add_rmsnorm_inference.default),
                               ("Python body", library._merge_add_rmsnorm_impl)], merge_args),
        ("bimamba_inference", [("custom_op, no formula",
                                custom_op_twin("bimamba_inference", library._bimamba_inference,
                                               library._bimamba_inference_fake)),
                               ("without autograd", ops.bimamba_inference.default),
                               ("Python body", library._bimamba_inference)], core_args),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; us per call, median of {a.rounds} rounds "
          f"of {a.repeats}")
    for name, ways, args in rows:
        per_call_us(ways, args, a.repeats // 10, 1)  # warm-up
        for (way, _), us in zip(ways, per_call_us(ways, args, a.repeats, a.rounds)):
            print(f"{name:20s} {way:26s} {us:7.2f}", flush=True)


if __name__ == "__main__":
    main()
