"""Video classification datasets: sparse clips for training, multi-view clips for evaluation.

A video that cannot be decoded, or has fewer than ``min_frames`` frames, is skipped: in training
another video takes its place (drawn from the seeded per-sample RNG, so runs stay reproducible);
in evaluation it is left out of the batch (:func:`collate_views`) and so out of the accuracy.
Both are counted in :class:`SkipCounter`, which DataLoader workers share with the main process.
"""
from __future__ import annotations

import random
import sys
from typing import Optional, Sequence

import torch
from torch.utils.data import Dataset, default_collate

from .errors import DataError
from .video_io import VideoReadError, VideoTooShort, read_sampled
from .video_list import video_samples
from .video_transforms import (OFFICIAL_K400_AA, EvalClipTransform, TrainClipTransform,
                               eval_frame_indices, train_frame_indices)

MAX_WORKER_SLOTS = 256


class SkipCounter:
    """Counts of skipped videos (``unreadable``, ``too_short``), in shared memory: one slot per
    DataLoader worker, so the counts of every worker reach the main process without locks."""

    KINDS = ("unreadable", "too_short")

    def __init__(self):
        self.counts = torch.zeros(MAX_WORKER_SLOTS, len(self.KINDS), dtype=torch.int64).share_memory_()
        self.warned: set = set()

    def add(self, kind: str, path: str, reason: str) -> None:
        info = torch.utils.data.get_worker_info()
        slot = 0 if info is None else (info.id + 1) % MAX_WORKER_SLOTS
        self.counts[slot, self.KINDS.index(kind)] += 1
        if path not in self.warned:  # once per file and process
            self.warned.add(path)
            print(f"warning: skipped video ({kind.replace('_', ' ')}): {reason}", file=sys.stderr, flush=True)

    def totals(self) -> dict:
        tot = self.counts.sum(0).tolist()
        return dict(zip(self.KINDS, tot))

    def since_last(self) -> dict:
        """Skips since the previous call (read-only on the shared counts, so no race with workers)."""
        now = self.totals()
        last = getattr(self, "_last", dict.fromkeys(self.KINDS, 0))
        self._last = now
        return {k: now[k] - last[k] for k in self.KINDS}


