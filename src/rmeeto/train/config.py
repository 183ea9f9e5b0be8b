"""Flags of ``rmeeto train`` (timm/DeiT names), ``-c config.yaml`` merging and KEY=VALUE parsing.

Every option is declared with ``default=SUPPRESS`` so that the namespace argparse returns
holds only what was typed on the command line; :func:`resolve` then layers
built-in defaults < YAML config < command line.
"""
from __future__ import annotations

import argparse
import os
from typing import Any, Optional

_HELP_DEFAULT = " (default: %s)"


def parse_value(v: Any) -> Any:
    """'2' -> 2, '1.5' -> 1.5, 'true' -> True, 'none' -> None, else the string."""
    if not isinstance(v, str):
        return v
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def parse_kwargs(items: Any) -> dict:
    """``["depth=2", "embed_dim=32"]`` (or a dict, from YAML) -> ``{"depth": 2, "embed_dim": 32}``."""
    if items is None:
        return {}
    if isinstance(items, dict):
        return {str(k): parse_value(v) for k, v in items.items()}
    if isinstance(items, str):
        items = items.split()
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--model-kwargs expects KEY=VALUE items, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().replace("-", "_")] = parse_value(v.strip())
    return out


def parse_list(value, cast) -> Optional[list]:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)):
        return [cast(v) for v in value]
    return [cast(v) for v in str(value).replace(" ", "").split(",") if v != ""]


class Options:
    """Collects option specs so that defaults live outside argparse (see module doc)."""

    def __init__(self, parser: argparse.ArgumentParser):
        self.parser = parser
        self.defaults: dict[str, Any] = {}

    def add(self, *flags, default=None, help: str = "", **kw):
        if kw.get("action") in ("store_true", "store_false"):
            raise ValueError("use bool options (BooleanOptionalAction)")
        if default is not None and kw.get("action") is not argparse.BooleanOptionalAction:
            help = help + _HELP_DEFAULT % (default,)
        elif kw.get("action") is argparse.BooleanOptionalAction:
            help = help + _HELP_DEFAULT % ("on" if default else "off",)
        act = self.parser.add_argument(*flags, default=argparse.SUPPRESS, help=help, **kw)
        self.defaults[act.dest] = default
        return act


def add_model_options(o: Options, train: bool = True) -> None:
    o.add("--model", default="vim_tiny_patch16_224", help="registered model name")
    o.add("--pretrained", default=None, metavar="PATH",
          help="checkpoint to start from: a local file or hf-hub:ORG/REPO[:FILE] on the Hugging Face Hub")
    o.add("--trust-checkpoint", action=argparse.BooleanOptionalAction, default=False,
          help="fully unpickle --pretrained/--resume files that hold more than tensors; this runs any "
               "code in the file, so only for files from a source you trust")
    o.add("--model-kwargs", nargs="*", default=[], metavar="KEY=VALUE",
          help="overrides for create_model, e.g. depth=2 embed_dim=32 img_size=32")
    o.add("--num-classes", type=int, default=None, help="classes of the head (default: the model's)")
    o.add("--r", "--merge-r", dest="r", type=int, default=None,
          help="tokens merged per merge block (rmeeto.patch); spell it --merge-r after torchrun, "
               "whose argument parser rejects --r as an ambiguous abbreviation")
    o.add("--ratio", "--merge-ratio", dest="ratio", type=float, default=None,
          help="target reduction ratio instead of --r")
    o.add("--mode", default="merge", choices=["merge", "prune", "prune-random", "prune-norm"])
    o.add("--order", default="keep", choices=["keep", "shuffle"])
    o.add("--num-frames", type=int, default=None, help="video models: frames per clip (default: the model's)")
    o.add("--kernel-size", type=int, default=None, help="video models: temporal patch size (tubelet)")


