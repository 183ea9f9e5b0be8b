import pytest
import torch

import rmeeto
from rmeeto.checkpoint import CheckpointError, load_checkpoint, resize_pos_embed

KW = dict(depth=2, embed_dim=32, img_size=64, patch_size=16, stride=16, num_classes=5)


def small(**kw):
    return rmeeto.create_model("vim_tiny_patch16_224", **{**KW, **kw}).eval()


def same(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


@pytest.mark.parametrize("layout", ["model", "model_ema", "raw", "module", "safetensors"])
def test_roundtrip_layouts(tmp_path, layout):
    src = small()
    sd = src.state_dict()
    path = tmp_path / ("ckpt.safetensors" if layout == "safetensors" else "ckpt.pth")
    if layout == "model":
        torch.save({"model": sd, "epoch": 3}, path)
    elif layout == "model_ema":
        torch.save({"model": {k: torch.zeros_like(v) for k, v in sd.items()}, "model_ema": sd}, path)
    elif layout == "raw":
        torch.save(sd, path)
    elif layout == "module":
        torch.save({"model": {"module." + k: v for k, v in sd.items()}}, path)
    else:
        rmeeto.save_checkpoint(src, path)
    key = "model_ema" if layout == "model_ema" else "auto"
    dst = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(path), checkpoint_key=key, **KW)
    assert same(src, dst)


def test_official_pth_with_pickled_args(tmp_path):
    import argparse

    src = small()
    torch.save({"model": src.state_dict(), "args": argparse.Namespace(lr=1e-3)}, tmp_path / "o.pth")
    assert same(src, load_checkpoint(small(), tmp_path / "o.pth"))


def test_mismatch_names_the_keys(tmp_path):
    sd = small().state_dict()
    sd.pop("norm_f.weight")
    sd["extra.weight"] = torch.zeros(1)
    sd["layers.0.mixer.D"] = torch.zeros(3)
    torch.save({"model": sd}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(small(), tmp_path / "bad.pth")
    msg = str(e.value)
    assert "norm_f.weight" in msg and "extra.weight" in msg and "layers.0.mixer.D: checkpoint (3,)" in msg


def test_other_model_is_refused(tmp_path):
    torch.save({"model": small(embed_dim=48).state_dict()}, tmp_path / "w.pth")
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoint(small(), tmp_path / "w.pth")


def test_corrupt_file(tmp_path):
    (tmp_path / "c.pth").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(small(), tmp_path / "c.pth")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(small(), tmp_path / "missing.pth")


def test_pos_embed_resize_keeps_middle_class_token(tmp_path):
    src = small(img_size=64)  # 4x4 patches, class token at 8
    torch.save({"model": src.state_dict()}, tmp_path / "p.pth")
    dst = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(tmp_path / "p.pth"), **{**KW, "img_size": 96})
    old, new = src.pos_embed[0], dst.pos_embed[0]
    assert new.shape[0] == 37
    assert torch.equal(new[36 // 2], old[16 // 2])  # the class token moved to the new middle, untouched
    # a constant grid resizes to the same constant: only patches were interpolated
    const = torch.ones(1, 17, 4)
    const[0, 8] = 5.0
    out = resize_pos_embed(const, 36)
    assert out[0, 18].eq(5).all() and torch.allclose(torch.cat([out[0, :18], out[0, 19:]]), torch.ones(36, 4))
    assert resize_pos_embed(const, 16) is const


def test_head_replaced_when_classes_differ(tmp_path):
    src = small(num_classes=5)
    torch.save({"model": src.state_dict()}, tmp_path / "h.pth")
    dst = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(tmp_path / "h.pth"), **{**KW, "num_classes": 9})
    assert dst.head.weight.shape == (9, 32)
    assert torch.equal(dst.layers[1].mixer.in_proj.weight, src.layers[1].mixer.in_proj.weight)


def test_saved_patch_settings_travel(tmp_path):
    m = rmeeto.patch(small(img_size=128), r=3, mode="prune")
    rmeeto.save_checkpoint(m, tmp_path / "m.pth")
    back = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(tmp_path / "m.pth"), **{**KW, "img_size": 128})
    assert rmeeto.patch_settings(back) == rmeeto.patch_settings(m)
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        assert torch.equal(back(x), m(x))


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    from rmeeto.checkpoint import atomic_save, atomic_write
    from rmeeto.train.state import atomic_write_text

    path = tmp_path / "sub" / "file.pth"
    atomic_save({"w": torch.ones(2)}, path)

    def broken(f):
        f.write(b"partial")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, broken)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(2))  # old content intact
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.pth"]  # no temporary file left

    st = tmp_path / "w.safetensors"
    atomic_save({"w": torch.arange(3.0)}, st)
    from safetensors.torch import load_file
    assert torch.equal(load_file(st)["w"], torch.arange(3.0))
    atomic_write_text(str(tmp_path / "a.txt"), "héllo\n")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
