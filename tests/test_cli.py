"""The command line: info, vis, bench (CPU)."""
import json
import os

import numpy as np
from PIL import Image

from rmeeto.cli import main, parse_kv

TINY = ["depth=4", "embed_dim=32", "img_size=32", "patch_size=4", "stride=4"]


def test_parse_kv():
    assert parse_kv(["a=1", "b=0.5", "c=true", "d=x", "e=none"]) == {"a": 1, "b": 0.5, "c": True, "d": "x", "e": None}


def test_info_prints_paper_gflops(capsys):
    assert main(["info", "--model", "vim_small_patch16_224", "--r", "11"]) == 0
    out = capsys.readouterr().out
    assert "5.077" in out and "3.585" in out and "0.307" in out


def test_vis_writes_a_picture(tmp_path):
    img = tmp_path / "x.png"
    Image.fromarray((np.random.rand(50, 60, 3) * 255).astype(np.uint8)).save(img)
    out = tmp_path / "map.png"
    assert main(["vis", str(img), "--model-kwargs", *TINY, "--r", "6", "--out", str(out)]) == 0
    assert Image.open(out).size == (64, 64)


def test_bench_runs_on_cpu(tmp_path, capsys):
    js = tmp_path / "b.json"
    assert main(["bench", "--model", "vim_tiny_patch16_224", "--model-kwargs", *TINY, "--r", "0,6",
                 "--batch-size", "2", "--device", "cpu", "--dtype", "fp32", "--warmup", "0", "--iters", "1",
                 "--json", str(js), "--plot", str(tmp_path / "b.png")]) == 0
    rows = json.loads(js.read_text())["rows"]
    assert [r["setting"] for r in rows] == ["r=0", "r=6"] and rows[1]["ratio"] > 0 and rows[0]["im_per_s"] > 0
    assert "speedup" in capsys.readouterr().out and (tmp_path / "b.png").is_file()


def test_bench_compares_merge_implementations(tmp_path, monkeypatch):
    monkeypatch.delenv("RMEETO_MERGE", raising=False)
    js = tmp_path / "b.json"
    assert main(["bench", "--model", "vim_tiny_patch16_224", "--model-kwargs", *TINY, "--r", "6",
                 "--merge", "auto,torch", "--batch-size", "2", "--device", "cpu", "--dtype", "fp32",
                 "--warmup", "0", "--iters", "1", "--json", str(js)]) == 0
    rows = json.loads(js.read_text())["rows"]
    assert [(r["backend"], r["merge"], r["setting"]) for r in rows] == [
        ("auto", "auto", "r=0"), ("auto", "auto", "r=6"), ("auto/torch", "torch", "r=0"), ("auto/torch", "torch", "r=6")]
    assert "RMEETO_MERGE" not in os.environ  # restored after the run


def test_missing_extras_give_a_clear_error(monkeypatch):
    import builtins

    import pytest

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "rmeeto.train.commands":
            raise ImportError("No module named 'timm'", name="timm")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(SystemExit, match=r"needs timm: pip install 'rmeeto\[train\]'"):
        main(["train"])
