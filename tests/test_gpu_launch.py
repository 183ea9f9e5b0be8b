"""The cheap kernel launch (``rmeeto.ops.triton.launch``) on a GPU: a compiled kernel is reused only for
arguments that Triton would specialise the same way (alignment, integer values, constexprs)."""
from __future__ import annotations

import pytest
import torch

triton = pytest.importorskip("triton")
import triton.language as tl  # noqa: E402

from rmeeto.ops.triton import launch as L  # noqa: E402

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@triton.jit
def _scaled_copy(x_ptr, y_ptr, n, stride, a, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    tl.store(y_ptr + i * stride, tl.load(x_ptr + i * stride, mask=m) * a, mask=m)


def _run(x: torch.Tensor, stride: int, a: float, block: int) -> torch.Tensor:
    n = x.numel() // stride if stride else 0
    y = torch.zeros_like(x)
    L.launch(_scaled_copy, (triton.cdiv(max(n, 1), block),), x, y, n, stride, a, BLOCK=block)
    return y


def test_reuse_keeps_each_specialisation_apart():
    base = torch.randn(4097, device="cuda")
    cases = [(base[:4096], 1, 2.0, 128), (base[1:], 1, 3.0, 128), (base[:4096], 2, -1.0, 128),
             (base[:1], 1, 0.5, 128), (base[:4096], 1, 2.0, 64), (base[1:4097].half(), 1, 1.5, 128)]
    for _ in range(3):  # the first round compiles through Triton, the later ones take the cached launcher
        for x, stride, a, block in cases:
            n = x.numel() // stride
            want = torch.zeros_like(x)
            want[: n * stride: stride] = x[: n * stride: stride] * a
            torch.testing.assert_close(_run(x, stride, a, block), want)
    mine = sum(1 for k in L._COMPILED if k[0] == id(_scaled_copy))
    assert mine == len(cases), (mine, len(L._COMPILED), L._enabled(), L._hooked())


def test_profiler_hooks_take_tritons_path(monkeypatch):
    knobs = pytest.importorskip("triton.knobs")
    calls = []
    monkeypatch.setattr(knobs.runtime, "launch_enter_hook", lambda *a: calls.append(1))
    x = torch.randn(256, device="cuda")
    torch.testing.assert_close(_run(x, 1, 2.0, 128), 2 * x)
    assert calls
