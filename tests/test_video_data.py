"""Video data: list files, PyAV round trips, sampling, clip augmentation, skipped videos, the generator."""
import hashlib
import os
import random

import numpy as np
import pytest
import torch

import conftest_data  # noqa: F401  (puts src/ on sys.path)
from rmeeto.data import DataError, SeededDataset, build_dataset, build_eval_loader, build_mixup, build_train_loader
from rmeeto.data.idx import write_idx
from rmeeto.data.video import VideoDataset, collate_views, parse_views
from rmeeto.data.video_io import VideoReadError, count_frames, read_frames, write_video
from rmeeto.data.video_list import parse_list_file, video_samples
from rmeeto.data.video_transforms import ClipRandAugment, eval_frame_indices, train_frame_indices
from rmeeto.train.video import apply_layer_decay, forward_views, layer_id

av = pytest.importorskip("av")


def ramp_video(path, frames=16, h=48, w=64):
    """Frame k: grey level 12k, a white square moving right by 3 px a frame."""
    x = np.zeros((frames, h, w, 3), np.uint8)
    for k in range(frames):
        x[k] = 12 * k
        x[k, 8:20, 3 * k:3 * k + 12] = 255
    write_video(str(path), x)
    return x


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    ramp_video(d / "good.mp4")
    ramp_video(d / "short.mp4", frames=3)
    good = (d / "good.mp4").read_bytes()
    (d / "corrupt.mp4").write_bytes(good[:len(good) // 3])
    (d / "garbage.mp4").write_bytes(os.urandom(4000))
    return d


# ---------------------------------------------------------------- list files

def test_list_file_formats(tmp_path):
    (tmp_path / "a.csv").write_text("label_a/v 1.mp4,3\nb.mp4,0\n\n/abs/c.mp4,2\n")
    s = parse_list_file(str(tmp_path / "a.csv"))
    assert s == [(str(tmp_path / "label_a/v 1.mp4"), 3), (str(tmp_path / "b.mp4"), 0), ("/abs/c.mp4", 2)]
    (tmp_path / "b.txt").write_text("path label\nx/y.mp4 7\nz w.avi\t1\n")  # header; a space in a path
    s = parse_list_file(str(tmp_path / "b.txt"), prefix="/data/k400")
    assert s == [("/data/k400/x/y.mp4", 7), ("/data/k400/z w.avi", 1)]
    (tmp_path / "c.csv").write_text("p;q.mp4;4\n")
    assert parse_list_file(str(tmp_path / "c.csv"), sep=";") == [(str(tmp_path / "p;q.mp4"), 4)]


@pytest.mark.parametrize("text, where, what", [
    ("", "", "is empty"),
    ("\n  \n", "", "is empty"),
    ("a.mp4,1\nb.mp4\n", "line 2", "expected"),
    ("a.mp4,1\nb.mp4,cat\n", "line 2", "not an integer"),
    ("a.mp4,1\n\nb.mp4,-2\n", "line 3", "outside"),
    ("a.mp4,1\nb.mp4,9\n", "line 2", "outside"),
])
def test_list_file_errors_name_file_and_line(tmp_path, text, where, what):
    p = tmp_path / "train.csv"
    p.write_text(text)
    with pytest.raises(DataError) as e:
        parse_list_file(str(p), num_classes=5)
    assert str(p) in str(e.value) and where in str(e.value) and what in str(e.value)


def test_split_lookup_and_class_folders(tmp_path, videos):
    with pytest.raises(DataError, match="neither train.csv"):
        video_samples(str(tmp_path), "train")
    for c in ("walk", "run"):
        (tmp_path / "train" / c).mkdir(parents=True)
        os.symlink(videos / "good.mp4", tmp_path / "train" / c / "a.mp4")
    (tmp_path / "train" / "run" / "notes.txt").write_text("x")
    samples, classes = video_samples(str(tmp_path), "train")
    assert classes == ["run", "walk"] and [y for _, y in samples] == [0, 1]
    with pytest.raises(DataError, match="--num-classes 2"):
        video_samples(str(tmp_path), "train", num_classes=400)
    (tmp_path / "train.csv").write_text("train/walk/a.mp4 1\n")  # a list file wins over the folder
    assert video_samples(str(tmp_path), "train")[0] == [(str(tmp_path / "train/walk/a.mp4"), 1)]


def test_parse_views():
    assert parse_views("4x3") == (4, 3) and parse_views("1") == (1, 1) and parse_views([2, 1]) == (2, 1)
    for bad in ("4x", "0x3", "axb", "1x2x3"):
        with pytest.raises(DataError, match="SEGMENTSxCROPS"):
            parse_views(bad)


# ---------------------------------------------------------------- decoding

def test_mp4_round_trip(tmp_path):
    x = ramp_video(tmp_path / "v.mp4")
    assert count_frames(str(tmp_path / "v.mp4")) == 16
    assert count_frames(str(tmp_path / "v.mp4"), exact=True) == 16
    with av.open(str(tmp_path / "v.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    idx = [15, 0, 7, 7]
    y = read_frames(str(tmp_path / "v.mp4"), idx)
    assert y.shape == (4, 48, 64, 3) and y.dtype == np.uint8
    assert np.abs(y.astype(int) - x[idx].astype(int)).mean() < 3  # lossy, but close
    levels = y[:, 40, 5, 0].astype(int)  # the grey level says which frame came back
    assert np.all(np.abs(levels - 12 * np.array(idx)) <= 4)
    with pytest.raises(VideoReadError, match="has 16 frames"):
        read_frames(str(tmp_path / "v.mp4"), [16])


def test_write_is_deterministic(tmp_path):
    ramp_video(tmp_path / "a.mp4")
    ramp_video(tmp_path / "b.mp4")
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


@pytest.mark.parametrize("name", ["corrupt.mp4", "garbage.mp4", "missing.mp4"])
def test_unreadable_raises(videos, name):
    with pytest.raises(VideoReadError):
        read_frames(str(videos / name), [0])


# ---------------------------------------------------------------- sampling and augmentation

def test_segment_sampling_matches_official_rule():
    rng = random.Random(0)
    for total in (300, 16, 9, 5):
        seg = (total - 1) / 8
        for _ in range(20):
            idx = train_frame_indices(total, 8, rng)
            assert len(idx) == 8 and idx == sorted(idx)
            for i, f in enumerate(idx):
                assert round(seg * i) <= f <= min(round(seg * (i + 1)), total - 1)
    mid = eval_frame_indices(300, 8)
    assert mid == [int(round(299 / 8 * i)) + int(299 / 8 / 2) for i in range(8)]
    views = [eval_frame_indices(300, 8, v, 4) for v in range(4)]
    assert all(a[i] < b[i] for a, b in zip(views, views[1:]) for i in range(8))  # later views, later frames


def test_randaugment_same_ops_on_every_frame():
    from PIL import Image
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
    ra = ClipRandAugment("rand-m9-n3-mstd0.5-inc1", 40)
    changed = 0
    for seed in range(8):
        random.seed(seed)
        np.random.seed(seed)
        out = ra([base, base.copy(), base.copy()])
        arrs = [np.asarray(o) for o in out]
        assert np.array_equal(arrs[0], arrs[1]) and np.array_equal(arrs[0], arrs[2])
        changed += not np.array_equal(arrs[0], np.asarray(base))
    assert changed >= 4  # the ops are applied, not skipped


def test_train_clip_same_crop_and_flip_on_every_frame(tmp_path):
    x = np.repeat(ramp_video(tmp_path / "v.mp4")[:1], 16, axis=0)  # 16 identical frames
    write_video(str(tmp_path / "same.mp4"), x)
    ds = VideoDataset([(str(tmp_path / "same.mp4"), 0)], 8, 32, True, aa="rand-m9-n2-mstd0.5-inc1",
                      reprob=0.0, num_sample=3)
    clips, label = SeededDataset(ds)[(0, 123)]
    assert clips.shape == (3, 3, 8, 32, 32) and label == 0
    for c in clips:
        assert torch.allclose(c[:, :1].expand_as(c), c, atol=1e-5)  # frames of a clip agree
    assert not torch.allclose(clips[0], clips[1])  # repeated samples are augmented differently
    again, _ = SeededDataset(ds)[(0, 123)]
    assert torch.equal(again, clips)  # seeded


def test_eval_views_and_centre_crop(videos):
    one = VideoDataset([(str(videos / "good.mp4"), 0)], 4, 32, False)
    many = VideoDataset([(str(videos / "good.mp4"), 0)], 4, 32, False, test_views=(1, 3))
    c, _ = one[0]
    v, _ = many[0]
    assert c.shape == (3, 4, 32, 32) and v.shape == (3, 3, 4, 32, 32)
    assert torch.allclose(v[1], c)  # the middle of three crops is the single-view centre crop
    assert not torch.allclose(v[0], v[2])  # left and right crops differ (the square moves along the width)


# ---------------------------------------------------------------- skipping

def test_skipped_videos_counted_train_and_eval(videos):
    samples = [(str(videos / "good.mp4"), 0), (str(videos / "corrupt.mp4"), 1), (str(videos / "short.mp4"), 2),
               (str(videos / "missing.mp4"), 3)]
    ev = VideoDataset(samples, 8, 32, False)
    items = [ev[i] for i in range(4)]
    assert items[0] is not None and items[1:] == [None, None, None]
    assert ev.skips.totals() == {"unreadable": 2, "too_short": 1}
    x, y = collate_views(items)
    assert x.shape == (1, 3, 8, 32, 32) and y.tolist() == [0]
    x, y = collate_views([None, None])
    assert x.numel() == 0 and y.numel() == 0

    tr = VideoDataset(samples, 8, 32, True, aa=None)
    for i in range(1, 4):
        clip, label = SeededDataset(tr)[(i, i)]
        assert label == 0 and clip.shape == (3, 8, 32, 32)  # the one readable video took the place
    t = tr.skips.totals()
    assert t["unreadable"] >= 2 and t["too_short"] >= 1
    lenient = VideoDataset(samples[2:3], 8, 32, False, min_frames=3)
    assert lenient[0] is not None  # a 3-frame video is enough when min_frames allows it


def test_skip_counts_reach_the_main_process_from_workers(videos):
    samples = [(str(videos / "good.mp4"), 0), (str(videos / "garbage.mp4"), 1)] * 4
    ds = VideoDataset(samples, 4, 32, False)
    loader = build_eval_loader(ds, 4, workers=2)
    n = sum(len(y) for _, y in loader)
    assert n == 4 and ds.skips.totals()["unreadable"] == 4
    assert ds.skips.since_last() == {"unreadable": 4, "too_short": 0}
    assert ds.skips.since_last() == {"unreadable": 0, "too_short": 0}


def test_all_unreadable_is_an_error(videos):
    tr = VideoDataset([(str(videos / "garbage.mp4"), 0)], 8, 32, True, aa=None, max_substitutes=3)
    with pytest.raises(DataError, match="4 videos in a row"):
        tr[0]


# ---------------------------------------------------------------- batches and models

def test_repeated_collate_and_clip_cutmix(videos):
    samples = [(str(videos / "good.mp4"), k) for k in range(4)]
    tr = VideoDataset(samples, 4, 32, True, aa=None, num_sample=2)
    loader, _ = build_train_loader(tr, 2, workers=0)
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 4, 32, 32) and y[0] == y[1] and y[2] == y[3]
    mix = build_mixup(4, mixup=0.0, cutmix=1.0, smoothing=0.0)
    a = torch.arange(4.0).view(4, 1, 1, 1, 1).expand(4, 3, 4, 32, 32).contiguous()
    partial = 0
    for seed in range(6):
        np.random.seed(seed)
        m, t = mix(a.clone(), torch.tensor([0, 1, 2, 3]))
        cut = m[0] != 0  # where clip 0 took clip 3's pixels
        partial += bool(cut.any() and not cut.all())
        assert torch.equal(cut, cut[:1, :1].expand_as(cut))  # the same box on every channel and frame
        assert t.shape == (4, 4) and torch.allclose(t.sum(1), torch.ones(4))
        assert t[0, 3] == pytest.approx(cut.float().mean().item(), abs=1e-6)  # label weight = area taken
    assert partial >= 3


def test_forward_views_is_the_mean_of_single_views():
    torch.manual_seed(0)
    lin = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 2 * 4 * 4, 5))
    x = torch.randn(3, 6, 3, 2, 4, 4)  # 3 videos x 6 views
    single = torch.stack([lin(x[:, v]) for v in range(6)], 1)
    assert torch.allclose(forward_views(lin, x), single.mean(1), atol=1e-6)
    p = forward_views(lin, x, "softmax").exp()
    assert torch.allclose(p, single.softmax(-1).mean(1), atol=1e-6)
    assert torch.equal(forward_views(lin, x[:, 0]), lin(x[:, 0]))
    lin.num_classes = 5
    assert forward_views(lin, torch.zeros(0)).shape == (0, 5)


def test_layer_decay_groups():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, 4))
            self.temporal_pos_embedding = torch.nn.Parameter(torch.zeros(1, 2, 4))
            self.patch_embed = torch.nn.Linear(4, 4)
            self.layers = torch.nn.ModuleList(torch.nn.Linear(4, 4) for _ in range(3))
            self.head = torch.nn.Linear(4, 2)

    m = M()
    assert [layer_id(n, 3) for n, _ in m.named_parameters()] == [0, 4, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    groups = [{"params": [p for p in m.parameters() if p.ndim > 1], "weight_decay": 0.1},
              {"params": [p for p in m.parameters() if p.ndim <= 1], "weight_decay": 0.0}]
    out = apply_layer_decay(groups, m, 0.75)
    assert out[0]["lr_scale"] == 1.0
    scale = {id(p): g["lr_scale"] for g in out for p in g["params"]}
    assert scale[id(m.patch_embed.weight)] == pytest.approx(0.75 ** 4)
    assert scale[id(m.layers[1].bias)] == pytest.approx(0.75 ** 2)
    assert scale[id(m.head.weight)] == 1.0 and scale[id(m.temporal_pos_embedding)] == 1.0
    assert sum(len(g["params"]) for g in out) == len(list(m.parameters()))
    assert apply_layer_decay(groups, m, 1.0) is groups


# ---------------------------------------------------------------- the generator

def _fake_fashion(root, n=16):
    """IDX files of asymmetric 'L' items (real ones are read the same way)."""
    os.makedirs(root, exist_ok=True)
    img = np.zeros((n, 28, 28), np.uint8)
    img[:, 4:24, 6:11] = 255
    img[:, 19:24, 6:22] = 200
    for prefix in ("train", "t10k"):
        write_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"), img)
        write_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"), (np.arange(n) % 10).astype(np.uint8))
    return root


def _centroids(path):
    f = read_frames(path, list(range(count_frames(path)))).astype(float).mean(-1)
    w = np.clip(f - 80, 0, None)
    ys, xs = np.mgrid[0:f.shape[1], 0:f.shape[2]]
    return (w * xs).sum((1, 2)) / w.sum((1, 2)), (w * ys).sum((1, 2)) / w.sum((1, 2)), w.sum((1, 2))


def test_motion_set_is_deterministic_and_readable(tmp_path):
    from rmeeto.data.synthetic_video import MOTIONS, make_motion_video_set
    fashion = _fake_fashion(str(tmp_path / "fm"))
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    meta = make_motion_video_set(a, per_class=2, val_per_class=1, test_per_class=0, frames=8, size=48,
                                 fashion_dir=fashion)
    make_motion_video_set(b, per_class=2, val_per_class=1, test_per_class=0, frames=8, size=48, fashion_dir=fashion)
    assert meta["videos_per_class"] == {"train": 2, "val": 1, "test": 0}
    digest = [hashlib.sha256(open(os.path.join(d, "train", "zoom_in", "00001.mp4"), "rb").read()).hexdigest()
              for d in (a, b)]
    assert digest[0] == digest[1]
    train, classes = video_samples(a, "train")
    assert len(train) == 16 and sorted({y for _, y in train}) == list(range(8)) and not os.path.exists(
        os.path.join(a, "test.csv"))
    for path, y in train:
        assert count_frames(path) == 8
        cx, cy, mass = _centroids(path)
        motion = MOTIONS[y]
        if motion == "move_right":
            assert cx[-1] - cx[0] > 8
        elif motion == "move_left":
            assert cx[0] - cx[-1] > 8
        elif motion == "move_down":
            assert cy[-1] - cy[0] > 8
        elif motion == "move_up":
            assert cy[0] - cy[-1] > 8
        elif motion == "zoom_in":
            assert mass[-1] > 2 * mass[0]
        elif motion == "zoom_out":
            assert mass[0] > 2 * mass[-1]
    ds = build_dataset("video", a, "val", img_size=32, num_classes=8, video={"num_frames": 8})
    assert len(ds) == 8 and ds[3][0].shape == (3, 8, 32, 32)
