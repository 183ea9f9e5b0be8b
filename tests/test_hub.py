"""Pretrained weights in one call: pretrained=True, hf-hub:ORG/REPO[:FILE] and local paths, against
a Hub cache the test builds; no test here opens a network connection (issue 14, item 10)."""
import socket
from pathlib import Path

import pytest
import torch

import rmeeto
from rmeeto import hub
from rmeeto.cli import main
from rmeeto.hub import DEFAULT_SOURCES, WeightsNotFoundError, parse_hub_spec

KW = dict(depth=2, embed_dim=32, img_size=32, patch_size=8, stride=8, num_classes=3)
REV = "0123456789abcdef0123456789abcdef01234567"
VIM_T = ("hustvl/Vim-tiny-midclstok", "vim_t_midclstok_76p1acc.pth")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty Hub cache, offline, with every socket connection refused."""
    def refuse(*args, **kwargs):
        raise OSError("tests do not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    root = tmp_path / "hub"
    root.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    return root


def put(cache: Path, repo: str, filename: str, obj, rev: str = REV) -> Path:
    """Store ``obj`` as huggingface_hub lays out a downloaded file: snapshots/<rev>/FILE, refs/main."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    path = folder / "snapshots" / rev / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(rev)
    return path


def small():
    return rmeeto.create_model("vim_tiny_patch16_224", **KW).eval()


def same(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_pretrained_true_loads_the_default_file_from_the_cache(cache):
    src = small()
    put(cache, *VIM_T, {"model": src.state_dict(), "epoch": 299})
    assert same(src, rmeeto.create_model("vim_tiny_patch16_224", pretrained=True, **KW))
    official = "vim_tiny_patch16_224_bimambav2_final_pool_mean_abs_pos_embed_with_midclstok_div2"
    assert same(src, rmeeto.create_model(official, pretrained=True, **KW))  # aliases share the default


def test_hub_references(cache):
    src = small()
    put(cache, "Soptq/R-Meeto", "vim_t_r8.pth", {"model": src.state_dict()})
    for spec in ["hf-hub:Soptq/R-Meeto:vim_t_r8.pth", f"hf-hub:Soptq/R-Meeto@{REV}:vim_t_r8.pth",
                 "hf-hub:Soptq/R-Meeto"]:  # no FILE: the repository's only checkpoint
        assert same(src, rmeeto.create_model("vim_tiny_patch16_224", pretrained=spec, **KW)), spec
    put(cache, *VIM_T, {"model": src.state_dict()})
    assert same(src, rmeeto.create_model("vim_tiny_patch16_224", pretrained="hf-hub:" + VIM_T[0], **KW))


def test_repository_with_several_checkpoints_asks_for_the_file(cache):
    put(cache, "Soptq/R-Meeto", "a.pth", {"model": {}})
    put(cache, "Soptq/R-Meeto", "b.safetensors", {"model": {}})
    with pytest.raises(WeightsNotFoundError, match=r"2 checkpoint files \(a.pth, b.safetensors\).*"
                                                   r"hf-hub:Soptq/R-Meeto:FILE"):
        hub.resolve_pretrained("hf-hub:Soptq/R-Meeto", "vim_tiny_patch16_224")


def test_offline_miss_says_where_to_put_the_file(cache):
    with pytest.raises(WeightsNotFoundError) as e:
        rmeeto.create_model("vim_tiny_patch16_224", pretrained=True, **KW)
    msg = str(e.value)
    where = cache / "models--hustvl--Vim-tiny-midclstok" / "snapshots" / "manual" / VIM_T[1]
    assert "\n" not in msg and "HF_HUB_OFFLINE" in msg and str(where) in msg and "--pretrained PATH" in msg
    src = small()  # following the message works
    where.parent.mkdir(parents=True)
    torch.save({"model": src.state_dict()}, where)
    assert same(src, rmeeto.create_model("vim_tiny_patch16_224", pretrained=True, **KW))


@pytest.mark.slow  # waits about 20 s on the refused connections
def test_unreachable_hub_gives_the_same_advice(cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # online, but every connection fails
    with pytest.raises(WeightsNotFoundError, match="could not be reached.*snapshots/manual/vim_t_midclstok"):
        hub.resolve_pretrained(True, "vim_tiny_patch16_224")


def test_environment_is_read_at_call_time(cache, monkeypatch):
    import huggingface_hub

    seen = {}

    def fake_download(repo_id, filename, **kw):
        seen.update(kw, repo_id=repo_id, filename=filename)
        return str(cache / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setenv("HF_ENDPOINT", "https://mirror.example")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    hub.resolve_pretrained(True, "vim_small_patch16_224")
    assert seen == {"repo_id": "hustvl/Vim-small-midclstok", "filename": "vim_s_midclstok_80p5acc.pth",
                    "revision": None, "cache_dir": cache, "local_files_only": False,
                    "endpoint": "https://mirror.example"}


def test_local_paths_and_bad_references(cache, tmp_path):
    src = small()
    torch.save({"model": src.state_dict()}, tmp_path / "w.pth")
    assert same(src, rmeeto.create_model("vim_tiny_patch16_224", pretrained=tmp_path / "w.pth", **KW))
    with pytest.raises(WeightsNotFoundError, match="not found: .*missing.pth .*hf-hub:ORG/REPO:FILE"):
        rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(tmp_path / "missing.pth"), **KW)
    for bad in ["hf-hub:hustvl", "hf-hub:a/b/c:f.pth", "hf-hub:a/b@:f.pth"]:
        with pytest.raises(ValueError, match="ORG/REPO"):
            parse_hub_spec(bad)


def test_model_without_a_default_source(cache, monkeypatch):
    monkeypatch.delitem(DEFAULT_SOURCES, "vim_tiny_patch16_224")
    with pytest.raises(WeightsNotFoundError, match="no default pretrained weights for vim_tiny_patch16_224"):
        rmeeto.create_model("vim_tiny_patch16_224", pretrained=True, **KW)


def test_every_registered_model_has_a_default_source():
    no_release = {"videomamba_base_patch16_224_in1k"}  # no official weights published for it
    for name in sorted(set(rmeeto.list_models()) - no_release):
        ref = parse_hub_spec(DEFAULT_SOURCES[name])
        assert ref.filename and ref.filename.endswith(".pth"), name


def test_cli_reads_hub_references(cache, tmp_path, capsys):
    from PIL import Image

    Image.new("RGB", (40, 40)).save(tmp_path / "x.png")
    argv = ["vis", str(tmp_path / "x.png"), "--pretrained", "hf-hub:" + VIM_T[0], "--r", "1", "--model-kwargs",
            *[f"{k}={v}" for k, v in KW.items()], "--out", str(tmp_path / "m.png")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: cannot fetch") and "snapshots/manual" in err
    put(cache, *VIM_T, {"model": small().state_dict()})
    assert main(argv) == 0 and (tmp_path / "m.png").is_file()
