"""Batched augmentation of the device-decode path (rmeeto.data.gpu_augment) against timm's PIL ops."""
import glob

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from rmeeto.data import gpu_augment as A
from rmeeto.data.synthetic import make_fake_jpeg_folder
from rmeeto.data.transforms import _safe_posterize

EXACT = {"Equalize", "Invert", "PosterizeIncreasing", "SolarizeIncreasing", "SolarizeAdd"}
ROUNDING = {"AutoContrast", "ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing"}
GEOMETRIC = {"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = make_fake_jpeg_folder(str(tmp_path_factory.mktemp("jpeg")), classes=2, per_class=2, size=(96, 72))
    pil = [Image.open(f).convert("RGB") for f in sorted(glob.glob(f"{root}/train/*/*"))]
    return pil, torch.stack([torch.from_numpy(np.array(im)).permute(2, 0, 1).float() for im in pil])


def _timm(name, img, mag, sign):
    """timm's op with the level arguments its level functions give for ``mag`` (level / 10), ``sign``."""
    from timm.data import auto_augment as T

    args = {"Rotate": (mag * 30 * sign,), "ShearX": (mag * 0.3 * sign,), "ShearY": (mag * 0.3 * sign,),
            "TranslateXRel": (mag * 0.45 * sign,), "TranslateYRel": (mag * 0.45 * sign,),
            "PosterizeIncreasing": (4 - int(mag * 4),), "SolarizeIncreasing": (256 - int(mag * 256),),
            "SolarizeAdd": (min(128, int(mag * 110)),)}.get(name)
    if args is None:
        args = (max(0.1, 1.0 + mag * 0.9 * sign),) if name.endswith("Increasing") else ()
    fn = _safe_posterize if name == "PosterizeIncreasing" else T.NAME_TO_OP[name]
    out = fn(img, *args, fillcolor=A.FILL, resample=Image.BICUBIC)
    return torch.from_numpy(np.array(out)).permute(2, 0, 1).float()


@pytest.mark.parametrize("name", A.OPS)
@pytest.mark.parametrize("mag,sign", [(0.37, 1.0), (0.9, -1.0)])
def test_ops_match_timm(images, name, mag, sign):
    pil, x = images
    n = x.shape[0]
    got = A.apply_op(name, x.clone(), torch.full((n,), mag), torch.full((n,), sign))
    want = torch.stack([_timm(name, im, mag, sign) for im in pil])
    diff = (got - want).abs()
    assert got.min() >= 0 and got.max() <= 255 and torch.equal(got, got.round())
    if name in EXACT:
        assert diff.max() == 0
    elif name in ROUNDING:
        assert diff.max() <= 1
    else:  # bicubic kernels and edge handling differ from PIL's; the geometry must not
        assert diff.mean() < 2.0
        mirrored = torch.stack([_timm(name, im, mag, -sign) for im in pil])
        assert (got - mirrored).abs().mean() > 3 * diff.mean()


def test_crop_resize_matches_an_antialiased_resize(images):
    _, x = images
    boxes = [(4, 6, 60, 80), (0, 0, 72, 96), (10, 20, 30, 40), (0, 50, 72, 46)]
    got = A.crop_resize(list(x), boxes, 32)
    want = torch.stack([F.interpolate(x[i:i + 1, :, t:t + h, l:l + w], size=(32, 32), mode="bilinear",
                                      antialias=True, align_corners=False)[0]
                        for i, (t, l, h, w) in enumerate(boxes)])
    assert got.shape == (4, 3, 32, 32)
    assert (got - want).abs().mean() < 3.0  # box vs triangle filter: close, not equal
    same = A.crop_resize([x[0], x[1]], [(4, 10, 64, 64), (0, 0, 72, 72)], 64)  # a 64-px crop at 64 px: exact
    assert torch.allclose(same[0], x[0, :, 4:68, 10:74], atol=1e-3)


def test_rand_augment_is_seeded_and_keeps_uint8_values(images):
    _, x = images
    torch.manual_seed(3)
    a = A.rand_augment(x.clone())
    torch.manual_seed(3)
    b = A.rand_augment(x.clone())
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert a.min() >= 0 and a.max() <= 255 and torch.equal(a, a.round())
    assert torch.equal(A.rand_augment(x.clone(), prob=0.0), x)


def test_random_erase_boxes():
    torch.manual_seed(0)
    x = torch.full((16, 3, 40, 40), 7.0)
    assert torch.equal(A.random_erase(x.clone(), prob=0.0), x)
    out = A.random_erase(x.clone(), prob=1.0)
    erased = (out != 7.0).any(1).float().mean(dim=(1, 2))  # share of each image replaced by noise
    assert ((erased >= 0.015) & (erased <= 0.34)).all()
