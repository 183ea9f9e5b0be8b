"""Clip sampling and augmentation of the official VideoMamba/VideoMAE Kinetics recipe.

Training (``Kinetics_sparse``): split the video into ``num_frames`` equal segments and draw one
random frame from each; RandAugment with the same ops and magnitudes on every frame of the clip;
normalise; one random-resized crop and one horizontal flip for the whole clip; random erasing
per frame. Evaluation: ``num_segments`` temporal views (frame ``k+1`` of ``num_segments+1``
equal steps inside every segment) x ``num_crops`` spatial crops along the long side of a frame
resized to the short side.
"""
from __future__ import annotations

import random
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .transforms import IMAGENET_MEAN, IMAGENET_STD, _fix_posterize

OFFICIAL_K400_AA = "rand-m5-n2-mstd0.25-inc1"


def train_frame_indices(total: int, num_frames: int, rng: Optional[random.Random] = None) -> list[int]:
    """One random frame from each of ``num_frames`` equal segments of ``range(total)``."""
    rng = rng or random
    seg = max(0.0, (total - 1) / num_frames)
    return [min(rng.randint(int(round(seg * i)), int(round(seg * (i + 1)))), total - 1)
            for i in range(num_frames)]


def eval_frame_indices(total: int, num_frames: int, view: int = 0, num_views: int = 1) -> list[int]:
    """Temporal view ``view`` of ``num_views``: in every segment, the frame ``(view + 1) /
    (num_views + 1)`` of the way in (one view: the middle of each segment)."""
    seg = max(0.0, (total - 1) / num_frames)
    step = seg / (num_views + 1)
    return [min(int(round(seg * i)) + int(step * (view + 1)), total - 1) for i in range(num_frames)]


class ClipRandAugment:
    """timm's RandAugment applied with the same ops and magnitudes to every frame of a clip.

    timm draws the ops from NumPy's global RNG and their probabilities and magnitudes from
    Python's; both are rewound to the same state before each frame, so each frame sees the same
    draws (the RNGs end where one call on one image would leave them)."""

    def __init__(self, config: str = OFFICIAL_K400_AA, img_size: int = 224, interpolation: str = "bicubic"):
        from timm.data.auto_augment import rand_augment_transform  # optional extra ([train])
        from timm.data.transforms import str_to_pil_interp  # optional extra ([train])
        hparams = {"translate_const": int(img_size * 0.45)}
        if interpolation and interpolation != "random":
            hparams["interpolation"] = str_to_pil_interp(interpolation)
        self.ra = rand_augment_transform(config, hparams)
        _fix_posterize(_Holder([self.ra]))

    def __call__(self, frames: list) -> list:
        py_state, np_state = random.getstate(), np.random.get_state()
        out = []
        for frame in frames:
            random.setstate(py_state)
            np.random.set_state(np_state)
            out.append(self.ra(frame))
        return out


class _Holder:
    """Lets :func:`_fix_posterize` (written for a timm Compose) patch a bare RandAugment."""

    def __init__(self, transforms):
        self.transforms = transforms


def to_float_clip(frames: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``uint8 (T, H, W, C)`` -> normalised ``float32 (T, C, H, W)``."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(1, -1, 1, 1)
    return x.sub_(m).div_(s)


class TrainClipTransform:
    """``uint8 (T, H, W, 3)`` frames -> one augmented ``(C, T, S, S)`` clip (see module doc)."""

    def __init__(self, img_size: int, aa: Optional[str] = OFFICIAL_K400_AA, scale=(0.08, 1.0),
                 ratio=(0.75, 1.3333), hflip: float = 0.5, reprob: float = 0.0, remode: str = "pixel",
                 recount: int = 1, interpolation: str = "bicubic",
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD):
        self.img_size = int(img_size)
        self.randaug = ClipRandAugment(aa, img_size, interpolation) if aa not in (None, "", "none") else None
        self.scale, self.ratio, self.hflip = tuple(scale), tuple(ratio), float(hflip)
        self.mean, self.std = tuple(mean), tuple(std)
        self.erase = None
        if reprob > 0:
            from timm.data.random_erasing import RandomErasing  # optional extra ([train])
            self.erase = RandomErasing(reprob, mode=remode, max_count=recount, num_splits=recount, device="cpu")

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        if self.randaug is not None:
            from PIL import Image
            pil = self.randaug([Image.fromarray(f) for f in frames])
            frames = np.stack([np.asarray(p.convert("RGB")) for p in pil])
        x = to_float_clip(frames, self.mean, self.std)  # (T, C, H, W)
        from torchvision.transforms import RandomResizedCrop  # optional extra ([train])
        i, j, h, w = RandomResizedCrop.get_params(x[0], list(self.scale), list(self.ratio))
        x = F.interpolate(x[:, :, i:i + h, j:j + w], size=(self.img_size, self.img_size), mode="bilinear",
                          align_corners=False)
        if self.hflip > 0 and torch.rand(1).item() < self.hflip:
            x = x.flip(-1)
        if self.erase is not None:
            x = self.erase(x)  # a (T, C, H, W) "batch": each frame gets its own box, as the official code
        return x.permute(1, 0, 2, 3).contiguous()


def resize_short_side(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of ``(T, C, H, W)`` so that the short side is ``size``."""
    h, w = x.shape[-2:]
    if min(h, w) == size:
        return x
    if h <= w:
        new = (size, max(size, int(size * w / h)))
    else:
        new = (max(size, int(size * h / w)), size)
    return F.interpolate(x, size=new, mode="bilinear", align_corners=False)


def spatial_crops(x: torch.Tensor, img_size: int, num_crops: int) -> list[torch.Tensor]:
    """``num_crops`` square crops of ``(T, C, H, W)`` spread evenly along the long side (one:
    the centre), centred on the short side; each returned as ``(C, T, S, S)``."""
    h, w = x.shape[-2:]
    if min(h, w) < img_size:
        raise ValueError(f"frames of {h}x{w} are smaller than the {img_size} crop")
    long_is_h = h > w
    span = (h if long_is_h else w) - img_size
    off = ((w if long_is_h else h) - img_size) // 2
    starts = [int(span / 2)] if num_crops == 1 else [int(k * span / (num_crops - 1)) for k in range(num_crops)]
    crops = []
    for s in starts:
        c = x[:, :, s:s + img_size, off:off + img_size] if long_is_h else x[:, :, off:off + img_size, s:s + img_size]
        crops.append(c.permute(1, 0, 2, 3).contiguous())
    return crops


class EvalClipTransform:
    """``uint8 (T, H, W, 3)`` frames of one temporal view -> ``num_crops`` clips ``(C, T, S, S)``:
    resize the short side to ``short_side`` (default ``img_size``), then crops along the long side."""

    def __init__(self, img_size: int, num_crops: int = 1, short_side: Optional[int] = None,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD):
        self.img_size, self.num_crops = int(img_size), int(num_crops)
        self.short_side = int(short_side or img_size)
        if self.short_side < self.img_size:
            raise ValueError(f"short side {self.short_side} is smaller than the crop {self.img_size}")
        self.mean, self.std = tuple(mean), tuple(std)

    def __call__(self, frames: np.ndarray) -> list[torch.Tensor]:
        x = resize_short_side(to_float_clip(frames, self.mean, self.std), self.short_side)
        return spatial_crops(x, self.img_size, self.num_crops)
