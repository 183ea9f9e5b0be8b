"""Fit the polynomial the scans' softplus uses for log1p, and print its errors (float64 fit, fp32 evaluation).

``log1p(y) = y q(y)`` for ``y = exp(-|x|)`` in (0, 1]; ``q`` of degree ``--degree`` is fitted to ``log1p(y) / y``
on Chebyshev nodes for the least largest relative error (Lawson's iteratively reweighted least squares). Prints
the coefficients as ``rmeeto.ops.triton.common._softplus`` writes them (fp32, highest degree first), the fit's
largest relative error, and the largest relative error of ``y q(y)`` and of the whole softplus evaluated in fp32
with Horner's rule against float64 (``y`` on a grid of (0, 1], ``x`` on [-30, 30]). Asserts nothing.

    python scripts/fit_softplus_poly.py [--degree 8]
"""
from __future__ import annotations

import argparse

import numpy as np


def fit(degree: int, nodes: int = 4000, rounds: int = 300) -> tuple[np.ndarray, float]:
    """Coefficients (lowest degree first) of q and the fit's largest relative error."""
    k = np.arange(nodes)
    y = 0.5 - 0.5 * np.cos(np.pi * (k + 0.5) / nodes)
    f = np.log1p(y) / y
    V = np.vander(y, degree + 1, increasing=True) / f[:, None]
    w = np.ones_like(y)
    for _ in range(rounds):
        c, *_ = np.linalg.lstsq(V * np.sqrt(w)[:, None], np.sqrt(w), rcond=None)
        err = np.abs(V @ c - 1)
        w = w * err
        w /= w.sum()
    return c, float(err.max())


def horner32(c32: list, y: np.ndarray) -> np.ndarray:
    q = np.full_like(y, c32[-1])
    for cc in c32[-2::-1]:
        q = (q * y + cc).astype(np.float32)
    return q


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--degree", type=int, default=8)
    args = ap.parse_args(argv)
    c, fit_err = fit(args.degree)
    c32 = [np.float32(v) for v in c]
    print("coefficients, highest degree first:", [float(v) for v in c32[::-1]])
    print(f"fit: largest relative error {fit_err:.2e}")
    y = np.linspace(0, 1, 200001)[1:]
    y32 = y.astype(np.float32)
    got = (horner32(c32, y32) * y32).astype(np.float32)
    print(f"log1p(y) = y q(y) in fp32: largest relative error {np.max(np.abs(got - np.log1p(y)) / np.log1p(y)):.2e}")
    x = np.linspace(-30, 30, 600001).astype(np.float32)
    e = np.exp2(np.abs(x) * np.float32(-1.4426950408889634)).astype(np.float32)
    sp = np.where(x > 20, x, np.maximum(x, 0) + horner32(c32, e) * e).astype(np.float32)
    want = np.log1p(np.exp(x.astype(np.float64)))
    print(f"softplus in fp32 on [-30, 30]: largest relative error {np.max(np.abs(sp - want) / want):.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
