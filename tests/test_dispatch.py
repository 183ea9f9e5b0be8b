"""The dispatch's choices that need no GPU: the stacked-weight cache of inference, and the kernel settings."""
from __future__ import annotations

import gc

import pytest
import torch

from rmeeto.models.mixer import BiMambaMixer
from rmeeto.ops import dispatch, settings


def _params(mix: BiMambaMixer):
    return mix.direction_params(False), mix.direction_params(True)


def test_inference_reuses_stacked_weights_until_a_weight_changes():
    mix = BiMambaMixer(16, d_state=4)
    with torch.no_grad():
        first = dispatch._stacked_params(*_params(mix), torch.float32)
        assert dispatch._stacked_params(*_params(mix), torch.float32) is first
        half = dispatch._stacked_params(*_params(mix), torch.float16)
        assert half is not first and half[2].dtype == torch.float16
        mix.x_proj_b.weight.add_(1.0)  # an in-place update (an optimizer step, a load) is seen
        again = dispatch._stacked_params(*_params(mix), torch.float16)
    assert again is not half
    # x_proj comes padded with zero rows between the dt and the B/C rows, to a multiple of 16 rows
    w, got, bc = mix.x_proj_b.weight.detach().half(), again[2][1], 2 * 4
    assert got.shape[0] % 16 == 0 and got.shape[0] >= w.shape[0]
    torch.testing.assert_close(torch.cat([got[:w.shape[0] - bc], got[-bc:]]), w)
    assert not got[w.shape[0] - bc:-bc].any()
    with_grad = dispatch._stacked_params(*_params(mix), torch.float32)  # autograd: never cached
    assert with_grad[0].requires_grad and with_grad is not dispatch._stacked_params(*_params(mix), torch.float32)


def test_cache_entries_go_with_their_model():
    mix = BiMambaMixer(16, d_state=4)
    with torch.no_grad():
        dispatch._stacked_params(*_params(mix), torch.float32)
    key = id(mix.A_log)
    assert key in dispatch._stacked
    del mix
    gc.collect()
    assert key not in dispatch._stacked


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
