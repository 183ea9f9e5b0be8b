"""The Python side of one ``selective_scan_fn``-contract call (``selective_scan_triton``), on any machine.

Kernel launches are replaced by a no-op that counts them, the tensors are small CPU ones (so torch's own ops cost
their dispatch, not their arithmetic) and the chunked path is forced (``scan_chunk=64``), as at the video shapes.
What is left is the host time spent outside the launches themselves. Prints the best of 7 x 100 calls, forward
(no grad) and forward + backward, and with ``--cprofile`` the functions by own time. ``--launch-path`` keeps
:func:`rmeeto.ops.triton.launch.launch` and its cache key, and replaces only the compiled kernel's launcher (a
cache that hits with a no-op kernel), so the Python of every launch is timed too.

    PYTHONPATH=src python scripts/profile_contract_host.py [--cprofile] [--launch-path]
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import time
from unittest import mock

os.environ["TRITON_INTERPRET"] = "1"  # the Triton path on CPU tensors; before triton is imported

import torch  # noqa: E402

from rmeeto.ops import settings  # noqa: E402
from rmeeto.ops.triton import layout, scan, scan_chunk  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_host_parts import no_op_launcher  # noqa: E402

LAUNCHES: list[str] = []


def _count_launch(kernel, grid, *args, **meta) -> None:
    LAUNCHES.append(getattr(kernel, "__name__", str(kernel)))


def _inputs(b: int = 1, d: int = 64, L: int = 256, n: int = 16) -> list[torch.Tensor]:
    half = [torch.randn(b, d, L), torch.randn(b, d, L), torch.randn(b, n, L), torch.randn(b, n, L),
            torch.randn(b, d, L)]
    u, delta, B, C, z = (t.half() for t in half)
    xs = [u, delta, -torch.rand(d, n), B, C, torch.randn(d), z, torch.randn(d)]
    return [x.requires_grad_() for x in xs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--launch-path", action="store_true", help="time launch()'s key and call as well")
    a = ap.parse_args()
    with no_op_launcher(LAUNCHES) if a.launch_path else _launches_counted():
        _profile(a.cprofile)


@contextlib.contextmanager
def _launches_counted():
    """Every ``launch()`` of the contract's modules replaced by :func:`_count_launch`."""
    with contextlib.ExitStack() as stack:
        for mod in (scan, scan_chunk, layout):
            stack.enter_context(mock.patch.object(mod, "launch", _count_launch))
        yield


def _profile(cprofile: bool) -> None:
    xs = _inputs()
    g = torch.randn(xs[0].shape).half()

    def forward() -> None:
        with torch.no_grad():
            scan.selective_scan_triton(*xs, True)

    def forward_backward() -> None:
        torch.autograd.grad(scan.selective_scan_triton(*xs, True), xs, g)

    with settings.using(scan_chunk="64"):
        for name, fn in (("forward", forward), ("forward + backward", forward_backward)):
            for _ in range(20):
                fn()
            LAUNCHES.clear()
            best = float("inf")
            for _ in range(7):
                t0 = time.perf_counter()
                for _ in range(100):
                    fn()
                best = min(best, (time.perf_counter() - t0) / 100 * 1e6)
            print(f"{name:20s} {best:7.1f} us per call (best of 7 x 100), {len(LAUNCHES) // 700} launches")
        if cprofile:
            prof = cProfile.Profile()
            prof.runcall(lambda: [forward() for _ in range(200)])
            pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(25)
            prof = cProfile.Profile()
            prof.runcall(lambda: [forward_backward() for _ in range(200)])
            pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
