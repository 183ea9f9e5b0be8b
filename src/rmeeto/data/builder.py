"""Datasets and DataLoaders from run settings (used by ``rmeeto train/eval/bench-data``)."""
from __future__ import annotations

import os
from typing import Optional, Sequence

from torch.utils.data import DataLoader, Dataset, Subset

from .bad_images import watch
from .errors import DataError
from .folder import JPEG_EXTENSIONS, ImageFolder
from .gpu import GpuJpegPipeline, collate_bytes
from .idx import FashionMNIST
from .sampler import SeededDataset, ShardedEvalSampler, TrainSampler, balanced_subset, holdout_indices
from .transforms import build_eval_transform, build_train_transform, default_mean_std
from .video import build_video_dataset

DATASETS = ("folder", "fashion-mnist", "video")


def split_dir(data_dir: str, split: str) -> str:
    if data_dir is None:
        raise DataError("--data-dir is required for --dataset folder")
    if not os.path.isdir(data_dir):
        raise DataError(f"data directory {data_dir!r} does not exist")
    d = os.path.join(data_dir, split)
    if not os.path.isdir(d):
        raise DataError(f"data directory {data_dir!r} has no {split}/ folder (expected the "
                        f"ImageNet layout {data_dir}/train/<class>/*.JPEG and {data_dir}/val/<class>/*.JPEG)")
    return d


