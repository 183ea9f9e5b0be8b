"""Merge maps: which patches ended up in which token, drawn over the image (as in ToMe's figures).

A non-square image is not squashed: the model sees, and the map shows, its central square (the
shorter side resized to the model's input size). :func:`annotated_merge_map` adds a title (model,
r, ratio, tokens left) and a caption that says what the colours mean.
"""
from __future__ import annotations

import colorsys
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import nn

from .patch import patch, patch_settings, reduction_ratio, schedule_of

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CAPTION = ("Each colour is one token after the last merge: the patches merged into it, shown in their "
           "mean colour with a tint of its own. White lines: token borders. Black: pruned patches.")


def square(image: Image.Image, size: int) -> Image.Image:
    """The central square of ``image``, resized to ``size`` x ``size`` (no squashing)."""
    w, h = image.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    return image.resize((size, size), Image.BICUBIC, box=box)


def to_input(image: Image.Image, model: nn.Module, mean=None, std=None) -> torch.Tensor:
    """The central square of a PIL image at the model's size, normalised: (1, C, H, W)."""
    c, size = model.in_chans, model.img_size
    image = square(image.convert("L" if c == 1 else "RGB"), size)
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)
    x = x[None] if c == 1 else x.permute(2, 0, 1)
    mean = torch.tensor(mean or (IMAGENET_MEAN if c == 3 else (0.5,) * c))[:, None, None]
    std = torch.tensor(std or (IMAGENET_STD if c == 3 else (0.5,) * c))[:, None, None]
    return ((x - mean) / std)[None]


