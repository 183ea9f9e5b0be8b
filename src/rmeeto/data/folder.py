"""ImageNet-style folder datasets: ``root/<split>/<class>/<image>``.

The dataset can hand out either decoded PIL images (the classic CPU path) or the raw file
bytes as a ``uint8`` tensor (the GPU fast path decodes them on the device, see
:mod:`rmeeto.data.gpu`).

A file that cannot be read (not an image, truncated, unreadable) is replaced by the next readable
image of the same class, so one bad file does not stop a run. The replaced files are flagged in a
shared-memory array that DataLoader workers write and the main process reads
(:mod:`rmeeto.data.bad_images` reports them and stops a run when there are too many).
"""
from __future__ import annotations

import os
import struct
from typing import Callable, Optional, Sequence

import torch
from torch.utils.data import Dataset

from .errors import DataError

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm", ".pgm", ".tif", ".tiff")
JPEG_EXTENSIONS = (".jpg", ".jpeg")
# what a failed decode raises (PIL: UnidentifiedImageError is an OSError; some plugins raise the others)
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error)
# formats torchvision's decode_image reads (the device-decode path's fallback): JPEG, PNG, GIF, WebP
_BYTE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


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


def _checked_classes(root: str, classes: Optional[Sequence[str]], num_classes: Optional[int]) -> list[str]:
    """The class list: ``root``'s folders, or ``classes`` (which must cover them), of ``num_classes`` if given."""
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
    return classes


def _files_under(d: str, exts: tuple[str, ...]) -> list[str]:
    """Files of ``d`` and its subfolders (links followed) whose names end in one of ``exts``, in sorted walk order;
    none for a missing folder."""
    if not os.path.isdir(d):
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(d, followlinks=True):
        dirnames.sort()
        out += [os.path.join(dirpath, f) for f in sorted(filenames) if f.lower().endswith(exts)]
    return out


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
        max_bad_fraction: the share of a pass's images that may be unreadable (replaced) before
            the loader stops the run (see :class:`rmeeto.data.bad_images.BadImageLoader`).
    """

    def __init__(self, root: str, transform: Optional[Callable] = None, load: str = "pil",
                 classes: Optional[Sequence[str]] = None, num_classes: Optional[int] = None,
                 channels: int = 3, extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_bad_fraction: float = 0.01):
        if load not in ("pil", "bytes"):
            raise ValueError(f"load must be 'pil' or 'bytes', got {load!r}")
        classes = _checked_classes(root, classes, num_classes)
        self.root = root
        self.classes = classes
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        exts = tuple(e.lower() for e in extensions)
        samples = []
        self._class_start = []  # a class's samples are contiguous: [start of class c, start of c+1)
        for i, c in enumerate(self.classes):
            self._class_start.append(len(samples))
            samples += [(path, i) for path in _files_under(os.path.join(root, c), exts)]
        if not samples:
            raise DataError(f"data directory {root!r} contains no image files "
                            f"(looked for {', '.join(exts)})")
        self._class_start.append(len(samples))
        self.samples = samples
        self.targets = [t for _, t in samples]
        self.transform = transform
        self.load = load
        self.channels = channels
        self.max_bad_fraction = float(max_bad_fraction)
        self.bad = torch.zeros(len(samples), dtype=torch.uint8).share_memory_()  # 1: replaced since last read

    def __len__(self) -> int:
        return len(self.samples)

    def load_image(self, index: int):
        """The image (PIL) or file bytes of sample ``index``; raises one of DECODE_ERRORS if unreadable."""
        path = self.samples[index][0]
        if self.load == "bytes":
            with open(path, "rb") as f:
                data = f.read()
            if not data.startswith(_BYTE_SIGNATURES) and not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
                raise ValueError("not a JPEG, PNG, GIF or WebP file")
            return torch.frombuffer(bytearray(data), dtype=torch.uint8)
        from PIL import Image
        with open(path, "rb") as f:
            img = Image.open(f)
            img = img.convert("L" if self.channels == 1 else "RGB")
        return img

    def _same_class(self, index: int) -> list[int]:
        """``index``, then the other samples of its class in order, wrapping around."""
        c = self.targets[index]
        start, end = self._class_start[c], self._class_start[c + 1]
        return list(range(index, end)) + list(range(start, index))

    def load_readable(self, index: int):
        """:meth:`load_image` of ``index`` or, if that file is unreadable, of the next readable image
        of the same class; every unreadable file tried is flagged in :attr:`bad`."""
        for candidate in self._same_class(index):
            try:
                return self.load_image(candidate)
            except DECODE_ERRORS:
                self.bad[candidate] = 1
        raise DataError(f"no image of class {self.classes[self.targets[index]]!r} in {self.root!r} can be "
                        "read; check the files or remove the class folder")

    def take_bad(self) -> list[int]:
        """Indices of the samples flagged unreadable since the last call (clears the flags)."""
        idx = self.bad.nonzero().flatten()
        self.bad[idx] = 0
        return idx.tolist()

    def __getitem__(self, index: int):
        img = self.load_readable(index)
        if self.transform is not None:
            img = self.transform(img)
        return img, self.targets[index]
