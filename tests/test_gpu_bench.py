"""``rmeeto bench --merge-cost`` on a GPU: the merge blocks' own device time is exactly the time of the
fused merge kernels in the same profile, however they are launched: the plan and the apply, which by default
(``merge_norm``) is the kernel that also does the block's residual add + RMSNorm, or, in eager inference up to
``merge_once.ONCE_CFG["max_tokens"]``, the one kernel that plans, merges, adds and normalises."""
from __future__ import annotations

import pytest
import torch

import rmeeto
from rmeeto import bench
from rmeeto.patch import MERGE_RANGE, label_merges

MERGE_KERNELS = ("_plan_kernel", "_apply_kernel", "_apply_add_norm_kernel", "_once_kernel")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_merge_cost_counts_every_merge_kernel_once():
    model = rmeeto.create_model("vim_tiny_patch16_224", depth=8).cuda().half().eval()
    rmeeto.patch(model, r=5)
    x = torch.randn(16, 3, 224, 224, device="cuda", dtype=torch.half)
    acts = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.inference_mode():
        model(x)
        torch.cuda.synchronize()
        with label_merges(), torch.profiler.profile(activities=acts) as prof:
            model(x)
            torch.cuda.synchronize()
    merge_kernels = sum(e.self_device_time_total for e in prof.key_averages()
                        if e.device_type == torch.autograd.DeviceType.CUDA
                        and e.key in MERGE_KERNELS)
    assert merge_kernels > 0
    got = bench.launched_in_ranges_us(prof.profiler.kineto_results.events(), MERGE_RANGE)
    assert got == pytest.approx(merge_kernels, rel=0.02)
    assert 0 < bench.merge_cost_ms(model, batch_size=16) < 1e3


def test_host_share_tells_a_host_bound_forward_from_a_graph_replay():
    # a two-block model at batch 1 gives the GPU almost nothing to do: the step is its Python. Other work on the same
    # GPU delays its kernels and lowers the share (75.8 % beside three test processes), so the highest of three counts.
    small = rmeeto.create_model("vim_tiny_patch16_224", depth=2)
    eager = max((bench.measure(small, batch_size=1, device="cuda", dtype="fp16", warmup=3, iters=10) for _ in range(3)),
                key=lambda row: row["host_share"])
    full = rmeeto.create_model("vim_tiny_patch16_224")
    replay = bench.measure(full, batch_size=64, device="cuda", dtype="fp16", warmup=3, iters=10, cuda_graph=True)
    assert bench.host_bound(eager), eager["host_share"]
    assert 0 < replay["host_share"] < 0.5 and not bench.host_bound(replay)


def test_eval_times_graph_replays(tmp_path):
    import json

    from conftest_data import TINY, make_data, run_inproc

    data = make_data(str(tmp_path / "jpegs"))
    out = tmp_path / "ev"
    code = run_inproc(["eval", *TINY, "--num-classes", "3", "--data-dir", data, "--workers", "0", "--batch-size", "4",
                       "--device", "cuda", "--r-list", "0,2", "--throughput-cuda-graph", "--throughput-iters", "5",
                       "--output", str(out)])
    assert code == 0
    res = json.loads((out / "eval.json").read_text())["results"]
    assert [r["r"] for r in res] == [0, 2]
    assert all(r["images_per_s"] > 0 and 0 < r["host_share"] <= 1 for r in res)


@pytest.mark.parametrize("train", [False, True], ids=["infer", "train"])
def test_rounds_with_cuda_graphs(train):
    """``--rounds`` with ``--cuda-graph``: every round captures (and frees) its own graph; each row combines every
    round's steps and keeps the highest peak memory."""
    cfg = bench.BenchConfig(model="vim_tiny_patch16_224", model_kwargs={"depth": 4}, settings=[("r", 0), ("r", 5)],
                            device="cuda", dtype="bf16" if train else "fp16", batch_size=8, train=train,
                            cuda_graph=True, warmup=2, iters=6, rounds=3)
    bench.check_bench(cfg)
    rows = bench.run_bench(cfg)
    assert [r["setting"] for r in rows] == ["r=0", "r=5"] and all(r["rounds"] == 3 for r in rows)
    assert all(r["im_per_s"] > 0 and r["peak_mem_gb"] > 0 and 0 < r["host_share"] <= 1 for r in rows)


@pytest.mark.parametrize("mode", ["default", "reduce-overhead"])
def test_compile_rows_run_the_triton_path_without_recompiling(mode):
    """``--compile`` on the GPU: eager and compiled rows of a merged model, with no recompile while timed (that
    would raise)."""
    cfg = bench.BenchConfig(model="vim_tiny_patch16_224", model_kwargs=dict(depth=4), settings=[("r", 0), ("r", 5)],
                            device="cuda", dtype="fp16", batch_size=8, warmup=3, iters=6, compiles=["none", mode])
    bench.check_bench(cfg)
    rows = bench.run_bench(cfg)
    assert [(r["compile"], r["setting"]) for r in rows] == [("none", "r=0"), ("none", "r=5"), (mode, "r=0"),
                                                            (mode, "r=5")]
    assert all(r["im_per_s"] > 0 and r["host_share"] is not None for r in rows)
