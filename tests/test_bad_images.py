"""Unreadable files in an image folder: replaced by another image of the class, named once per pass,
and a clear stop above --max-bad-images. A CMYK JPEG and a PNG named .JPEG (both in ImageNet) load."""
import numpy as np
import pytest
import torch
from PIL import Image

from conftest_data import TINY, make_data, run_inproc  # also puts src/ on sys.path
from rmeeto.data import DataError, ImageFolder, build_dataset, build_eval_loader, build_train_loader


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    make_data(str(root), classes=2, per_class=6, val_per_class=4, size=(40, 36))
    for split, cls in (("train", "class_000"), ("val", "class_001")):
        d = root / split / cls
        (d / "broken.jpg").write_text("this is not an image")
    d = root / "train" / "class_000"
    Image.new("CMYK", (40, 36), (0, 120, 200, 10)).save(d / "cmyk.jpg")
    Image.fromarray(np.full((36, 40, 3), 200, np.uint8)).save(d / "png_named.JPEG", format="PNG")
    return root


def _index(ds, name):
    return next(i for i, (p, _) in enumerate(ds.samples) if p.endswith(name))


def test_cmyk_jpeg_and_png_named_jpeg_load(root):
    ds = ImageFolder(str(root / "train"))
    for name in ("cmyk.jpg", "png_named.JPEG"):
        img, label = ds[_index(ds, name)]
        assert img.mode == "RGB" and img.size == (40, 36) and label == 0
    assert ds.take_bad() == []
    raw = ImageFolder(str(root / "train"), load="bytes")
    assert raw.load_image(_index(raw, "png_named.JPEG")).numel() > 0  # decode_image reads PNG


def test_unreadable_file_is_replaced_by_the_next_of_its_class(root):
    ds = ImageFolder(str(root / "train"))
    i = _index(ds, "broken.jpg")
    img, label = ds[i]
    assert label == 0 and np.array_equal(np.asarray(img), np.asarray(ds.load_image(i + 1)))
    assert ds.take_bad() == [i] and ds.take_bad() == []
    raw = ImageFolder(str(root / "train"), load="bytes")
    with pytest.raises(ValueError, match="not a JPEG"):
        raw.load_image(_index(raw, "broken.jpg"))


def test_each_pass_names_the_replaced_files_even_from_workers(root, capsys):
    ds = build_dataset("folder", str(root), "train", img_size=32, max_bad_images=0.2)
    loader = build_eval_loader(ds, 4, workers=2)
    for _ in range(2):
        assert sum(len(y) for _, y in loader) == len(ds)
        err = capsys.readouterr().err
        assert err.count("warning:") == 1 and f"1 of {len(ds)} images" in err
        assert "class_000/broken.jpg (cannot identify image file" in err


def test_too_many_unreadable_files_stop_with_a_clear_error(root):
    ds = build_dataset("folder", str(root), "train", img_size=32, train_aug=True)  # default limit: 1 %
    loader, sampler = build_train_loader(ds, 2, workers=0)
    sampler.set_epoch(0)
    with pytest.raises(DataError, match=r"cannot be read, more than --max-bad-images 0.01 allows: "
                                        r"class_000/broken.jpg .*raise --max-bad-images"):
        for _ in loader:
            pass
    with pytest.raises(DataError, match="in \\[0, 1\\)"):
        build_dataset("folder", str(root), "train", img_size=32, max_bad_images=1.0)


def test_eval_counts_a_bad_val_image_and_stops_above_the_limit(root, capsys):
    argv = ["eval", *TINY, "--data-dir", str(root), "--workers", "0", "--no-throughput", "--num-classes", "2"]
    assert run_inproc(argv + ["--max-bad-images", "0.25"]) == 0
    err = capsys.readouterr().err
    assert "1 of 9 images" in err and "class_001/broken.jpg (cannot identify image file)" in err
    assert run_inproc(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "raise --max-bad-images" in err and "Traceback" not in err


@pytest.mark.slow
def test_train_skips_a_bad_train_image_every_epoch(root, tmp_path, capsys):
    torch.set_num_threads(1)
    argv = ["train", *TINY, "--data-dir", str(root), "--output", str(tmp_path / "run"), "--workers", "0",
            "--no-progress", "--no-tensorboard", "--num-classes", "2", "--batch-size", "4", "--epochs", "2",
            "--max-bad-images", "0.2", "--no-initial-eval", "--mixup", "0", "--cutmix", "0"]
    assert run_inproc(argv) == 0
    err = capsys.readouterr().err
    assert err.count("class_000/broken.jpg") >= 2  # named in each epoch it was drawn in
