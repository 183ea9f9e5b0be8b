"""The command-line flags of ``rmeeto train``, ``eval`` and ``bench-data`` (timm/DeiT names).

Part of the CLI layer: every option is declared with ``default=SUPPRESS``, so that the namespace
argparse returns holds only what was typed; :func:`resolve` hands that to
:func:`rmeeto.train.config.from_layers`, which layers the settings dataclass's defaults < YAML
config < command line. Defaults are the dataclass fields'; help texts show them.
"""
from __future__ import annotations

import argparse
from typing import Any

from ..merge import MODES, ORDERS
from .config import (AMP_MODES, DATASETS, BenchDataConfig, EvalConfig, TrainConfig, defaults_of,
                     from_layers)
from .video import VIEW_AVERAGES

_HELP_DEFAULT = " (default: %s)"
_BOOL = argparse.BooleanOptionalAction


class Options:
    """Adds flags to ``parser`` for the fields of ``cls``, with the fields' defaults in the help."""

    def __init__(self, parser: argparse.ArgumentParser, cls: type):
        self.parser, self.cls = parser, cls
        self.defaults: dict[str, Any] = defaults_of(cls)
        self.dests: set[str] = set()

    def add(self, *flags: str, help: str = "", shown: Any = None, **kw) -> argparse.Action:
        """One flag of a field (``dest``: the first long flag, or ``dest=``); ``shown`` replaces the
        default the help text quotes."""
        if kw.get("action") in ("store_true", "store_false"):
            raise ValueError("use bool options (BooleanOptionalAction)")
        dest = kw.get("dest") or next(f for f in flags if f.startswith("--"))[2:].replace("-", "_")
        if dest not in self.defaults:
            raise ValueError(f"{flags[0]}: {self.cls.__name__} has no field {dest!r}")
        default = self.defaults[dest] if shown is None else shown
        if kw.get("action") is _BOOL:
            help = help + _HELP_DEFAULT % ("on" if default else "off",)
        elif default is not None and help is not argparse.SUPPRESS:
            help = help + _HELP_DEFAULT % (default,)
        self.dests.add(dest)
        return self.parser.add_argument(*flags, default=argparse.SUPPRESS, help=help, **kw)


def resolve(ns: argparse.Namespace, options: Options) -> Any:
    """The settings dataclass of ``options`` from what ``ns`` holds (defaults < YAML < command line)."""
    return from_layers(options.cls, {k: v for k, v in vars(ns).items() if k in options.dests})


def add_model_options(o: Options) -> None:
    o.add("--model", help="registered model name")
    o.add("--pretrained", metavar="PATH",
          help="checkpoint to start from: a local file or hf-hub:ORG/REPO[:FILE] on the Hugging Face Hub")
    o.add("--trust-checkpoint", action=_BOOL,
          help="fully unpickle --pretrained/--resume files that hold more than tensors; this runs any "
               "code in the file, so only for files from a source you trust")
    o.add("--model-kwargs", nargs="*", metavar="KEY=VALUE", shown=[],
          help="overrides for create_model, e.g. depth=2 embed_dim=32 img_size=32")
    o.add("--num-classes", type=int, help="classes of the head (default: the model's)")
    o.add("--r", "--merge-r", dest="r", type=int,
          help="tokens merged per merge block (rmeeto.patch); spell it --merge-r after torchrun, "
               "whose argument parser rejects --r as an ambiguous abbreviation")
    o.add("--ratio", "--merge-ratio", dest="ratio", type=float, help="target reduction ratio instead of --r")
    o.add("--mode", choices=list(MODES))
    o.add("--order", choices=list(ORDERS))
    o.add("--num-frames", type=int, help="video models: frames per clip (default: the model's)")
    o.add("--kernel-size", type=int, help="video models: temporal patch size (tubelet)")


def add_data_options(o: Options) -> None:
    o.add("--dataset", choices=list(DATASETS))
    o.add("--data-dir", help="ImageNet layout root (train/, val/) or the IDX folder "
          "(fashion-mnist; default $RMEETO_FASHION_MNIST, else /usr/share/datasets/fashion-mnist); video: "
          "the folder of train.csv/val.csv/test.csv list files or of train/, val/ class folders of videos")
    o.add("--max-bad-images", type=float, metavar="FRACTION",
          help="share of a folder's images per pass that may be unreadable (each is replaced by another "
               "image of its class and named in a warning) before the run stops")
    o.add("--video-prefix", metavar="DIR", help="video: joined in front of every list-file "
          "path (default: the list file's folder)")
    o.add("--list-sep", help="video: list-file separator (default: ',' if the line has one, else whitespace)")
    o.add("--test-views", metavar="SEGMENTSxCROPS", help="video: views averaged per "
          "evaluated video, e.g. 4x3 (the official K400 test)")
    o.add("--short-side", type=int, help="video eval: resize the short side to this "
          "before cropping (default: the input size)")
    o.add("--min-frames", type=int, help="video: skip videos with fewer frames (default: --num-frames)")
    o.add("--workers", type=int, help="DataLoader worker processes per rank")
    o.add("--pin-memory", action=_BOOL)
    o.add("--gpu-decode", action=_BOOL, help="decode JPEGs and augment on the device (see docs/training.md)")
    o.add("--crop-pct", type=float, help="eval centre-crop fraction (224/256; 1.0 for fashion-mnist)")
    o.add("--device", help="cuda, cuda:N or cpu (default: cuda if available; under torchrun cuda:LOCAL_RANK)")
    o.add("--amp", choices=list(AMP_MODES), help="autocast dtype (default: bf16 on CUDA, off on CPU)")


