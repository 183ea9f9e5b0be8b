"""Typed settings of ``rmeeto train``, ``eval`` and ``bench-data``, and their layering.

The fields' defaults are the built-in defaults; :func:`from_layers` puts a YAML file
(``-c``, flag names -> values) over them and the typed command line over that. The command
line itself is declared in :mod:`rmeeto.train.flags`; library code takes these dataclasses.
"""
from __future__ import annotations

import os
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from typing import Any, Mapping, Optional, TypeVar

from ..kv import parse_kwargs, parse_list, parse_value
from ..merge import MODES, ORDERS

__all__ = ["ModelConfig", "DataConfig", "TrainConfig", "EvalConfig", "BenchDataConfig", "from_layers",
           "load_yaml", "defaults_of", "parse_value", "parse_kwargs", "parse_list", "MODES", "ORDERS",
           "DATASETS", "AMP_MODES"]

DATASETS = ("folder", "fashion-mnist", "video")
AMP_MODES = ("bf16", "fp16", "off")
C = TypeVar("C")


@dataclass
class ModelConfig:
    """Which model, from which weights, merged how (``rmeeto.patch``)."""
    model: str = "vim_tiny_patch16_224"
    pretrained: Optional[str] = None
    trust_checkpoint: bool = False
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    num_classes: Optional[int] = None
    r: Optional[int] = None
    ratio: Optional[float] = None
    mode: str = MODES[0]
    order: str = ORDERS[0]
    num_frames: Optional[int] = None
    kernel_size: Optional[int] = None


@dataclass
class DataConfig:
    """Where the images (or videos) are, how they are loaded, and on which device."""
    dataset: str = "folder"
    data_dir: Optional[str] = None
    max_bad_images: float = 0.01
    video_prefix: Optional[str] = None
    list_sep: Optional[str] = None
    test_views: str = "1x1"
    short_side: Optional[int] = None
    min_frames: Optional[int] = None
    workers: int = 8
    pin_memory: bool = True
    gpu_decode: bool = False
    crop_pct: Optional[float] = None
    device: Optional[str] = None
    amp: Optional[str] = None


@dataclass
class TrainConfig(ModelConfig, DataConfig):
    """Everything ``rmeeto train`` takes (timm/DeiT names; see ``rmeeto train --help``)."""
    config: Optional[str] = None  # the -c file these settings came from (kept in args.yaml)
    drop_path: float = 0.1
    data_subset: float = 1.0
    holdout: Optional[int] = None
    holdout_seed: int = 0
    # batch and optimisation
    epochs: int = 3
    batch_size: int = 128
    global_batch_size: Optional[int] = None
    accum_steps: int = 1
    num_sample: int = 1
    eval_batch_size: Optional[int] = None
    lr: float = 2e-5
    lr_base_batch: int = 512
    layer_decay: float = 1.0
    min_lr: float = 1e-6
    warmup_lr: float = 1e-6
    warmup_epochs: float = 0.0
    weight_decay: float = 0.05
    opt_eps: float = 1e-8
    opt_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    clip_grad: Optional[float] = None
    # augmentation and loss
    aa: str = "rand-m9-mstd0.5-inc1"
    color_jitter: float = 0.3
    train_interpolation: str = "bicubic"
    reprob: float = 0.25
    scale: list[float] = field(default_factory=lambda: [0.08, 1.0])
    hflip: float = 0.5
    remode: str = "pixel"
    recount: int = 1
    gpu_randaug: bool = True
    mixup: float = 0.8
    cutmix: float = 1.0
    mixup_prob: float = 1.0
    mixup_switch_prob: float = 0.5
    mixup_mode: str = "batch"
    smoothing: float = 0.1
    ema: bool = False
    ema_decay: float = 0.9998
    distill: bool = False
    distill_alpha: float = 0.5
    distill_tau: float = 1.0
    # the run: output, resume, time budget, checkpoints, logging
    output: Optional[str] = "runs/train"  # None: train() keeps the run's files in a temporary folder
    resume: Optional[str] = None
    overwrite: bool = False
    time_budget: Optional[float] = None
    budget_probe_steps: int = 10
    seed: int = 0
    checkpoint_interval: float = 30.0
    checkpoint_every_steps: Optional[int] = None
    stop_at_step: Optional[int] = None  # tests: simulate a kill
    debug_nan_step: Optional[int] = None  # tests: inject a NaN loss
    log_interval: int = 20
    progress: bool = True
    initial_eval: bool = True
    tensorboard: bool = True
    compile: bool = False
    cuda_graph: bool = False


@dataclass
class EvalConfig(ModelConfig, DataConfig):
    """Everything ``rmeeto eval`` takes."""
    config: Optional[str] = None
    split: str = "val"
    view_average: str = "logits"
    batch_size: int = 128
    data_subset: float = 1.0
    seed: int = 0
    r_list: Optional[str] = None
    ratio_list: Optional[str] = None
    throughput: bool = True
    throughput_batch_size: Optional[int] = None
    throughput_iters: int = 20
    throughput_cuda_graph: bool = False
    output: Optional[str] = None


@dataclass
class BenchDataConfig:
    """Everything ``rmeeto bench-data`` takes."""
    config: Optional[str] = None
    dataset: str = "folder"
    data_dir: Optional[str] = None
    split: str = "train"
    batch_size: int = 128
    workers: int = 8
    img_size: int = 224
    channels: int = 3
    path: Optional[str] = None
    train_aug: bool = True
    steps: int = 50
    warmup: int = 5
    device: Optional[str] = None
    model: Optional[str] = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    r: Optional[int] = None
    amp: Optional[str] = None
    max_bad_images: float = 0.01
    json: Optional[str] = None


def _default(f: Field) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory()  # type: ignore[misc]


def defaults_of(cls: type) -> dict[str, Any]:
    """The built-in defaults of a settings dataclass, by field name."""
    return {f.name: _default(f) for f in fields(cls)}


def as_dict(cfg: Any) -> dict[str, Any]:
    """A settings dataclass as a plain dict (what args.yaml and a checkpoint's ``args`` hold)."""
    return asdict(cfg)


def load_yaml(path: str) -> dict:
    import yaml
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} not found")
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"config {path!r} must be a mapping of flag names to values")
    return data


def from_layers(cls: type[C], given: Mapping[str, Any]) -> C:
    """``cls`` from its defaults < the YAML file ``given["config"]`` (if any) < ``given``.
    YAML keys are flag names (``batch-size``, ``--batch-size`` or ``batch_size``); an unknown one is
    a :class:`ValueError`. ``model_kwargs`` may be ``KEY=VALUE`` items or a mapping."""
    names = {f.name for f in fields(cls)}
    unknown = set(given) - names
    if unknown:
        raise ValueError(f"{cls.__name__} has no setting {sorted(unknown)[0]!r}")
    merged: dict[str, Any] = {}
    cfg_path = given.get("config")
    if cfg_path:
        for key, value in load_yaml(cfg_path).items():
            dest = str(key).lstrip("-").replace("-", "_")
            if dest not in names or dest == "config":
                raise ValueError(f"config {cfg_path!r}: unknown key {key!r}")
            merged[dest] = value
    merged.update(given)
    if "model_kwargs" in names:
        merged["model_kwargs"] = parse_kwargs(merged.get("model_kwargs"))
    return cls(**merged)
