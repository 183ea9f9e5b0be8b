"""The parts a run is built from: the model, the batch layout, the data and the optimisation state."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

import torch
from timm.utils import ModelEmaV3
from torch import nn

from ..baselines.vit_tome import BASELINES, create_baseline
from ..cli_checks import UsageError, build_model as build_checked
from ..data import (build_criterion, build_dataset, build_eval_loader, build_mixup, build_train_loader,
                    dataset_classes, gpu_pipelines, make_subset, split_holdout)
from ..models.vim import VisionMamba
from .config import ModelConfig, TrainConfig
from .dist import DistInfo
from .errors import TrainError
from .schedule import CosineWarmupLR
from .video import apply_layer_decay, video_options


def build_model(args: ModelConfig, drop_path: float = 0.0, teacher: bool = False) -> nn.Module:
    """``rmeeto.create_model`` from the model settings (``drop_path``: the stochastic depth rate unless
    ``model_kwargs`` sets ``drop_path_rate``; a ``teacher`` has none); a bad name, bad kwargs or a
    checkpoint that cannot be read or does not fit the model is re-raised as a one-line :class:`TrainError`."""
    kw = dict(args.model_kwargs or {})
    kw.update({k: getattr(args, k) for k in ("num_frames", "kernel_size") if getattr(args, k) is not None})
    kw["drop_path_rate"] = 0.0 if teacher else kw.get("drop_path_rate", drop_path)
    if args.model in BASELINES:
        if args.pretrained:
            raise TrainError(f"--pretrained applies to the Vim models; --model {args.model} is a Transformer "
                             "baseline that trains from scratch")
        try:
            return create_baseline(args.model, num_classes=args.num_classes, **kw)
        except TypeError as e:
            raise TrainError(f"cannot build --model {args.model} with --model-kwargs {kw}: {e}") from e
    try:
        return build_checked(args.model, kw, pretrained=args.pretrained, num_classes=args.num_classes,
                             trust_checkpoint=args.trust_checkpoint)
    except UsageError as e:
        raise TrainError(str(e)) from e


def require_vim(model: nn.Module, name: str) -> None:
    """Token merging (``--r``/``--ratio``) patches Vim models only."""
    if not isinstance(model, VisionMamba):
        raise TrainError(f"--r/--ratio merge tokens of Vim models; --model {name} is a Transformer baseline "
                         "(rmeeto study vit reduces it ToMe-style)")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: no weight decay on biases, norms (1-D) and the model's ``no_weight_decay()`` names."""
    skip = set(getattr(model, "no_weight_decay", lambda: set())())
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name.endswith(".bias") or name in skip or name.split(".")[-1] in skip:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


def batch_sizes(args: TrainConfig, info: DistInfo) -> tuple[int, int]:
    """(batch per process, images per optimizer step), from --batch-size or --global-batch-size."""
    accum = int(args.accum_steps)
    if accum < 1:
        raise TrainError(f"--accum-steps must be >= 1, got {accum}")
    if args.global_batch_size is not None:
        denom = info.world_size * accum
        if args.global_batch_size % denom != 0:
            raise TrainError(
                f"--global-batch-size {args.global_batch_size} does not divide evenly over "
                f"{info.world_size} process(es) x {accum} accumulation step(s) (= {denom}); "
                f"pick a multiple of {denom}, or set --batch-size per process instead")
        bs = args.global_batch_size // denom
    else:
        bs = int(args.batch_size)
    if bs < 1:
        raise TrainError(f"batch size per process must be >= 1, got {bs}")
    if (args.mixup > 0 or args.cutmix > 0) and bs % 2 != 0:
        raise TrainError(f"mixup/cutmix needs an even batch size per process, got {bs}; "
                         f"use an even --batch-size (or --mixup 0 --cutmix 0)")
    return bs, bs * info.world_size * accum


def check_cuda_graph(args: TrainConfig, info: DistInfo) -> None:
    """Refuse --cuda-graph where it cannot work, with the fix in the message."""
    if args.compile:
        raise TrainError("--cuda-graph and --compile: use one of them (each wraps the forward its own way)")
    if info.device.type != "cuda":
        raise TrainError(f"--cuda-graph needs a CUDA device, this run is on {info.device}: drop --cuda-graph")
    if info.enabled and int(args.accum_steps) > 1:
        raise TrainError("--cuda-graph with several processes captures DDP's gradient all-reduce, which runs after "
                         "every micro-batch: use --accum-steps 1 (a larger --batch-size), or drop --cuda-graph")


