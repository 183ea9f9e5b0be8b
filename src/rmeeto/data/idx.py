"""Reader for the IDX format of (Fashion-)MNIST: ``train-images-idx3-ubyte[.gz]`` etc.

Debian's ``dataset-fashion-mnist`` package installs the four files under
``/usr/share/datasets/fashion-mnist/``; that folder is the default for ``--dataset fashion-mnist``
unless the environment variable ``RMEETO_FASHION_MNIST`` names another one.
"""
from __future__ import annotations

import gzip
import os
from typing import Callable, Optional

import numpy as np
from torch.utils.data import Dataset

from .errors import DataError

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_ENV = "RMEETO_FASHION_MNIST"
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot"]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read IDX file {path!r}: {e}") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path!r} is not an IDX file (bad magic number)")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise DataError(f"{path!r}: unknown IDX element type 0x{code:02x}")
    if ndim == 0 or len(data) < 4 + 4 * ndim:
        raise DataError(f"{path!r}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    n = int(np.prod(shape))
    offset = 4 + 4 * ndim
    if len(data) - offset < n * dtype.itemsize:
        raise DataError(f"{path!r}: truncated IDX payload (header says shape {shape})")
    arr = np.frombuffer(data, dtype=dtype, count=n, offset=offset).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip when ``path`` ends in .gz); used for tests."""
    array = np.asarray(array)
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    code = codes[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    payload = array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + payload)


def fashion_mnist_dir() -> str:
    """The default Fashion-MNIST folder: ``$RMEETO_FASHION_MNIST`` if set, else Debian's."""
    return os.environ.get(FASHION_MNIST_ENV) or DEBIAN_FASHION_MNIST


def find_idx_file(root: str, stem: str) -> str:
    """Locate ``stem`` (e.g. ``train-images-idx3-ubyte``) in ``root``, with or without .gz,
    also accepting the ``train-images.idx3-ubyte`` spelling."""
    alt = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", alt, alt + ".gz"):
        p = os.path.join(root, name)
        if os.path.isfile(p):
            return p
    raise DataError(f"Fashion-MNIST file {stem}[.gz] not found in {root!r} "
                    f"(on Debian: apt-get install dataset-fashion-mnist, files land in "
                    f"{DEBIAN_FASHION_MNIST})")


class FashionMNIST(Dataset):
    """Fashion-MNIST (or MNIST) from IDX files; items are 1-channel PIL images (28×28, mode "L")
    and int labels. The transform resizes them to the model's input size."""

    def __init__(self, root: Optional[str] = None, split: str = "train",
                 transform: Optional[Callable] = None, num_classes: Optional[int] = None,
                 limit: Optional[int] = None):
        root = root or fashion_mnist_dir()
        if not os.path.isdir(root):
            raise DataError(f"Fashion-MNIST directory {root!r} does not exist")
        prefix = {"train": "train", "val": "t10k", "test": "t10k", "t10k": "t10k"}.get(split)
        if prefix is None:
            raise ValueError(f"split must be train or test, got {split!r}")
        images = read_idx(find_idx_file(root, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(find_idx_file(root, f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3:
            raise DataError(f"{root}: images IDX must be 3-D (N, H, W), got shape {images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(f"{root}: {len(images)} images but labels have shape {labels.shape}")
        if len(images) == 0:
            raise DataError(f"{root}: the {split} IDX files hold no images")
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        self.images = np.ascontiguousarray(images, dtype=np.uint8)
        self.targets = [int(t) for t in labels]
        found = max(self.targets) + 1
        self.classes = list(FASHION_MNIST_CLASSES) if found <= 10 else [str(i) for i in range(found)]
        if num_classes is not None and max(self.targets) >= num_classes:
            raise DataError(f"class-count mismatch: Fashion-MNIST labels go up to "
                            f"{max(self.targets)} but the model has {num_classes} classes; "
                            f"pass --num-classes {len(self.classes)}")
        self.transform = transform
        self.root = root
        self.split = split

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        from PIL import Image
        img = Image.fromarray(self.images[index])  # uint8 (H, W) -> mode "L"
        if self.transform is not None:
            img = self.transform(img)
        return img, self.targets[index]
