"""Every command with every kind of bad input: exit status 2, one line that names the fix, no traceback,
no checkpoint changed. Run in this process through rmeeto.cli.main (fast)."""
import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import rmeeto
from rmeeto.cli import main
from rmeeto.ops.dispatch import available_backends

from conftest_data import make_data

TINY_KW = dict(depth=4, embed_dim=32, img_size=32, patch_size=4, stride=4)
TINY = ["--model", "vim_tiny_patch16_224", "--model-kwargs", *[f"{k}={v}" for k, v in TINY_KW.items()]]
NO_CUDA = not torch.cuda.is_available()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_inputs")
    Image.fromarray((np.random.default_rng(0).random((50, 60, 3)) * 255).astype(np.uint8)).save(d / "img.png")
    (d / "not_an_image.jpg").write_text("hello")
    (d / "a_folder.png").mkdir()
    good = d / "good.pth"
    rmeeto.save_checkpoint(rmeeto.create_model("vim_tiny_patch16_224", **TINY_KW), str(good))
    (d / "truncated.pth").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (d / "corrupt.pth").write_bytes(b"not a checkpoint" * 64)
    other = rmeeto.create_model("vim_tiny_patch16_224", **{**TINY_KW, "embed_dim": 48})
    rmeeto.save_checkpoint(other, str(d / "other.pth"))
    make_data(str(d / "data"), classes=2, per_class=4, val_per_class=2, size=(40, 36))
    return d


