"""rmeeto's Triton selective scan against mamba_ssm's CUDA ``selective_scan_fn``, one direction, fp16, N 16.

Median ms from ``triton.testing.do_bench`` (``--cuda-graph``: of replays of a graph of each call, so that neither
side's host time counts); the ratio is mamba_ssm's time over rmeeto's (above 1: rmeeto is faster). mamba_ssm's
package ``__init__`` imports transformers, so its ``ops`` subpackage is loaded without it. Then (unless
``--no-copies``), per shape, the channels-last copy of one (b, d, l) fp16 tensor that ``selective_scan_triton``
makes of ``u``, ``delta`` and ``z`` (and of the output gradient): ``Tensor.contiguous()`` against
:mod:`rmeeto.ops.triton.layout` at each ``--layout-cfgs`` entry (BLOCK_C/BLOCK_L/num_warps).

    python scripts/bench_vs_mamba_ssm.py --shapes 128x768x197,32x768x1569
    python scripts/bench_vs_mamba_ssm.py --contract-ab 3    # ours alone: the forward now against two other forms
"""
from __future__ import annotations

import argparse
import cProfile
import importlib
import importlib.util
import pstats
import sys
import time
import types
from pathlib import Path

import torch
from triton.testing import do_bench

import rmeeto

from rmeeto.cuda_graphs import graphed
from rmeeto.ops import dispatch
from rmeeto.ops.triton import scan_chunk
from rmeeto.ops.triton.layout import to_channels_last
from rmeeto.ops.triton.scan import selective_scan_triton

SHAPES = "128x768x197,128x1536x197,32x768x1569,16x768x3137,8x1152x1569"


def mamba_selective_scan():
    """``selective_scan_fn`` without running ``mamba_ssm/__init__.py``."""
    root = Path(importlib.util.find_spec("mamba_ssm").submodule_search_locations[0])
    pkg = types.ModuleType("mamba_ssm")
    pkg.__path__ = [str(root)]
    sys.modules.setdefault("mamba_ssm", pkg)
    return importlib.import_module("mamba_ssm.ops.selective_scan_interface").selective_scan_fn


def inputs(b: int, d: int, L: int, n: int = 16, requires_grad: bool = False):
    g = torch.Generator(device="cuda").manual_seed(0)
    kw = dict(device="cuda", generator=g)
    u = torch.randn(b, d, L, dtype=torch.float16, **kw)
    delta = (0.5 * torch.randn(b, d, L, **kw)).half()
    A = -torch.rand(d, n, **kw) - 0.5
    B, C = torch.randn(b, n, L, **kw).half(), torch.randn(b, n, L, **kw).half()
    D, z, bias = torch.randn(d, **kw), torch.randn(b, d, L, **kw).half(), torch.randn(d, **kw) * 0.1
    xs = [u, delta, A, B, C, D, z, bias]
    return [x.requires_grad_(requires_grad) for x in xs]


def time_ms(fn, xs, backward: bool, cuda_graph: bool = False) -> float:
    """do_bench median ms of one call (forward, or forward + backward); with ``cuda_graph``, of one replay of a graph
    of that call, so that neither side's host time counts."""
    g = torch.randn_like(xs[0])
    call = (lambda: torch.autograd.grad(fn(*xs, True), [x for x in xs], g)) if backward else (lambda: fn(*xs, True))
    with torch.set_grad_enabled(backward):
        return do_bench(graphed(call, xs[0].device) if cuda_graph else call)


def model_check() -> None:
    """A Vim-S (4 blocks, merged r=11) on the mamba_ssm backend against the Triton one: logits and gradients."""
    torch.manual_seed(0)
    m = rmeeto.patch(rmeeto.create_model("vim_small_patch16_224", depth=4, num_classes=10), r=11).cuda()
    x = torch.randn(4, 3, 224, 224, device="cuda")
    out = {}
    for backend in ("triton", "mamba_ssm"):
        m.backend = backend
        m.zero_grad()
        y = m(x)
        y.square().mean().backward()
        out[backend] = (y.detach(), {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None})
    (ya, ga), (yb, gb) = out["triton"], out["mamba_ssm"]
    worst = max(((ga[n] - gb[n]).norm() / gb[n].norm()).item() for n in gb)
    print(f"Vim-S r=11, fp32: logits rel diff {((ya - yb).norm() / yb.norm()).item():.2e}, worst gradient rel diff "
          f"{worst:.2e} (mamba_ssm backend against triton)")


