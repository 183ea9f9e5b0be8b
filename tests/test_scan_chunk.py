"""The sequence-parallel (chunked) Triton scan against the step-by-step reference, both directions.

``scan_fwd``/``scan_bwd`` (two directions, ``out = scale * (y_0 + y_1)``, direction 1 right to left) in fp32
must match ``selective_scan_ref`` run in fp64 per direction to 1e-5 relative, output and every gradient,
with chunk lengths that do and do not divide L. CPU: the kernels under Triton's interpreter, in a
subprocess (``TRITON_INTERPRET=1 python tests/test_scan_chunk.py``), on small shapes; GPU (``gpu`` mark):
the video lengths.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from unittest import mock

import pytest
import torch

from conftest_data import run_under_interpreter

HAS_TRITON = importlib.util.find_spec("triton") is not None
needs_cuda = pytest.mark.skipif(not (torch.cuda.is_available() and HAS_TRITON), reason="needs CUDA and triton")
TOL = 1e-5


def _reference(ins: dict, scale: float) -> tuple[torch.Tensor, dict]:
    """fp64 output and gradients of the bidirectional scan from the step-by-step oracle."""
    from rmeeto.ops.scan_ref import selective_scan_ref

    ref = {k: (v.clone().requires_grad_() if v is not None and k != "gout" else v) for k, v in ins.items()}
    ys = []
    for d in range(2 if ins["u"].shape[0] == 2 else 1):
        def bdl(x, flip=d == 1):  # (b, L, C) -> (b, C, L), direction 1 reversed
            x = x.transpose(-1, -2)
            return x.flip(-1) if flip else x
        y = selective_scan_ref(bdl(ref["u"][d]), bdl(ref["delta"][d]), ref["A"][d], bdl(ref["B"][d]),
                               bdl(ref["C"][d]), ref["D"][d], bdl(ref["z"]) if ref["z"] is not None else None,
                               ref["bias"][d], True)
        ys.append((y.flip(-1) if d == 1 else y).transpose(1, 2))
    out = scale * sum(ys)
    out.backward(ins["gout"])
    return out.detach(), {k: v.grad for k, v in ref.items() if isinstance(v, torch.Tensor) and v.requires_grad}


def chunk_errors(batch: int, E: int, N: int, L: int, tc, device, ndir: int = 2, scale: float = 0.5,
                 has_z: bool = True, seed: int = 0, dtype=torch.float32, block_e: int = 32) -> dict:
    """Relative max errors of the Triton scan (chunk length ``tc``: int, 0 = step-serial, or "auto") against
    the fp64 reference, plus ``path`` = 1 when the chunked path ran as ``chunk_len`` says it should."""
    from rmeeto.ops.triton import scan as TS

    gen = torch.Generator().manual_seed(seed)

    def r(*s, sc=1.0):
        return torch.randn(*s, generator=gen, dtype=torch.float64) * sc

    ins = dict(u=r(ndir, batch, L, E), delta=r(ndir, batch, L, E, sc=0.5), B=r(ndir, batch, L, N),
               C=r(ndir, batch, L, N), z=r(batch, L, E) if has_z else None,
               A=-torch.rand(ndir, E, N, generator=gen, dtype=torch.float64) * 3, D=r(ndir, E),
               bias=r(ndir, E, sc=0.3), gout=r(batch, L, E))
    out_r, grads_r = _reference(ins, scale)
    t = {k: (v.to(device, dtype if k not in ("A", "D", "bias") else torch.float32) if v is not None else None)
         for k, v in ins.items()}
    cfg = dict(TC=tc, BLOCK_E=block_e)
    calls = []
    real = TS.chunk_states
    TS.chunk_states = lambda *a: calls.append(1) or real(*a)
    try:
        # every buffer the scan allocates starts as NaN: a slot read before any kernel wrote it shows in the errors
        with mock.patch.object(torch, "empty", _poisoned_empty):
            out = torch.empty(batch, L, E, device=device, dtype=dtype)
            args = (t["u"], t["delta"], t["B"], t["C"], t["z"], t["A"], t["D"], t["bias"])
            TS.scan_fwd(*args, out, True, scale, cfg=cfg)
            du, ddelta = torch.empty(t["u"].shape, **_like(t["u"])), torch.empty(t["u"].shape, **_like(t["u"]))
            dz = torch.empty(t["z"].shape, **_like(t["z"])) if has_z else None
            dBC, dA, dD, dbias = TS.scan_bwd(*args, t["gout"], du, ddelta, dz, True, scale, cfg=cfg)
    finally:
        TS.chunk_states = real
    be = min(block_e, 1 << (E - 1).bit_length())
    chunked = [TS.chunk_len(p, L, batch, E, ndir, be, None if tc == "auto" else tc) < L for p in ("fwd", "bwd")]
    got = dict(out=out, u=du, delta=ddelta, B=dBC[..., :N], C=dBC[..., N:], z=dz, A=dA, D=dD, bias=dbias)
    want = dict(grads_r, out=out_r)
    errs = {k: _rel(got[k], want[k]) for k in want}
    errs["chunk_states calls != expected"] = float(len(calls) != sum(chunked))
    return errs


_real_empty = torch.empty


def _poisoned_empty(*size, **kw) -> torch.Tensor:
    """``torch.empty`` filled with NaN (floating dtypes) or -1."""
    t = _real_empty(*size, **kw)
    return t.fill_(float("nan") if t.is_floating_point() else -1)


def _like(t: torch.Tensor) -> dict:
    return dict(device=t.device, dtype=t.dtype)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def _check(errs: dict, tol: float, label: str) -> None:
    bad = {k: v for k, v in errs.items() if not v <= tol}  # NaN fails too
    assert not bad, f"{label}: over {tol}: {bad} (all: {errs})"


# ----------------------------------------------------------------------------------------------
# the selection rule (no kernels)
# ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_chunk_len_rule(monkeypatch):
    from rmeeto.ops import settings
    from rmeeto.ops.triton.scan import chunk_len

    monkeypatch.delenv("RMEETO_SCAN_CHUNK", raising=False)
    assert chunk_len("fwd", 197, 128, 768, 2, 64) == 197  # Vim-S batch 128: step-serial
    assert chunk_len("bwd", 197, 128, 768, 2, 32) == 197
    for batch, E, L in ((32, 768, 1569), (16, 768, 3137), (8, 1152, 1569)):  # video: chunked
        for phase, be in (("fwd", 64), ("bwd", 32)):
            tc = chunk_len(phase, L, batch, E, 2, be)
            assert 16 <= tc < L, (phase, batch, E, L, tc)
    assert chunk_len("fwd", 17, 1, 64, 2, 64) == 17  # too short to split
    assert chunk_len("fwd", 3137, 128, 768, 2, 64) == 3137  # enough programs: step-serial forward
    # VideoMamba-S, batch 32: 384 step-serial programs chunk eagerly; two concurrent launches fill the GPU
    assert chunk_len("fwd", 1569, 32, 768, 2, 64) < 1569
    assert chunk_len("fwd", 1569, 32, 768, 2, 64, split=True) == 1569
    # VideoMamba-Ti, batch 32: chunked either way, and the chunks do not depend on a split the chunked launch never does
    assert chunk_len("fwd", 1569, 32, 384, 2, 64, split=True) == chunk_len("fwd", 1569, 32, 384, 2, 64) == 64
    # Vim-Ti: 768 programs at batch 128 stay step-serial; 384 at batch 64 chunk their 394-step chain; one
    # direction of 197 steps never pays for the chunks' extra passes
    assert chunk_len("fwd", 197, 128, 384, 2, 64) == 197
    assert chunk_len("fwd", 197, 64, 384, 2, 64) < 197
    assert chunk_len("fwd", 197, 32, 384, 1, 64) == 197
    assert 16 <= chunk_len("bwd", 3137, 128, 768, 2, 32) <= 512  # but a long backward is chunked (accuracy)
    assert chunk_len("fwd", 100, 1, 64, 2, 32, forced=0) == 100
    assert chunk_len("fwd", 100, 1, 64, 2, 32, forced=30) == 30
    assert chunk_len("fwd", 100, 1, 64, 2, 32, forced=300) == 100
    with settings.using(scan_chunk="0"):
        assert chunk_len("bwd", 3137, 1, 64, 2, 32) == 3137
    with settings.using(scan_chunk="40"):
        assert chunk_len("bwd", 3137, 128, 768, 2, 32) == 40
    monkeypatch.setenv("RMEETO_SCAN_CHUNK", "40")  # read from the environment after a reset
    settings.reset()
    assert chunk_len("bwd", 3137, 128, 768, 2, 32) == 40
    with settings.using(scan_chunk="many"), pytest.raises(ValueError, match="RMEETO_SCAN_CHUNK"):
        chunk_len("bwd", 3137, 128, 768, 2, 32)


@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_tuned_chunk_len_choice(monkeypatch):
    """``scan_chunk="tune"``: the fastest candidate replaces the rule's length only past the margin; the choice
    is measured once per shape; a capture never measures; every candidate leaves two chunks at least."""
    from rmeeto.ops import settings
    from rmeeto.ops.triton import scan, scan_tune
    from rmeeto.ops.triton.scan import chunk_len

    scan_tune.forget()
    times = {64: 1.0, 48: 0.99, 80: 0.80, 96: 0.90}
    timed = []
    monkeypatch.setattr(scan_tune, "_medians_ms", lambda run, tcs, repeats: timed.extend(tcs) or {
        tc: times.get(tc, 2.0) for tc in tcs})
    assert scan_tune.tuned_chunk_len(("a",), 64, 1569, None, capturing=False) == 80
    assert timed[0] == 64 and sorted(timed) == sorted(scan_tune.candidates(64, 1569))
    timed.clear()
    assert scan_tune.tuned_chunk_len(("a",), 64, 1569, None, capturing=True) == 80 and not timed  # remembered
    assert scan_tune.tuned_chunk_len(("b",), 64, 1569, None, capturing=True) == 64 and not timed  # not measured
    times.update({80: 0.98, 96: 0.985})  # within the margin of the rule's length: keep it
    assert scan_tune.tuned_chunk_len(("c",), 64, 1569, None, capturing=False) == 64
    assert scan_tune.candidates(64, 150) == [64, 48]
    scan_tune.forget()
    with settings.using(scan_chunk="tune"):  # the rule under "tune" is the "auto" rule
        assert chunk_len("fwd", 1569, 32, 768, 2, 64) == scan.chunk_len("fwd", 1569, 32, 768, 2, 64, forced="auto")


@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_tuned_split_choice(monkeypatch):
    """``scan_split="tune"``: the other form replaces the rule's only past the margin, is measured once per shape
    (the rule's form first), and a capture never measures."""
    from rmeeto.ops import settings
    from rmeeto.ops.triton import scan, scan_tune

    scan_tune.forget()
    times = {True: 1.0, False: 0.9}
    timed = []
    monkeypatch.setattr(scan_tune, "_medians_ms", lambda run, forms, repeats: timed.extend(forms) or {
        s: times[s] for s in forms})
    assert scan_tune.tuned_split(("split", 1), True, None, capturing=False) is False and timed == [True, False]
    timed.clear()
    assert scan_tune.tuned_split(("split", 1), True, None, capturing=True) is False and not timed  # remembered
    assert scan_tune.tuned_split(("split", 2), True, None, capturing=True) is True and not timed  # not measured
    times[False] = 0.995  # within the margin: keep the rule's form
    assert scan_tune.tuned_split(("split", 3), True, None, capturing=False) is True
    assert scan_tune.tuned_split(("split", 4), False, None, capturing=False) is False
    scan_tune.forget()
    with settings.using(scan_split="tune"):
        assert scan.split_setting() == "tune"
        assert scan.use_split("tune", for_backward=False, capturing=True, helps=True)
        assert not scan.use_split("tune", for_backward=True, capturing=True, helps=True)
        assert not scan.use_split("tune", for_backward=False, capturing=False, helps=True)
    with settings.using(scan_split="sometimes"), pytest.raises(ValueError, match="use auto, tune, 1"):
        scan.split_setting()


@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_tuners_time_only_real_cuda_tensors():
    """A traced forward (fake CUDA tensors) and the CPU never time the tuners' choices."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from rmeeto.ops.triton.scan import can_time

    with FakeTensorMode():
        fake = torch.empty(2, 3, device="cuda")
    assert fake.is_cuda and not can_time(fake) and not can_time(torch.empty(2, 3))
    if torch.cuda.is_available():
        assert can_time(torch.empty(2, 3, device="cuda"))


def test_tuning_medians_take_turns(monkeypatch):
    """The tuners' timings: one untimed run of each choice, then the choices in turns; the median of each."""
    from rmeeto.ops.triton import scan_tune

    runs, timed = [], []
    clock = iter([5.0, 1.0, 3.0, 2.0, 1.0, 9.0])
    monkeypatch.setattr(scan_tune, "_time_ms", lambda run, c: timed.append(c) or next(clock))
    assert scan_tune._medians_ms(runs.append, ["a", "b"], 3) == {"a": 3.0, "b": 2.0}
    assert runs == ["a", "b"] and timed == ["a", "b"] * 3


# ----------------------------------------------------------------------------------------------
# GPU: the video lengths
# ----------------------------------------------------------------------------------------------
@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("L,tc", [(197, "auto"), (197, 64), (1569, "auto"), (1569, 523), (1569, 100),
                                  (3137, "auto"), (3137, 128), (3137, 0)], ids=str)
def test_chunked_scan_video_lengths(L, tc):
    errs = chunk_errors(2, 40, 16, L, tc, torch.device("cuda"))
    if tc == 0 and L > 2048:
        # the step-serial backward, forced over a sequence the dispatch would chunk (chunk_len, LONG_L):
        # its dA was 1.43e-5 off on one H200 (2026-12-01); every other quantity within 1e-5
        assert errs.pop("A") <= 2e-5, errs
    _check(errs, TOL, f"L={L} TC={tc}")


def _fp16_scan_inputs(b: int, L: int, E: int, N: int = 16) -> tuple:
    """Seeded fp16 inputs and fp32 parameters of a two-direction forward scan on the GPU (``scan_fwd``'s order)."""
    dev, nd = torch.device("cuda"), 2
    g = torch.Generator(device=dev).manual_seed(0)
    u, dl = (torch.randn(nd, b, L, E, device=dev, generator=g).half() for _ in range(2))
    B, C = (torch.randn(nd, b, L, N, device=dev, generator=g).half() for _ in range(2))
    z = torch.randn(b, L, E, device=dev, generator=g).half()
    A = -torch.rand(nd, E, N, device=dev, generator=g) * 3
    D, bias = torch.randn(nd, E, device=dev, generator=g), torch.randn(nd, E, device=dev, generator=g) * 0.3
    return u, dl, B, C, z, A, D, bias


def _run_captured(fn) -> None:
    """Capture ``fn`` in a CUDA graph on a fresh stream, replay it once and wait for it."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.stream(stream), torch.cuda.graph(graph):
        fn()
    graph.replay()
    torch.cuda.synchronize()


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("measured", [None, True, False], ids=["measured", "two-streams", "one-launch"])
def test_tuned_split_cuda(monkeypatch, measured):
    """The measured captured form: an eager inference forward under ``scan_split="tune"`` measures it once and
    returns the one-launch forward's values; a later capture takes the remembered form (a forced memory in the
    other cases) and gives that form's eager values."""
    from rmeeto.ops import settings
    from rmeeto.ops.triton import scan as TS, scan_tune

    scan_tune.forget()
    b, L, E = 4, 197, 64
    args = _fp16_scan_inputs(b, L, E)
    new_out = lambda: torch.empty(b, L, E, device="cuda", dtype=torch.half)
    with settings.using(scan_split="tune"):
        eager = TS.scan_fwd(*args, new_out(), True, 0.5, for_backward=False)
        (key, split), = scan_tune._TUNED.items()
        assert key[0] == "split" and isinstance(split, bool)
        assert torch.equal(eager, TS.scan_fwd(*args, new_out(), True, 0.5, cfg=dict(SPLIT=False), for_backward=False))
        if measured is not None:
            scan_tune._TUNED[key] = split = measured
        want = TS.scan_fwd(*args, new_out(), True, 0.5, cfg=dict(SPLIT=split), for_backward=False)
        split_calls = []
        real_split = TS._scan_fwd_split
        monkeypatch.setattr(TS, "_scan_fwd_split", lambda *a, **k: split_calls.append(1) or real_split(*a, **k))
        out = new_out()
        _run_captured(lambda: TS.scan_fwd(*args, out, True, 0.5, for_backward=False))
        assert len(split_calls) == int(split) and torch.equal(out, want) and len(scan_tune._TUNED) == 1
    scan_tune.forget()