def build_dataset(dataset: str, data_dir: Optional[str], split: str, *, img_size: int,
                  channels: int = 3, num_classes: Optional[int] = None, train_aug: bool = False,
                  aa: Optional[str] = "rand-m9-mstd0.5-inc1", reprob: float = 0.25,
                  remode: str = "pixel", recount: int = 1, color_jitter: float = 0.3,
                  interpolation: str = "bicubic", crop_pct: Optional[float] = None,
                  gpu_decode: bool = False, classes=None,
                  scale: Sequence[float] = (0.08, 1.0), hflip: float = 0.5, video: Optional[dict] = None,
                  max_bad_images: float = 0.01) -> Dataset:
    """One split (``train``/``val``) of ``dataset``; ``train_aug`` picks the DeiT train transform,
    otherwise the eval transform. With ``gpu_decode`` (folders only) items are raw JPEG bytes.
    ``dataset="video"`` reads list files or class folders of videos; ``video`` holds the
    :func:`rmeeto.data.video.build_video_dataset` options (``num_frames``, ``test_views``, ...).
    ``max_bad_images``: the share of unreadable files (replaced, see :class:`ImageFolder`) a pass
    over an image folder may hold before its loader stops the run."""
    if not 0 <= max_bad_images < 1:
        raise DataError(f"--max-bad-images must be in [0, 1), got {max_bad_images}")
    if dataset == "video":
        if gpu_decode:
            raise DataError("--gpu-decode is for JPEG folders, not videos")
        vkw = dict(video or {})
        if train_aug:
            vkw.update(aa=aa, scale=scale, reprob=reprob, remode=remode, recount=recount, interpolation=interpolation,
                       hflip=hflip)
        else:
            vkw.pop("num_sample", None)
        return build_video_dataset(data_dir, split, img_size=img_size, train=train_aug, num_classes=num_classes,
                                   classes=classes, **vkw)
    mean, std = default_mean_std(channels, dataset)
    if dataset == "fashion-mnist":
        if gpu_decode:
            raise DataError("--gpu-decode is for JPEG folders, not Fashion-MNIST")
        tf = (build_train_transform(img_size, channels, aa, reprob, remode, recount, color_jitter,
                                    interpolation, scale=scale, mean=mean, std=std, hflip=hflip) if train_aug else
              build_eval_transform(img_size, channels, 1.0 if crop_pct is None else crop_pct,
                                   interpolation, mean, std))
        if channels != 1:
            from torchvision import transforms as T  # optional extra ([train])
            tf = T.Compose([T.Grayscale(num_output_channels=channels), tf])
        return FashionMNIST(data_dir, "train" if split == "train" else "test", tf, num_classes)
    if dataset != "folder":
        raise DataError(f"unknown --dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    root = split_dir(data_dir, split)
    if gpu_decode:
        return ImageFolder(root, None, load="bytes", classes=classes, num_classes=num_classes,
                           extensions=JPEG_EXTENSIONS, max_bad_fraction=max_bad_images)
    tf = (build_train_transform(img_size, channels, aa, reprob, remode, recount, color_jitter,
                                interpolation, scale=scale, mean=mean, std=std, hflip=hflip) if train_aug else
          build_eval_transform(img_size, channels, 224 / 256 if crop_pct is None else crop_pct,
                               interpolation, mean, std))
    return ImageFolder(root, tf, load="pil", classes=classes, num_classes=num_classes,
                       channels=channels, max_bad_fraction=max_bad_images)


def dataset_classes(ds: Dataset) -> list:
    while isinstance(ds, (Subset, SeededDataset)):
        ds = ds.dataset
    return list(getattr(ds, "classes", []))


def dataset_targets(ds: Dataset) -> list:
    """Labels of ``ds`` (through :class:`Subset` layers) without loading any image."""
    if isinstance(ds, Subset):
        inner = dataset_targets(ds.dataset)
        return [inner[i] for i in ds.indices]
    return list(ds.targets)


def make_subset(ds: Dataset, fraction: Optional[float], seed: int) -> Dataset:
    if fraction is None or fraction >= 1:
        return ds
    return Subset(ds, balanced_subset(dataset_targets(ds), fraction, seed))


def split_holdout(train_ds: Dataset, eval_ds: Dataset, n: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    """``--holdout N``: train on all but ``n`` images of the train split and evaluate on those ``n``.
    ``eval_ds`` must be the same train split built with the eval transform."""
    if len(train_ds) != len(eval_ds):
        raise ValueError("split_holdout needs the train split twice (train and eval transform)")
    keep, held = holdout_indices(dataset_targets(train_ds), n, seed)
    return Subset(train_ds, keep), Subset(eval_ds, held)


def dataset_collate(ds: Dataset):
    """The ``collate`` a dataset asks for (video datasets do), through Subset/SeededDataset layers."""
    while isinstance(ds, (Subset, SeededDataset)):
        ds = ds.dataset
    return getattr(ds, "collate", None)


def _loader_kwargs(workers: int, pin_memory: bool):
    kw = dict(num_workers=workers, pin_memory=pin_memory)
    if workers > 0:
        kw.update(persistent_workers=True, prefetch_factor=4)
    return kw


def build_train_loader(ds: Dataset, batch_size: int, *, world_size: int = 1, rank: int = 0,
                       seed: int = 0, workers: int = 4, pin_memory: bool = False,
                       accum_steps: int = 1, gpu_decode: bool = False):
    """DataLoader over ``SeededDataset(ds)`` with a :class:`TrainSampler` (returned too); over an image
    folder it reports and limits unreadable files (:func:`rmeeto.data.bad_images.watch`)."""
    sampler = TrainSampler(len(ds), batch_size, world_size, rank, seed,
                           batches_multiple_of=accum_steps)
    loader = DataLoader(SeededDataset(ds), batch_size=batch_size, sampler=sampler, drop_last=True,
                        collate_fn=collate_bytes if gpu_decode else dataset_collate(ds),
                        **_loader_kwargs(workers, pin_memory))
    return watch(loader, ds), sampler


def build_eval_loader(ds: Dataset, batch_size: int, *, world_size: int = 1, rank: int = 0,
                      workers: int = 4, pin_memory: bool = False, gpu_decode: bool = False):
    """Pad-free sharded eval loader (see :class:`ShardedEvalSampler`); over an image folder it reports
    and limits unreadable files (:func:`rmeeto.data.bad_images.watch`)."""
    loader = DataLoader(ds, batch_size=batch_size, sampler=ShardedEvalSampler(len(ds), world_size, rank),
                        drop_last=False, collate_fn=collate_bytes if gpu_decode else dataset_collate(ds),
                        **_loader_kwargs(workers, pin_memory))
    return watch(loader, ds)


def gpu_pipelines(img_size: int, device, reprob: float = 0.25, randaug: bool = True,
                  crop_pct: Optional[float] = None, hflip: float = 0.5):
    """(train, eval) :class:`GpuJpegPipeline` pair for ``--gpu-decode``."""
    cp = 224 / 256 if crop_pct is None else crop_pct
    return (GpuJpegPipeline(img_size, True, device, randaug=randaug, reprob=reprob, crop_pct=cp, hflip=hflip),
            GpuJpegPipeline(img_size, False, device, crop_pct=cp))


def to_device_batch(batch, device, pipeline=None, non_blocking=True):
    """(images, labels) on ``device``: through ``pipeline`` for byte batches, else ``.to``."""
    x, y = batch
    if pipeline is not None:
        return pipeline(x, y)
    return x.to(device, non_blocking=non_blocking), y.to(device, non_blocking=non_blocking)
