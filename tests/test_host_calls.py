"""What eager inference asks of the host per block, counted in ATen calls on the Triton path with every launch a
no-op (``scripts/bench_host_parts.py``): on a GPU host each allocation costs several microseconds, and eager forwards
of small models are bound by host time (docs/benchmarks/2026-12-05-cpu-host-allocs)."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")
from rmeeto.ops import settings  # noqa: E402
from test_launch import script_module  # noqa: E402

parts = script_module("bench_host_parts")


def _allocations(calls) -> int:
    return calls["aten.empty"] + calls["aten.empty_like"] + calls["aten.empty_strided"]


def test_add_rmsnorm_allocates_its_two_outputs_and_nothing_else():
    from rmeeto.ops.triton import library

    h, res, w = torch.randn(2, 9, 16).half(), torch.randn(2, 9, 16), torch.ones(16)
    with parts.stubbed_triton_path(), torch.inference_mode(), parts.CountOps() as c:
        normed, res_out = library.add_rmsnorm(h, res, w, 1e-5)
    assert normed.shape == res_out.shape == h.shape and normed.dtype == h.dtype and res_out.dtype == torch.float32
    assert _allocations(c.calls) == 2 and sum(c.calls.values()) == 2, dict(c.calls)


@pytest.mark.parametrize("name, r", [("vim_tiny_patch16_224", 5), ("vim_small_patch16_224", 11)])
def test_a_merge_block_allocates_at_most_one_tensor_more_than_the_block_it_replaces(name, r):
    """The one-launch merge step (plan, merge, add, norm) against the add + norm it replaces: normed, residual and one
    buffer for the sizes and the plan (three allocations and one view; it took five allocations until 2026-12-05)."""
    with settings.using(scan_chunk="0"), parts.stubbed_triton_path():
        counts = parts.op_counts(name, r, batch=2)
        merge_blocks = sum(1 for v in parts.stubbed_models(name, r)[r].merge_schedule() if v > 0)
    assert merge_blocks >= 5
    assert _allocations(counts[r]) - _allocations(counts[0]) <= merge_blocks, (dict(counts[0]), dict(counts[r]))
    assert sum(counts[r].values()) - sum(counts[0].values()) <= 3 * merge_blocks
