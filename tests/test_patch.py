import pytest
import torch
from PIL import Image

import rmeeto
from rmeeto.patch import resolve_schedule, PatchConfig

from test_model import reference_model, rel

TINY = dict(depth=6, embed_dim=32, img_size=32, patch_size=4, stride=4, num_classes=4)  # 65 tokens


def tiny(**kw):
    torch.manual_seed(0)
    return rmeeto.create_model("vim_tiny_patch16_224", **{**TINY, **kw}).eval()


RUNS = {"merge_r11_keep": dict(mode="merge", order="keep"), "merge_r11_shuffle": dict(mode="merge", order="shuffle"),
        "prune_r11_keep": dict(mode="prune", order="keep")}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_matches_official_rmeeto(reference, run):
    spec = reference["runs"][run]
    m = rmeeto.patch(reference_model(reference), r=spec["num_prune"], distance=spec["distance"], **RUNS[run])
    with torch.no_grad():
        tokens, state = m.forward_tokens(reference["input"])
        feats = m.forward_features(reference["input"])
    assert state.token_counts == reference["token_counts"][run]
    assert rel(feats, reference["features"][run]) < 1e-4
    assert rel(m.head(feats), reference["logits"][run]) < 1e-4


def test_patch_unpatch_idempotent_and_state_dict_unchanged():
    m = tiny()
    x = torch.randn(2, 3, 32, 32)
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    with torch.no_grad():
        base = m(x)
        rmeeto.patch(m, r=3)
        rmeeto.patch(m, r=5, mode="prune")  # patching twice == patching once with the new settings
        twice = m(x)
        fresh = rmeeto.patch(tiny(), r=5, mode="prune")(x)
        assert torch.equal(twice, fresh) and not torch.allclose(twice, base)
        assert type(m).__mro__[1].__name__ == "MergeModelMixin" and type(m)._parent is rmeeto.models.VisionMamba
        assert list(m.state_dict()) == list(sd) and all(torch.equal(m.state_dict()[k], v) for k, v in sd.items())
        rmeeto.unpatch(m)
        assert type(m) is rmeeto.models.VisionMamba and type(m.layers[0]) is rmeeto.models.Block
        assert torch.equal(m(x), base)
        assert rmeeto.patch_settings(m) is None
        rmeeto.unpatch(m)  # a no-op when unpatched


def test_r_zero_is_identity_and_r_is_settable():
    m = tiny()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        base = m(x)
        rmeeto.patch(m, r=0)
        assert torch.equal(m(x), base)
        m.r = 4
        _, state = m.forward_tokens(x)
        assert state.token_counts == [65, 65, 61, 61, 57, 57]
        m.r = [2, 6]
        _, state = m.forward_tokens(x)
        assert state.token_counts == [65, 65, 63, 63, 57, 57]
    with pytest.raises(ValueError, match="negative"):
        m.r = -1


def test_patched_model_trains():
    m = rmeeto.patch(tiny(), r=6).train()
    loss = m(torch.randn(3, 3, 32, 32)).square().mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())
    assert m.layers[5].mixer.in_proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("opts", [dict(metric="residual"), dict(metric="delta"), dict(metric="B"), dict(metric="C"),
                                  dict(cls="spatial"), dict(mode="prune-random"), dict(mode="prune-norm"),
                                  dict(distance="l2", order="shuffle"), dict(interval=1, first=1)])
def test_options_run(opts):
    m = rmeeto.patch(tiny(), r=4, **opts)
    with torch.no_grad():
        _, state = m.forward_tokens(torch.randn(2, 3, 32, 32))
        out = m(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 4) and torch.isfinite(out).all()
    assert state.token_counts[-1] < 65


def test_schedules_ratios_and_paper_flops():
    def patched(name, **kw):
        return rmeeto.patch(rmeeto.create_model(name), **kw)
    ti, s, b = patched("vim_tiny_patch16_224", r=5), patched("vim_small_patch16_224", r=11), \
        patched("vim_base_patch16_224", r=11)
    assert round(rmeeto.reduction_ratio(ti), 2) == 0.14 and round(rmeeto.reduction_ratio(s), 2) == 0.31
    assert [round(rmeeto.gflops(m), 3) for m in (ti, s, b)] == [1.285, 3.585, 13.207]
    rmeeto.unpatch(ti), rmeeto.unpatch(s), rmeeto.unpatch(b)
    assert [round(rmeeto.gflops(m), 3) for m in (ti, s, b)] == [1.449, 5.077, 18.868]
    assert rmeeto.reduction_ratio(ti) == 0.0
    rmeeto.patch(s, ratio=0.31)
    assert s.new_state(98).schedule[2] == 11
    rmeeto.patch(s, ratio=0.14)
    assert s.new_state(98).schedule[2] == 5
    rmeeto.patch(s, ratio=0.54)
    assert abs(rmeeto.reduction_ratio(s) - 0.54) < 0.02


def test_official_schedule_preset():
    sched = resolve_schedule(PatchConfig(r=5, schedule="official"), 24, 197)
    assert sched[22] == 197 - 10 * 5 - 76 == 71 and sum(sched) == 197 - 76
    assert resolve_schedule(PatchConfig(r=11, schedule="official"), 24, 197) == \
        resolve_schedule(PatchConfig(r=11), 24, 197)
    # r is capped so that at most half of the non-class tokens merge
    sched = resolve_schedule(PatchConfig(r=30), 8, 197)
    assert sched == [0, 0, 30, 0, 30, 0, 30, 0]
    assert resolve_schedule(PatchConfig(r=40), 24, 100)[2:12:2] == [40, 29, 15, 7, 4]


def test_bad_arguments():
    m = tiny()
    with pytest.raises(ValueError, match="negative"):
        rmeeto.patch(m, r=-2)
    with pytest.raises(ValueError, match="too large"):
        rmeeto.patch(m, r=33)
    with pytest.raises(ValueError, match="cannot be reached"):
        rmeeto.patch(m, ratio=0.95)
    with pytest.raises(ValueError, match="unknown mode"):
        rmeeto.patch(m, r=2, mode="squash")
    with pytest.raises(ValueError, match="unknown distance"):
        rmeeto.patch(m, r=2, distance="cos")
    with pytest.raises(TypeError, match="Vision Mamba"):
        rmeeto.patch(torch.nn.Linear(2, 2), r=2)
    with pytest.raises(ValueError, match="either r or ratio"):
        rmeeto.patch(m, r=2, ratio=0.1)


def test_merge_map_image():
    from rmeeto.vis import final_groups, merge_map

    m = rmeeto.patch(tiny(), r=8)
    img = Image.fromarray((torch.rand(40, 40, 3) * 255).byte().numpy())
    pic = merge_map(m, img, scale=2)
    assert pic.size == (64, 64) and pic.mode == "RGB"
    groups, n = final_groups(m, torch.randn(1, 3, 32, 32))
    assert groups.shape == (1, 64) and n == 65 - 8 * 2
    assert rmeeto.patch_settings(m)["r"] == 8  # vis leaves the patch as it was
