"""Merge maps: which patches ended up in which token, drawn over the image (as in ToMe's figures)."""
from __future__ import annotations

import colorsys
from typing import Optional

import numpy as np
import torch
from PIL import Image
from torch import nn

from .patch import patch, patch_settings

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def to_input(image: Image.Image, model: nn.Module, mean=None, std=None) -> torch.Tensor:
    """Resize a PIL image to the model's size and normalise it: (1, C, H, W)."""
    c, size = model.in_chans, model.img_size
    image = image.convert("L" if c == 1 else "RGB").resize((size, size), Image.BICUBIC)
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
    cls = model.patch_embed.num_patches // 2
    keep = torch.cat([torch.arange(cls), torch.arange(cls + 1, groups.shape[1])]).to(groups.device)
    return groups[:, keep], int(groups.max()) + 1


def merge_map(model: nn.Module, image: Image.Image, x: Optional[torch.Tensor] = None,
              scale: int = 2) -> Image.Image:
    """A picture of the merge: each final token's patches in one colour, group borders in white.

    Each group is filled with its mean image colour, tinted by a hue of its own, so that large
    merged regions stand out. ``x`` is the normalised input; by default it is made from ``image``.
    """
    model.eval()
    x = to_input(image, model) if x is None else x
    groups, _ = final_groups(model, x)
    gh, gw = model.patch_embed.grid_size
    g = groups[0].reshape(gh, gw).cpu().numpy()
    size = model.img_size * scale
    rgb = np.asarray(image.convert("RGB").resize((size, size), Image.BICUBIC), dtype=np.float32)
    cell_h, cell_w = size / gh, size / gw
    ys = np.minimum((np.arange(size) / cell_h).astype(int), gh - 1)
    xs = np.minimum((np.arange(size) / cell_w).astype(int), gw - 1)
    pix = g[ys][:, xs]  # group id of every output pixel
    out = np.zeros_like(rgb)
    rng = np.random.default_rng(0)
    hues = rng.permutation(max(int(g.max()) + 1, 1)) / max(int(g.max()) + 1, 1)
    for gid in np.unique(pix):
        mask = pix == gid
        if gid < 0:  # pruned: black
            continue
        mean = rgb[mask].mean(0)
        tint = np.array(colorsys.hsv_to_rgb(hues[gid], 0.8, 255.0))
        out[mask] = 0.75 * mean + 0.25 * tint
    edge = np.zeros(pix.shape, dtype=bool)
    edge[1:] |= pix[1:] != pix[:-1]
    edge[:, 1:] |= pix[:, 1:] != pix[:, :-1]
    out[edge] = 255.0
    return Image.fromarray(out.clip(0, 255).astype(np.uint8))