def add_data_options(o: Options) -> None:
    o.add("--dataset", default="folder", choices=["folder", "fashion-mnist", "video"])
    o.add("--data-dir", default=None, help="ImageNet layout root (train/, val/) or the IDX folder "
          "(fashion-mnist; default $RMEETO_FASHION_MNIST, else /usr/share/datasets/fashion-mnist); video: "
          "the folder of train.csv/val.csv/test.csv list files or of train/, val/ class folders of videos")
    o.add("--max-bad-images", type=float, default=0.01, metavar="FRACTION",
          help="share of a folder's images per pass that may be unreadable (each is replaced by another "
               "image of its class and named in a warning) before the run stops")
    o.add("--video-prefix", default=None, metavar="DIR", help="video: joined in front of every list-file "
          "path (default: the list file's folder)")
    o.add("--list-sep", default=None, help="video: list-file separator (default: ',' if the line has one, "
          "else whitespace)")
    o.add("--test-views", default="1x1", metavar="SEGMENTSxCROPS", help="video: views averaged per "
          "evaluated video, e.g. 4x3 (the official K400 test)")
    o.add("--short-side", type=int, default=None, help="video eval: resize the short side to this "
          "before cropping (default: the input size)")
    o.add("--min-frames", type=int, default=None, help="video: skip videos with fewer frames "
          "(default: --num-frames)")
    o.add("--workers", type=int, default=8, help="DataLoader worker processes per rank")
    o.add("--pin-memory", action=argparse.BooleanOptionalAction, default=True)
    o.add("--gpu-decode", action=argparse.BooleanOptionalAction, default=False,
          help="decode JPEGs and augment on the device (see docs/training.md)")
    o.add("--crop-pct", type=float, default=None, help="eval centre-crop fraction (224/256; 1.0 for fashion-mnist)")
    o.add("--device", default=None, help="cuda, cuda:N or cpu (default: cuda if available; "
          "under torchrun cuda:LOCAL_RANK)")
    o.add("--amp", default=None, choices=["bf16", "fp16", "off"],
          help="autocast dtype (default: bf16 on CUDA, off on CPU)")


