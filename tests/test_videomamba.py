"""VideoMamba: parity with the official R-MeeTo video code, checkpoints, merging (CPU)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rmeeto
from rmeeto.checkpoint import CheckpointError, adapt_state_dict, check_state_dict, extract_state_dict, save_checkpoint
from rmeeto.models.videomamba import VideoMamba, inflate_patch_weight

from conftest import FIXTURES

VIDEO_FIXTURE = FIXTURES / "public_videomamba_d64_l6_f4.pt"
SIZES = {"tiny": (192, 24), "small": (384, 24), "middle": (576, 32)}


@pytest.fixture(scope="module")
def video_reference():
    return torch.load(VIDEO_FIXTURE, weights_only=True)


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def reference_model(ref, backend):
    m = rmeeto.create_model("videomamba_tiny_patch16_224", **ref["arch"])
    m.load_state_dict(ref["state_dict"])
    m.backend = backend
    return m.eval()


def patch_args(run: dict) -> dict:
    return dict(r=run["num_prune"], mode="prune" if run["if_prune"] else "merge",
                order="keep" if run["if_order"] else "shuffle", distance=run["distance"])


@pytest.mark.parametrize("backend", ["torch", "ref"])
def test_matches_official_video_logits(video_reference, backend):
    ref = video_reference
    m = reference_model(ref, backend)
    with torch.no_grad():
        assert rel(m(ref["input"]), ref["logits"]["base"]) < 1e-4
        for name, run in ref["runs"].items():
            rmeeto.patch(m, **patch_args(run))
            _, state = m.forward_tokens(ref["input"])
            assert state.token_counts == ref["token_counts"][name]
            assert rel(m(ref["input"]), ref["logits"][name]) < 1e-4, name
    rmeeto.unpatch(m)
    with torch.no_grad():
        assert rel(m(ref["input"]), ref["logits"]["base"]) < 1e-4


def test_video_mixer_sums_directions_and_vim_averages():
    v = rmeeto.create_model("videomamba_tiny_patch16_224", depth=1, embed_dim=32, img_size=32, num_frames=2)
    w = rmeeto.create_model("vim_tiny_patch16_224", depth=1, embed_dim=32, img_size=32)
    assert v.layers[0].mixer.out_scale == 1.0 and w.layers[0].mixer.out_scale == 0.5


def official_video_state_dict(dim: int, depth: int, frames: int = 8, classes: int = 400, image: bool = False):
    # Shapes as listed for videomamba_{t,s,m}16_k400_f8_res224.pth and videomamba_{t,s,m}16_in1k_res224.pth
    """A state dict with the official K400 (or ImageNet) key names and shapes, from the published list."""
    e, r = 2 * dim, math.ceil(dim / 16)
    sd = {"cls_token": (1, 1, dim), "pos_embed": (1, 197, dim),
          "patch_embed.proj.weight": (dim, 3, 16, 16) if image else (dim, 3, 1, 16, 16),
          "patch_embed.proj.bias": (dim,), "head.weight": (classes, dim), "head.bias": (classes,),
          "norm_f.weight": (dim,)}
    if not image:
        sd["temporal_pos_embedding"] = (1, frames, dim)
    for i in range(depth):
        p = f"layers.{i}."
        sd[p + "norm.weight"] = (dim,)
        sd[p + "mixer.in_proj.weight"] = (2 * e, dim)
        sd[p + "mixer.out_proj.weight"] = (dim, e)
        for s in ("", "_b"):
            sd[p + f"mixer.conv1d{s}.weight"] = (e, 1, 4)
            sd[p + f"mixer.conv1d{s}.bias"] = (e,)
            sd[p + f"mixer.x_proj{s}.weight"] = (r + 32, e)
            sd[p + f"mixer.dt_proj{s}.weight"] = (e, r)
            sd[p + f"mixer.dt_proj{s}.bias"] = (e,)
            sd[p + f"mixer.D{s}"] = (e,)
        sd[p + "mixer.A_log"] = (e, 16)
        sd[p + "mixer.A_b_log"] = (e, 16)
    return {k: torch.empty(shape) for k, shape in sd.items()}


@pytest.mark.parametrize("size", sorted(SIZES))
def test_official_k400_and_in1k_key_lists_load_strictly(size):
    dim, depth = SIZES[size]
    with torch.device("meta"):  # full-size shapes without the memory or the init time
        for name, sd in ((f"videomamba_{size}", official_video_state_dict(dim, depth)),
                         (f"videomamba_{size}_patch16_224_in1k",
                          official_video_state_dict(dim, depth, classes=1000, image=True))):
            m = rmeeto.create_model(name)
            fitted = adapt_state_dict(extract_state_dict(sd), m)
            check_state_dict(fitted, m)  # raises naming any missing, unexpected or mis-shaped key
            m.load_state_dict(fitted, strict=True, assign=True)
            assert m.num_tokens == (197 if name.endswith("in1k") else 1569)
            assert hasattr(m, "temporal_pos_embedding") != name.endswith("in1k")


def tiny_video(**kw):
    cfg = dict(depth=2, embed_dim=32, img_size=32, num_frames=4, num_classes=5)
    cfg.update(kw)
    return rmeeto.create_model("videomamba_tiny_patch16_224", **cfg).eval()


def test_wrapped_checkpoints_load_and_round_trip(tmp_path):
    m = tiny_video()
    sd = m.state_dict()
    torch.save({"model": {"module." + k: v for k, v in sd.items()}}, tmp_path / "ddp.pth")
    torch.save(sd, tmp_path / "top.pth")
    rmeeto.patch(m, r=3)
    save_checkpoint(m, tmp_path / "ours.pth")
    for f in ("ddp.pth", "top.pth"):
        n = rmeeto.create_model("videomamba_tiny_patch16_224", depth=2, embed_dim=32, img_size=32, num_frames=4,
                                num_classes=5, pretrained=str(tmp_path / f))
        assert all(torch.equal(n.state_dict()[k], v) for k, v in sd.items())
    back = rmeeto.create_model("videomamba_tiny_patch16_224", pretrained=str(tmp_path / "ours.pth"),
                               depth=2, embed_dim=32, img_size=32, num_frames=4, num_classes=5)
    assert back.r == 3
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        assert torch.equal(back(x), m(x))


def test_strict_load_names_missing_unexpected_and_misshaped_keys(tmp_path):
    sd = tiny_video().state_dict()
    sd.pop("norm_f.weight")
    sd["extra.weight"] = torch.zeros(1)
    sd["layers.0.mixer.D"] = torch.zeros(3)
    torch.save(sd, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as err:
        tiny_video(pretrained=str(tmp_path / "bad.pth"))
    msg = str(err.value)
    assert "norm_f.weight" in msg and "extra.weight" in msg and "layers.0.mixer.D" in msg


@pytest.mark.parametrize("mode", ["center", "average"])
def test_image_checkpoint_inflates_to_video(tmp_path, mode):
    img = rmeeto.create_model("videomamba_tiny_patch16_224_in1k", depth=2, embed_dim=32, img_size=32,
                              num_classes=7).eval()
    torch.save({"model": img.state_dict()}, tmp_path / "img.pth")
    vid = tiny_video(kernel_size=2, pretrained=str(tmp_path / "img.pth"), inflate=mode)
    w3 = vid.patch_embed.proj.weight
    assert w3.shape == (32, 3, 2, 16, 16)
    assert torch.count_nonzero(vid.temporal_pos_embedding) == 0
    assert vid.head.weight.shape == (5, 32)  # another head: replaced
    # a clip of one still frame: the tubelet embedding of each pair equals the 2-D embedding
    frame = torch.randn(1, 3, 32, 32)
    clip = frame[:, :, None].expand(1, 3, 4, 32, 32)
    with torch.no_grad():
        tokens = vid.patch_embed(clip)  # (1, 2, 4, 32)
        flat = img.patch_embed(frame)  # (1, 4, 32)
    if mode == "average":
        assert torch.allclose(tokens[0, 0], flat[0], atol=1e-5) and torch.allclose(tokens[0, 1], flat[0], atol=1e-5)
    else:
        assert torch.equal(w3[:, :, 1], img.patch_embed.proj.weight) and torch.count_nonzero(w3[:, :, 0]) == 0
        assert torch.allclose(tokens[0, 0], flat[0], atol=1e-5)


def test_inflate_rejects_unknown_mode():
    with pytest.raises(ValueError, match="center"):
        inflate_patch_weight(torch.zeros(2, 3, 4, 4), 2, "middle")


def test_temporal_embedding_interpolates_linearly(tmp_path):
    src = tiny_video(num_frames=4)
    with torch.no_grad():
        src.temporal_pos_embedding.copy_(torch.arange(4.0).view(1, 4, 1).expand(1, 4, 32))
    torch.save(src.state_dict(), tmp_path / "f4.pth")
    dst = tiny_video(num_frames=8, pretrained=str(tmp_path / "f4.pth"))
    got = dst.temporal_pos_embedding[0, :, 0]
    want = F.interpolate(torch.arange(4.0).view(1, 1, 4), size=8, mode="linear", align_corners=False)[0, 0]
    assert dst.temporal_pos_embedding.shape == (1, 8, 32) and torch.allclose(got, want)
    assert torch.all(got[1:] >= got[:-1])  # order of frames kept
    assert dst.num_tokens == 8 * 4 + 1


def test_spatial_embedding_resizes_around_the_first_token(tmp_path):
    src = tiny_video(img_size=32)
    torch.save(src.state_dict(), tmp_path / "s.pth")
    dst = tiny_video(img_size=64, pretrained=str(tmp_path / "s.pth"))
    assert dst.pos_embed.shape == (1, 17, 32)
    assert torch.equal(dst.pos_embed[:, 0], src.pos_embed[:, 0])  # the class-token row is kept


def test_patch_unpatch_keeps_state_dict_and_counts_flops():
    m = tiny_video(num_frames=8, depth=6)  # 33 tokens
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    base = rmeeto.gflops(m)
    rmeeto.patch(m, r=4)
    rmeeto.patch(m, r=4)  # idempotent
    assert set(m.state_dict()) == set(sd)
    assert rmeeto.gflops(m) < base and 0 < rmeeto.reduction_ratio(m) < 1
    x = torch.randn(2, 3, 8, 32, 32, requires_grad=True)
    _, state = m.forward_tokens(x)
    assert state.token_counts == [33, 33, 29, 29, 25, 25]
    m(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    rmeeto.unpatch(m)
    assert rmeeto.gflops(m) == base and all(torch.equal(m.state_dict()[k], v) for k, v in sd.items())
    rmeeto.patch(m, ratio=0.3)
    assert abs(rmeeto.reduction_ratio(m) - 0.3) < 0.05


def test_every_patch_option_runs_on_video():
    m = tiny_video(num_frames=8, depth=6)
    x = torch.randn(1, 3, 8, 32, 32)
    opts = [dict(mode="prune-random"), dict(mode="prune-norm"), dict(distance="l1"), dict(distance="l2"),
            dict(metric="residual"), dict(metric="delta"), dict(interval=1, first=1), dict(cls="spatial"),
            dict(order="shuffle")]
    with torch.no_grad():
        for o in opts:
            rmeeto.patch(m, r=3, **o)
            _, state = m.forward_tokens(x)
            assert state.cls_index == 0 and state.token_counts[-1] < 33, o
        rmeeto.patch(m, r=[2, 3])  # one entry per merge block (2 and 4)
        assert m.forward_tokens(x)[1].token_counts == [33, 33, 31, 31, 28, 28]


def test_published_gflops_convention_on_k400_models():
    small = rmeeto.create_model("videomamba_small_patch16_224")
    rmeeto.patch(small, r=88)
    assert abs(rmeeto.gflops(small) - 30.99) < 0.01  # the official R-MeeTo figure for VideoMamba-S, r=88


def test_image_config_is_the_same_network_with_the_class_token_first():
    m = rmeeto.create_model("videomamba_tiny_patch16_224_in1k", depth=2, embed_dim=32, img_size=32, num_classes=3)
    assert isinstance(m, VideoMamba) and m.input_shape == (3, 32, 32)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        tokens, state = m.forward_tokens(x)
    assert state.cls_index == 0 and tokens.shape == (2, 5, 32)


def test_clip_of_the_wrong_shape_is_refused_with_the_fix():
    m = tiny_video()
    with pytest.raises(ValueError, match="num_frames"):
        m(torch.randn(1, 3, 5, 32, 32))
    with pytest.raises(ValueError, match="multiple of kernel_size"):
        tiny_video(num_frames=5, kernel_size=2)


def test_vis_draws_a_video_merge_map_one_panel_per_tubelet(tmp_path, capsys):
    pytest.importorskip("av")
    from PIL import Image

    from rmeeto.cli import main
    from rmeeto.data.video_io import write_video
    from rmeeto.vis import clip_merge_map

    rng = np.random.default_rng(0)
    write_video(str(tmp_path / "clip.mp4"), rng.integers(0, 255, (12, 48, 64, 3), dtype=np.uint8))
    kw = ["depth=4", "embed_dim=32", "img_size=32", "num_frames=4", "num_classes=5"]
    out = tmp_path / "map.png"
    assert main(["vis", str(tmp_path / "clip.mp4"), "--model", "videomamba_tiny", "--model-kwargs", *kw,
                 "--r", "6", "--scale", "1", "--out", str(out)]) == 0
    img = Image.open(out)
    assert img.width >= 4 * 32  # four tubelets side by side
    m = tiny_video(depth=4)
    rmeeto.patch(m, r=6)
    frames = [Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(4)]
    assert clip_merge_map(m, frames).size == (4 * 32 + 3 * 4, 32)
    assert main(["vis", str(tmp_path / "missing.mp4"), "--model", "videomamba_tiny", "--model-kwargs", *kw,
                 "--r", "6"]) == 2
    assert "video" in capsys.readouterr().err
