"""The cheap kernel launch's key (``rmeeto.ops.triton.launch``), on the CPU: it must separate whatever
Triton specialises a kernel on. The launch itself is tested on a GPU in ``test_gpu_launch.py``."""
from __future__ import annotations

import importlib
import os
import sys

import pytest
import torch

pytest.importorskip("triton")
from rmeeto.ops import settings  # noqa: E402
from rmeeto.ops.triton import launch as L  # noqa: E402

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "scripts")


def script_module(name: str):
    """A module of ``scripts/`` (they import each other by name), imported with that folder first on the path."""
    sys.path.insert(0, SCRIPTS)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def test_key_separates_alignment_dtype_and_integer_values():
    t = torch.zeros(64)

    def spec(arg):
        return L._specs((arg,))[0]

    assert spec(t) == (torch.float32, True)
    assert spec(t[1:]) == (torch.float32, False)  # 4 bytes past a 16-byte boundary
    assert spec(t.half()) == (torch.float16, True)
    assert spec(torch.nn.Parameter(t)) == (torch.float32, True)  # a subclass of Tensor
    assert spec(1) != spec(2) and spec(16) != spec(32)
    assert spec(0.5) == spec(2.0)  # float arguments are never specialised
    assert spec(None) is None and spec(True) is True
    assert L._specs((t[1:], 3, 0.5, None)) == [(torch.float32, False), 3, float, None]  # in order


def test_an_unknown_triton_takes_its_own_path(monkeypatch):
    monkeypatch.setattr(L, "_INTERPRETING", False)
    monkeypatch.setattr(L, "_KNOWN", False)
    assert not L._enabled()


def test_interpreter_and_switch_off_take_tritons_path(monkeypatch):
    monkeypatch.setattr(L, "_INTERPRETING", True)
    assert not L._enabled()
    monkeypatch.setattr(L, "_INTERPRETING", False)
    monkeypatch.setattr(L, "_KNOWN", True)
    assert L._enabled()
    with settings.using(fast_launch=False):
        assert not L._enabled()
    monkeypatch.setenv("RMEETO_FAST_LAUNCH", "0")
    assert not settings.from_env().fast_launch


class _Compiled:
    function, packed_metadata = "function", "metadata"

    def __init__(self):
        self.runs = []

    def run(self, *args):
        self.runs.append(args)


class _Kernel:
    """Stands in for a JITFunction: ``kernel[grid](...)`` is Triton's own path."""
    arg_names = ["x_ptr", "n", "BLOCK", "EVEN"]

    def __init__(self):
        self.own_path, self.compiled = 0, _Compiled()

    def __getitem__(self, grid):
        def go(*args, **meta):
            self.own_path += 1
            return self.compiled
        return go


def test_cached_launch_passes_grid_stream_and_every_argument_in_order(monkeypatch):
    monkeypatch.setattr(L, "_INTERPRETING", False)
    monkeypatch.setattr(L, "_KNOWN", True)  # the launcher convention of Triton 3.3-3.8, whatever is installed
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch._C, "_cuda_getCurrentRawStream", lambda device: 1234, raising=False)
    k, x = _Kernel(), torch.zeros(64)
    L.launch(k, (4,), x, 7, BLOCK=64, EVEN=True, num_warps=1)
    assert k.own_path == 1 and not k.compiled.runs  # compiled and launched by Triton's own path
    L.launch(k, (4, 2), x, 7, BLOCK=64, EVEN=True, num_warps=1)
    assert k.own_path == 1
    assert k.compiled.runs == [(4, 2, 1, 1234, "function", "metadata", None, None, None, x, 7, 64, True)]
    for args, meta in [((x[1:], 7), dict(BLOCK=64, EVEN=True)),  # another alignment
                       ((x, 8), dict(BLOCK=64, EVEN=True)),  # another integer
                       ((x, 7), dict(BLOCK=32, EVEN=True))]:  # another constexpr
        L.launch(k, (4,), *args, **meta, num_warps=1)
    assert k.own_path == 4 and len(k.compiled.runs) == 1