@torch.no_grad()
def final_groups(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Index of the final token that each patch belongs to, (B, num_patches), -1 if pruned."""
    settings = patch_settings(model)
    if settings is None:
        raise ValueError("the model is not patched: call rmeeto.patch(model, r=...) first")
    patch(model, **settings, track_groups=True)
    try:
        _, state = model.forward_tokens(x)
    finally:
        patch(model, **settings)
    groups = state.groups.expand(x.shape[0], -1)
    cls = model.cls_position(model.num_tokens - 1)
    keep = torch.cat([torch.arange(cls), torch.arange(cls + 1, groups.shape[1])]).to(groups.device)
    return groups[:, keep], int(groups.max()) + 1


def clip_input(frames: Sequence[Image.Image], model: nn.Module) -> torch.Tensor:
    """Frames (PIL, as many as the model takes) as a normalised clip: (1, C, T, H, W)."""
    return torch.stack([to_input(f, model)[0] for f in frames], dim=1)[None]


def _paint(rgb: np.ndarray, g: np.ndarray, hues: np.ndarray) -> np.ndarray:
    """Fill each group of the (gh, gw) id grid ``g`` with its mean colour in ``rgb``, tinted by its hue."""
    size_h, size_w = rgb.shape[:2]
    gh, gw = g.shape
    ys = np.minimum((np.arange(size_h) / (size_h / gh)).astype(int), gh - 1)
    xs = np.minimum((np.arange(size_w) / (size_w / gw)).astype(int), gw - 1)
    pix = g[ys][:, xs]  # group id of every output pixel
    out = np.zeros_like(rgb)
    for gid in np.unique(pix):
        if gid < 0:  # pruned: black
            continue
        mask = pix == gid
        tint = np.array(colorsys.hsv_to_rgb(hues[gid], 0.8, 255.0))
        out[mask] = 0.75 * rgb[mask].mean(0) + 0.25 * tint
    edge = np.zeros(pix.shape, dtype=bool)
    edge[1:] |= pix[1:] != pix[:-1]
    edge[:, 1:] |= pix[:, 1:] != pix[:, :-1]
    out[edge] = 255.0
    return out


def _hues(num_groups: int) -> np.ndarray:
    n = max(num_groups, 1)
    return np.random.default_rng(0).permutation(n) / n


def merge_map(model: nn.Module, image: Image.Image, x: Optional[torch.Tensor] = None,
              scale: int = 2) -> Image.Image:
    """A picture of the merge: each final token's patches in one colour, group borders in white.

    Each group is filled with its mean image colour, tinted by a hue of its own, so that large
    merged regions stand out. ``x`` is the normalised input; by default it is made from ``image``.
    """
    model.eval()
    x = to_input(image, model) if x is None else x
    groups, _ = final_groups(model, x)
    g = groups[0].reshape(model.patch_embed.grid_size).cpu().numpy()
    size = model.img_size * scale
    rgb = np.asarray(square(image.convert("RGB"), size), dtype=np.float32)
    out = _paint(rgb, g, _hues(int(g.max()) + 1))
    return Image.fromarray(out.clip(0, 255).astype(np.uint8))


def clip_merge_map(model: nn.Module, frames: Sequence[Image.Image], scale: int = 1) -> Image.Image:
    """The merge map of a video model, one panel per tubelet (its first frame), left to right.

    Merging runs over space and time at once, so one token can hold patches of several frames: it
    has the same hue in every panel where it appears.
    """
    model.eval()
    groups, _ = final_groups(model, clip_input(frames, model))
    k = model.patch_embed.kernel_size
    g = groups[0].reshape(model.patch_embed.num_frames, *model.patch_embed.grid_size).cpu().numpy()
    hues = _hues(int(g.max()) + 1)
    size = model.img_size * scale
    panels = [_paint(np.asarray(square(frames[t * k].convert("RGB"), size), dtype=np.float32), g[t], hues)
              for t in range(g.shape[0])]
    gap = np.full((size, 4, 3), 255.0, dtype=np.float32)
    row = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    return Image.fromarray(row.clip(0, 255).astype(np.uint8))


def describe(model: nn.Module, name: str, tokens_left: int) -> str:
    """``name: merge r=11, ratio 0.31, 197 -> 76 tokens`` for a patched model."""
    settings = patch_settings(model) or {}
    r = max(schedule_of(model))
    return (f"{name}: {settings.get('mode', 'merge')} r={r}, ratio {reduction_ratio(model):.2f}, "
            f"{model.num_tokens} -> {tokens_left} tokens")


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + ([line] if line else [])


def with_text(image: Image.Image, title: str, caption: str, font_size: int = 12) -> Image.Image:
    """``image`` with ``title`` above it and ``caption`` below, on white, wrapped to its width."""
    font = ImageFont.load_default(size=font_size)
    width = max(image.width, 240)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    top, bottom = _wrap(draw, title, font, width - 8), _wrap(draw, caption, font, width - 8)
    step = font_size + 3
    out = Image.new("RGB", (width, image.height + step * (len(top) + len(bottom)) + 12), "white")
    out.paste(image, ((width - image.width) // 2, step * len(top) + 6))
    draw = ImageDraw.Draw(out)
    for i, line in enumerate(top):
        draw.text((4, 3 + i * step), line, fill="black", font=font)
    y0 = step * len(top) + image.height + 9
    for i, line in enumerate(bottom):
        draw.text((4, y0 + i * step), line, fill=(60, 60, 60), font=font)
    return out


def annotated_merge_map(model: nn.Module, image, scale: int = 2, name: str = "model") -> Image.Image:
    """:func:`merge_map` (an image) or :func:`clip_merge_map` (a list of frames, for a video model) with a
    title (model, r, ratio, tokens left) and a caption on the colours."""
    model.eval()
    if isinstance(image, (list, tuple)):
        _, tokens_left = final_groups(model, clip_input(image, model))
        caption = CAPTION + (f" One panel per {model.patch_embed.kernel_size}-frame tubelet, left to right; a "
                             "token that merged patches of several frames has its hue in each of them.")
        return with_text(clip_merge_map(model, image, scale=scale), describe(model, name, tokens_left), caption)
    x = to_input(image, model)
    _, tokens_left = final_groups(model, x)
    w, h = image.size
    crop = f" Shown: the central square of the {w}x{h} image." if w != h else ""
    return with_text(merge_map(model, image, x=x, scale=scale), describe(model, name, tokens_left), CAPTION + crop)
