"""The CPU torch scan: ``selective_scan_torch``'s step loop against a chunked (two-level) form, forward + backward.

The chunked form runs every chunk of ``T`` steps from a zero state at once (``T`` steps over
(chunks, batch, dim, state) tensors), carries the states over the chunks (``L / T`` steps), then adds each
chunk's entering state decayed by ``exp(cumsum(delta A))`` within the chunk (exponents <= 0, so it stays
stable). It issues about ``2 sqrt(L)`` tensor operations instead of ``L``, at about twice the arithmetic.
Prints the best of three wall times per shape and the relative difference of the outputs.

    PYTHONPATH=src python scripts/bench_cpu_scan_forms.py
"""
from __future__ import annotations

import math
import time

import torch

from rmeeto.ops.scan_ref import _finish, _prepare, selective_scan_torch


def selective_scan_chunked(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, T=None):
    """The chunked form (see the module doc); variable B/C of shape (b, n, l) only."""
    dtype = u.dtype
    u, delta, A, B, C = _prepare(u, delta, A, B, C, delta_bias, delta_softplus)
    b, d, L = u.shape
    n = A.shape[1]
    T = T or max(1, int(math.sqrt(L)))
    nc = -(-L // T)
    pad = nc * T - L
    la = delta.permute(2, 0, 1).unsqueeze(-1) * A  # (L, b, d, n) log-decays (<= 0)
    Bl = B.permute(3, 0, 1, 2)
    Cl = C.permute(3, 0, 1, 2)
    dBu = (delta * u).permute(2, 0, 1).unsqueeze(-1) * Bl
    if pad:
        la = torch.cat([la, la.new_zeros(pad, b, d, n)])
        dBu = torch.cat([dBu, dBu.new_zeros(pad, b, d, n)])
    la = la.view(nc, T, b, d, n)
    dBu = dBu.view(nc, T, b, d, n)
    dA = la.exp()
    # every chunk from zero, all chunks at once: T steps
    h = dBu.new_zeros(nc, b, d, n)
    hs = []
    for t in range(T):
        h = torch.addcmul(dBu[:, t], dA[:, t], h)
        hs.append(h)
    hl = torch.stack(hs, 1)  # (nc, T, b, d, n)
    decay = la.cumsum(1).exp()  # (nc, T, b, d, n): decay from the chunk's start to t (<= 1)
    # carry the states over chunks: nc steps
    H = dBu.new_zeros(b, d, n)
    Hs = []
    for c in range(nc):
        Hs.append(H)
        H = torch.addcmul(hl[c, -1], decay[c, -1], H)
    Hin = torch.stack(Hs, 0)  # state entering each chunk
    hfull = hl + decay * Hin[:, None]
    hfull = hfull.view(nc * T, b, d, n)[:L]
    y = (hfull * Cl).sum(-1).permute(1, 2, 0)
    return _finish(y, u, D, z, dtype)


def bench(fn, args, reps: int = 3) -> float:
    """Best wall time of forward + backward."""
    best = 1e9
    for _ in range(reps):
        xs = [a.detach().clone().requires_grad_(a.is_floating_point()) if a is not None else None for a in args]
        t = time.perf_counter()
        y = fn(*xs[:5], D=xs[5], z=xs[6], delta_bias=xs[7], delta_softplus=True)
        y.float().square().mean().backward()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for (b, d, L, n) in [(2, 16, 17, 4), (4, 64, 65, 8), (32, 384, 197, 16), (64, 384, 197, 16)]:
        u, dl, z = torch.randn(b, d, L), torch.randn(b, d, L) * 0.5, torch.randn(b, d, L)
        A, D, bias = -torch.rand(d, n) - 0.5, torch.randn(d), torch.randn(d) * 0.1
        Bm, Cm = torch.randn(b, n, L), torch.randn(b, n, L)
        args = [u, dl, A, Bm, Cm, D, z, bias]
        y1 = selective_scan_torch(*args[:5], D=D, z=z, delta_bias=bias, delta_softplus=True)
        y2 = selective_scan_chunked(*args[:5], D=D, z=z, delta_bias=bias, delta_softplus=True)
        err = ((y1 - y2).abs().max() / y1.abs().max()).item()
        t1, t2 = bench(selective_scan_torch, args), bench(selective_scan_chunked, args)
        print(f"b{b} d{d} L{L} n{n}: step loop {t1 * 1e3:8.1f} ms  chunked {t2 * 1e3:8.1f} ms  "
              f"speed-up {t1 / t2:5.2f}x  rel diff {err:.1e}", flush=True)


if __name__ == "__main__":
    main()
