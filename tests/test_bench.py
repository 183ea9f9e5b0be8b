"""rmeeto.bench as a library: typed settings in, rows out (no command line involved)."""
import time

import pytest

from conftest_data import TINY_KW  # also puts src/ on sys.path
from rmeeto.bench import BenchConfig, check_bench, run_bench
from rmeeto.cli_checks import UsageError


def _cfg(**kw):
    base = dict(model="vim_tiny_patch16_224", model_kwargs=TINY_KW, settings=[("r", 0), ("r", 2)],
                device="cpu", dtype="fp32", batch_size=2, warmup=0, iters=1)
    return BenchConfig(**{**base, **kw})


def test_run_bench_takes_a_config(capsys):
    cfg = _cfg(backends=["torch", "ref"])
    check_bench(cfg)
    rows = run_bench(cfg)
    assert [(r["backend"], r["setting"]) for r in rows] == [
        ("torch", "r=0"), ("torch", "r=2"), ("ref", "r=0"), ("ref", "r=2")]
    assert rows[0]["speedup"] == 1.0 and rows[0]["ratio"] == 0.0 < rows[1]["ratio"]
    assert all(r["mode"] == "infer" and r["batch_size"] == 2 and r["im_per_s"] > 0 for r in rows)
    assert "r=2" in capsys.readouterr().out


def test_check_bench_names_the_fix():
    with pytest.raises(UsageError, match="--merge 'nope' is unknown"):
        check_bench(_cfg(merges=["nope"]))
    with pytest.raises(UsageError, match="--iters must be at least 1"):
        check_bench(_cfg(iters=0))


def test_merge_cost_is_profiled_only_where_blocks_merge(capsys):
    rows = run_bench(_cfg(merge_cost=True))
    assert rows[0]["merge_ms"] == 0.0  # unpatched: no merge block ran
    assert 0.0 < rows[1]["merge_ms"] < rows[1]["ms_per_batch"]
    out = capsys.readouterr().out
    assert "merge ms" in out and "share" in out
    with pytest.raises(UsageError, match="--merge-cost profiles inference forwards"):
        check_bench(_cfg(merge_cost=True, train=True))


def test_a_forward_outside_label_merges_takes_no_profiler_range():
    import torch
    from rmeeto import create_model, patch
    from rmeeto.patch import MERGE_RANGE, label_merges

    model = patch(create_model("vim_tiny_patch16_224", **TINY_KW), r=2).eval()
    x = torch.randn(1, *model.input_shape)

    def ranges(labelled: bool) -> int:
        with torch.no_grad(), torch.profiler.profile() as prof:
            if labelled:
                with label_merges():
                    model(x)
            else:
                model(x)
        return sum(e.count for e in prof.key_averages() if e.key == MERGE_RANGE)

    assert ranges(False) == 0
    assert ranges(True) == sum(1 for r in model._rmeeto_cfg._resolved["schedule"] if r > 0)


class _Event:
    """A profiler event as ``launched_in_ranges_us`` reads it (the accessors of torch's kineto events)."""

    def __init__(self, name, device, start, end, corr=0, annotation=False):
        self._v = (name, device, start, end, corr, annotation)

    def name(self):
        return self._v[0]

    def device_type(self):
        return self._v[1]

    def start_ns(self):
        return self._v[2]

    def end_ns(self):
        return self._v[3]

    def duration_ns(self):
        return self._v[3] - self._v[2]

    def correlation_id(self):
        return self._v[4]

    def is_user_annotation(self):
        return self._v[5]