@pytest.mark.gpu
@needs_cuda
def test_tuned_chunk_len_cuda():
    """The measured chunk length: the tuned forward equals the forward forced to the length it chose, the choice
    is remembered, and a forward captured in a CUDA graph reuses it."""
    from rmeeto.ops import settings
    from rmeeto.ops.triton import scan as TS, scan_tune

    scan_tune.forget()
    nd, b, L, E = 2, 4, 1569, 64
    args = _fp16_scan_inputs(b, L, E)
    with settings.using(scan_chunk="tune"):
        tuned = TS.scan_fwd(*args, torch.empty(b, L, E, device="cuda", dtype=torch.half), True, 0.5)
        (key, tc), = scan_tune._TUNED.items()
        assert key[0] == L and tc in scan_tune.candidates(TS.chunk_len("fwd", L, b, E, nd, 64), L)
        forced = TS.scan_fwd(*args, torch.empty_like(tuned), True, 0.5, cfg=dict(TC=tc))
        assert torch.equal(tuned, forced)
        out = torch.empty_like(tuned)
        _run_captured(lambda: TS.scan_fwd(*args, out, True, 0.5))
        assert torch.equal(out, forced) and len(scan_tune._TUNED) == 1
    scan_tune.forget()


@pytest.mark.gpu
@needs_cuda
def test_chunked_scan_one_direction_sum():
    """One direction, VideoMamba's out_scale 1, no gate, a non-power-of-two state size."""
    _check(chunk_errors(3, 70, 12, 1569, 96, torch.device("cuda"), ndir=1, scale=1.0, has_z=False), TOL, "ndir=1")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