def copy_table(shapes: list[str], cfgs: list[str]) -> None:
    """ms and GB/s (read + write) of one (b, d, l) fp16 tensor copied channels-last, torch against each tile config."""
    print(f"{'channels-last copy':24s} {'torch ms':>9s} {'GB/s':>6s} " + " ".join(f"{c:>16s}" for c in cfgs))
    for shape in shapes:
        b, d, L = map(int, shape.split("x"))
        x = torch.randn(b, d, L, device="cuda").half()
        gb = 2 * x.numel() * x.element_size() / 1e9
        ref = x.transpose(1, 2).contiguous()
        t_torch = do_bench(lambda: x.transpose(1, 2).contiguous())
        cells = []
        for c in cfgs:
            bc, bl, w = map(int, c.split("/"))
            cfg = dict(BLOCK_C=bc, BLOCK_L=bl, num_warps=w)
            assert torch.equal(to_channels_last(x, cfg=cfg)[0], ref)
            t = do_bench(lambda: to_channels_last(x, cfg=cfg))
            cells.append(f"{t:7.3f} {gb / t * 1e3:5.0f}GB/s")
        print(f"{shape:24s} {t_torch:9.3f} {gb / t_torch * 1e3:6.0f} " + " ".join(f"{c:>16s}" for c in cells),
              flush=True)


def _call_times(call) -> dict:
    """Host time to enqueue, synchronized wall time and do_bench time per call, in us (before torch's profiler runs in
    this process)."""
    times = {}
    for what in ("host time per call (to enqueue 20 back to back)", "wall per call (20 back to back, synchronized)"):
        t0 = time.perf_counter()
        for _ in range(20):
            call()
        if what.startswith("wall"):
            torch.cuda.synchronize()
        times[what] = (time.perf_counter() - t0) / 20 * 1e6
        torch.cuda.synchronize()
    times["do_bench (L2 flushed before each call)"] = do_bench(call) * 1e3
    return times