def _add_batch_options(o: Options) -> None:
    o.add("--data-subset", type=float, metavar="FRACTION",
          help="re-train on a class-balanced fraction of the train set")
    o.add("--holdout", type=int, metavar="N",
          help="hold N train images out of training and evaluate on them instead of the val split "
               "(to choose a recipe without touching the test set)")
    o.add("--holdout-seed", type=int, help="which images --holdout takes")
    o.add("--epochs", type=int)
    o.add("--batch-size", type=int, help="per process (micro-batch)")
    o.add("--global-batch-size", type=int,
          help="instead of --batch-size: images per optimizer step over all processes; must divide "
               "by world size x --accum-steps")
    o.add("--accum-steps", type=int, help="gradient accumulation micro-batches per step "
          "(the official update_freq)")
    o.add("--num-sample", type=int, help="video: repeated augmentation, clips drawn per decoded "
          "video (the official num_sample); a micro-batch holds batch-size x num-sample clips")
    o.add("--eval-batch-size", type=int, help="default: 2 x --batch-size")


def _add_optim_options(o: Options) -> None:
    o.add("--lr", type=float, help="base lr per --lr-base-batch samples; scaled by "
          "global batch x num-sample / lr-base-batch")
    o.add("--lr-base-batch", type=int, help="batch size the base lr is given for "
          "(512 for the Vim/DeiT recipe, 256 for the official VideoMamba one)")
    o.add("--layer-decay", type=float, help="layer-wise lr decay (the official VideoMamba "
          "fine-tuning uses 0.75; 1.0: off)")
    o.add("--min-lr", type=float)
    o.add("--warmup-lr", type=float)
    o.add("--warmup-epochs", type=float)
    o.add("--weight-decay", type=float)
    o.add("--opt-eps", type=float)
    o.add("--opt-betas", type=float, nargs=2)
    o.add("--clip-grad", type=float, help="clip the global grad norm to this")


def _add_augment_options(o: Options) -> None:
    o.add("--aa", help="timm RandAugment spec ('none' to disable)")
    o.add("--color-jitter", type=float, help="(unused while RandAugment is on)")
    o.add("--train-interpolation", choices=["bicubic", "bilinear"])
    o.add("--reprob", type=float, help="random erasing probability")
    o.add("--scale", type=float, nargs=2, help="random-resized-crop area range")
    o.add("--hflip", type=float, help="horizontal flip probability (0 for direction-sensitive "
          "sets: a flipped clip moves the other way)")
    o.add("--remode")
    o.add("--recount", type=int)
    o.add("--gpu-randaug", action=_BOOL, help="with --gpu-decode: torchvision RandAugment on the device")
    o.add("--mixup", type=float)
    o.add("--cutmix", type=float)
    o.add("--mixup-prob", type=float)
    o.add("--mixup-switch-prob", type=float)
    o.add("--mixup-mode", choices=["batch", "pair", "elem"])
    o.add("--smoothing", type=float)
    o.add("--ema", action=_BOOL, help="keep an EMA of weights")
    o.add("--ema-decay", type=float)
    o.add("--distill", action=_BOOL,
          help="distil from the unmerged pretrained model (1.0*CE + alpha*KL, T=tau)")
    o.add("--distill-alpha", type=float)
    o.add("--distill-tau", type=float)


def _add_run_options(o: Options) -> None:
    o.add("--output", metavar="DIR")
    o.add("--resume", nargs="?", const="auto", metavar="PATH",
          help="continue from PATH, or from DIR/checkpoint.pth when given alone (a fresh start "
               "if it does not exist yet; a finished run is reported and left as it is)")
    o.add("--overwrite", action=_BOOL,
          help="replace the run already in --output (checkpoint, metrics, summary, TensorBoard "
               "events); without it or --resume, an --output that holds a run is refused")
    o.add("--time-budget", type=float, metavar="MINUTES",
          help="fit the cosine schedule to this wall-clock budget (see docs/training.md)")
    o.add("--budget-probe-steps", type=int)
    o.add("--seed", type=int)
    o.add("--checkpoint-interval", type=float, metavar="MINUTES",
          help="also checkpoint mid-epoch this often (0: only at epoch ends)")
    o.add("--checkpoint-every-steps", type=int, metavar="N",
          help="also checkpoint every N optimizer steps (bounds the work a failure loses; "
               "see docs/training.md)")
    o.add("--stop-at-step", type=int, help=argparse.SUPPRESS)  # tests: simulate a kill
    o.add("--debug-nan-step", type=int, help=argparse.SUPPRESS)  # tests: inject a NaN loss
    o.add("--log-interval", type=int, help="optimizer steps between loss syncs/logs")
    o.add("--progress", action=_BOOL)
    o.add("--initial-eval", action=_BOOL, help="evaluate before merging and after merging (before training)")
    o.add("--tensorboard", action=_BOOL)
    o.add("--compile", action=_BOOL, help="torch.compile the model")
    o.add("--cuda-graph", action=_BOOL,
          help="replay each micro-batch's forward + backward from a CUDA graph (under torchrun: DDP's all-reduce "
               "too, with --accum-steps 1; see docs/training.md)")