class VideoDataset(Dataset):
    """``(path, label)`` samples of videos.

    Training items are ``(clip, label)`` with ``clip`` of shape ``(C, T, S, S)``, or
    ``(num_sample, C, T, S, S)`` with repeated augmentation (one decode, ``num_sample`` different
    augmentations, as the official ``num_sample``; :func:`collate_repeated` flattens them).
    Evaluation items are ``(views, label)`` with ``views`` of shape ``(V, C, T, S, S)`` for
    ``V = segments x crops > 1`` (``(C, T, S, S)`` for one view), or ``None`` when skipped.
    ``min_frames`` (default ``num_frames``): videos with fewer frames count as too short."""

    SKIP_KINDS = SkipCounter.KINDS

    def __init__(self, samples: Sequence[tuple[str, int]], num_frames: int, img_size: int, train: bool,
                 *, classes: Optional[list] = None, test_views: tuple[int, int] = (1, 1),
                 num_sample: int = 1, short_side: Optional[int] = None, aa: Optional[str] = OFFICIAL_K400_AA,
                 scale=(0.08, 1.0), reprob: float = 0.0, remode: str = "pixel", recount: int = 1,
                 interpolation: str = "bicubic", min_frames: Optional[int] = None, max_substitutes: int = 50,
                 hflip: float = 0.5):
        if not samples:
            raise DataError("the video list is empty")
        if num_frames < 1 or num_sample < 1 or min(test_views) < 1:
            raise ValueError("num_frames, num_sample and the test views must be >= 1")
        self.samples = list(samples)
        self.targets = [y for _, y in self.samples]
        self.classes = list(classes) if classes is not None else [str(i) for i in range(max(self.targets) + 1)]
        self.num_frames, self.train, self.num_sample = int(num_frames), bool(train), int(num_sample)
        self.segments, self.crops = int(test_views[0]), int(test_views[1])
        # a video with fewer frames than the clip would repeat frames: skipped unless min_frames says otherwise
        self.min_frames = int(num_frames if min_frames is None else min_frames)
        self.max_substitutes = int(max_substitutes)
        self.skips = SkipCounter()
        if self.train:
            self.transform = TrainClipTransform(img_size, aa, scale, reprob=reprob, remode=remode,
                                                recount=recount, interpolation=interpolation, hflip=hflip)
        else:
            self.transform = EvalClipTransform(img_size, self.crops, short_side)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def collate(self):
        """The DataLoader collate these items need (picked up by :func:`rmeeto.data.builder.dataset_collate`)."""
        return collate_repeated if self.train else collate_views

    def _frames(self, path: str, groups_for) -> list:
        """Decode the frame groups ``groups_for(total)`` (one list of indices per view) at once."""
        sizes: list[int] = []

        def pick(total: int) -> list[int]:
            groups = groups_for(total)
            sizes[:] = [len(g) for g in groups]
            return [i for g in groups for i in g]

        in_worker = torch.utils.data.get_worker_info() is not None
        frames = read_sampled(path, pick, self.min_frames, threads=1 if in_worker else 0)
        out, k = [], 0
        for n in sizes:
            out.append(frames[k:k + n])
            k += n
        return out

    def _train_item(self, path: str) -> torch.Tensor:
        (frames,) = self._frames(path, lambda n: [train_frame_indices(n, self.num_frames)])
        clips = [self.transform(frames) for _ in range(self.num_sample)]
        return clips[0] if self.num_sample == 1 else torch.stack(clips)

    def _eval_item(self, path: str) -> torch.Tensor:
        groups = self._frames(path, lambda n: [eval_frame_indices(n, self.num_frames, v, self.segments)
                                               for v in range(self.segments)])
        views = [c for frames in groups for c in self.transform(frames)]  # segment-major, then crops
        return views[0] if len(views) == 1 else torch.stack(views)

    def _skip(self, path: str, err: VideoReadError) -> None:
        self.skips.add("too_short" if isinstance(err, VideoTooShort) else "unreadable", path, str(err))

    def __getitem__(self, index: int):
        if not self.train:
            path, label = self.samples[index]
            try:
                return self._eval_item(path), label
            except VideoReadError as e:
                self._skip(path, e)
                return None
        for _ in range(self.max_substitutes + 1):
            path, label = self.samples[index]
            try:
                return self._train_item(path), label
            except VideoReadError as e:
                self._skip(path, e)
                index = random.randrange(len(self.samples))  # seeded per sample (SeededDataset)
        raise DataError(f"{self.max_substitutes + 1} videos in a row could not be read (the last: "
                        f"{self.samples[index][0]}); check the paths, --video-prefix and the files")


def collate_repeated(batch: list):
    """Training batches: ``(B, n, C, T, H, W)`` clips from repeated augmentation become
    ``(B * n, C, T, H, W)`` with each label repeated ``n`` times."""
    x, y = default_collate(batch)
    if x.dim() == 6:
        n = x.shape[1]
        x = x.flatten(0, 1)
        y = y.repeat_interleave(n)
    return x, y


def collate_views(batch: list):
    """Evaluation batches without the skipped (``None``) videos; an all-skipped batch is empty."""
    kept = [b for b in batch if b is not None]
    if not kept:
        return torch.zeros(0), torch.zeros(0, dtype=torch.long)
    return default_collate(kept)


def build_video_dataset(data_dir: Optional[str], split: str, *, num_frames: int, img_size: int,
                        train: bool, prefix: Optional[str] = None, sep: Optional[str] = None,
                        num_classes: Optional[int] = None, classes: Optional[list] = None,
                        **kwargs) -> VideoDataset:
    """One split of a list-file or class-folder video set (see :mod:`rmeeto.data.video_list`);
    ``kwargs`` go to :class:`VideoDataset`."""
    samples, names = video_samples(data_dir, split, prefix, sep, num_classes, classes)
    return VideoDataset(samples, num_frames, img_size, train, classes=names, **kwargs)


def parse_views(spec) -> tuple[int, int]:
    """``"4x3"`` -> (4 temporal segments, 3 spatial crops); ``"1"`` -> (1, 1)."""
    if isinstance(spec, (tuple, list)):
        parts = [str(p) for p in spec]
    else:
        parts = str(spec).lower().replace(" ", "").split("x")
    try:
        vals = [int(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) == 1:
        vals = [vals[0], 1]
    if len(vals) != 2 or min(vals) < 1:
        raise DataError(f"--test-views expects SEGMENTSxCROPS such as 4x3 (the official K400 test), got {spec!r}")
    return vals[0], vals[1]
