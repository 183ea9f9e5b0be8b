import json
import math

import pytest
import torch

import rmeeto
from rmeeto.models.registry import resolve_config

from conftest import FIXTURES

MANIFEST = json.loads((FIXTURES / "vim_keys.json").read_text())


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def reference_model(reference, backend=None):
    m = rmeeto.create_model("vim_tiny_patch16_224", **reference["arch"])
    m.load_state_dict(reference["state_dict"])
    m.backend = backend
    return m.eval()


@pytest.mark.parametrize("backend", ["torch", pytest.param("ref", marks=pytest.mark.slow)])  # ref: step by step
def test_matches_official_outputs(reference, backend):
    m = reference_model(reference, backend)
    with torch.no_grad():
        feats = m.forward_features(reference["input"])
        logits = m.head(feats)
    assert rel(feats, reference["features"]["base"]) < 1e-4
    assert rel(logits, reference["logits"]["base"]) < 1e-4
    with torch.no_grad():
        assert rel(m(reference["input"]), reference["logits"]["base"]) < 1e-4


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_registered_configs_match_manifest(name):
    m = rmeeto.create_model(name)
    sd = m.state_dict()
    want = MANIFEST[name]
    assert list(sd) == list(want["keys"])  # same keys, same order
    assert {k: list(v.shape) for k, v in sd.items()} == want["keys"]
    assert sum(p.numel() for p in m.parameters()) == want["num_params"]


def test_official_long_names_are_aliases():
    a = rmeeto.create_model("vim_small_patch16_224_bimambav2_final_pool_mean_abs_pos_embed_with_midclstok_div2",
                            depth=2)
    assert a.rmeeto_config["name"] == "vim_small_patch16_224" and a.embed_dim == 384


def test_unknown_name_lists_known_models():
    with pytest.raises(ValueError, match="vim_tiny_patch16_224"):
        rmeeto.create_model("vim_tiny_patch16")


def test_unknown_override_is_refused():
    with pytest.raises(TypeError, match="unknown option 'widht'"):
        rmeeto.create_model("vim_tiny_patch16_224", widht=3)


def test_custom_size_and_in_chans_alias():
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=6, embed_dim=96, d_state=8, img_size=112, stride=8,
                            channels=1, num_classes=7)
    assert m.patch_embed.num_patches == ((112 - 16) // 8 + 1) ** 2 and m.num_tokens == 170
    x = torch.randn(2, 1, 112, 112)
    assert m(x).shape == (2, 7) and m.forward_features(x).shape == (2, 96)
    m2 = rmeeto.create_model("vim_tiny_patch16_224", depth=1, embed_dim=32, in_chans=1, img_size=56, patch_size=4,
                             stride=4)
    assert m2.in_chans == 1 and m2.num_tokens == 197


def test_bad_input_errors():
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=1, embed_dim=32, img_size=32, patch_size=8, stride=8)
    with pytest.raises(ValueError, match="32x32 images but got 48x48"):
        m(torch.randn(1, 3, 48, 48))
    with pytest.raises(ValueError, match="3-channel images but got 1 channels"):
        m(torch.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match="shape"):
        m(torch.randn(3, 32, 32))


def test_official_initialisation():
    torch.manual_seed(0)
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=4, embed_dim=64, drop_path_rate=0.3)
    mx = m.layers[0].mixer
    assert torch.equal(mx.A_log, torch.log(torch.arange(1, 17.0)).repeat(128, 1))
    assert torch.equal(mx.A_b_log, mx.A_log) and torch.equal(mx.D, torch.ones(128))
    dt = torch.nn.functional.softplus(mx.dt_proj.bias)
    assert dt.min() >= 1e-4 - 1e-7 and dt.max() <= 0.1 + 1e-6
    assert not torch.equal(mx.dt_proj.bias, m.layers[0].mixer.dt_proj_b.bias)
    bound = math.sqrt(1 / 128) * math.sqrt(3) / math.sqrt(4)  # kaiming_uniform(a=sqrt 5) / sqrt(depth)
    assert mx.out_proj.weight.abs().max() <= bound + 1e-6
    # drop-path: zero for the first block, then linspace(0, rate, depth)
    assert [blk.drop_path.p for blk in m.layers] == pytest.approx([0.0, 0.0, 0.1, 0.2])
    assert m.drop_path.p == pytest.approx(0.3)


def test_trains_under_autograd():
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=2, embed_dim=32, img_size=32, patch_size=8, stride=8,
                            num_classes=3)
    loss = m(torch.randn(2, 3, 32, 32)).logsumexp(-1).sum()
    loss.backward()
    grads = {k: p.grad for k, p in m.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert grads["layers.1.mixer.A_b_log"].abs().sum() > 0 and grads["layers.1.mixer.conv1d_b.weight"].abs().sum() > 0


def test_resolve_config_overrides():
    name, cfg = resolve_config("vim_base_patch16_224", num_classes=10, in_chans=1)
    assert name == "vim_base_patch16_224" and cfg["num_classes"] == 10 and cfg["channels"] == 1


def test_direction_params_follow_a_parametrized_weight():
    from torch.nn.utils import parametrize

    import rmeeto

    class Double(torch.nn.Module):
        def forward(self, w):
            return 2 * w

    mixer = rmeeto.create_model("vim_tiny_patch16_224", depth=1, embed_dim=16).layers[0].mixer
    plain = mixer.direction_params(True).x_proj_weight.clone()
    parametrize.register_parametrization(mixer.x_proj_b, "weight", Double())
    params = mixer.direction_params(True)
    assert torch.equal(params.x_proj_weight, 2 * plain)
    assert params.A_log is mixer.A_b_log and params.conv_bias is mixer.conv1d_b.bias


@pytest.mark.parametrize("kernel,shape", [((16, 16), (2, 3, 64, 48)), ((4, 4), (3, 1, 30, 29)),
                                          ((2, 8, 8), (2, 3, 6, 33, 40))])
def test_patchify_linear_is_the_convolution(kernel, shape):
    """The patch embedding's matmul form gives the convolution's output and gradients (trailing pixels that
    fill no patch dropped, as the convolution drops them)."""
    from rmeeto.models.patchify import is_patchify, patchify_linear
    torch.manual_seed(0)
    conv = (torch.nn.Conv2d if len(kernel) == 2 else torch.nn.Conv3d)(shape[1], 24, kernel, kernel).double()
    x = torch.randn(shape, dtype=torch.double, requires_grad=True)
    ref = conv(x).movedim(1, -1)
    out = patchify_linear(x, conv)
    assert is_patchify(conv) and out.shape == ref.shape
    torch.testing.assert_close(out, ref)
    g = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, (x, conv.weight, conv.bias), g),
                    torch.autograd.grad(ref, (x, conv.weight, conv.bias), g)):
        torch.testing.assert_close(a, b)


def test_overlapping_patch_embedding_keeps_the_convolution():
    from rmeeto.models.patchify import is_patchify
    model = rmeeto.create_model("vim_tiny_patch16_224", img_size=64, stride=8, num_classes=3)
    assert not is_patchify(model.patch_embed.proj)
    assert model.patch_embed(torch.randn(2, 3, 64, 64)).shape == (2, 49, 192)  # (64 - 16) / 8 + 1 = 7 per side
