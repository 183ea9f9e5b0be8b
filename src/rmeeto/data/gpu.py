"""The fast path for JPEG folders: workers only read file bytes; decoding and augmentation
run on the accelerator, batched (:mod:`rmeeto.data.gpu_augment`), not image by image.

What it does, exactly (train):
  1. ``torchvision.io.decode_jpeg(list_of_bytes, device=device, mode=RGB)`` — one batched
     nvJPEG call per batch (files that nvJPEG rejects, e.g. CMYK JPEGs, fall back to a CPU
     ``decode_image`` and are moved to the device).
  2. Random-resized-crop with DeiT/timm's parameters (scale 0.08–1, ratio 3/4–4/3, ten
     tries then centre-crop fallback), all crops resized to ``img_size`` in one ``roi_align``
     (area-averaged bilinear: anti-aliased downscaling; the CPU path uses bicubic).
  3. RandAugment ``rand-m9-mstd0.5-inc1`` as timm defines it (op set, levels, probability 0.5
     per op, magnitude noise, fill colour), batched: each op runs once on the images that drew
     it. ``randaug=False`` skips it.
  4. Horizontal flip with probability 0.5 per image.
  5. Normalisation with the ImageNet mean/std, in float32.
  6. Random erasing (timm's pixel mode, p=``reprob``), batched.
  Mixup/cutmix then run on the device batch as on the CPU path.
Eval: decode, crop the central ``crop_pct`` square of the short side (equivalent to resize
short side to ``img_size/crop_pct`` then centre crop), resize to ``img_size``, normalise.

Colour jitter is not applied (DeiT's recipe disables it when RandAugment is on). The same
code runs with ``device="cpu"`` (decoding with libjpeg), which is how it is tested in CI.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from . import gpu_augment as A
from .transforms import IMAGENET_MEAN, IMAGENET_STD


def collate_bytes(batch):
    """Collate ``(uint8 byte tensor, label)`` pairs into ``(list_of_tensors, labels)``."""
    data = [b[0] for b in batch]
    labels = torch.tensor([int(b[1]) for b in batch], dtype=torch.long)
    return data, labels


def _decode(data: Sequence[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    from torchvision.io import ImageReadMode, decode_image, decode_jpeg  # optional extra ([train])
    if device.type == "cuda":
        # nvJPEG's hardware engine (H100/H200/A100) does not wait for work already queued on the
        # stream it is given, so it can write into blocks the caching allocator has just handed back
        # while queued kernels still read them: silent corruption, NaN losses. Reported upstream in
        # pytorch/vision#9606 and meta-pytorch/torchcodec#1634; draining the stream first avoids it.
        torch.cuda.current_stream(device).synchronize()
    try:
        out = decode_jpeg(list(data), mode=ImageReadMode.RGB, device=device)
        return list(out)
    except RuntimeError:
        imgs = []
        for d in data:
            try:
                imgs.append(decode_jpeg(d, mode=ImageReadMode.RGB, device=device))
            except RuntimeError:
                imgs.append(decode_image(d, mode=ImageReadMode.RGB).to(device))
        return imgs


def rrc_params(h: int, w: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
               generator: torch.Generator | None = None) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a random-resized crop, timm/torchvision's algorithm."""
    area = h * w
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        u = torch.rand(2, generator=generator).tolist()
        target_area = area * (scale[0] + (scale[1] - scale[0]) * u[0])
        aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * u[1])
        cw = int(round(math.sqrt(target_area * aspect)))
        ch = int(round(math.sqrt(target_area / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            i = int(torch.randint(0, h - ch + 1, (1,), generator=generator))
            j = int(torch.randint(0, w - cw + 1, (1,), generator=generator))
            return i, j, ch, cw
    in_ratio = w / h
    if in_ratio < min(ratio):
        cw, ch = w, int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        ch, cw = h, int(round(h * max(ratio)))
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


class GpuJpegPipeline:
    """Turns a batch of JPEG byte tensors into a normalised float batch on ``device``."""

    def __init__(self, img_size: int, train: bool, device="cuda", randaug: bool = True,
                 reprob: float = 0.25, hflip: float = 0.5, scale=(0.08, 1.0),
                 ratio=(3 / 4, 4 / 3), crop_pct: float = 224 / 256,
                 mean=IMAGENET_MEAN, std=IMAGENET_STD):
        self.img_size = int(img_size)
        self.train = train
        self.device = torch.device(device)
        self.scale, self.ratio, self.crop_pct, self.hflip = scale, ratio, crop_pct, hflip
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1) * 255
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1) * 255
        self.fill = tuple(min(255, round(255 * m)) for m in mean)  # timm's RandAugment fill
        self.randaug = bool(train and randaug)
        self.reprob = reprob if train else 0.0

    def _box(self, h: int, w: int) -> tuple[int, int, int, int]:
        if self.train:
            return rrc_params(h, w, self.scale, self.ratio)
        side = int(round(min(h, w) * self.crop_pct))
        return (h - side) // 2, (w - side) // 2, side, side

    @torch.no_grad()
    def __call__(self, data: Sequence[torch.Tensor], labels: torch.Tensor | None = None):
        imgs = _decode(data, self.device)
        boxes = [self._box(im.shape[1], im.shape[2]) for im in imgs]
        batch = A.crop_resize(imgs, boxes, self.img_size).round_().clamp_(0, 255)
        if self.randaug:
            batch = A.rand_augment(batch, fill=self.fill)
        if self.train and self.hflip > 0:
            flip = torch.rand(batch.shape[0]) < self.hflip
            if flip.any():
                idx = flip.nonzero().flatten().to(self.device)
                batch[idx] = batch[idx].flip(-1)
        batch = (batch - self.mean) / self.std
        if self.reprob > 0:
            batch = A.random_erase(batch, self.reprob)
        if labels is not None:
            labels = labels.to(self.device, non_blocking=True)
        return batch, labels