def test_grid_helpers_equal_tritons():
    import triton

    assert all(L.cdiv(a, b) == triton.cdiv(a, b) for a in range(0, 400) for b in range(1, 70))
    assert all(L.next_pow2(n) == triton.next_power_of_2(n) for n in range(0, 5000))


def _scan_inputs(ndir=2, batch=2, L=8, E=64, N=16):
    g = torch.Generator().manual_seed(0)
    u = torch.randn(ndir, batch, L, E, generator=g)
    return (u, torch.randn_like(u), torch.randn(ndir, batch, L, N, generator=g), torch.randn(ndir, batch, L, N, generator=g),
            torch.randn(batch, L, E, generator=g), -torch.ones(ndir, E, N), torch.ones(ndir, E), torch.zeros(ndir, E),
            torch.empty(batch, L, E))


@pytest.mark.parametrize("ndir,cfg,cap_key", [
    (2, {"SPLIT": True, "SUM_GATE": 0}, "maxnreg"), (2, {"SPLIT": True}, "SPLIT_MAXNREG"), (1, {}, "maxnreg"),
    (2, {}, None), (2, {"TC": 4}, None), (1, {"TC": 4}, None)],
    ids=["two-stream-gated", "two-stream-ungated", "one-direction", "two-directions", "chunked", "chunked-one-direction"])
def test_the_register_caps_reach_exactly_the_step_serial_one_direction_forward_launches(monkeypatch, ndir, cfg, cap_key):
    """``maxnreg`` caps one-direction launches that gate their output, ``SPLIT_MAXNREG`` the split forward's ungated
    ones; no other launch is capped."""
    from rmeeto.ops.triton import scan, scan_chunk

    metas = []
    record = lambda kernel, grid, *args, **meta: metas.append((kernel.__name__, meta))  # noqa: E731
    monkeypatch.setattr(scan, "launch", record)
    monkeypatch.setattr(scan_chunk, "launch", record)
    u, dl, B, C, z, A, D, bias, out = _scan_inputs(ndir)
    for cap in (scan.FWD_CFG["maxnreg"], 96, 0):
        metas.clear()
        other = {"maxnreg": 104, "SPLIT_MAXNREG": 112}  # the cap that must not be used
        caps = {**other, cap_key: cap} if cap_key else {k: cap for k in other}
        scan.scan_fwd(u, dl, B, C, z, A, D, bias, out, True, 0.5, cfg=dict(cfg, **caps))
        fwd = [meta for name, meta in metas if name == "_scan_fwd_seq_kernel"]
        assert len(fwd) == (2 if cfg.get("SPLIT") else 1)
        assert all(m["NDIR"] == ndir if not cfg.get("SPLIT") else m["NDIR"] == 1 for m in fwd)
        assert {m.get("maxnreg") for m in fwd} == {cap or None if cap_key else None}, (cap, fwd)
        assert all("maxnreg" not in meta for name, meta in metas if name != "_scan_fwd_seq_kernel")


@pytest.mark.parametrize("E,batch,sms,want", [(768, 128, 132, 128), (384, 128, 132, 64), (1536, 128, 132, 128),
                                              (768, 64, 132, 64), (768, 32, 1, 128), (40, 128, 1, 64)])
def test_the_split_forward_takes_wide_programs_only_where_they_fill_the_gpu(monkeypatch, E, batch, sms, want):
    """128-channel programs where the two launches' programs reach 8 per multiprocessor (Vim-S and Vim-B at batch 128
    on an H200's 132), 64 otherwise (Vim-Ti; smaller batches); never wider than the width's power of two."""
    from rmeeto.ops.triton import scan

    monkeypatch.setattr(scan, "sm_count", lambda device: sms)
    meta = dict(BLOCK_E=64, BLOCK_N=16, NDIR=2, EVEN=True)
    got = scan.split_meta(scan.FWD_CFG, meta, E, 16, batch, torch.device("cpu"))
    assert got["BLOCK_E"] == want and got["NDIR"] == 1 and got["EVEN"] == (E % want == 0)
    assert "maxnreg" not in got  # no cap on the ungated scans by default
    gated = scan.split_meta(dict(scan.FWD_CFG, SUM_GATE=0), meta, E, 16, batch, torch.device("cpu"))
    assert gated["BLOCK_E"] == 64 and gated["maxnreg"] == scan.FWD_CFG["maxnreg"]  # the gate in each scan: as before


