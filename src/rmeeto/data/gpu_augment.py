"""Batched image augmentation for the device-decode path: each operation runs once per batch on the
images that drew it, instead of once per image (per-image loops are launch-bound on a GPU).

Images are float tensors ``(N, C, H, W)`` holding uint8 values (0..255); results are rounded and
clamped after every operation, as PIL's uint8 images are.

- :func:`crop_resize`: crops of differently sized images resized to one size in a single
  ``torchvision.ops.roi_align`` call. With ``sampling_ratio=-1`` every output pixel averages
  ``ceil(crop/out)`` bilinear samples per axis, so a downscale is anti-aliased (box filter) and an
  upscale is plain bilinear; timm's CPU path uses a bicubic resize instead.
- :func:`rand_augment`: timm's ``rand-m{M}-mstd{S}-inc1`` (15 "increasing" ops, 2 per image, each
  applied with probability 0.5, magnitude ~ N(M, S) clipped to [0, 10]) with the same op set, level
  formulas and fill colour. Geometric ops sample bicubically with ``grid_sample``; point and colour
  ops follow PIL's formulas, up to rounding.
- :func:`random_erase`: timm's ``RandomErasing`` (pixel mode, one box) on a normalised batch.

Random draws come from torch's global CPU generator (seeded per step by the training loop), so the
device never has to synchronise for them.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

# timm's img_mean fill for the ImageNet mean: round(255 * mean)
FILL = (124, 116, 104)
OPS = ("AutoContrast", "Equalize", "Invert", "Rotate", "PosterizeIncreasing", "SolarizeIncreasing",
       "SolarizeAdd", "ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing",
       "ShearX", "ShearY", "TranslateXRel", "TranslateYRel")


def crop_resize(imgs: Sequence[Tensor], boxes: Sequence[tuple[int, int, int, int]], size: int) -> Tensor:
    """``imgs[i][:, top:top+h, left:left+w]`` resized to ``size`` x ``size`` for every ``boxes[i] =
    (top, left, h, w)``, as one float batch."""
    from torchvision.ops import roi_align  # optional extra ([train])

    n, c = len(imgs), imgs[0].shape[0]
    hmax, wmax = max(im.shape[1] for im in imgs), max(im.shape[2] for im in imgs)
    pad = torch.zeros(n, c, hmax, wmax, device=imgs[0].device, dtype=torch.float32)
    for i, im in enumerate(imgs):
        pad[i, :, :im.shape[1], :im.shape[2]] = im
    rois = torch.tensor([[i, left, top, left + w, top + h] for i, (top, left, h, w) in enumerate(boxes)],
                        dtype=torch.float32, device=pad.device)
    return roi_align(pad, rois, output_size=(size, size), spatial_scale=1.0, sampling_ratio=-1, aligned=True)


def _q(x: Tensor) -> Tensor:
    return x.round_().clamp_(0, 255)


def _gray(x: Tensor) -> Tensor:
    """PIL's ``convert("L")``: ITU-R 601-2 luma, (N, 1, H, W)."""
    if x.shape[1] == 1:
        return x
    return (x[:, 0:1] * 0.299 + x[:, 1:2] * 0.587 + x[:, 2:3] * 0.114).round_()


def _blend(degenerate: Tensor, x: Tensor, factor: Tensor) -> Tensor:
    return _q(degenerate + factor.view(-1, 1, 1, 1) * (x - degenerate))


def _affine(x: Tensor, m: Tensor, fill: Sequence[int]) -> Tensor:
    """PIL's ``Image.transform(AFFINE, m)`` per image: output pixel centre (x, y) samples the input
    at ``(m0 x + m1 y + m2, m3 x + m4 y + m5)``; outside the image: ``fill``."""
    n, c, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=x.device, dtype=torch.float32) + 0.5,
                            torch.arange(w, device=x.device, dtype=torch.float32) + 0.5, indexing="ij")
    m = m.view(n, 6, 1, 1)
    px = m[:, 0] * xs + m[:, 1] * ys + m[:, 2]
    py = m[:, 3] * xs + m[:, 4] * ys + m[:, 5]
    grid = torch.stack((2 * px / w - 1, 2 * py / h - 1), dim=-1)
    ones = torch.ones(n, 1, h, w, device=x.device)
    out = F.grid_sample(torch.cat((x, ones), 1), grid, mode="bicubic", padding_mode="zeros", align_corners=False)
    cover = out[:, -1:].clamp(0, 1)
    fill_t = torch.tensor(fill[:c], device=x.device, dtype=torch.float32).view(1, c, 1, 1)
    return _q(out[:, :-1] + (1 - cover) * fill_t)