def crowded_workers(workers: int, local_procs: int) -> Optional[str]:
    """A warning when loader workers leave no CPU core for the training processes themselves."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers * local_procs + local_procs <= cores:
        return None
    fit = max(1, cores // local_procs - 1)
    return (f"{local_procs} process(es) x --workers {workers} loader workers on {cores} CPU cores leave no core "
            f"for the training loop itself; try --workers {fit}")


@dataclass
class TrainData:
    """The data side of a run: datasets, loaders, GPU pipelines, mixup and the loss."""
    train_ds: Any
    val_ds: Any
    train_loader: Any
    sampler: Any
    val_loader: Any
    train_pipe: Any
    val_pipe: Any
    mixup: Any
    criterion: Any


@dataclass
class OptimState:
    """Optimizer, loss scaler, schedule and weight EMA; ``spe`` is optimizer steps per epoch."""
    optimizer: torch.optim.Optimizer
    scaler: Optional[torch.amp.GradScaler]
    sched: CosineWarmupLR
    ema: Optional[ModelEmaV3]
    spe: int


def build_datasets(args: TrainConfig, model: nn.Module) -> tuple[Any, Any]:
    """The train and val datasets of the settings (with --holdout and --data-subset)."""
    data_kw = dict(img_size=int(model.img_size), channels=int(model.in_chans), num_classes=int(model.num_classes),
                   interpolation=args.train_interpolation, crop_pct=args.crop_pct,
                   video=video_options(args, model, args.model, args.num_sample), max_bad_images=args.max_bad_images)
    gpu_decode = bool(args.gpu_decode)
    train_ds = build_dataset(args.dataset, args.data_dir, "train", train_aug=True, aa=args.aa,
                             reprob=args.reprob, remode=args.remode, recount=args.recount,
                             color_jitter=args.color_jitter, gpu_decode=gpu_decode,
                             scale=tuple(args.scale), hflip=args.hflip, **data_kw)
    val_split = "train" if args.holdout else "val"
    val_ds = build_dataset(args.dataset, args.data_dir, val_split, classes=dataset_classes(train_ds),
                           gpu_decode=gpu_decode, **data_kw)
    if args.holdout:
        train_ds, val_ds = split_holdout(train_ds, val_ds, int(args.holdout), args.holdout_seed)
    return make_subset(train_ds, args.data_subset, args.seed), val_ds


def build_data(args: TrainConfig, info: DistInfo, model: nn.Module, bs: int, accum: int,
               datasets: Optional[tuple[Any, Any]] = None) -> TrainData:
    """Datasets (given, or built from the settings), loaders, GPU pipelines, mixup and the loss."""
    dev = info.device
    img_size, num_classes = int(model.img_size), int(model.num_classes)
    gpu_decode = bool(args.gpu_decode)
    if gpu_decode and (args.dataset != "folder" or datasets is not None):
        raise TrainError("--gpu-decode works on JPEG folders (--dataset folder) only")
    train_ds, val_ds = datasets if datasets is not None else build_datasets(args, model)
    pin = bool(args.pin_memory) and dev.type == "cuda"
    train_loader, sampler = build_train_loader(train_ds, bs, world_size=info.world_size, rank=info.rank,
                                               seed=args.seed, workers=args.workers, pin_memory=pin,
                                               accum_steps=accum, gpu_decode=gpu_decode)
    val_loader = None
    if val_ds is not None:
        val_loader = build_eval_loader(val_ds, args.eval_batch_size or 2 * bs, world_size=info.world_size,
                                       rank=info.rank, workers=args.workers, pin_memory=pin, gpu_decode=gpu_decode)
    train_pipe = val_pipe = None
    if gpu_decode:
        train_pipe, val_pipe = gpu_pipelines(img_size, dev, reprob=args.reprob, randaug=args.gpu_randaug,
                                             crop_pct=args.crop_pct, hflip=args.hflip)
    mixup = build_mixup(num_classes, args.mixup, args.cutmix, args.mixup_prob, args.mixup_switch_prob,
                        args.mixup_mode, args.smoothing)
    criterion = build_criterion(mixup is not None, args.smoothing)
    return TrainData(train_ds, val_ds, train_loader, sampler, val_loader, train_pipe, val_pipe, mixup, criterion)


def build_optim(args: TrainConfig, model: nn.Module, dev: torch.device, dtype: Optional[torch.dtype], lr: float,
                spe: int) -> OptimState:
    """AdamW (layer decay, no decay on norms and biases), fp16 loss scaler, cosine schedule, EMA."""
    groups = apply_layer_decay(param_groups(model, args.weight_decay), model, args.layer_decay)
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=tuple(args.opt_betas),
                                  eps=args.opt_eps, fused=dev.type == "cuda")  # as `rmeeto bench --train` times it
    scaler = torch.amp.GradScaler(dev.type) if dtype == torch.float16 else None
    warmup_steps = int(round(args.warmup_epochs * spe))
    sched = CosineWarmupLR(optimizer, lr, args.epochs * spe, warmup_steps, args.min_lr, args.warmup_lr)
    ema = ModelEmaV3(model, args.ema_decay) if args.ema else None
    return OptimState(optimizer, scaler, sched, ema, spe)