def test_scan_configuration_overrides_are_checked_and_undone():
    import types

    overridden = script_module("with_scan_cfg").overridden
    from rmeeto.ops import settings
    from rmeeto.ops.triton import scan

    from rmeeto.ops.triton import bimamba, stack

    def state():
        return (dict(scan.FWD_CFG), dict(scan.BWD_CFG), dict(bimamba.CONV_FWD_CFG), settings.current(),
                bimamba.biconv_fwd, dict(stack.STACK_CFG))

    before = state()
    prev = types.ModuleType("rmeeto_test_prev_kernels")
    prev.biconv_fwd = lambda *args: None
    sys.modules[prev.__name__] = prev
    try:
        with overridden(["fwd.maxnreg=0", "bwd.T=16", "set.merge_norm=0", "set.scan_split=off", "sg.num_warps=2",
                         "conv.BLOCK_L=32", f"swap.bimamba.biconv_fwd={prev.__name__}", "stack.BLOCK_E=8",
                         "set.graph_weights=frozen"]):
            assert stack.STACK_CFG["BLOCK_E"] == 8 and settings.current().graph_weights == "frozen"
            assert scan.FWD_CFG["maxnreg"] == 0 and scan.BWD_CFG["T"] == 16 and not settings.current().merge_norm
            assert settings.current().scan_split == "off" and scan.SUM_GATE_CFG["num_warps"] == 2
            assert bimamba.CONV_FWD_CFG["BLOCK_L"] == 32 and bimamba.biconv_fwd is prev.biconv_fwd
        assert state() == before
        for bad, message in [("fwd.no_such_key=1", "TABLE.KEY=INT"), ("set.no_such_field=1", "TABLE.KEY=INT"),
                             ("set.backend=1", "TABLE.KEY=INT"), ("set.scan_split=maybe", "TABLE.KEY=INT"),
                             ("set.merge_norm=yes", "TABLE.KEY=INT"), ("set.graph_weights=fixed", "TABLE.KEY=INT"), ("conv.no_such_key=1", "TABLE.KEY=INT"),
                             ("swap.bimamba.no_such_fn=rmeeto.ops.triton.scan", "swap.MOD.NAME=MODULE"),
                             ("swap.bimamba.biconv_fwd=no_such_module", "swap.MOD.NAME=MODULE"),
                             ("swap.bimamba.CONV_FWD_CFG=rmeeto.ops.triton.bimamba", "not a function")]:
            with pytest.raises(SystemExit, match=message):
                with overridden(["conv.BLOCK_L=32", f"swap.bimamba.biconv_fwd={prev.__name__}", bad]):
                    pass
            assert state() == before
    finally:
        sys.modules.pop(prev.__name__)


def test_profile_compile_options_are_parsed_and_checked():
    """``scripts/profile_compile.py``'s ``--skip-module-guards`` and ``--inductor KEY=VALUE`` become
    ``torch.compile`` options (values read as Python literals, never run); a flag without ``=`` is refused."""
    compile_options = script_module("profile_compile").compile_options
    opts = compile_options(True, ["freezing=True", "size_asserts=False", "max_autotune_gemm_backends='ATEN'"])
    assert opts == {"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe, "freezing": True,
                    "size_asserts": False, "max_autotune_gemm_backends": "ATEN"}
    assert compile_options(False, []) == {}
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        compile_options(False, ["freezing"])
    with pytest.raises(ValueError):
        compile_options(False, ["freezing=__import__('os')"])


