"""``rmeeto bench --merge-cost`` on a GPU: the merge blocks' own device time is exactly the time of the
fused merge kernels in the same profile, however they are launched: the plan and the apply, which by default
(``merge_norm``) is the kernel that also does the block's residual add + RMSNorm."""
from __future__ import annotations

import pytest
import torch

import rmeeto
from rmeeto import bench
from rmeeto.patch import MERGE_RANGE, label_merges

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
                        and e.key in ("_plan_kernel", "_apply_kernel", "_apply_add_norm_kernel"))
    assert merge_kernels > 0
    got = bench.launched_in_ranges_us(prof.profiler.kineto_results.events(), MERGE_RANGE)
    assert got == pytest.approx(merge_kernels, rel=0.02)
    assert 0 < bench.merge_cost_ms(model, batch_size=16) < 1e3
