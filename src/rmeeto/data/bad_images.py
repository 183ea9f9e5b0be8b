"""Unreadable images in a folder dataset: report them once per pass, stop when there are too many.

:class:`rmeeto.data.folder.ImageFolder` replaces an unreadable file by another image of the same
class and flags it (in DataLoader workers too). :class:`BadImageLoader` wraps the DataLoader: after
each batch it counts the flags, and raises :class:`DataError` as soon as more than
``max_fraction`` of the images of the pass were unreadable; at the end of a pass it prints one
warning naming the files replaced in it.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Any, Optional

from torch.utils.data import Dataset, Subset

from .errors import DataError
from .folder import DECODE_ERRORS, ImageFolder

SHOWN = 5  # files named in one message


def find_folder(ds: Dataset) -> Optional[ImageFolder]:
    """The :class:`ImageFolder` under ``Subset``/``SeededDataset`` layers, if any."""
    while not isinstance(ds, ImageFolder):
        inner = ds.dataset if isinstance(ds, Subset) else getattr(ds, "dataset", None)
        if inner is None:
            return None
        ds = inner
    return ds


def _reason(folder: ImageFolder, index: int) -> str:
    """Why sample ``index`` cannot be read, in a few words (read again here, in the main process)."""
    path = folder.samples[index][0]
    try:
        folder.load_image(index)
    except DECODE_ERRORS as e:
        text = re.sub(r"<_io\.\w+ name=.*?>", "", str(e)).replace(repr(path), "").replace(path, "").strip(" :")
        return (text or type(e).__name__)[:80]
    return "unreadable then, readable now"


def describe(folder: ImageFolder, indices: list[int]) -> str:
    """``cls/a.jpg (cannot identify image file), cls/b.jpg (...)`` for the first few samples."""
    named = ", ".join(f"{os.path.relpath(folder.samples[i][0], folder.root)} ({_reason(folder, i)})"
                      for i in indices[:SHOWN])
    return named + (f" and {len(indices) - SHOWN} more" if len(indices) > SHOWN else "")


class BadImageLoader:
    """A DataLoader over an :class:`ImageFolder` that reports and limits its unreadable images.

    It behaves like the wrapped loader (``len``, attributes); ``iter`` starts the wrapped loader's
    iterator at once, so that its workers start loading as soon as a pass is asked for.
    """

    def __init__(self, loader: Any, folder: ImageFolder, max_fraction: float):
        self.loader = loader
        self.folder = folder
        self.max_fraction = float(max_fraction)

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:
        if name == "loader":  # not set yet (unpickling): avoid recursing
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __iter__(self) -> "_Pass":
        size = len(self.loader.sampler) if self.loader.sampler is not None else len(self.loader.dataset)
        return _Pass(self, iter(self.loader), max(1, size))

    def check(self, size: int) -> None:
        """Raise :class:`DataError` if more than ``max_fraction`` of a pass of ``size`` images was unreadable."""
        count = int(self.folder.bad.count_nonzero())
        if count > self.max_fraction * size:
            bad = self.folder.take_bad()
            raise DataError(f"{count} of {size} images in {self.folder.root} ({100 * count / size:.1f} %) cannot be "
                            f"read, more than --max-bad-images {self.max_fraction:g} allows: "
                            f"{describe(self.folder, bad)}; fix or remove them, or raise --max-bad-images")

    def report(self, size: int) -> None:
        """One warning naming the files replaced during the pass that just ended."""
        bad = self.folder.take_bad()
        if bad:
            print(f"warning: {len(bad)} of {size} images in {self.folder.root} could not be read and were "
                  f"replaced by other images of their class: {describe(self.folder, bad)}",
                  file=sys.stderr, flush=True)


class _Pass:
    """One iteration over a :class:`BadImageLoader`."""

    def __init__(self, owner: BadImageLoader, it: Any, size: int):
        self.owner, self.it, self.size = owner, it, size

    def __iter__(self) -> "_Pass":
        return self

    def __next__(self):
        try:
            batch = next(self.it)
        except StopIteration:
            self.owner.report(self.size)
            raise
        self.owner.check(self.size)
        return batch

    def __len__(self) -> int:
        return len(self.it)


def watch(loader: Any, ds: Dataset) -> Any:
    """``loader`` wrapped in a :class:`BadImageLoader` when ``ds`` is (a view of) an image folder."""
    folder = find_folder(ds)
    return loader if folder is None else BadImageLoader(loader, folder, folder.max_bad_fraction)