def build_train_parser(parser: argparse.ArgumentParser) -> Options:
    o = Options(parser)
    o.add("-c", "--config", default=None, metavar="YAML", help="YAML of flag names -> values; "
          "command-line flags override it")
    add_model_options(o)
    o.add("--drop-path", type=float, default=0.1, help="stochastic depth rate (drop_path_rate)")
    add_data_options(o)
    o.add("--data-subset", type=float, default=1.0, metavar="FRACTION",
          help="re-train on a class-balanced fraction of the train set")
    o.add("--holdout", type=int, default=None, metavar="N",
          help="hold N train images out of training and evaluate on them instead of the val split "
               "(to choose a recipe without touching the test set)")
    o.add("--holdout-seed", type=int, default=0, help="which images --holdout takes")
    o.add("--epochs", type=int, default=3)
    o.add("--batch-size", type=int, default=128, help="per process (micro-batch)")
    o.add("--global-batch-size", type=int, default=None,
          help="instead of --batch-size: images per optimizer step over all processes; must divide "
               "by world size x --accum-steps")
    o.add("--accum-steps", type=int, default=1, help="gradient accumulation micro-batches per step "
          "(the official update_freq)")
    o.add("--num-sample", type=int, default=1, help="video: repeated augmentation, clips drawn per decoded "
          "video (the official num_sample); a micro-batch holds batch-size x num-sample clips")
    o.add("--eval-batch-size", type=int, default=None, help="default: 2 x --batch-size")
    o.add("--lr", type=float, default=2e-5, help="base lr per --lr-base-batch samples; scaled by "
          "global batch x num-sample / lr-base-batch")
    o.add("--lr-base-batch", type=int, default=512, help="batch size the base lr is given for "
          "(512 for the Vim/DeiT recipe, 256 for the official VideoMamba one)")
    o.add("--layer-decay", type=float, default=1.0, help="layer-wise lr decay (the official VideoMamba "
          "fine-tuning uses 0.75; 1.0: off)")
    o.add("--min-lr", type=float, default=1e-6)
    o.add("--warmup-lr", type=float, default=1e-6)
    o.add("--warmup-epochs", type=float, default=0.0)
    o.add("--weight-decay", type=float, default=0.05)
    o.add("--opt-eps", type=float, default=1e-8)
    o.add("--opt-betas", type=float, nargs=2, default=[0.9, 0.999])
    o.add("--clip-grad", type=float, default=None, help="clip the global grad norm to this")
    o.add("--aa", default="rand-m9-mstd0.5-inc1", help="timm RandAugment spec ('none' to disable)")
    o.add("--color-jitter", type=float, default=0.3, help="(unused while RandAugment is on)")
    o.add("--train-interpolation", default="bicubic", choices=["bicubic", "bilinear"])
    o.add("--reprob", type=float, default=0.25, help="random erasing probability")
    o.add("--scale", type=float, nargs=2, default=[0.08, 1.0], help="random-resized-crop area range")
    o.add("--hflip", type=float, default=0.5, help="horizontal flip probability (0 for direction-sensitive "
          "sets: a flipped clip moves the other way)")
    o.add("--remode", default="pixel")
    o.add("--recount", type=int, default=1)
    o.add("--gpu-randaug", action=argparse.BooleanOptionalAction, default=True,
          help="with --gpu-decode: torchvision RandAugment on the device")
    o.add("--mixup", type=float, default=0.8)
    o.add("--cutmix", type=float, default=1.0)
    o.add("--mixup-prob", type=float, default=1.0)
    o.add("--mixup-switch-prob", type=float, default=0.5)
    o.add("--mixup-mode", default="batch", choices=["batch", "pair", "elem"])
    o.add("--smoothing", type=float, default=0.1)
    o.add("--ema", action=argparse.BooleanOptionalAction, default=False, help="keep an EMA of weights")
    o.add("--ema-decay", type=float, default=0.9998)
    o.add("--distill", action=argparse.BooleanOptionalAction, default=False,
          help="distil from the unmerged pretrained model (1.0*CE + alpha*KL, T=tau)")
    o.add("--distill-alpha", type=float, default=0.5)
    o.add("--distill-tau", type=float, default=1.0)
    o.add("--output", default="runs/train", metavar="DIR")
    o.add("--resume", nargs="?", const="auto", default=None, metavar="PATH",
          help="continue from PATH, or from DIR/checkpoint.pth when given alone (a fresh start "
               "if it does not exist yet; a finished run is reported and left as it is)")
    o.add("--overwrite", action=argparse.BooleanOptionalAction, default=False,
          help="replace the run already in --output (checkpoint, metrics, summary, TensorBoard "
               "events); without it or --resume, an --output that holds a run is refused")
    o.add("--time-budget", type=float, default=None, metavar="MINUTES",
          help="fit the cosine schedule to this wall-clock budget (see docs/training.md)")
    o.add("--budget-probe-steps", type=int, default=10)
    o.add("--seed", type=int, default=0)
    o.add("--checkpoint-interval", type=float, default=30.0, metavar="MINUTES",
          help="also checkpoint mid-epoch this often (0: only at epoch ends)")
    o.add("--checkpoint-every-steps", type=int, default=None, metavar="N",
          help="also checkpoint every N optimizer steps (bounds the work a failure loses; "
               "see docs/training.md)")
    o.add("--stop-at-step", type=int, default=None, help=argparse.SUPPRESS)  # tests: simulate a kill
    o.add("--debug-nan-step", type=int, default=None, help=argparse.SUPPRESS)  # tests: inject a NaN loss
    o.add("--log-interval", type=int, default=20, help="optimizer steps between loss syncs/logs")
    o.add("--progress", action=argparse.BooleanOptionalAction, default=True)
    o.add("--initial-eval", action=argparse.BooleanOptionalAction, default=True,
          help="evaluate before merging and after merging (before training)")
    o.add("--tensorboard", action=argparse.BooleanOptionalAction, default=True)
    o.add("--compile", action=argparse.BooleanOptionalAction, default=False, help="torch.compile the model")
    return o


def load_yaml(path: str) -> dict:
    import yaml
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} not found")
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"config {path!r} must be a mapping of flag names to values")
    return data


def resolve(ns: argparse.Namespace, options: Options) -> argparse.Namespace:
    """defaults < YAML (``-c``) < command line; unknown YAML keys are an error."""
    given = {k: v for k, v in vars(ns).items() if k in options.defaults}
    merged = dict(options.defaults)
    cfg_path = given.get("config")
    if cfg_path:
        for key, value in load_yaml(cfg_path).items():
            dest = str(key).lstrip("-").replace("-", "_")
            if dest not in options.defaults or dest == "config":
                raise ValueError(f"config {cfg_path!r}: unknown key {key!r}")
            merged[dest] = value
    merged.update(given)
    out = argparse.Namespace(**{k: v for k, v in vars(ns).items() if k not in options.defaults})
    for k, v in merged.items():
        setattr(out, k, v)
    out.model_kwargs = parse_kwargs(out.model_kwargs)
    return out
