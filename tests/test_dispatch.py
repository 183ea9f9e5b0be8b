"""The dispatch's choices that need no GPU: the stacked-weight cache of inference, and the kernel settings."""
from __future__ import annotations

import gc

import pytest
import torch

from rmeeto.models.mixer import BiMambaMixer
from rmeeto.ops import dispatch, settings
from rmeeto.ops.triton import bimamba as tb
from rmeeto.ops.triton import stack_cache as sc


def _params(mix: BiMambaMixer):
    return mix.direction_params(False), mix.direction_params(True)


def test_inference_reuses_stacked_weights_until_a_weight_changes():
    mix = BiMambaMixer(16, d_state=4)
    first = sc.cached_stack_params(*_params(mix), torch.float32)
    assert sc.cached_stack_params(*_params(mix), torch.float32) is first
    assert not first[0].requires_grad  # no autograd graph is kept alive by the cache
    half = sc.cached_stack_params(*_params(mix), torch.float16)
    assert half is not first and half[2].dtype == torch.float16
    with torch.no_grad():
        mix.x_proj_b.weight.add_(1.0)  # an in-place update (an optimizer step, a load) is seen
    again = sc.cached_stack_params(*_params(mix), torch.float16)
    # refreshed in place, so that a CUDA graph captured with the old stacks never reads freed memory
    assert all(a.data_ptr() == h.data_ptr() for a, h in zip(again, half))
    torch.testing.assert_close(again, tb.stack_params(*_params(mix), torch.float16))
    # x_proj comes padded with zero rows between the dt and the B/C rows, to a multiple of 16 rows
    w, got, bc = mix.x_proj_b.weight.detach().half(), again[2][1], 2 * 4
    assert got.shape[0] % 16 == 0 and got.shape[0] >= w.shape[0]
    torch.testing.assert_close(torch.cat([got[:w.shape[0] - bc], got[-bc:]]), w)
    assert not got[w.shape[0] - bc:-bc].any()


def test_cache_entries_go_with_their_model():
    mix = BiMambaMixer(16, d_state=4)
    sc.cached_stack_params(*_params(mix), torch.float32)
    key = id(mix.A_log)
    assert key in sc._stacked
    del mix
    gc.collect()
    assert key not in sc._stacked


def test_training_stacks_with_autograd_and_inference_uses_the_cache(monkeypatch):
    """The dispatch's choice of entry: a forward that a backward can follow stacks the weights (differentiably) on
    every call; one without autograd takes the inference entry (which stacks through the cache, tested above)."""
    seen = []
    monkeypatch.setattr(dispatch.triton_ops, "bimamba", lambda xz, params, *a: seen.append(("train", params)) or _stub(xz))
    monkeypatch.setattr(dispatch.triton_ops, "bimamba_inference", lambda xz, f, b, cdt, s: seen.append(("infer", cdt))
                        or _stub(xz))
    mix = BiMambaMixer(16, d_state=4)
    xz = torch.randn(1, 5, 2 * mix.d_inner)
    dispatch.bimamba_v2_inner_triton(xz, *_params(mix))
    assert seen[-1][0] == "train" and seen[-1][1][0].requires_grad
    with torch.no_grad():
        dispatch.bimamba_v2_inner_triton(xz, *_params(mix))
    assert seen[-1] == ("infer", torch.float32)
    mix.requires_grad_(False)  # frozen weights and an input without grad: nothing to differentiate
    dispatch.bimamba_v2_inner_triton(xz, *_params(mix))
    assert seen[-1] == ("infer", torch.float32)


