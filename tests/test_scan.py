import pytest
import torch

from rmeeto.ops import available_backends, settings, resolve_backend, selective_scan, selective_scan_ref, selective_scan_torch


def inputs(b=2, d=6, n=4, l=9, layout="bnl", dtype=torch.float32, g=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=gen, dtype=dtype)
    u, delta, z = r(b, d, l), r(b, d, l) * 0.5, r(b, d, l)
    A = -torch.rand(d, n, generator=gen, dtype=dtype) * 2 - 0.1
    shape = {"bnl": (b, n, l), "bgnl": (b, g, n, l), "dn": (d, n)}[layout]
    return u, delta, A, r(*shape), r(*shape), r(d), z, r(d) * 0.1


@pytest.mark.parametrize("layout", ["bnl", "bgnl", "dn"])
@pytest.mark.parametrize("l", [1, 2, 7, 33, 70])
def test_vectorised_matches_oracle(layout, l):
    u, delta, A, B, C, D, z, bias = inputs(l=l, layout=layout)
    for kwargs in ({}, dict(D=D, z=z, delta_bias=bias, delta_softplus=True), dict(D=D, delta_softplus=True)):
        ref = selective_scan_ref(u, delta, A, B, C, **kwargs)
        got = selective_scan_torch(u, delta, A, B, C, **kwargs)
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5 * ref.abs().max().item())


def test_random_shapes():
    gen = torch.Generator().manual_seed(1)
    for i in range(6):
        b, d, n, l = (int(torch.randint(1, k, (1,), generator=gen)) for k in (4, 20, 17, 200))
        args = inputs(b, d, n, l, seed=i)
        u, delta, A, B, C, D, z, bias = args
        ref = selective_scan_ref(u, delta, A, B, C, D, z, bias, True)
        torch.testing.assert_close(selective_scan_torch(u, delta, A, B, C, D, z, bias, True), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", [selective_scan_torch, selective_scan_ref])
def test_gradcheck_fp64(fn):
    u, delta, A, B, C, D, z, bias = inputs(b=1, d=3, n=2, l=5, dtype=torch.float64)
    tensors = [t.requires_grad_() for t in (u, delta, A, B, C, D, z, bias)]
    assert torch.autograd.gradcheck(lambda *t: fn(*t[:7], delta_bias=t[7], delta_softplus=True), tensors)


def test_output_dtype_follows_input():
    u, delta, A, B, C, D, z, bias = inputs()
    out = selective_scan_torch(u.bfloat16(), delta.bfloat16(), A, B.bfloat16(), C.bfloat16(), D, z.bfloat16())
    assert out.dtype == torch.bfloat16


def test_dispatch_on_cpu(monkeypatch, caplog):
    import logging

    from rmeeto.ops import dispatch

    monkeypatch.delenv("RMEETO_BACKEND", raising=False)
    monkeypatch.setattr(dispatch, "_announced", set())
    with caplog.at_level(logging.INFO, logger="rmeeto.ops"):
        assert resolve_backend("cpu") == "torch"
    assert "cpu tensors use the 'torch' backend" in caplog.text  # it says what it chose
    assert available_backends("cpu") == ["ref", "torch"]
    with settings.using(backend="ref"):
        assert resolve_backend("cpu") == "ref"
    with settings.using(backend="triton"), pytest.raises(RuntimeError, match="cannot run on cpu"):
        resolve_backend("cpu")
    monkeypatch.setenv("RMEETO_BACKEND", "ref")  # the environment is read at import and by reset()
    settings.reset()
    assert resolve_backend("cpu") == "ref"
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend("cpu", "cuda-magic")
    u, delta, A, B, C, D, z, bias = inputs()
    torch.testing.assert_close(selective_scan(u, delta, A, B, C, D, z, bias, True, backend="torch"),
                               selective_scan_ref(u, delta, A, B, C, D, z, bias, True), rtol=1e-5, atol=1e-5)


def test_auto_choice_on_cuda(monkeypatch):
    from rmeeto.ops import dispatch

    monkeypatch.delenv("RMEETO_BACKEND", raising=False)
    monkeypatch.setattr(dispatch, "available_backends", lambda d: ["ref", "torch", "triton", "mamba_ssm"])
    assert dispatch.resolve_backend("cuda") == "triton"
    monkeypatch.setattr(dispatch, "available_backends", lambda d: ["ref", "torch", "mamba_ssm"])
    assert dispatch.resolve_backend("cuda") == "mamba_ssm"
    monkeypatch.setattr(dispatch, "available_backends", lambda d: ["ref", "torch"])
    assert dispatch.resolve_backend("cuda") == "torch"
