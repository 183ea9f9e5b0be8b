"""rmeeto train/eval on a tiny merged VideoMamba from list files of real MP4s (CPU)."""
import json
import os

import pytest
import torch

from conftest_data import run_inproc  # also puts src/ on sys.path
import rmeeto
from rmeeto.data.video import build_video_dataset, collate_views
from test_video_data import _fake_fashion

av = pytest.importorskip("av")

MODEL = ["--model", "videomamba_tiny_patch16_224", "--model-kwargs", "depth=4", "embed_dim=32", "img_size=32",
         "patch_size=8", "d_state=8", "--num-frames", "4", "--num-classes", "8"]
KW = dict(depth=4, embed_dim=32, img_size=32, patch_size=8, d_state=8, num_frames=4, num_classes=8)
COMMON = ["--dataset", "video", "--workers", "0"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def video_set(tmp_path_factory):
    from rmeeto.data.synthetic_video import make_motion_video_set
    root = tmp_path_factory.mktemp("motion")
    make_motion_video_set(str(root / "set"), per_class=2, val_per_class=1, test_per_class=1, frames=12, size=32,
                          fashion_dir=_fake_fashion(str(root / "fm")))
    (root / "set" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3000))
    with open(root / "set" / "train.csv", "a") as f:
        f.write("broken.mp4,3\n")
    return str(root / "set")


@pytest.mark.slow
def test_retrain_merged_videomamba_then_eval_checkpoint_with_views(video_set, tmp_path):
    out = tmp_path / "run"
    rc = run_inproc(["train", *MODEL, *COMMON, "--no-progress", "--data-dir", video_set, "--output", str(out), "--r", "4",
                     "--epochs", "1", "--batch-size", "4", "--num-sample", "2", "--lr", "1e-3", "--lr-base-batch", "256",
                     "--layer-decay", "0.75", "--aa", "rand-m5-n2-mstd0.25-inc1", "--reprob", "0.25",
                     "--log-interval", "1", "--no-tensorboard"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["patch"]["r"] == 4 and summary["reduction_ratio"] > 0
    epoch = summary["epochs"][0]
    assert epoch["val_samples"] == 8 and epoch["skipped_unreadable"] >= 1  # the broken file was skipped
    assert summary["lr"] == pytest.approx(1e-3 * 4 * 2 / 256)  # lr x batch x num_sample / 256

    ev = tmp_path / "eval"
    rc = run_inproc(["eval", *MODEL, *COMMON, "--data-dir", video_set, "--split", "test", "--pretrained",
                     str(out / "checkpoint.pth"), "--test-views", "2x3", "--batch-size", "3", "--no-throughput",
                     "--output", str(ev)])
    assert rc == 0
    res = json.loads((ev / "eval.json").read_text())["results"][0]
    assert res["n"] == 8 and res["patch"]["r"] == 4  # the merge came back with the checkpoint

    # the same numbers by hand: every view on its own, then the mean of the logits
    model = rmeeto.create_model("videomamba_tiny_patch16_224", pretrained=str(out / "checkpoint.pth"), **KW).eval()
    assert rmeeto.patch_settings(model)["r"] == 4
    ds = build_video_dataset(video_set, "test", num_frames=4, img_size=32, train=False, test_views=(2, 3))
    x, y = collate_views([ds[i] for i in range(len(ds))])
    assert x.shape == (8, 6, 3, 4, 32, 32)
    with torch.no_grad():
        logits = torch.stack([model(x[:, v]) for v in range(6)], 1).mean(1)
    top1 = 100.0 * (logits.argmax(-1) == y).float().mean().item()
    assert res["top1"] == pytest.approx(top1)
    loss = torch.nn.functional.cross_entropy(logits, y).item()
    assert res["loss"] == pytest.approx(loss, rel=1e-4)


def test_video_errors_exit_2(video_set, tmp_path, capsys):
    rc = run_inproc(["train", "--model", "vim_tiny_patch16_224", "--model-kwargs", "depth=2", "embed_dim=32",
                     "img_size=32", "patch_size=8", "stride=8", "--num-classes", "8", *COMMON, "--no-progress",
                     "--data-dir", video_set,
                     "--output", str(tmp_path / "a")])
    assert rc == 2 and "needs a video model" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.csv").write_text("a.mp4,1\nb.mp4 x\n")
    rc = run_inproc(["train", *MODEL, *COMMON, "--no-progress", "--data-dir", str(bad), "--output", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert rc == 2 and "train.csv, line 2" in err and "Traceback" not in err
    rc = run_inproc(["eval", *MODEL, *COMMON, "--data-dir", video_set, "--test-views", "4by3", "--no-throughput"])
    assert rc == 2 and "--test-views" in capsys.readouterr().err


@pytest.mark.slow
def test_torchrun_two_processes_multi_view_val(video_set, tmp_path):
    """torchrun --nproc_per_node=2 on CPU (gloo): the sharded 2x1-view validation of the saved
    weights equals a single-process evaluation, and the skipped video is counted over both ranks."""
    import subprocess
    import sys

    from conftest_data import ROOT, subprocess_env
    from rmeeto.data import build_eval_loader
    from rmeeto.train.dist import DistInfo
    from rmeeto.train.evaluate import evaluate
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "rmeeto.train.commands", "train", *MODEL, *COMMON, "--no-progress", "--data-dir", video_set,
           "--output", str(out), "--merge-r", "4", "--epochs", "1", "--batch-size", "2", "--num-sample", "2",
           "--test-views", "2x1", "--no-initial-eval", "--no-tensorboard", "--device", "cpu"]
    r = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    val = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()
           if json.loads(x)["type"] == "val"][0]
    assert val["val_samples"] == 8 and val["skipped_unreadable"] >= 1
    model = rmeeto.create_model("videomamba_tiny_patch16_224", pretrained=str(out / "checkpoint.pth"), **KW)
    ds = build_video_dataset(video_set, "val", num_frames=4, img_size=32, train=False, test_views=(2, 1))
    single = evaluate(model, build_eval_loader(ds, 3, workers=0), DistInfo())
    assert single["top1"] == pytest.approx(val["top1"]) and single["loss"] == pytest.approx(val["val_loss"], rel=1e-5)


@pytest.mark.parametrize("size, epochs, r", [("tiny", 30, 40), ("small", 15, 88), ("middle", 15, 88)])
def test_k400_configs_resolve_to_the_official_recipe(size, epochs, r):
    import argparse

    from conftest_data import ROOT
    from rmeeto.train.flags import build_train_parser, resolve
    p = argparse.ArgumentParser()
    opts = build_train_parser(p)
    a = resolve(p.parse_args(["-c", os.path.join(ROOT, "configs", f"retrain_k400_videomamba_{size}.yaml")]), opts)
    assert (a.model, a.dataset, a.num_frames, a.epochs, a.r) == (f"videomamba_{size}_patch16_224", "video", 8, epochs, r)
    assert a.global_batch_size // a.accum_steps == 4 * 32 and a.num_sample == 2
    assert a.lr * a.global_batch_size * a.num_sample / a.lr_base_batch == pytest.approx(4e-5)
    assert (a.layer_decay, a.weight_decay, a.warmup_epochs, a.drop_path, a.amp) == (0.75, 0.1, 5, 0.1, "bf16")
    assert a.aa == "rand-m5-n2-mstd0.25-inc1" and (a.mixup, a.cutmix, a.smoothing) == (0.8, 1.0, 0.1)
