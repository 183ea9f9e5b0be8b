"""Generated ImageNet-style folders of real JPEG files, for tests and loader benchmarks."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np


def make_fake_jpeg_folder(root: str, classes: int = 3, per_class: int = 8,
                          size: tuple[int, int] = (500, 375), splits: Sequence[str] = ("train", "val"),
                          val_per_class: int | None = None, seed: int = 0, quality: int = 90) -> str:
    """Write ``root/<split>/class_<k>/img_<i>.JPEG`` (PIL, ``quality``) and return ``root``.

    ``size`` is (width, height) like PIL. The content is random but class-dependent (a class
    hue, a class-specific stripe orientation, noise and a random bright rectangle), so a small
    model can learn it and JPEG decoding costs what real photos cost. ``val_per_class`` sets the
    count for splits other than ``train`` (default: ``per_class``).
    """
    from PIL import Image
    w, h = int(size[0]), int(size[1])
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for split in splits:
        n = per_class if (split == "train" or val_per_class is None) else val_per_class
        for c in range(classes):
            d = os.path.join(root, split, f"class_{c:03d}")
            os.makedirs(d, exist_ok=True)
            hue = np.array([(c * 97) % 256, (c * 57 + 80) % 256, (c * 23 + 160) % 256], np.float32)
            angle = np.pi * c / max(classes, 1)
            stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) / 9.0)[..., None]
            for i in range(n):
                noise = rng.normal(0, 28, size=(h, w, 3)).astype(np.float32)
                img = hue * 0.7 + 50 * stripes + noise
                x0, y0 = rng.integers(0, w // 2), rng.integers(0, h // 2)
                img[y0:y0 + h // 4, x0:x0 + w // 4] += rng.uniform(30, 90)
                arr = np.clip(img, 0, 255).astype(np.uint8)
                Image.fromarray(arr).save(os.path.join(d, f"img_{i:05d}.JPEG"), quality=quality)
    return root