def test_merge_cost_counts_what_the_ranges_launch_by_correlation():
    from torch.autograd import DeviceType

    from rmeeto.bench import launched_in_ranges_us

    cpu, gpu = DeviceType.CPU, DeviceType.CUDA
    events = [
        _Event("rmeeto::merge", cpu, 100, 200),
        _Event("cuLaunchKernelEx", cpu, 110, 115, corr=7),  # a Triton launch inside the range
        _Event("cudaLaunchKernel", cpu, 150, 155, corr=8),  # a torch op's launch inside it
        _Event("cudaLaunchKernel", cpu, 250, 255, corr=9),  # outside: not merge work
        _Event("aten::add", cpu, 120, 130, corr=10),  # an op's id is not a CUDA correlation id
        _Event("_plan_kernel", gpu, 1000, 1030, corr=7),
        _Event("_apply_kernel", gpu, 1040, 1056, corr=8),
        _Event("other_kernel", gpu, 1060, 1500, corr=9),
        _Event("stray_kernel", gpu, 1500, 1600, corr=10),
        _Event("rmeeto::merge", gpu, 1000, 1056, corr=7, annotation=True),  # the range's device-side span
    ]
    assert launched_in_ranges_us(events, "rmeeto::merge") == pytest.approx((30 + 16) / 1e3)
    assert launched_in_ranges_us(events, "no such range") == 0.0


def test_training_rows_come_from_real_optimizer_steps():
    import torch

    import rmeeto
    from rmeeto.bench import measure, training_step

    model = rmeeto.create_model("vim_tiny_patch16_224", **TINY_KW)
    before = [p.detach().clone() for p in model.parameters()]
    step = training_step(model, torch.randn(2, *model.input_shape), torch.float32)
    assert model.training
    step()
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())  # zeroed for the next step
    row = measure(model, batch_size=2, device="cpu", dtype="fp32", train=True, warmup=0, iters=1)
    assert row["im_per_s"] > 0 and row["ratio"] == 0.0


def _fake_step_and_sync(monkeypatch, host_s: float, device_s: float):
    """A step whose host part sleeps ``host_s`` and whose synchronisation then waits ``device_s``."""
    import rmeeto.bench as bench

    monkeypatch.setattr(bench, "_sync", lambda device: time.sleep(device_s))
    return lambda: time.sleep(host_s)


def test_timeit_splits_the_host_part_from_the_wait(monkeypatch):
    from rmeeto.bench import _timeit

    step = _fake_step_and_sync(monkeypatch, host_s=0.002, device_s=0.008)
    times, host = _timeit(step, None, warmup=0, iters=3)
    assert len(times) == len(host) == 3
    for t, h in zip(times, host):
        assert h >= 0.002 and t - h >= 0.008  # the wait after the host part counts in the step, not in its host part


def test_pipelined_timing_synchronises_once_after_the_last_step(monkeypatch):
    """ToMe's loop: the steps run back to back, the wait comes once at the end and is shared by all of them."""
    import rmeeto.bench as bench

    syncs = []
    monkeypatch.setattr(bench, "_sync", lambda device: (syncs.append(len(steps)), time.sleep(0.03)))
    steps = []
    times, host = bench._timeit(lambda: (steps.append(1), time.sleep(0.002)), None, warmup=2, iters=3,
                                timing="pipelined")
    assert syncs == [2, 5]  # after the warm-up and after the last timed step only
    assert len(times) == len(host) == 1
    assert host[0] >= 0.002 and times[0] >= host[0] + 0.03 / 3  # the one wait, spread over the three steps


def test_pipelined_rows_give_one_figure_per_round(monkeypatch):
    from rmeeto import bench

    seen, real = [], bench.measure

    def spy(model, *a, **k):
        res = real(model, *a, **k)
        seen.append(len(res["step_s"]))
        return res
    monkeypatch.setattr(bench, "measure", spy)
    rows = run_bench(_cfg(iters=4, rounds=2, timing="pipelined"))
    assert seen == [1, 1, 1, 1] and all(r["timing"] == "pipelined" and r["im_per_s"] > 0 for r in rows)
    with pytest.raises(UsageError, match="--timing 'tome' is unknown; choose from synced,pipelined"):
        check_bench(_cfg(timing="tome"))


