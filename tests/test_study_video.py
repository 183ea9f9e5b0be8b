"""rmeeto study-video end to end on a tiny set: a proxy trained for one epoch, every training-free setting,
one re-training run per kind, and the report (CPU)."""
import json

import pytest
import torch

from conftest_data import SRC, run_inproc  # also puts src/ on sys.path
from test_video_data import _fake_fashion

av = pytest.importorskip("av")

KW = "{img_size: 32, patch_size: 16, depth: 4, embed_dim: 32, d_state: 8}"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """(set folder, config, checkpoint) of a tiny VideoMamba (17 tokens) trained one epoch on 16 MP4s."""
    from rmeeto.data.synthetic_video import make_motion_video_set
    root = tmp_path_factory.mktemp("vstudy")
    data = root / "set"
    make_motion_video_set(str(data), per_class=2, val_per_class=1, test_per_class=1, frames=8, size=32,
                          fashion_dir=_fake_fashion(str(root / "fm")))
    config = root / "proxy.yaml"
    config.write_text(f"model: videomamba_tiny_patch16_224\nmodel-kwargs: {KW}\nnum-frames: 4\nnum-classes: 8\n"
                      f"dataset: video\ndata-dir: {data}\nbatch-size: 4\nlr: 1.0e-3\nlr-base-batch: 4\naa: none\n"
                      "hflip: 0.0\nreprob: 0.0\nmixup: 0.0\ncutmix: 0.0\nworkers: 0\ndevice: cpu\n"
                      "tensorboard: false\n")
    run = root / "proxy"
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rc = run_inproc(["train", "-c", str(config), "--epochs", "1", "--no-progress", "--no-initial-eval",
                         "--output", str(run)])
    finally:
        torch.set_num_threads(n)
    assert rc == 0
    return data, config, run / "checkpoint.pth"


@pytest.mark.slow
def test_free_retrain_report(proxy, tmp_path, monkeypatch):
    from rmeeto.study import video as sv
    from rmeeto.study.video_report import seed_summary, write_report
    data, config, ckpt = proxy
    out = tmp_path / "study"
    free = sv.run_free(ckpt, str(data), out, split="test", ratios=(0.1, 0.2), batch_size=4, speed_iters=1,
                       speed_rounds=1)
    rows = {r["label"]: r for r in free["rows"]}
    assert len(free["rows"]) == 1 + 2 * 5 and free["clips"] == 8
    assert rows["unmerged"]["r"] == 0 and rows["unmerged"]["tokens_in"] == 4 * 4 + 1
    for ratio in ("0.1", "0.2"):  # merge, prune and the shuffle share r, so GFLOPs; fewer than unmerged
        same = {rows[f"{m} {ratio}"]["gflops"] for m in ("merge", "prune", "prune-random", "merge-shuffle")}
        assert len(same) == 1 and same.pop() < rows["unmerged"]["gflops"]
    assert rows["merge 0.2"]["ratio"] > rows["merge 0.1"]["ratio"] > 0
    assert all(r["clips_per_s"] > 0 for r in free["rows"])
    # the unmerged accuracy is the model's own on the decoded test clips
    model = sv.load_video_model(ckpt)
    x, y = sv.load_clips(str(data), "test", 4, 32)
    assert rows["unmerged"]["top1"] == pytest.approx(sv.top1(model, x, y))
    assert free["proxy"]["model"] == "videomamba_tiny_patch16_224" and free["data"]["frames"] == 8

    monkeypatch.setenv("PYTHONPATH", SRC)  # the re-training processes import this checkout
    res = sv.run_retrain(ckpt, str(data), out, config=str(config), ratios=(0.2,), seeds=(0,), epochs=1, lr=1e-4,
                         extra=["--batch-size", "8"])
    assert set(res["runs"]) == {"merge-0.2-seed0", "unmerged-seed0"}
    merged, plain = res["runs"]["merge-0.2-seed0"], res["runs"]["unmerged-seed0"]
    assert merged["patch"]["r"] == res["r"]["0.2"] > 0 and plain["patch"] is None
    assert len(merged["epochs"]) == 1 and merged["wall_minutes"] > 0
    # the test top-1 is that of the saved checkpoint, merge included
    back = sv.load_video_model(out / "runs" / "merge-0.2-seed0" / "checkpoint.pth", keep_patch=True)
    assert back.num_tokens == 17 and merged["test_top1"] == pytest.approx(sv.top1(back, x, y))
    again = sv.run_retrain(ckpt, str(data), out, config=str(config), ratios=(0.2,), seeds=(0,), epochs=1)
    assert again["runs"]["merge-0.2-seed0"]["wall_minutes"] == merged["wall_minutes"]  # resumed, not re-run
    assert seed_summary(res)["merge-0.2"]["mean"] == merged["test_top1"]

    (out / "notes.md").write_text("## How this compares with the paper\n\nhand-written")
    readme = write_report(out).read_text()
    assert "| merge-shuffle 0.2 |" in readme and "| unmerged-seed0 |" in readme and "hand-written" in readme
    assert "study-video retrain" in readme and "--ratios 0.2 --epochs 1 --lr 0.0001 --seeds 0" in readme
    assert (out / "accuracy_vs_ratio.png").stat().st_size > 0 and (out / "retraining.png").stat().st_size > 0
    assert json.loads((out / "retrain.json").read_text())["split"] == "test"


def test_cli_errors_exit_cleanly(tmp_path, capsys):
    from rmeeto.cli import main
    for argv, fix in ((["study-video", "free", "--checkpoint", str(tmp_path / "none.pth")], "--checkpoint must point"),
                      (["study-video", "report", "--out", str(tmp_path)], "neither free.json nor retrain.json"),
                      (["study-video", "fre", "--out", str(tmp_path)], "unknown stage 'fre'")):
        try:
            code = main(argv)
            err = capsys.readouterr().err
        except SystemExit as e:  # argparse-level errors
            code, err = 2, str(e.value) if hasattr(e, "value") else str(e)
        assert code not in (0, None) and fix in err, (argv, err)


def test_unreachable_ratio_exit_2(proxy, tmp_path, capsys):
    from rmeeto.cli import main
    data, _, ckpt = proxy
    rc = main(["study-video", "free", "--checkpoint", str(ckpt), "--data-dir", str(data), "--out", str(tmp_path),
               "--ratios", "0.9"])
    assert rc == 2 and "ratio=0.9 cannot be reached" in capsys.readouterr().err


def test_hflip_option_reaches_the_clip_transform(proxy):
    import numpy as np

    from rmeeto.data import build_dataset
    from rmeeto.data.video_transforms import TrainClipTransform
    data = str(proxy[0])
    ds = build_dataset("video", data, "train", img_size=32, train_aug=True, aa="none", hflip=0.0,
                       video={"num_frames": 4})
    assert ds.transform.hflip == 0.0
    frames = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    full = dict(aa=None, scale=(1.0, 1.0), ratio=(1.0, 1.0))  # the crop is the whole frame
    assert torch.equal(TrainClipTransform(32, hflip=1.0, **full)(frames),
                       TrainClipTransform(32, hflip=0.0, **full)(frames).flip(-1))
