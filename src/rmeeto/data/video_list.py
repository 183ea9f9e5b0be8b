"""Where the videos of a split are: list files (``train.csv``/``val.csv``/``test.csv``, one
``path label`` per line, as VideoMAE, UMT and VideoMamba keep Kinetics-400) or class folders
(``<split>/<class>/<video>``)."""
from __future__ import annotations

import os
from typing import Optional

from .errors import DataError
from .folder import find_classes
from .video_io import VIDEO_EXTENSIONS

HEADER_LABELS = {"label", "labels", "class", "class_id", "target"}


def _split_line(line: str, sep: Optional[str]) -> Optional[tuple[str, str]]:
    """(path, label) of one line: split at the last separator, so paths may hold spaces.
    ``sep=None`` takes ',' when the line has one, else any whitespace."""
    if sep is None:
        sep = "," if "," in line else None
    elif sep.strip() == "":
        sep = None  # ' ' or '\t': any run of whitespace, as pandas' delim_whitespace would
    parts = line.rsplit(sep, 1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        return None
    return parts[0].strip(), parts[1].strip()


def parse_list_file(path: str, prefix: Optional[str] = None, sep: Optional[str] = None,
                    num_classes: Optional[int] = None) -> list[tuple[str, int]]:
    """``[(video path, label), ...]`` from a list file.

    Each line is ``<path><sep><label>`` with an integer label >= 0. ``prefix`` is joined in front
    of every path (``os.path.join``: absolute paths stay as they are); without one, relative paths
    are taken relative to the list file's folder. Blank lines are skipped, and so is a first line
    whose label column is a header word (``label``, ``class``, ...). An empty file, a line without
    a label, a label that is not an integer, or (with ``num_classes``) one out of range raises a
    :class:`DataError` that names the file and the line."""
    if not os.path.isfile(path):
        raise DataError(f"list file {path!r} does not exist")
    base = prefix if prefix is not None else os.path.dirname(os.path.abspath(path))
    samples: list[tuple[str, int]] = []
    first = True
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line:
                continue
            is_first, first = first, False
            parsed = _split_line(line, sep)
            if parsed is None:
                raise DataError(f"{path}, line {lineno}: expected '<path>{sep or ' '}<label>', got {line!r}")
            name, label = parsed
            if is_first and label.lower() in HEADER_LABELS:
                continue
            try:
                y = int(label)
            except ValueError:
                raise DataError(f"{path}, line {lineno}: label {label!r} is not an integer class index "
                                f"(line {line!r})") from None
            if y < 0 or (num_classes is not None and y >= num_classes):
                raise DataError(f"{path}, line {lineno}: label {y} is outside 0..{(num_classes or 1) - 1}"
                                + (f"; the model has {num_classes} classes (--num-classes)" if num_classes else ""))
            samples.append((os.path.join(base, name), y))
    if not samples:
        raise DataError(f"list file {path!r} is empty (expected one '<path> <label>' per line)")
    return samples


def scan_video_folder(root: str, classes: Optional[list] = None) -> tuple[list[tuple[str, int]], list[str]]:
    """``root/<class>/**/<video>`` -> (samples, class names); classes sorted by name unless given."""
    found = find_classes(root)
    classes = list(classes) if classes is not None else found
    extra = sorted(set(found) - set(classes))
    if extra:
        raise DataError(f"{root!r} has class folders the train split lacks: {extra[:5]}")
    samples = []
    for y, c in enumerate(classes):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, c), followlinks=True):
            dirnames.sort()
            samples += [(os.path.join(dirpath, f), y) for f in sorted(filenames)
                        if f.lower().endswith(VIDEO_EXTENSIONS)]
    if not samples:
        raise DataError(f"{root!r} holds no video files (looked for {', '.join(VIDEO_EXTENSIONS)})")
    return samples, classes


def find_split(data_dir: Optional[str], split: str) -> tuple[str, str]:
    """('list', data_dir/<split>.csv) or ('folder', data_dir/<split>/), the list file first."""
    if data_dir is None:
        raise DataError("--data-dir is required for --dataset video")
    if not os.path.isdir(data_dir):
        raise DataError(f"data directory {data_dir!r} does not exist")
    for name in (f"{split}.csv", f"{split}.txt", f"{split}_list.txt"):
        p = os.path.join(data_dir, name)
        if os.path.isfile(p):
            return "list", p
    d = os.path.join(data_dir, split)
    if os.path.isdir(d):
        return "folder", d
    raise DataError(f"{data_dir!r} has neither {split}.csv (lines '<path> <label>') nor a {split}/ folder "
                    f"of class folders of videos")


def video_samples(data_dir: Optional[str], split: str, prefix: Optional[str] = None,
                  sep: Optional[str] = None, num_classes: Optional[int] = None,
                  classes: Optional[list] = None) -> tuple[list[tuple[str, int]], list[str]]:
    """The samples and class names of one split of ``data_dir`` (see :func:`find_split`)."""
    kind, where = find_split(data_dir, split)
    if kind == "list":
        samples = parse_list_file(where, prefix, sep, num_classes)
        n = max(y for _, y in samples) + 1
        names = list(classes) if classes is not None and len(classes) >= n else [str(i) for i in range(n)]
        return samples, names
    samples, names = scan_video_folder(where, classes)
    if num_classes is not None and len(names) != num_classes:
        raise DataError(f"class-count mismatch: {where!r} has {len(names)} class folders but the model "
                        f"has {num_classes} classes; pass --num-classes {len(names)}")
    return samples, names