def test_chunked_scan_half_no_worse(dtype):
    """Half-precision inputs at a video length: the chunked scan's error against the fp64 truth is no more
    than 1.25x the step-serial scan's on the same inputs (every output and gradient)."""
    dev = torch.device("cuda")
    serial = chunk_errors(2, 64, 16, 1569, 0, dev, dtype=dtype)
    chunked = chunk_errors(2, 64, 16, 1569, 64, dev, dtype=dtype)
    bad = {k: (v, serial[k]) for k, v in chunked.items() if not v <= 1.25 * serial[k] + 1e-6}
    assert not bad, f"{dtype}: (chunked, serial) errors: {bad}"


# ----------------------------------------------------------------------------------------------
# CPU: the same kernels under Triton's interpreter (subprocess)
# ----------------------------------------------------------------------------------------------
INTERPRETER_CASES = [  # (batch, E, N, L, TC, extra kwargs)
    (2, 5, 4, 1, "auto", {}),
    (1, 3, 3, 2, 1, {}),  # divides
    (1, 3, 3, 3, 2, {}),  # does not divide
    (2, 10, 4, 17, 4, dict(block_e=4)),  # does not divide; three channel blocks, the last one partial
    (1, 6, 5, 17, 17, dict(scale=1.0, has_z=False)),  # one chunk: the step-serial path
    (1, 4, 4, 64, 32, dict(ndir=1, scale=1.0)),  # divides
    (1, 3, 4, 64, 24, {}),  # does not divide
    (1, 3, 4, 50, 2, {}),  # 25 chunks: several carry blocks (CARRY_CFG's K, K_ADJ), the last partial
    (2, 20, 4, 40, 1, dict(ndir=1)),  # 40 one-step chunks: many carry blocks; two carry channel blocks
]


def _interpreter_main() -> int:
    assert os.environ.get("TRITON_INTERPRET") == "1", "set TRITON_INTERPRET=1 before running"
    failed = 0
    for batch, E, N, L, tc, kw in INTERPRETER_CASES:
        errs = chunk_errors(batch, E, N, L, tc, torch.device("cpu"), **kw)
        ok = all(v <= TOL for v in errs.values())
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} L={L} TC={tc} {kw}: max rel err {max(errs.values()):.2e}"
              + ("" if ok else f" {errs}"), flush=True)
    return 1 if failed else 0


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_chunked_scan_interpreter_cpu():
    proc = run_under_interpreter(__file__, timeout=600, unset=("RMEETO_SCAN_CHUNK",))
    assert proc.returncode == 0, proc.stdout + proc.stderr


if __name__ == "__main__":
    sys.exit(_interpreter_main())
