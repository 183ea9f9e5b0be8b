"""The command line: info, vis, bench (CPU)."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from rmeeto.cli import main, parse_kv

TINY = ["depth=4", "embed_dim=32", "img_size=32", "patch_size=4", "stride=4"]


def test_parse_kv():
    assert parse_kv(["a=1", "b=0.5", "c=true", "d=x", "e=none"]) == {"a": 1, "b": 0.5, "c": True, "d": "x", "e": None}


def test_info_prints_paper_gflops(capsys):
    assert main(["info", "--model", "vim_small_patch16_224", "--r", "11"]) == 0
    out = capsys.readouterr().out
    assert "5.077" in out and "3.585" in out and "0.307" in out


def test_vis_writes_a_titled_picture(tmp_path, capsys):
    img = tmp_path / "x.png"
    Image.fromarray((np.random.rand(50, 60, 3) * 255).astype(np.uint8)).save(img)
    out = tmp_path / "map.png"
    assert main(["vis", str(img), "--model-kwargs", *TINY, "--r", "6", "--out", str(out)]) == 0
    pic = Image.open(out)
    assert pic.width >= 64 and pic.height > 64 + 30  # the 64x64 map, a title above, a caption below
    assert "ratio" in capsys.readouterr().out


def test_vis_without_r_says_which_setting_it_draws(tmp_path, capsys):
    img = tmp_path / "x.png"
    Image.fromarray((np.random.rand(64, 64, 3) * 255).astype(np.uint8)).save(img)
    kw = ["depth=8", "embed_dim=32", "img_size=32", "patch_size=4", "stride=4"]
    assert main(["vis", str(img), "--model-kwargs", *kw, "--out", str(tmp_path / "m.png")]) == 0
    assert "no --r/--ratio given: using --ratio 0.31" in capsys.readouterr().err


def test_vis_titles_and_keeps_the_aspect():
    import rmeeto
    from rmeeto.vis import CAPTION, annotated_merge_map, describe, final_groups, square, to_input

    m = rmeeto.patch(rmeeto.create_model("vim_tiny_patch16_224", **parse_kv(TINY)), r=6)
    wide = np.zeros((40, 120, 3), np.uint8)
    wide[:, :30, 0] = 255  # a red band on the left, outside the central square
    wide[:, 30:, 2] = 255
    sq = np.asarray(square(Image.fromarray(wide), 32))
    assert sq.shape == (32, 32, 3) and sq[..., 0].max() < 40  # squashing would have kept the red band
    assert to_input(Image.fromarray(wide), m).shape == (1, 3, 32, 32)
    _, left = final_groups(m, to_input(Image.fromarray(wide), m))
    title = describe(m, "tiny", left)
    assert title == f"tiny: merge r=6, ratio {rmeeto.reduction_ratio(m):.2f}, 65 -> {65 - 6} tokens"
    assert "colour" in CAPTION and "Black: pruned" in CAPTION
    plain = annotated_merge_map(m, Image.fromarray(wide[:, 30:90]), scale=2, name="tiny")
    assert plain.height > 64


def test_bench_runs_on_cpu(tmp_path, capsys):
    js = tmp_path / "b.json"
    assert main(["bench", "--model", "vim_tiny_patch16_224", "--model-kwargs", *TINY, "--r", "0,6",
                 "--batch-size", "2", "--device", "cpu", "--dtype", "fp32", "--warmup", "0", "--iters", "2",
                 "--rounds", "2", "--json", str(js), "--plot", str(tmp_path / "b.png")]) == 0
    rows = json.loads(js.read_text())["rows"]
    assert [r["setting"] for r in rows] == ["r=0", "r=6"] and rows[1]["ratio"] > 0 and rows[0]["im_per_s"] > 0
    assert rows[0]["rounds"] == 2
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


def test_missing_extras_give_a_clear_error(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "rmeeto.train.commands":
            raise ImportError("No module named 'timm'", name="timm")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    assert main(["train"]) == 2
    assert capsys.readouterr().err.strip() == "error: `rmeeto train` needs timm: pip install 'rmeeto[train]'"


_BARE = """
import contextlib, io, json, sys
for name in ("timm", "torchvision", "matplotlib", "av", "tensorboard"):
    sys.modules[name] = None  # `import name` now fails as it does where the package is not installed
from rmeeto.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code
    results.append([rc, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


@pytest.mark.slow
def test_a_bare_install_runs_info_vis_and_bench_and_names_the_extra_for_the_rest(tmp_path):
    """Without the training and video extras the core commands work (cli.py imports no module that
    needs them), and the others say what to install."""
    import subprocess
    import sys

    img = tmp_path / "x.png"
    Image.fromarray((np.random.rand(32, 32, 3) * 255).astype(np.uint8)).save(img)
    extras = ["train", "eval", "demo", "study"]
    runs = [["--help"], ["info", "--model", "vim_small_patch16_224", "--r", "11"],
            ["vis", str(img), "--model-kwargs", *TINY, "--r", "6", "--out", str(tmp_path / "m.png")],
            ["bench", "--model-kwargs", *TINY, "--r", "2", "--batch-size", "2", "--device", "cpu", "--dtype", "fp32",
             "--warmup", "1", "--iters", "1"]] + [[c] for c in extras]
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    child = subprocess.run([sys.executable, "-c", _BARE, json.dumps(runs)], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": src}, cwd=tmp_path)
    assert child.returncode == 0, child.stderr
    (help_rc, _, _), info, vis, bench, *missing = json.loads(child.stdout.splitlines()[-1])
    assert help_rc == 0
    assert info[0] == 0 and "3.585" in info[1], info
    assert vis[0] == 0 and (tmp_path / "m.png").is_file(), vis
    assert bench[0] == 0 and "r=2" in bench[1], bench
    for command, (rc, _, err) in zip(extras, missing):
        assert rc == 2
        assert err.startswith(f"error: `rmeeto {command}` needs timm"), err
        assert err.strip().endswith("pip install 'rmeeto[train]'"), err


def test_help_has_no_markup_and_every_option_explained(capsys):
    from rmeeto.cli import build_parser

    parser = build_parser()
    assert "``" not in parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert "``" not in command.format_help(), name
        for action in command._actions:
            assert action.help, (name, action.dest)