def _print_kernel_times(call) -> None:
    """Device time per kernel of ``call``, averaged over 20 calls, from torch's profiler."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(20):
            call()
        torch.cuda.synchronize()
    events = sorted(prof.key_averages(), key=lambda e: -e.device_time_total)
    for e in events:
        if e.device_time_total > 0:
            print(f"  {e.device_time_total / 20:9.1f}  x{e.count // 20:<3d} {e.key[:90]}")
    print(f"  {sum(e.self_device_time_total for e in events) / 20:9.1f}  total")


def profile(shape: str, backward: bool) -> None:
    """Where the contract's time goes at ``shape``: device time per kernel of one ``selective_scan_triton`` call
    (forward, or forward + backward), its host, wall and do_bench times, and for the forward a host cProfile."""
    b, d, L = map(int, shape.split("x"))
    xs = inputs(b, d, L, requires_grad=backward)
    g = torch.randn(b, d, L, device="cuda").half()

    def call():
        y = selective_scan_triton(*xs, True)
        if backward:
            torch.autograd.grad(y, xs, g)

    for _ in range(5):
        call()
    torch.cuda.synchronize()
    times = _call_times(call)
    print(f"{shape} {'forward + backward' if backward else 'forward'}: device us per call, by kernel")
    _print_kernel_times(call)
    for what, us in times.items():
        print(f"  {us:9.1f}  {what}")
    if not backward:
        stats = cProfile.Profile()
        stats.runcall(lambda: [call() for _ in range(50)])
        torch.cuda.synchronize()
        print("  host profile of 50 forward calls (cProfile, by own time):")
        pstats.Stats(stats, stream=sys.stdout).sort_stats("tottime").print_stats(12)


def contract_ab(shapes: list[str], rounds: int) -> None:
    """Ours alone, the contract's forward as it is against two other forms, in alternating rounds, each call as
    enqueued and as a graph replay; medians over the rounds in ms. ``A copied``: the forward kernels read a
    channels-contiguous copy of A (one launch more, as until 2026-12-05; since scan_fwd lost its ``A_states`` argument,
    two at the chunked shapes) instead of A as the contract keeps it (states contiguous); ``Function``: the autograd Function entered even where no gradient is wanted (as until 2026-12-05)."""
    from rmeeto.ops.triton import scan

    plain = scan.scan_fwd

    def copied(u, delta, B, C, z, A, *rest, **kw):
        return plain(u, delta, B, C, z, A.transpose(1, 2).contiguous().transpose(1, 2), *rest, **kw)

    def through_function(u, delta, A, B, C, D, z, bias, softplus):
        return scan._SelectiveScanFn.apply(u, delta, A, B, C, D, z, bias, softplus)

    variants = (("now", plain, selective_scan_triton), ("A copied", copied, selective_scan_triton),
                ("Function", plain, through_function))
    print(f"{'batch x width x length':24s} {'variant':10s} {'fwd':>7s} {'fwd graph':>9s} {'f+b':>7s} {'f+b graph':>9s}")
    for shape in shapes:
        b, d, L = map(int, shape.split("x"))
        xs, xg = inputs(b, d, L), inputs(b, d, L, requires_grad=True)
        times: dict = {name: [] for name, _, _ in variants}
        for _ in range(rounds):
            for name, fwd, fn in variants:
                scan.scan_fwd = fwd
                try:
                    times[name].append([time_ms(fn, x, bw, g) for x, bw in ((xs, False), (xg, True))
                                        for g in (False, True)])
                finally:
                    scan.scan_fwd = plain
        for name, rows in times.items():
            med = [sorted(col)[len(col) // 2] for col in zip(*rows)]
            print(f"{shape:24s} {name:10s} {med[0]:7.3f} {med[1]:9.3f} {med[2]:7.3f} {med[3]:9.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--layout-cfgs", default="64/64/4,32/64/4,64/128/4,128/64/8,32/32/2")
    ap.add_argument("--copies-only", action="store_true", help="only the channels-last copy table (no mamba_ssm)")
    ap.add_argument("--profile", default="", help="only the kernel breakdown of our scan at these shapes")
    ap.add_argument("--cuda-graph", action="store_true",
                    help="time graph replays of each call (the kernels alone, for both sides) instead of the calls")
    ap.add_argument("--no-copies", action="store_true", help="skip the channels-last copy table")
    ap.add_argument("--carry", default="", help="the chunk carry's BLOCK_E/K/num_warps (scan_chunk.CARRY_CFG)")
    ap.add_argument("--contract-ab", type=int, default=0, metavar="ROUNDS",
                    help="only ours: the contract's forward now against two other forms, this many rounds (no mamba_ssm)")
    a = ap.parse_args()
    if a.contract_ab:
        contract_ab(a.shapes.split(","), a.contract_ab)
        return
    if a.carry:
        be, k, w = map(int, a.carry.split("/"))
        scan_chunk.CARRY_CFG.update(BLOCK_E=be, K=k, num_warps=w)
        print("CARRY_CFG", scan_chunk.CARRY_CFG)
    for shape in filter(None, a.profile.split(",")):
        profile(shape, False)
        profile(shape, True)
    if a.profile:
        return
    if a.copies_only:
        copy_table(a.shapes.split(","), a.layout_cfgs.split(","))
        return
    theirs = mamba_selective_scan()
    print("mamba_ssm usable as a backend here:", "mamba_ssm" in dispatch.available_backends("cuda"))
    model_check()
    print("timed:", "one CUDA-graph replay per call" if a.cuda_graph else "each call as enqueued")
    print(f"{'batch x width x length':24s} {'fwd ms ours':>11s} {'theirs':>7s} {'ratio':>6s} "
          f"{'f+b ms ours':>11s} {'theirs':>7s} {'ratio':>6s} {'max |diff| out':>14s}")
    for shape in a.shapes.split(","):
        b, d, L = map(int, shape.split("x"))
        xs = inputs(b, d, L)
        with torch.no_grad():
            diff = (selective_scan_triton(*xs, True).float() - theirs(*xs, True).float()).abs().max().item()
        f_ours, f_theirs = (time_ms(f, xs, False, a.cuda_graph) for f in (selective_scan_triton, theirs))
        xg = inputs(b, d, L, requires_grad=True)
        b_ours, b_theirs = (time_ms(f, xg, True, a.cuda_graph) for f in (selective_scan_triton, theirs))
        print(f"{shape:24s} {f_ours:11.3f} {f_theirs:7.3f} {f_theirs / f_ours:5.2f}x {b_ours:11.3f} {b_theirs:7.3f} "
              f"{b_theirs / b_ours:5.2f}x {diff:14.2e}", flush=True)
    if not a.no_copies:
        copy_table(a.shapes.split(","), a.layout_cfgs.split(","))


if __name__ == "__main__":
    main()
