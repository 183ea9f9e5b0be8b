"""Data pipeline: IDX reader, folders and their errors, samplers, transforms, device-decode path."""
import os

import numpy as np
import pytest
import torch

from conftest_data import make_data  # noqa: F401  (also puts src/ on sys.path)
from rmeeto.data import (DataError, FashionMNIST, GpuJpegPipeline, ImageFolder, fashion_mnist_dir,
                         SeededDataset, ShardedEvalSampler, TrainSampler, balanced_subset, build_dataset,
                         build_eval_transform, build_train_loader, build_train_transform,
                         collate_bytes, make_fake_jpeg_folder, read_idx, write_idx)


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp("jpeg")))


# ---------------------------------------------------------------- IDX / Fashion-MNIST

def _write_fmnist(root, n_train=12, n_test=7, gz=True):
    rng = np.random.default_rng(0)
    sfx = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte{sfx}"),
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte{sfx}"),
                  (np.arange(n) % 10).astype(np.uint8))


@pytest.mark.parametrize("gz", [True, False])
def test_idx_roundtrip_and_dataset(tmp_path, gz):
    _write_fmnist(str(tmp_path), gz=gz)
    imgs = read_idx(str(tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))))
    assert imgs.shape == (12, 28, 28) and imgs.dtype == np.uint8
    a = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    write_idx(str(tmp_path / "x.idx"), a)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "x.idx")), a)

    ds = build_dataset("fashion-mnist", str(tmp_path), "train", img_size=32, channels=1, train_aug=True)
    x, y = ds[3]
    assert x.shape == (1, 32, 32) and y == 3
    ds = build_dataset("fashion-mnist", str(tmp_path), "val", img_size=40, channels=1)
    assert len(ds) == 7 and ds[0][0].shape == (1, 40, 40)
    assert ds[1][0].dtype == torch.float32
    ds3 = build_dataset("fashion-mnist", str(tmp_path), "val", img_size=32, channels=3)
    assert ds3[0][0].shape == (3, 32, 32)


def test_idx_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="magic"):
        read_idx(str(tmp_path / "bad"))
    with pytest.raises(DataError, match="not found"):
        FashionMNIST(str(tmp_path), "train")
    _write_fmnist(str(tmp_path))
    with pytest.raises(DataError, match="class-count mismatch"):
        FashionMNIST(str(tmp_path), "train", num_classes=5)


