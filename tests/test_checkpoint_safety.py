"""No checkpoint runs code unless the caller trusts it (issue 14, item 11)."""
import argparse
import hashlib
import os
import pickle
import warnings

import numpy as np
import pytest
import torch

import rmeeto
from rmeeto.checkpoint import (TrustedCheckpointWarning, UnsafeCheckpointError, load_checkpoint,
                               read_checkpoint)
from rmeeto.cli import main

KW = dict(depth=2, embed_dim=32, img_size=32, patch_size=8, stride=8, num_classes=3)
MODEL_ARGS = ["--model-kwargs", "depth=2", "embed_dim=32", "img_size=32", "patch_size=8", "stride=8"]
KW_ARGS = [*MODEL_ARGS, "num_classes=3"]


class Payload:
    """Unpickling this creates the folder ``marker``: the stand-in for arbitrary code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.makedirs, (self.marker,)


def small():
    return rmeeto.create_model("vim_tiny_patch16_224", **KW).eval()


def same(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def evil_checkpoint(tmp_path, fmt="zip"):
    """A file with real weights and a payload beside them; returns (path, marker, source model)."""
    src, marker = small(), tmp_path / "code_ran"
    obj = {"model": src.state_dict(), "epoch": 3, "x": Payload(marker)}
    path = tmp_path / f"evil_{fmt}.pth"
    if fmt == "pickle":
        with open(path, "wb") as f:
            pickle.dump(obj, f)
    else:
        torch.save(obj, path, _use_new_zipfile_serialization=fmt == "zip")
    return path, marker, src


def official_checkpoint(tmp_path, src):
    """Laid out as the official Vim/DeiT files: weights, EMA, optimizer, scheduler, scaler, epoch and
    the argparse Namespace of the run, plus NumPy scalars as some scripts store metrics."""
    opt = torch.optim.AdamW(src.parameters(), lr=1e-3)
    src(torch.randn(2, 3, 32, 32)).sum().backward()
    opt.step()
    opt.zero_grad()
    sd = src.state_dict()
    obj = {"model": sd, "model_ema": {k: v.clone() for k, v in sd.items()}, "optimizer": opt.state_dict(),
           "lr_scheduler": {"t_initial": 300, "lr_min": 1e-5, "base_values": [1e-3], "noise_range_t": None},
           "scaler": {"scale": 65536.0, "growth_factor": 2.0, "_growth_tracker": 7}, "epoch": 299,
           "args": argparse.Namespace(model="vim_tiny_patch16_224", lr=5e-4, batch_size=128, if_amp=False,
                                      data_path="/data/imagenet", input_size=224, mean=(0.485, 0.456, 0.406)),
           "max_accuracy": np.float64(76.1), "n_parameters": np.int64(7_000_000), "best": np.float32(0.5)}
    path = tmp_path / "vim_t_midclstok_76p1acc.pth"
    torch.save(obj, path)
    return path


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("fmt", ["zip", "legacy", "pickle"])
def test_malicious_pickle_is_refused_everywhere(tmp_path, fmt):
    path, marker, _ = evil_checkpoint(tmp_path, fmt)
    calls = [lambda: read_checkpoint(path), lambda: load_checkpoint(small(), path),
             lambda: rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(path), **KW)]
    for call in calls:
        with pytest.raises(UnsafeCheckpointError) as e:
            call()
        msg = str(e.value)
        assert "\n" not in msg and "--trust-checkpoint" in msg and "trust_checkpoint=True" in msg
        if fmt != "pickle":  # the refused type is named (a plain pickle fails earlier, on its framing)
            assert "os.makedirs" in msg
        assert not marker.exists()


def test_official_layout_loads_safely(tmp_path):
    src = small()
    path = official_checkpoint(tmp_path, src)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrustedCheckpointWarning)
        obj = read_checkpoint(path)
        dst = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(path), **KW)
    assert obj["args"].lr == 5e-4 and obj["epoch"] == 299 and float(obj["max_accuracy"]) == 76.1
    assert same(src, dst)


def test_trusting_the_file_unpickles_fully_and_warns(tmp_path):
    path, marker, src = evil_checkpoint(tmp_path)
    with pytest.warns(TrustedCheckpointWarning, match="evil_zip.pth"):
        dst = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(path), trust_checkpoint=True, **KW)
    assert marker.is_dir()  # the payload is real: trusted, it ran
    assert same(src, dst)


def test_corrupt_file_is_not_called_unsafe(tmp_path):
    (tmp_path / "c.pth").write_bytes(b"plain text, not a checkpoint")
    with pytest.raises(Exception) as e:
        read_checkpoint(tmp_path / "c.pth")
    assert type(e.value).__name__ == "CheckpointError" and "corrupt" in str(e.value)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli_cases(tmp_path, evil):
    from conftest_data import make_data
    from test_demo import fake_fashion_mnist

    img = tmp_path / "x.png"
    from PIL import Image
    Image.new("RGB", (40, 40)).save(img)
    folder = make_data(str(tmp_path / "data"), classes=3, per_class=2, val_per_class=2)
    fm = fake_fashion_mnist(tmp_path / "fm")
    data = [*MODEL_ARGS, "--num-classes", "3", "--dataset", "folder", "--data-dir", folder, "--workers", "0",
            "--device", "cpu"]
    return {
        "vis": ["vis", str(img), "--pretrained", evil, *KW_ARGS, "--out", str(tmp_path / "m.png")],
        "eval": ["eval", "--pretrained", evil, *data, "--no-throughput"],
        "train --pretrained": ["train", "--pretrained", evil, *data, "--epochs", "1", "--output", str(tmp_path / "r1")],
        "train --resume": ["train", "--resume", evil, *data, "--epochs", "1", "--output", str(tmp_path / "r2")],
        "demo": ["demo", "--checkpoint", evil, "--data-dir", fm, "--out", str(tmp_path / "demo")],
        "study": ["study", "free", "--checkpoint", evil, "--data-dir", fm, "--device", "cpu",
                  "--out", str(tmp_path / "study")],
    }


def test_cli_refuses_malicious_checkpoints(tmp_path, capsys):
    path, marker, _ = evil_checkpoint(tmp_path)
    before = digest(path)
    for name, argv in cli_cases(tmp_path, str(path)).items():
        assert main(argv) == 2, name
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, (name, err)
        assert err.startswith("error:") and "--trust-checkpoint" in err and "os.makedirs" in err, (name, err)
        assert not marker.exists(), name
        assert digest(path) == before, name


def test_cli_trust_flag_loads_and_warns(tmp_path):
    path, marker, _ = evil_checkpoint(tmp_path)
    img = tmp_path / "x.png"
    from PIL import Image
    Image.new("RGB", (40, 40)).save(img)
    with pytest.warns(TrustedCheckpointWarning):
        rc = main(["vis", str(img), "--pretrained", str(path), "--trust-checkpoint", *KW_ARGS, "--r", "1",
                   "--out", str(tmp_path / "m.png")])
    assert rc == 0 and marker.is_dir() and (tmp_path / "m.png").is_file()


def test_export_script_refuses_code_and_writes_fp16_weights(tmp_path, capsys):
    """``scripts/export_model.py`` reads its input as every loader here does: a payload is refused, not run."""
    from test_launch import script_module

    export = script_module("export_model")
    path, marker, _ = evil_checkpoint(tmp_path)
    assert export.main([str(path), str(tmp_path / "out.pth")]) == 2
    assert not marker.exists() and not (tmp_path / "out.pth").exists()
    assert "--trust-checkpoint" in capsys.readouterr().err
    src = small()
    rmeeto.patch(src, r=2)
    rmeeto.save_checkpoint(src, tmp_path / "run.pth", epoch=4)
    assert export.main([str(tmp_path / "run.pth"), str(tmp_path / "ship.pth"), "float16"]) == 0
    out = read_checkpoint(tmp_path / "ship.pth")
    assert out["epoch"] == 4 and out["rmeeto"]["patch"]["r"] == 2
    assert all(v.dtype == torch.float16 for k, v in out["model"].items() if v.is_floating_point())
    restored = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(tmp_path / "ship.pth"), **KW)
    assert restored.r == 2