def _add_config(o: Options, help: str = "YAML of flag names -> values") -> None:
    o.add("-c", "--config", metavar="YAML", help=help)


def build_train_parser(parser: argparse.ArgumentParser) -> Options:
    o = Options(parser, TrainConfig)
    _add_config(o, "YAML of flag names -> values; command-line flags override it")
    add_model_options(o)
    o.add("--drop-path", type=float, help="stochastic depth rate (drop_path_rate)")
    add_data_options(o)
    _add_batch_options(o)
    _add_optim_options(o)
    _add_augment_options(o)
    _add_run_options(o)
    return o


def build_eval_parser(p: argparse.ArgumentParser) -> Options:
    o = Options(p, EvalConfig)
    _add_config(o)
    add_model_options(o)
    add_data_options(o)
    o.add("--split", help="folder split to evaluate (val; fashion-mnist: test; video: "
          "val or test, i.e. val.csv/test.csv or val/ test/ folders)")
    o.add("--view-average", choices=list(VIEW_AVERAGES),
          help="video --test-views: average the views' logits, or their probabilities (the official "
               "test merge)")
    o.add("--batch-size", type=int)
    o.add("--data-subset", type=float, metavar="FRACTION")
    o.add("--seed", type=int)
    o.add("--r-list", help="comma-separated r values to evaluate in one run, e.g. 0,5,11")
    o.add("--ratio-list", help="comma-separated reduction ratios, e.g. 0,0.3,0.5")
    o.add("--throughput", action=_BOOL, help="also time forward passes of the model alone")
    o.add("--throughput-batch-size", type=int, help="batch of the throughput timing (default: --batch-size)")
    o.add("--throughput-iters", type=int)
    o.add("--throughput-cuda-graph", action=_BOOL,
          help="time forwards replayed from a CUDA graph, as rmeeto bench --cuda-graph (eager forwards of small "
               "models are often bound by Python on the host)")
    o.add("--output", metavar="DIR", help="write eval.json (+ eval.png for lists) here")
    return o


def build_bench_parser(p: argparse.ArgumentParser) -> Options:
    o = Options(p, BenchDataConfig)
    _add_config(o)
    o.add("--dataset", choices=["folder", "fashion-mnist"])
    o.add("--data-dir", help="ImageNet layout root, or the Fashion-MNIST IDX folder")
    o.add("--split")
    o.add("--batch-size", type=int)
    o.add("--workers", type=int)
    o.add("--img-size", type=int)
    o.add("--channels", type=int)
    o.add("--path", choices=["cpu", "gpu", "both"],
          help="cpu: PIL decode + timm transforms in workers; gpu: bytes in workers, decode and "
               "augment on --device (default: both on CUDA, cpu otherwise)")
    o.add("--train-aug", action=_BOOL, help="the full DeiT train augmentation (else the eval transform)")
    o.add("--steps", type=int, help="timed batches")
    o.add("--warmup", type=int, help="untimed batches first (worker start-up)")
    o.add("--device", help="cuda, cuda:N or cpu (default: cuda if available)")
    o.add("--model", help="also time this model's training step on synthetic data")
    o.add("--model-kwargs", nargs="*", metavar="KEY=VALUE", shown=[],
          help="create_model overrides for --model (img_size=N also sets --img-size)")
    o.add("--r", type=int, help="merge tokens in the timed model (needs --model)")
    o.add("--amp", choices=list(AMP_MODES), help="autocast dtype of the model step")
    o.add("--max-bad-images", type=float, metavar="FRACTION",
          help="unreadable images (replaced by others of their class) allowed per pass before stopping")
    o.add("--json", metavar="PATH", help="also write the numbers here")
    return o


def missing_flags(o: Options) -> list[str]:
    """Fields of the settings dataclass that no flag sets (a test keeps this empty)."""
    return sorted(set(o.defaults) - o.dests)


def typed_flags(ns: argparse.Namespace, o: Options) -> set[str]:
    """The fields given on the command line."""
    return {k for k in vars(ns) if k in o.dests}