@pytest.mark.skipif(not os.path.isdir(fashion_mnist_dir()),
                    reason=f"no Fashion-MNIST in {fashion_mnist_dir()} (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_slice():
    ds = FashionMNIST(fashion_mnist_dir(), "test", limit=200)
    assert len(ds) == 200 and len(ds.classes) == 10
    assert ds.images.shape == (200, 28, 28)
    assert set(ds.targets) <= set(range(10)) and len(set(ds.targets)) == 10
    ds = build_dataset("fashion-mnist", fashion_mnist_dir(), "val", img_size=32, channels=1)
    assert len(ds) == 10000 and ds[0][0].shape == (1, 32, 32)


# ---------------------------------------------------------------- folders

def test_fake_jpeg_folder_is_real_jpeg(tmp_path):
    from PIL import Image
    make_fake_jpeg_folder(str(tmp_path), classes=2, per_class=2, splits=("train",))
    files = sorted((tmp_path / "train" / "class_000").iterdir())
    assert len(files) == 2
    with Image.open(files[0]) as im:
        assert im.format == "JPEG" and im.size == (500, 375)


def test_folder_dataset(jpegs):
    tr = ImageFolder(os.path.join(jpegs, "train"), build_eval_transform(32))
    assert len(tr) == 24 and tr.classes == ["class_000", "class_001", "class_002"]
    x, y = tr[9]
    assert x.shape == (3, 32, 32) and y == 1
    raw = ImageFolder(os.path.join(jpegs, "val"), load="bytes", classes=tr.classes)
    assert len(raw) == 15 and raw[0][0].dtype == torch.uint8 and raw[0][0][:2].tolist() == [0xFF, 0xD8]


def test_folder_errors(tmp_path, jpegs):
    with pytest.raises(DataError, match="does not exist"):
        build_dataset("folder", str(tmp_path / "nope"), "train", img_size=32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no train/ folder"):
        build_dataset("folder", str(tmp_path / "empty"), "train", img_size=32)
    (tmp_path / "empty" / "train").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        build_dataset("folder", str(tmp_path / "empty"), "train", img_size=32)
    (tmp_path / "empty" / "train" / "cat").mkdir()
    with pytest.raises(DataError, match="no image files"):
        build_dataset("folder", str(tmp_path / "empty"), "train", img_size=32)
    with pytest.raises(DataError, match="class-count mismatch.*--num-classes 3"):
        build_dataset("folder", jpegs, "train", img_size=32, num_classes=5)


# ---------------------------------------------------------------- samplers

def test_train_sampler_deterministic_and_sharded():
    s = TrainSampler(50, batch_size=4, num_replicas=1, rank=0, seed=3)
    s.set_epoch(1)
    a = s.indices()
    s2 = TrainSampler(50, batch_size=4, seed=3)
    s2.set_epoch(1)
    assert a == s2.indices()
    s2.set_epoch(2)
    assert a != s2.indices()
    assert len(a) == 48 and len({i for i, _ in a}) == 48
    s2.set_epoch(1, start_batch=5)
    assert s2.indices() == a[20:] and len(s2) == 28
    shards = []
    for r in range(3):
        sr = TrainSampler(50, batch_size=4, num_replicas=3, rank=r, seed=3, batches_multiple_of=2)
        sr.set_epoch(0)
        shards.append([i for i, _ in sr.indices()])
        assert len(shards[-1]) == 16
    assert len(set(sum(shards, []))) == 48  # disjoint
    # the per-sample seed depends on (seed, epoch, index), not on the shard
    s1 = TrainSampler(50, batch_size=1, seed=3)
    s1.set_epoch(0)
    seeds1 = dict(s1.indices())
    s3 = TrainSampler(50, batch_size=4, num_replicas=3, rank=1, seed=3)
    s3.set_epoch(0)
    assert all(seeds1[i] == sd for i, sd in s3.indices())


def test_train_sampler_too_small():
    with pytest.raises(DataError, match="not enough for one step"):
        TrainSampler(5, batch_size=4, num_replicas=2)


@pytest.mark.parametrize("n,world", [(15, 2), (15, 4), (7, 3), (2, 4)])
def test_sharded_eval_sampler_no_dup_no_drop(n, world):
    seen = [i for r in range(world) for i in ShardedEvalSampler(n, world, r)]
    assert sorted(seen) == list(range(n))


def test_balanced_subset():
    targets = [0] * 10 + [1] * 20 + [2] * 4
    idx = balanced_subset(targets, 0.5, seed=1)
    counts = np.bincount(np.asarray(targets)[idx])
    assert counts.tolist() == [5, 10, 2]
    assert idx == balanced_subset(targets, 0.5, seed=1)
    with pytest.raises(ValueError):
        balanced_subset(targets, 0.0)


def test_seeded_dataset_independent_of_workers(jpegs):
    ds = build_dataset("folder", jpegs, "train", img_size=32, train_aug=True)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = SeededDataset(ds)[(5, 777)][0]
    assert torch.equal(torch.rand(1), before)  # the caller's RNG is untouched
    b = SeededDataset(ds)[(5, 777)][0]
    assert torch.equal(a, b)
    l0, _ = build_train_loader(ds, 4, workers=0, seed=1)
    l2, _ = build_train_loader(ds, 4, workers=2, seed=1)
    for (x0, y0), (x2, y2) in zip(l0, l2):
        assert torch.equal(x0, x2) and torch.equal(y0, y2)


# ---------------------------------------------------------------- transforms

def test_deit_transforms():
    t = build_train_transform(224)
    s = str(t)
    assert "RandomResizedCropAndInterpolation" in s and "bicubic" in s
    assert "RandAugment(n=2" in s and "m=9, mstd=0.5" in s and "SolarizeIncreasing" in s
    assert "RandomErasing(p=0.25, mode=pixel" in s
    e = str(build_eval_transform(224))
    assert "Resize(size=256" in e and "CenterCrop(size=(224, 224))" in e


def test_randaugment_posterize_zero_bits_does_not_crash():
    """timm + Pillow 13: PosterizeIncreasing at magnitude 10 asks for 0 bits (see transforms.py)."""
    from PIL import Image
    t = build_train_transform(32)
    ra = [x for x in t.transforms if hasattr(x, "ops")][0]
    op = [o for o in ra.ops if o.name == "PosterizeIncreasing"][0]
    op.prob, op.magnitude, op.magnitude_std = 1.0, 10, 0
    out = op(Image.new("RGB", (8, 8), (200, 100, 50)))
    assert out.getpixel((0, 0)) == (0, 0, 0)


def test_device_decode_pipeline_on_cpu(jpegs):
    ds = ImageFolder(os.path.join(jpegs, "train"), load="bytes")
    data, labels = collate_bytes([ds[i] for i in range(6)])
    torch.manual_seed(0)
    tr = GpuJpegPipeline(32, train=True, device="cpu")
    x, y = tr(data, labels)
    assert x.shape == (6, 3, 32, 32) and x.dtype == torch.float32 and torch.isfinite(x).all()
    assert y.tolist() == labels.tolist()
    ev = GpuJpegPipeline(32, train=False, device="cpu")
    e1, _ = ev(data, labels)
    e2, _ = ev(data, labels)
    assert torch.equal(e1, e2)
    # eval path ~ PIL resize(256/224) + centre crop (different resampler, so loose)
    ref = ImageFolder(os.path.join(jpegs, "train"), build_eval_transform(32, interpolation="bilinear"))
    assert (e1[0] - ref[0][0]).abs().mean() < 0.25