def test_host_bound_rows_are_marked_and_explained(capsys):
    from rmeeto.bench import HOST_BOUND_SHARE, host_bound, host_bound_note, print_row

    row = dict(backend="triton", setting="r=5", ratio=0.3, gflops=1.0, im_per_s=100.0, speedup=1.0, ideal=1.4,
               of_ideal=0.7, peak_mem_gb=1.0, ms_per_batch=10.0)
    cpu, waited, starved = dict(row, host_share=None), dict(row, host_share=0.4), dict(row, host_share=0.97)
    assert not host_bound(cpu) and not host_bound(waited) and host_bound(starved)
    assert host_bound(dict(row, host_share=HOST_BOUND_SHARE)) and not host_bound(dict(row, host_share=0.89))
    assert not host_bound(dict(starved, timing="pipelined"))  # a full launch queue reads the same
    assert host_bound_note([cpu, waited]) is None
    assert "host-bound" in host_bound_note([waited, starved]) and "--rounds N" in host_bound_note([starved])
    print_row(waited, header=True)
    print_row(starved)
    print_row(cpu)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "host"
    assert lines[1].split()[-1] == "40%" and lines[2].split()[-1] == "97%*" and lines[3].split()[-1] == "-"


def test_cpu_rows_have_no_host_share():
    rows = run_bench(_cfg())
    assert all(r["host_share"] is None for r in rows)


def test_rounds_interleave_the_settings(monkeypatch, capsys):
    """With ``rounds`` every setting is timed in turn, rounds times, on iters/rounds steps each; a row's median runs
    over all its rounds' steps."""
    from rmeeto import bench

    calls, real = [], bench.measure

    def spy(model, *a, **k):
        res = real(model, *a, **k)
        calls.append((res["ratio"] > 0, len(res["step_s"])))
        return res
    monkeypatch.setattr(bench, "measure", spy)
    rows = run_bench(_cfg(iters=5, rounds=3))
    assert calls == [(False, 2), (True, 2), (False, 2), (True, 2), (False, 1), (True, 1)]
    assert [r["setting"] for r in rows] == ["r=0", "r=2"] and all(r["rounds"] == 3 for r in rows)
    assert all("step_s" not in r for r in rows)
    assert capsys.readouterr().out.count("r=2") == 1


def test_combine_rounds_takes_the_median_of_every_step():
    from rmeeto.bench import combine_rounds, split_iters

    assert split_iters(30, 4) == [8, 8, 7, 7] and split_iters(3, 3) == [1, 1, 1]
    a = dict(step_s=[1.0, 1.0], host_s=[0.5, 0.5], host_share=0.5, peak_mem_gb=2.0, ratio=0.1, gflops=1.0)
    b = dict(step_s=[4.0], host_s=[4.0], host_share=1.0, peak_mem_gb=3.0, ratio=0.1, gflops=1.0)
    c = dict(step_s=[2.0, 2.0], host_s=[2.0, 1.0], host_share=0.75, peak_mem_gb=1.0, ratio=0.1, gflops=1.0)
    out = combine_rounds([a, b, c], batch_size=8)
    assert out["ms_per_batch"] == 2000.0 and out["im_per_s"] == 4.0  # median of 1, 1, 4, 2, 2
    assert out["host_share"] == 0.5  # median of 0.5, 0.5, 1, 1, 0.5
    assert out["peak_mem_gb"] == 3.0 and "step_s" not in out and "host_s" not in out


def test_rounds_are_checked():
    with pytest.raises(UsageError, match="--rounds 4 needs at least as many --iters"):
        check_bench(_cfg(iters=3, rounds=4))
    with pytest.raises(UsageError, match="--rounds must be at least 1"):
        check_bench(_cfg(rounds=0))