def test_merge_curve_check_names_every_r_that_costs():
    """``scripts/bench_merge_curve.py --check`` judges each r by the median over rounds of its rate over r=0's in the
    same round: a drift shared by a round is no cost, a slower median is; ``--r all`` is every r in 1..top."""
    curve = script_module("bench_merge_curve")
    _print_interleaved, _r_values = curve._print_interleaved, curve._r_values
    assert _r_values("all", 4) == [1, 2, 3, 4]
    assert _r_values("0,3,99,2", 5) == [2, 3, 5]
    base = [100.0, 50.0, 100.0]  # round 2 ran on a slower GPU
    rates = [base, [101.0, 51.0, 99.0], [99.0, 49.0, 98.0], [120.0, 60.0, 90.0]]
    assert _print_interleaved("m", [0, 1, 2, 3], rates) == [2]  # r=1: median 1.01; r=2: 0.98; r=3: 1.2


def test_gpu_idle_gaps_splits_a_call_into_lead_idle_busy_and_tail():
    """``scripts/gpu_idle_gaps.py``: kernels are assigned to the call they start in; overlapping kernels count once
    as busy; a gap is named by the kernel after it; the four parts add up to the call's length; the range's own GPU
    copy is not a kernel."""
    from types import SimpleNamespace as NS

    gaps = script_module("gpu_idle_gaps")
    cpu, cuda = torch.autograd.DeviceType.CPU, torch.autograd.DeviceType.CUDA

    def ev(name, start, end, dev):
        return NS(name=name, device_type=dev, time_range=NS(start=start, end=end))

    events = [ev(gaps.CALL, 0, 100, cpu), ev(gaps.CALL, 0, 100, cuda), ev("a", 10, 20, cuda), ev("b", 15, 30, cuda),
              ev("c", 40, 50, cuda), ev("d", 70, 80, cuda), ev(gaps.CALL, 200, 260, cpu), ev("e", 210, 250, cuda),
              ev("aten::mm", 12, 14, cpu)]
    first, second = gaps.split_calls(events)
    assert [k[2] for k in first[2]] == ["a", "b", "c", "d"] and [k[2] for k in second[2]] == ["e"]
    parts = gaps.call_parts(first, top=1)
    assert (parts["lead"], parts["idle"], parts["busy"], parts["tail"]) == (10, 30, 40, 20)
    assert parts["gaps"] == [(20, "d")] and parts["kernels"] == 4
    assert sum(gaps.call_parts(second, top=3)[k] for k in ("lead", "idle", "busy", "tail")) == 60


def test_guard_rounds_alternate_evaluated_and_skipped_guards():
    """``scripts/profile_guards.py``'s ``guard_eval_rounds`` times rounds with Dynamo's guards evaluated and, between
    them, rounds that run the compiled code without evaluating them: a call that breaks a guard in a round of the
    second kind runs the old compiled code."""
    guard_eval_rounds = script_module("profile_guards").guard_eval_rounds

    class Flipped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.negate = False

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 3 if self.negate else x * 2  # an op: a graph without one is not compiled

    torch._dynamo.reset()
    model, x, results = Flipped(), torch.ones(1), []
    compiled = torch.compile(model, backend="eager")
    compiled(x)  # the one compiled entry: negate is False

    def per_call() -> float:
        model.negate = len(results) == 1  # the second call breaks the guard on ``negate``
        results.append(compiled(x).item())
        model.negate = False
        return float(len(results))

    try:
        rows = guard_eval_rounds(per_call, 2)
    finally:
        torch._dynamo.reset()
    assert rows == {"guards evaluated": [1.0, 3.0], "guards not evaluated": [2.0, 4.0]}
    assert results == [2.0, 2.0, 2.0, 2.0]  # the second call ran the old code: its guards were not evaluated


def test_host_parts_script_prints_every_part():
    """``scripts/bench_host_parts.py`` (behind the host-time records) runs its parts table on the CPU and prints a
    time for each row; in a subprocess, because it stubs the merge and norm launches for the rest of its process."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.path.join(SCRIPTS, os.pardir, "src"))
    proc = subprocess.run([sys.executable, os.path.join(SCRIPTS, "bench_host_parts.py"), "--number", "2",
                           "--repeat", "1"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines()[1:] if line.strip()]
    names = [row.rsplit(None, 1)[0] for row in rows]
    assert any(n.startswith("add + RMSNorm") for n in names) and any(n.startswith("one-launch plan") for n in names)
    assert len(rows) == 15 and all(float(row.rsplit(None, 1)[1]) >= 0 for row in rows)
