"""Samplers whose order is a pure function of (seed, epoch): exact mid-epoch resume, and
pad-free sharded evaluation.

Kept over torchdata's StatefulDataLoader, whose state and augmentation depend on the worker count
(tests/test_library_parts.py)."""
from __future__ import annotations

import random
from typing import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from .errors import DataError


class TrainSampler(Sampler):
    """Shuffled, sharded training order; yields ``(dataset_index, sample_seed)`` pairs.

    The permutation of epoch ``e`` comes from ``numpy.random.SeedSequence([seed, e])``; rank
    ``r`` of ``world`` takes positions ``r, r+world, ...`` of it, truncated so that every rank
    gets exactly ``num_batches * batch_size`` samples (the remainder of the epoch is dropped,
    as DeiT does with ``drop_last``). Each sample also gets a seed derived from
    ``(seed, epoch, dataset_index)``; :class:`SeededDataset` seeds the augmentation RNGs with it,
    so augmentations do not depend on worker count, prefetching or where a run was resumed.

    ``start_batch`` skips that many batches of the current epoch (mid-epoch resume).
    """

    def __init__(self, size: int, batch_size: int, num_replicas: int = 1, rank: int = 0,
                 seed: int = 0, shuffle: bool = True, batches_multiple_of: int = 1):
        if size <= 0:
            raise DataError("the training set is empty")
        self.size = size
        self.batch_size = batch_size
        self.num_replicas = num_replicas
        self.rank = rank
        self.seed = seed
        self.shuffle = shuffle
        per_rank = size // num_replicas
        nb = per_rank // batch_size
        nb -= nb % batches_multiple_of
        if nb <= 0:
            raise DataError(
                f"the training set has {size} samples, i.e. {per_rank} per process over "
                f"{num_replicas} process(es): not enough for one step of batch size {batch_size}"
                + (f" x {batches_multiple_of} accumulation steps" if batches_multiple_of > 1 else "")
                + "; lower --batch-size or --accum-steps, or use more data")
        self.num_batches = nb
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch = int(epoch)
        self.start_batch = int(start_batch)

    def epoch_order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(permutation of all indices, per-index sample seeds) for ``epoch``."""
        ss = np.random.SeedSequence([int(self.seed) & 0xFFFFFFFF, int(epoch), 0x5EED])
        perm_seed, sample_seed = ss.spawn(2)
        perm = (np.random.default_rng(perm_seed).permutation(self.size) if self.shuffle
                else np.arange(self.size))
        seeds = np.random.default_rng(sample_seed).integers(0, 2**31 - 1, size=self.size)
        return perm, seeds

    def indices(self) -> list[tuple[int, int]]:
        perm, seeds = self.epoch_order(self.epoch)
        mine = perm[self.rank::self.num_replicas][: self.num_batches * self.batch_size]
        mine = mine[self.start_batch * self.batch_size:]
        return [(int(i), int(seeds[i])) for i in mine]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.indices())

    def __len__(self) -> int:
        return (self.num_batches - self.start_batch) * self.batch_size

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "start_batch": self.start_batch, "seed": self.seed,
                "size": self.size, "num_replicas": self.num_replicas,
                "batch_size": self.batch_size}


class ShardedEvalSampler(Sampler):
    """Rank ``r`` takes indices ``r, r+world, ...``: every sample is evaluated exactly once
    (no padding, no drops). Shards may differ in length by one; reduce metrics as sums of
    correct counts and sample counts, never as means of per-rank means."""

    def __init__(self, size: int, num_replicas: int = 1, rank: int = 0):
        self.size, self.num_replicas, self.rank = size, num_replicas, rank

    def __iter__(self):
        return iter(range(self.rank, self.size, self.num_replicas))

    def __len__(self) -> int:
        return len(range(self.rank, self.size, self.num_replicas))


class SeededDataset(Dataset):
    """Wraps a dataset so that ``ds[(index, seed)]`` runs the transform with Python's,
    NumPy's and torch's global RNGs seeded by ``seed`` (restored afterwards, so using it in the
    main process leaves the caller's RNG streams untouched). Plain ``ds[index]`` also works."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            return self.dataset[key]
        index, seed = key
        py_state, np_state = random.getstate(), np.random.get_state()
        with torch.random.fork_rng(devices=[]):
            random.seed(seed)
            np.random.seed(seed % (2**32))
            torch.manual_seed(seed)
            try:
                return self.dataset[index]
            finally:
                random.setstate(py_state)
                np.random.set_state(np_state)


def balanced_subset(targets: Sequence[int], fraction: float, seed: int = 0) -> list[int]:
    """Indices of a class-balanced subset: ``max(1, round(fraction * n_c))`` random samples
    of each class ``c`` (deterministic in ``seed``), returned sorted."""
    if not 0 < fraction <= 1:
        raise DataError(f"--data-subset must be in (0, 1], got {fraction}")
    targets = np.asarray(targets)
    if fraction == 1:
        return list(range(len(targets)))
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x5B5E7]))
    out = []
    for c in np.unique(targets):
        idx = np.flatnonzero(targets == c)
        k = max(1, int(round(fraction * len(idx))))
        out.extend(rng.choice(idx, size=k, replace=False).tolist())
    return sorted(out)


def holdout_indices(targets: Sequence[int], n: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """Split ``range(len(targets))`` into (kept, held out): ``n`` images held out, spread over the
    classes in proportion to their size (deterministic in ``seed``, independent of the run's seed so
    that runs with different seeds are scored on the same images). Both lists are sorted."""
    targets = np.asarray(targets)
    if not 0 < n < len(targets):
        raise DataError(f"--holdout must be between 1 and {len(targets) - 1} (the train split has "
                         f"{len(targets)} images), got {n}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x401D]))
    order = rng.permutation(len(targets))
    # a stable sort by class of a random permutation, then every k-th: proportional per class
    order = order[np.argsort(targets[order], kind="stable")]
    held = np.sort(order[np.linspace(0, len(order) - 1, n).round().astype(int)])
    keep = np.setdiff1d(np.arange(len(targets)), held)
    return keep.tolist(), held.tolist()