def _stub(xz):
    return xz[..., :xz.shape[-1] // 2], None, None


def test_settings_come_from_the_environment_once_and_change_explicitly(monkeypatch):
    monkeypatch.setenv("RMEETO_MERGE", "torch")
    monkeypatch.setenv("RMEETO_SCAN_SPLIT", "0")
    monkeypatch.setenv("RMEETO_GRAD_FP32", "1")
    settings.reset()
    now = settings.current()
    assert (now.merge, now.scan_split, now.grad_fp32, now.backend) == ("torch", "off", True, "auto")
    monkeypatch.setenv("RMEETO_MERGE", "triton")
    assert settings.current().merge == "torch"  # read once: a later change of the environment does not leak in
    with settings.using(merge="auto"):
        assert dispatch.merge_impl() == "auto"
    assert dispatch.merge_impl() == "torch" and dispatch.merge_impl("triton") == "triton"
    settings.configure(merge="fast")
    with pytest.raises(ValueError, match="merge implementation 'fast'.*choose auto, torch or triton"):
        dispatch.merge_impl()


def test_a_capture_stacks_inside_the_graph_unless_the_weights_are_frozen(monkeypatch):
    """While a CUDA graph is captured, the cache hands out stacks made inside the capture, so that each replay reads
    the weights as they are then; the one-launch stacking only where a forward outside the capture compiled it.
    ``graph_weights="frozen"`` hands out the cached stacks while they are current. (The capture itself is faked here:
    a GPU test captures for real.)"""
    calls = []

    def launched(fwd, bwd, cdt):
        calls.append("launched")
        return tb.stack_params(fwd, bwd, cdt)

    monkeypatch.setattr(sc, "stack_params_launched", launched)
    capturing = [False]
    monkeypatch.setattr(sc, "_capturing", lambda t: capturing[0])
    mix = BiMambaMixer(16, d_state=4)
    capturing[0] = True
    first = sc.cached_stack_params(*_params(mix), torch.float32)  # nothing cached yet: torch ops, nothing kept
    assert calls == [] and id(mix.A_log) not in sc._stacked
    capturing[0] = False
    cached = sc.cached_stack_params(*_params(mix), torch.float32)
    assert cached is not first
    capturing[0] = True
    calls.clear()
    live = sc.cached_stack_params(*_params(mix), torch.float32)
    assert calls == ["launched"] and all(a.data_ptr() != c.data_ptr() for a, c in zip(live, cached))
    torch.testing.assert_close(live, cached)
    with settings.using(graph_weights="frozen"):
        assert sc.cached_stack_params(*_params(mix), torch.float32) is cached
        with torch.no_grad():
            mix.D.add_(1.0)  # stale cache: even a frozen capture stacks afresh
        fresh = sc.cached_stack_params(*_params(mix), torch.float32)
        assert fresh is not cached and torch.equal(fresh[5][0], mix.D.detach().float())
    with settings.using(graph_weights="fixed"), pytest.raises(ValueError, match="RMEETO_GRAPH_WEIGHTS"):
        sc.cached_stack_params(*_params(mix), torch.float32)


def test_weights_made_under_inference_mode_are_stacked_and_cached():
    """A frozen compile folds weights under inference mode into inference tensors, which have no version counter."""
    with torch.inference_mode():
        mix = BiMambaMixer(16, d_state=4)
        first = sc.cached_stack_params(*_params(mix), torch.float32)
        assert sc.cached_stack_params(*_params(mix), torch.float32) is first


def test_a_graph_that_reads_cached_stacks_gets_them_restacked_before_a_replay(monkeypatch):
    """Inside :func:`stack_cache.stacks_read_by_capture` a capture reads the cached stacks and lists them;
    :func:`stack_cache.refresh_for_replay` restacks into those very tensors what changed since, and nothing else.
    (The capture is faked here; a GPU test replays a real graph.)"""
    restacks = []

    def counted(fwd, bwd, cdt):
        restacks.append(cdt)
        return tb.stack_params(fwd, bwd, cdt)

    capturing = [False]
    monkeypatch.setattr(sc, "_capturing", lambda t: capturing[0])
    monkeypatch.setattr(sc, "stack_params", counted)
    mixers = [BiMambaMixer(16, d_state=4) for _ in range(2)]
    cached = [sc.cached_stack_params(*_params(m), torch.float32) for m in mixers]
    restacks.clear()
    capturing[0] = True
    with sc.stacks_read_by_capture() as read:
        with pytest.raises(RuntimeError, match="one CUDA graph at a time"):
            with sc.stacks_read_by_capture():
                pass
        got = [sc.cached_stack_params(*_params(m), torch.float32) for m in mixers]
    capturing[0] = False
    assert all(g is c for g, c in zip(got, cached)) and len(read) == 2 and restacks == []
    assert sc.refresh_for_replay(read) is False
    assert restacks == []  # nothing changed: host work only
    with torch.no_grad():
        mixers[1].D.mul_(3.0)
    assert sc.refresh_for_replay(read) is True
    assert restacks == [torch.float32]
    assert torch.equal(cached[1][5][0], mixers[1].D.detach().float())  # in the tensors the graph reads
    sc.refresh_for_replay(read)
    assert restacks == [torch.float32]
    with torch.no_grad():
        mixers[0].dt_proj.bias.add_(1.0)
    sc.cached_stack_params(*_params(mixers[0]), torch.float32)  # a forward outside the graph refreshes in place
    assert sc.refresh_for_replay(read) is False
    assert restacks == [torch.float32] * 2 and torch.equal(cached[0][6][0], mixers[0].dt_proj.bias.detach())
    with torch.no_grad():
        for proj in (mixers[0].x_proj, mixers[0].x_proj_b):
            proj.weight.set_(torch.zeros(proj.weight.shape[0], 8))  # another width
    with pytest.raises(ValueError, match="capture the graph again"):
        sc.refresh_for_replay(read)


@pytest.mark.parametrize("idempotent", [False, True])
def test_a_graphed_replay_refreshes_before_or_replays_again_after(idempotent):
    """:func:`rmeeto.cuda_graphs.replay_with_refresh`: by default the refresh comes first; for an idempotent graph
    the replay comes first, and a refresh that changed something is followed by a second replay."""
    from rmeeto.cuda_graphs import replay_with_refresh

    events, stale = [], [False]

    def refresh() -> bool:
        events.append("refresh")
        changed, stale[0] = stale[0], False
        return changed

    replay = replay_with_refresh(lambda: events.append("replay"), refresh, idempotent)
    replay()
    stale[0] = True
    replay()
    if idempotent:
        assert events == ["replay", "refresh", "replay", "refresh", "replay"]
    else:
        assert events == ["refresh", "replay", "refresh", "replay"]


def test_available_backends_asks_for_cuda_until_it_finds_it_then_keeps_the_answer(monkeypatch):
    monkeypatch.setattr(dispatch, "_usable", {})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    without_cuda = ["ref", "torch"] + (["mamba_ssm"] if dispatch._HAS_MAMBA_SSM else [])
    assert dispatch.available_backends("cuda") == without_cuda
    assert "cuda" not in dispatch._usable  # a CUDA device can still appear
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    found = dispatch.available_backends("cuda")
    assert ("triton" in found) == (dispatch.triton_ops is not None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dispatch.available_backends("cuda") == found  # kept
    found.append("changed by a caller")
    assert "changed by a caller" not in dispatch.available_backends("cuda")  # each caller gets its own list
    assert dispatch.available_backends("cpu") == ["ref", "torch"]
