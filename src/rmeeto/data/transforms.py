"""DeiT-recipe transforms (via timm), mixup/cutmix and the matching loss."""
from __future__ import annotations

from typing import Optional, Sequence

import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FASHION_MNIST_MEAN = (0.2860,)
FASHION_MNIST_STD = (0.3530,)
DEFAULT_AA = "rand-m9-mstd0.5-inc1"


def default_mean_std(channels: int, dataset: str = "folder"):
    if dataset == "fashion-mnist" or channels == 1:
        m, s = FASHION_MNIST_MEAN, FASHION_MNIST_STD
        return m * channels, s * channels
    return IMAGENET_MEAN, IMAGENET_STD


def _aa(aa: Optional[str]) -> Optional[str]:
    return None if aa in (None, "", "none", "None", False) else aa


def build_train_transform(img_size: int, channels: int = 3, aa: Optional[str] = DEFAULT_AA,
                          reprob: float = 0.25, remode: str = "pixel", recount: int = 1,
                          color_jitter: float = 0.3, interpolation: str = "bicubic",
                          scale: Sequence[float] = (0.08, 1.0),
                          mean: Optional[Sequence[float]] = None, std: Optional[Sequence[float]] = None,
                          hflip: float = 0.5):
    """timm's training transform with the DeiT settings: random-resized-crop (bicubic), h-flip,
    RandAugment ``rand-m9-mstd0.5-inc1``, normalisation, random erasing (pixel mode, p=0.25).
    Works on RGB and 1-channel ("L") PIL images."""
    from timm.data import create_transform  # optional extra ([train])
    if mean is None or std is None:
        mean, std = default_mean_std(channels)
    tf = create_transform(input_size=img_size, is_training=True, color_jitter=color_jitter,
                          auto_augment=_aa(aa), interpolation=interpolation, re_prob=reprob,
                          re_mode=remode, re_count=recount, scale=tuple(scale), hflip=hflip,
                          mean=tuple(mean), std=tuple(std))
    _fix_posterize(tf)
    return tf


def _safe_posterize(img, bits_to_keep, **_):
    """timm's posterize, also for 0 bits: magnitude noise (``mstd``) can push
    ``PosterizeIncreasing`` to magnitude 10, i.e. 0 bits, which Pillow >= 12 rejects
    (``ValueError: bits must be between ... 1 and 8``) while older Pillow returned a black
    image. Keep the old behaviour."""
    from PIL import Image, ImageOps
    if bits_to_keep >= 8:
        return img
    if bits_to_keep <= 0:
        return Image.new(img.mode, img.size, 0)
    return ImageOps.posterize(img, bits_to_keep)


def _fix_posterize(tf) -> None:
    from timm.data import auto_augment  # optional extra ([train])
    for t in getattr(tf, "transforms", []):
        for op in getattr(t, "ops", []) or []:
            if getattr(op, "aug_fn", None) is auto_augment.posterize:
                op.aug_fn = _safe_posterize


def build_eval_transform(img_size: int, channels: int = 3, crop_pct: float = 224 / 256,
                         interpolation: str = "bicubic", mean: Optional[Sequence[float]] = None,
                         std: Optional[Sequence[float]] = None):
    """DeiT's eval transform: resize the short side to ``img_size / crop_pct`` (256 for 224),
    centre-crop ``img_size``, to tensor, normalise. ``crop_pct=1`` just resizes (used for the
    28×28 Fashion-MNIST images, which are already centred)."""
    from torchvision import transforms as T  # optional extra ([train])
    from torchvision.transforms import InterpolationMode  # optional extra ([train])
    if mean is None or std is None:
        mean, std = default_mean_std(channels)
    interp = {"bicubic": InterpolationMode.BICUBIC, "bilinear": InterpolationMode.BILINEAR,
              "nearest": InterpolationMode.NEAREST}[interpolation]
    if crop_pct >= 1.0:
        ops = [T.Resize((img_size, img_size), interpolation=interp)]
    else:
        ops = [T.Resize(int(img_size / crop_pct), interpolation=interp), T.CenterCrop(img_size)]
    return T.Compose(ops + [T.ToTensor(), T.Normalize(tuple(mean), tuple(std))])


def build_mixup(num_classes: int, mixup: float = 0.8, cutmix: float = 1.0, prob: float = 1.0,
                switch_prob: float = 0.5, mode: str = "batch", smoothing: float = 0.1):
    """timm ``Mixup`` with the DeiT settings (for images and video clips, see :func:`_clip_mixup`),
    or ``None`` when both alphas are 0."""
    if mixup <= 0 and cutmix <= 0:
        return None
    return _clip_mixup()(mixup_alpha=mixup, cutmix_alpha=cutmix, prob=prob, switch_prob=switch_prob,
                         mode=mode, label_smoothing=smoothing, num_classes=num_classes)


def _clip_mixup():
    """timm's ``Mixup`` that also takes ``(B, C, T, H, W)`` clips: it cuts its CutMix box from
    ``x[:, :, y0:y1, x0:x1]``, which on a clip would be frames x rows; a clip is mixed as the
    image ``(B, C*T, H, W)`` instead, so the same box is cut from every frame."""
    from timm.data import Mixup  # optional extra ([train])

    class ClipMixup(Mixup):
        def __call__(self, x, target):
            if x.dim() <= 4:
                return super().__call__(x, target)
            shape = x.shape
            flat, target = super().__call__(x.reshape(shape[0], -1, *shape[-2:]), target)
            return flat.reshape(shape), target

    return ClipMixup


def build_criterion(mixup_active: bool, smoothing: float = 0.1) -> torch.nn.Module:
    """Soft-target CE under mixup (labels are already smoothed by Mixup), label-smoothing CE
    otherwise, plain CE when smoothing is 0."""
    from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy  # optional extra ([train])
    if mixup_active:
        return SoftTargetCrossEntropy()
    if smoothing > 0:
        return LabelSmoothingCrossEntropy(smoothing=smoothing)
    return torch.nn.CrossEntropyLoss()