def _identity_m(n: int, device) -> Tensor:
    m = torch.zeros(n, 6, device=device)
    m[:, 0] = m[:, 4] = 1
    return m


def _auto_contrast(x, mag, sign, fill):
    lo = x.amin(dim=(2, 3), keepdim=True)
    hi = x.amax(dim=(2, 3), keepdim=True)
    scale = 255.0 / (hi - lo).clamp_min(1)
    out = ((x - lo) * scale).floor_().clamp_(0, 255)
    return torch.where(hi > lo, out, x)


def _equalize(x, mag, sign, fill):
    n, c, h, w = x.shape
    flat = x.reshape(n * c, h * w).long()
    hist = torch.zeros(n * c, 256, device=x.device, dtype=torch.long).scatter_add_(1, flat, torch.ones_like(flat))
    idx = torch.arange(256, device=x.device)
    last = torch.where(hist > 0, idx, -1).amax(1, keepdim=True)
    step = (h * w - hist.gather(1, last.clamp_min(0))) // 255
    before = hist.cumsum(1) - hist
    lut = ((step // 2 + before) // step.clamp_min(1)).clamp_(0, 255)
    keep = ((hist > 0).sum(1, keepdim=True) <= 1) | (step == 0)
    lut = torch.where(keep, idx.expand_as(lut), lut)
    return lut.gather(1, flat).view(n, c, h, w).float()


def _invert(x, mag, sign, fill):
    return 255 - x


def _rotate(x, mag, sign, fill):
    n, _, h, w = x.shape
    a = -(mag * 30.0 * sign) * math.pi / 180  # PIL rotates counter-clockwise by the angle
    cos, sin = torch.cos(a), torch.sin(a)
    cx, cy = w / 2, h / 2
    m = torch.stack((cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy), 1)
    return _affine(x, m, fill)


def _posterize(x, mag, sign, fill):
    bits = 4 - (mag * 4).long()  # bits kept; 0 gives black, as the CPU path's safe posterize
    shift = (8 - bits).view(-1, 1, 1, 1)
    return ((x.long() >> shift) << shift).float()


def _solarize(x, mag, sign, fill):
    thresh = (256 - (mag * 256).long()).view(-1, 1, 1, 1).float()
    return torch.where(x < thresh, x, 255 - x)


def _solarize_add(x, mag, sign, fill):
    add = (mag * 110).long().clamp_max(128).view(-1, 1, 1, 1).float()
    return torch.where(x < 128, (x + add).clamp_max(255), x)


def _factor(mag, sign):
    return (1.0 + mag * 0.9 * sign).clamp_min(0.1)


def _color(x, mag, sign, fill):
    return _blend(_gray(x).expand_as(x), x, _factor(mag, sign))


def _contrast(x, mag, sign, fill):
    mean = (_gray(x).mean(dim=(1, 2, 3), keepdim=True) + 0.5).floor_()
    return _blend(mean.expand_as(x), x, _factor(mag, sign))


def _brightness(x, mag, sign, fill):
    return _blend(torch.zeros_like(x), x, _factor(mag, sign))


def _sharpness(x, mag, sign, fill):
    c = x.shape[1]
    k = torch.tensor([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]], device=x.device) / 13
    smooth = x.clone()
    inner = F.conv2d(x, k.expand(c, 1, 3, 3), groups=c)  # PIL's SMOOTH leaves the border as it is
    smooth[:, :, 1:-1, 1:-1] = inner.round_()
    return _blend(smooth, x, _factor(mag, sign))


def _shear(axis: int):
    def op(x, mag, sign, fill):
        m = _identity_m(x.shape[0], x.device)
        m[:, 1 if axis == 0 else 3] = mag * 0.3 * sign
        return _affine(x, m, fill)
    return op


def _translate(axis: int):
    def op(x, mag, sign, fill):
        m = _identity_m(x.shape[0], x.device)
        size = x.shape[3] if axis == 0 else x.shape[2]
        m[:, 2 if axis == 0 else 5] = mag * 0.45 * sign * size
        return _affine(x, m, fill)
    return op


_FUNCS = {"AutoContrast": _auto_contrast, "Equalize": _equalize, "Invert": _invert, "Rotate": _rotate,
          "PosterizeIncreasing": _posterize, "SolarizeIncreasing": _solarize, "SolarizeAdd": _solarize_add,
          "ColorIncreasing": _color, "ContrastIncreasing": _contrast, "BrightnessIncreasing": _brightness,
          "SharpnessIncreasing": _sharpness, "ShearX": _shear(0), "ShearY": _shear(1),
          "TranslateXRel": _translate(0), "TranslateYRel": _translate(1)}


def apply_op(name: str, x: Tensor, mag: Tensor, sign: Tensor, fill: Sequence[int] = FILL) -> Tensor:
    """One op on every image of ``x``; ``mag`` in [0, 1] (magnitude / 10) and ``sign`` (+-1) per image."""
    return _FUNCS[name](x, mag.to(x.device, torch.float32), sign.to(x.device, torch.float32), fill)


def rand_augment(x: Tensor, num_ops: int = 2, magnitude: float = 9.0, mstd: float = 0.5, prob: float = 0.5,
                 fill: Sequence[int] = FILL) -> Tensor:
    """timm's ``rand-m{magnitude}-mstd{mstd}-inc1`` on a batch, each image with its own ops."""
    n = x.shape[0]
    for _ in range(num_ops):
        op = torch.randint(len(OPS), (n,))
        use = torch.rand(n) < prob
        mag = (torch.randn(n) * mstd + magnitude).clamp(0, 10) / 10
        sign = torch.where(torch.rand(n) > 0.5, -1.0, 1.0)
        for k, name in enumerate(OPS):
            sel = ((op == k) & use).nonzero().flatten()
            if sel.numel():
                dev_sel = sel.to(x.device)
                x[dev_sel] = apply_op(name, x[dev_sel], mag[sel], sign[sel], fill)
    return x


def random_erase(x: Tensor, prob: float = 0.25, scale=(0.02, 1 / 3), ratio=(0.3, 3.3)) -> Tensor:
    """timm's ``RandomErasing`` (pixel mode, one box per image, up to 10 tries) on a normalised batch,
    in place: the chosen box gets standard-normal noise."""
    n, c, h, w = x.shape
    boxes = torch.zeros(n, 4, dtype=torch.long)  # top, left, height, width (0: not erased)
    log_r = (math.log(ratio[0]), math.log(ratio[1]))
    for i in range(n):
        if torch.rand(1).item() > prob:
            continue
        for _ in range(10):
            area = h * w * (scale[0] + (scale[1] - scale[0]) * torch.rand(1).item())
            aspect = math.exp(log_r[0] + (log_r[1] - log_r[0]) * torch.rand(1).item())
            eh, ew = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if eh < h and ew < w:
                top = int(torch.randint(0, h - eh + 1, (1,)))
                left = int(torch.randint(0, w - ew + 1, (1,)))
                boxes[i] = torch.tensor([top, left, eh, ew])
                break
    hit = (boxes[:, 2] > 0).nonzero().flatten()
    if not hit.numel():
        return x
    b = boxes[hit].to(x.device)
    idx = hit.to(x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((ys >= b[:, 0, None, None]) & (ys < (b[:, 0] + b[:, 2])[:, None, None]) &
              (xs >= b[:, 1, None, None]) & (xs < (b[:, 1] + b[:, 3])[:, None, None]))
    noise = torch.randn((len(hit), c, h, w), device=x.device, dtype=x.dtype)
    x[idx] = torch.where(inside[:, None], noise, x[idx])
    return x