def _digests(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.pth")}


IMG, DATA = "{d}/img.png", ["--data-dir", "{d}/data"]
OUT = ["--output", "{d}/run"]
CASES = [
    # info
    (["info", *TINY, "--r", "-1"], "--r 0 for no merging"),
    (["info", *TINY, "--r", "500"], "Use a smaller r"),
    (["info", *TINY, "--ratio", "1.5"], "in [0, 1)"),
    (["info", *TINY, "--r", "2", "--ratio", "0.2"], "give --r or --ratio, not both"),
    (["info", "--model", "vim_tiny_patch16"], "did you mean --model vim_tiny_patch16_224"),
    (["info", "--model", "vim_tiny_patch16_224", "--model-kwargs", "depht=4"], "unknown option 'depht'"),
    (["info", "--r", "x"], "invalid int value"),
    # vis
    (["vis", IMG, *TINY, "--r", "-1"], "--r 0 for no merging"),
    (["vis", IMG, *TINY, "--r", "500"], "Use a smaller r"),
    (["vis", IMG, *TINY, "--ratio", "1.5"], "in [0, 1)"),
    (["vis", IMG, *TINY, "--r", "2", "--ratio", "0.2"], "not both"),
    (["vis", IMG, "--model", "nope", "--r", "2"], "rmeeto info` lists the models"),
    (["vis", "{d}/not_an_image.jpg", *TINY, "--r", "2"], "give a JPEG or PNG file"),
    (["vis", "{d}/missing.png", *TINY, "--r", "2"], "does not exist"),
    (["vis", IMG, *TINY, "--r", "2", "--out", "{d}/no/such/dir/map.png"], "create it or choose another path"),
    (["vis", IMG, *TINY, "--r", "2", "--out", "{d}/map.xyz"], "end it in .png"),
    (["vis", IMG, *TINY, "--r", "2", "--out", "{d}/a_folder.png"], "give a file name"),
    (["vis", IMG, *TINY, "--r", "2", "--pretrained", "{d}/corrupt.pth"], "cannot read --pretrained"),
    (["vis", IMG, *TINY, "--r", "2", "--pretrained", "{d}/truncated.pth"], "cannot read --pretrained"),
    (["vis", IMG, *TINY, "--r", "2", "--pretrained", "{d}/other.pth"], "build it with --model vim_tiny_patch16_224"),
    (["vis", IMG, *TINY, "--r", "2", "--pretrained", "{d}/missing.pth"], "checkpoint not found"),
    (["vis", IMG, *TINY, "--scale", "0", "--r", "2"], "--scale must be at least 1"),
    # bench
    (["bench", *TINY, "--device", "cpu", "--r", "-1"], "--r 0 for no merging"),
    (["bench", *TINY, "--device", "cpu", "--r", "0,500"], "Use a smaller r"),
    (["bench", *TINY, "--device", "cpu", "--ratio", "1.5"], "in [0, 1)"),
    (["bench", *TINY, "--device", "cpu", "--r", "2", "--ratio", "0.2"], "not both"),
    (["bench", *TINY, "--device", "cpu", "--r", "a,b"], "e.g. --r 0,5,11"),
    (["bench", "--model", "nope", "--device", "cpu"], "rmeeto info` lists the models"),
    (["bench", *TINY, "--device", "cpu", "--json", "{d}/no/b.json"], "create it or choose another path"),
    (["bench", *TINY, "--device", "cpu", "--plot", "{d}/b.xyz"], "end it in .png"),
    (["bench", *TINY, "--device", "cpu", "--iters", "0"], "--iters must be at least 1"),
    (["bench", *TINY, "--device", "cpu", "--iters", "2", "--rounds", "3"], "needs at least as many --iters"),
    (["bench", *TINY, "--device", "cpu", "--mode", "squash"], "invalid choice"),
    # bench-data
    (["bench-data", *DATA, *TINY, "--img-size", "64"], "give the size once, with --img-size"),
    (["bench-data", *DATA, "--r", "2"], "add --model NAME"),
    (["bench-data", *DATA, *TINY, "--r", "500"], "Use a smaller r"),
    (["bench-data", *DATA, "--model", "nope"], "rmeeto info` lists the models"),
    (["bench-data", *DATA, "--steps", "0"], "--steps must be at least 1"),
    # train
    (["train", *DATA, *TINY, *OUT, "--r", "-1"], "--r 0 for no merging"),
    (["train", *DATA, *TINY, *OUT, "--r", "500"], "Use a smaller r"),
    (["train", *DATA, *TINY, *OUT, "--ratio", "1.5"], "in [0, 1)"),
    (["train", *DATA, *TINY, *OUT, "--r", "2", "--ratio", "0.2"], "not both"),
    (["train", *DATA, "--model", "nope", *OUT], "rmeeto info` lists the models"),
    (["train", *DATA, *TINY, "--output", "{d}/img.png"], "is a file, not a folder"),
    (["train", *DATA, *TINY, *OUT, "--pretrained", "{d}/corrupt.pth"], "cannot read --pretrained"),
    (["train", *DATA, *TINY, *OUT, "--pretrained", "{d}/truncated.pth"], "cannot read --pretrained"),
    (["train", *DATA, *TINY, *OUT, "--pretrained", "{d}/other.pth"], "embed_dim=48"),
    (["train", *DATA, "--model", "deit_tiny_patch16_224", *OUT, "--r", "2"], "Transformer baseline"),
    (["train", *DATA, *TINY, *OUT, "--max-bad-images", "1.5"], "e.g. 0.01"),
    # eval
    (["eval", *DATA, *TINY, "--r", "-1"], "--r 0 for no merging"),
    (["eval", *DATA, *TINY, "--r-list", "0,-1"], "--r-list 0 for no merging"),
    (["eval", *DATA, *TINY, "--r-list", "0,500"], "Use a smaller r"),
    (["eval", *DATA, *TINY, "--ratio-list", "0,1.5"], "in [0, 1)"),
    (["eval", *DATA, *TINY, "--r-list", "0,2", "--ratio-list", "0.1"], "give one of --r, --ratio"),
    (["eval", *DATA, *TINY, "--r", "2", "--ratio", "0.1"], "give one of --r, --ratio"),
    (["eval", *DATA, *TINY, "--pretrained", "{d}/truncated.pth"], "cannot read --pretrained"),
    (["eval", *DATA, *TINY, "--pretrained", "{d}/other.pth"], "embed_dim=48"),
    (["eval", *DATA, *TINY, "--output", "{d}/img.png"], "is a file, not a folder"),
    # demo
    (["demo", "--ratio", "1.5"], "in [0, 1)"),
    (["demo", "--ratio", "0.95"], "Lower the ratio"),
    (["demo", "--eval-images", "0"], "--eval-images must be at least 1"),
    (["demo", "--out", "{d}/img.png"], "is a file, not a folder"),
    (["demo", "--checkpoint", "{d}/corrupt.pth"], "cannot read --checkpoint"),
    (["demo", "--checkpoint", "{d}/missing.pth"], "pass --checkpoint"),
    # study
    (["study", "freee"], "choose from ['free'"),
    (["study", "free", "--checkpoint", "{d}/missing.pth"], "--checkpoint must point to the trained proxy Vim"),
]
if NO_CUDA:
    CASES += [(["bench", *TINY, "--device", "cuda"], "use --device cpu"), (["demo", "--device", "cuda"], "use --device cpu")]
if "triton" not in available_backends("cpu"):
    CASES += [(["bench", *TINY, "--device", "cpu", "--backend", "triton"], "usable: ")]

# a bare `pip install rmeeto`: the command names the extra to install before doing anything
MISSING = [
    (["train", *DATA, *TINY, *OUT], "timm", "pip install 'rmeeto[train]'"),
    (["eval", *DATA, *TINY], "torchvision", "pip install 'rmeeto[train]'"),
    (["bench-data", *DATA], "timm", "pip install 'rmeeto[train]'"),
    (["demo"], "matplotlib", "pip install 'rmeeto[plot]'"),
    (["demo"], "timm", "pip install 'rmeeto[train]'"),
    (["bench", *TINY, "--device", "cpu", "--plot", "{d}/b.png"], "matplotlib", "pip install 'rmeeto[plot]'"),
    (["eval", *DATA, *TINY, "--r-list", "0,2"], "matplotlib", "pip install 'rmeeto[plot]'"),
    (["study", "free"], "timm", "pip install 'rmeeto[train]'"),
]


def run(argv, files, capsys):
    argv = [a.format(d=files) for a in argv]
    before = _digests(files)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    out, err = capsys.readouterr()
    assert _digests(files) == before, "a checkpoint changed"
    return code, out, err


def assert_one_line_error(code, out, err, fix):
    assert "Traceback" not in out + err
    assert code == 2, (code, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "error:" in lines[0] and fix in lines[0], lines[0]
    assert out == ""


@pytest.mark.parametrize("argv,fix", CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in CASES])
def test_bad_input_ends_in_one_line(argv, fix, files, capsys):
    assert_one_line_error(*run(argv, files, capsys), fix)


@pytest.mark.parametrize("argv,module,fix", MISSING, ids=[f"{a[0]}-{m}" for a, m, _ in MISSING])
def test_missing_extra_is_named_before_any_work(argv, module, fix, files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # what a bare install looks like to import
    assert_one_line_error(*run(argv, files, capsys), fix)
    assert not (files / "run").exists() and not (files / "b.png").exists()
