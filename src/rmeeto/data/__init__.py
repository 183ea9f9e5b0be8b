"""Data pipeline for re-training and evaluating merged Vision Mamba models."""
from .builder import (build_dataset, build_eval_loader, build_train_loader, dataset_classes,
                      gpu_pipelines, make_subset, split_holdout, to_device_batch)
from .errors import DataError
from .folder import ImageFolder, find_classes
from .gpu import GpuJpegPipeline, collate_bytes
from .idx import DEBIAN_FASHION_MNIST, FashionMNIST, fashion_mnist_dir, read_idx, write_idx
from .sampler import (SeededDataset, ShardedEvalSampler, TrainSampler, balanced_subset,
                      holdout_indices)
from .synthetic import make_fake_jpeg_folder
from .transforms import build_criterion, build_eval_transform, build_mixup, build_train_transform

__all__ = ["DataError", "ImageFolder", "find_classes", "FashionMNIST", "read_idx", "write_idx",
           "DEBIAN_FASHION_MNIST", "fashion_mnist_dir", "TrainSampler", "ShardedEvalSampler", "SeededDataset",
           "balanced_subset", "holdout_indices", "GpuJpegPipeline", "collate_bytes", "make_fake_jpeg_folder",
           "build_train_transform", "build_eval_transform", "build_mixup", "build_criterion",
           "build_dataset", "build_train_loader", "build_eval_loader", "dataset_classes",
           "make_subset", "split_holdout", "gpu_pipelines", "to_device_batch"]