def _compile_with(monkeypatch, test_backend):
    """``torch.compile(model, mode=...)`` as ``rmeeto.bench`` calls it (or with the mode's options, as
    ``compile_for_inference`` does), run on ``backend`` (no C++ compiler needed); returns the modes asked for."""
    import torch

    modes, real = [], torch.compile

    def compile_on_backend(model, mode=None, options=None, backend=None):
        modes.append(mode or ("reduce-overhead" if (options or {}).get("triton.cudagraphs") else "default"))
        return real(model, backend=test_backend)
    monkeypatch.setattr(torch, "compile", compile_on_backend)
    return modes


def test_compile_rows_time_the_compiled_forward(monkeypatch, capsys):
    """``compiles``: a row per mode and setting, labelled; every timed step (and the one untimed compiling call) runs
    the compiled graph, one graph per forward."""
    graph_calls = []

    def counting_backend(gm, example_inputs):
        def run(*args):
            graph_calls.append(1)
            return gm.forward(*args)
        return run
    modes = _compile_with(monkeypatch, counting_backend)
    rows = run_bench(_cfg(compiles=["none", "default"], iters=3))
    assert [(r["backend"], r["setting"], r["compile"]) for r in rows] == [
        ("auto", "r=0", "none"), ("auto", "r=2", "none"), ("auto+default", "r=0", "default"),
        ("auto+default", "r=2", "default")]
    assert modes == ["default", "default"]
    assert len(graph_calls) == 2 * (1 + 3)
    assert "auto+default" in capsys.readouterr().out


def test_frozen_compile_rows_take_the_batch_as_the_only_graph_input(monkeypatch):
    """``MODE+frozen`` compiles through :func:`rmeeto.compile_for_inference` in that mode: the weights are constants."""
    inputs = []

    def input_counting_backend(gm, example_inputs):
        inputs.append(len(example_inputs))
        return gm.forward
    modes = _compile_with(monkeypatch, input_counting_backend)
    rows = run_bench(_cfg(compiles=["default", "default+frozen"], iters=2))
    assert [r["compile"] for r in rows] == ["default", "default", "default+frozen", "default+frozen"]
    assert modes == ["default"] * 4
    assert inputs[0] > 10 and inputs[2:] == [1, 1]


def test_a_recompile_while_timing_is_an_error(monkeypatch):
    """A compiled forward that recompiles while it is timed (here: r changed after the compile) raises instead of
    timing the compile or an eager fallback."""
    import torch

    from rmeeto import bench, create_model, patch

    _compile_with(monkeypatch, "eager")
    model = patch(create_model("vim_tiny_patch16_224", **TINY_KW), r=2)
    timeit = bench._timeit

    def change_r_then_time(*args):
        model.r = 1
        return timeit(*args)
    monkeypatch.setattr(bench, "_timeit", change_r_then_time)
    with pytest.raises(RuntimeError, match="recompile"):
        bench.measure(model, batch_size=2, device="cpu", dtype="fp32", warmup=0, iters=1, compile_mode="default")
    torch._dynamo.reset()


def test_compile_is_checked():
    with pytest.raises(UsageError, match="--compile 'fast' is unknown"):
        check_bench(_cfg(compiles=["fast"]))
    with pytest.raises(UsageError, match=r"--compile 'none\+frozen' is unknown.*optionally with \+frozen"):
        check_bench(_cfg(compiles=["none+frozen"]))
    check_bench(_cfg(compiles=["reduce-overhead+frozen"]))
    from rmeeto.bench import _check_compiles  # past the device check, which needs a visible GPU
    _check_compiles(_cfg(compiles=["default+frozen"], device="cuda"))  # merged settings too
    with pytest.raises(UsageError, match="--compile times inference forwards"):
        check_bench(_cfg(compiles=["default"], train=True))
    with pytest.raises(UsageError, match="use --compile reduce-overhead without --cuda-graph"):
        check_bench(_cfg(compiles=["none", "reduce-overhead"], cuda_graph=True))
    with pytest.raises(UsageError, match="drop --compile or --merge-cost"):
        check_bench(_cfg(compiles=["default"], merge_cost=True))
    check_bench(_cfg(compiles=["none"], cuda_graph=False, merge_cost=True))
