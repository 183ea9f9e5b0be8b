"""ImageNet-style folder datasets: ``root/<split>/<class>/<image>``.

The dataset can hand out either decoded PIL images (the classic CPU path) or the raw file
bytes as a ``uint8`` tensor (the GPU fast path decodes them on the device, see
:mod:`rmeeto.data.gpu`).
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Sequence

import torch
from torch.utils.data import Dataset

from .errors import DataError

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm", ".pgm", ".tif", ".tiff")
JPEG_EXTENSIONS = (".jpg", ".jpeg")


def find_classes(directory: str) -> list[str]:
    """Sorted class-folder names under ``directory``; clear errors when missing or empty."""
    if not os.path.exists(directory):
        raise DataError(f"data directory {directory!r} does not exist")
    if not os.path.isdir(directory):
        raise DataError(f"data directory {directory!r} is not a directory")
    classes = sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))
    if not classes:
        raise DataError(
            f"data directory {directory!r} has no class sub-folders; expected an ImageNet-style "
            f"layout {directory}/<class_name>/<image>.jpg")
    return classes


class ImageFolder(Dataset):
    """A folder of class sub-folders of images.

    Args:
        root: the split folder (e.g. ``imagenet/train``).
        transform: applied to the PIL image (``load="pil"``) or to the byte tensor (``"bytes"``).
        load: ``"pil"`` decodes with PIL to RGB (or ``"L"`` when ``channels == 1``);
            ``"bytes"`` returns the encoded file as a 1-D ``uint8`` tensor.
        classes: the class list to use (pass the train split's so that val labels agree);
            a class folder here that is not in ``classes`` is an error.
        num_classes: if given, the number of classes found must equal it.
    """

    def __init__(self, root: str, transform: Optional[Callable] = None, load: str = "pil",
                 classes: Optional[Sequence[str]] = None, num_classes: Optional[int] = None,
                 channels: int = 3, extensions: Sequence[str] = IMG_EXTENSIONS):
        if load not in ("pil", "bytes"):
            raise ValueError(f"load must be 'pil' or 'bytes', got {load!r}")
        found = find_classes(root)
        if classes is None:
            classes = found
        else:
            classes = list(classes)
            extra = sorted(set(found) - set(classes))
            if extra:
                raise DataError(
                    f"{root!r} has class folders that the reference class list lacks: "
                    f"{extra[:5]}{' ...' if len(extra) > 5 else ''} (train and val must share classes)")
        if num_classes is not None and len(classes) != num_classes:
            raise DataError(
                f"class-count mismatch: {root!r} has {len(classes)} class folders but the model "
                f"expects {num_classes} classes; pass --num-classes {len(classes)} (the classifier "
                f"head is then re-initialised) or point --data-dir at the matching dataset")
        self.root = root
        self.classes = list(classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        exts = tuple(e.lower() for e in extensions)
        samples = []
        for c in self.classes:
            d = os.path.join(root, c)
            if not os.path.isdir(d):
                continue
            for dirpath, dirnames, filenames in os.walk(d, followlinks=True):
                dirnames.sort()
                for f in sorted(filenames):
                    if f.lower().endswith(exts):
                        samples.append((os.path.join(dirpath, f), self.class_to_idx[c]))
        if not samples:
            raise DataError(f"data directory {root!r} contains no image files "
                            f"(looked for {', '.join(exts)})")
        self.samples = samples
        self.targets = [t for _, t in samples]
        self.transform = transform
        self.load = load
        self.channels = channels

    def __len__(self) -> int:
        return len(self.samples)

    def load_image(self, index: int):
        path = self.samples[index][0]
        if self.load == "bytes":
            with open(path, "rb") as f:
                data = f.read()
            return torch.frombuffer(bytearray(data), dtype=torch.uint8)
        from PIL import Image
        with open(path, "rb") as f:
            img = Image.open(f)
            img = img.convert("L" if self.channels == 1 else "RGB")
        return img

    def __getitem__(self, index: int):
        img = self.load_image(index)
        if self.transform is not None:
            img = self.transform(img)
        return img, self.targets[index]
