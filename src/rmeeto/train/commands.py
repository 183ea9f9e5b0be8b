"""CLI wiring: ``register(subparsers)`` adds ``train``, ``eval`` and ``bench-data``."""
from __future__ import annotations

import argparse
import sys

from .config import Options, add_data_options, add_model_options, build_train_parser, resolve


def _entry(options: Options, runner_name: str):
    def func(ns: argparse.Namespace) -> int:
        from ..cli_checks import one_line, require
        from .checks import check_bench_data, check_eval, check_train

        check = {"train": check_train, "eval": check_eval, "bench-data": check_bench_data}[runner_name]
        try:
            require(runner_name, "timm", "torchvision")
            args = resolve(ns, options)
            check(args, typed=set(vars(ns)))
        except (ValueError, FileNotFoundError) as e:  # a UsageError is a ValueError
            print(f"error: {one_line(e)}", file=sys.stderr, flush=True)
            return 2
        from . import bench_data, engine, eval_cmd
        runner = {"train": engine.run_train, "eval": eval_cmd.run_eval,
                  "bench-data": bench_data.run_bench_data}[runner_name]
        return runner(args)
    return func


def build_eval_parser(p: argparse.ArgumentParser) -> Options:
    o = Options(p)
    o.add("-c", "--config", default=None, metavar="YAML", help="YAML of flag names -> values")
    add_model_options(o, train=False)
    add_data_options(o)
    o.add("--split", default="val", help="folder split to evaluate (val; fashion-mnist: test; video: "
          "val or test, i.e. val.csv/test.csv or val/ test/ folders)")
    o.add("--view-average", default="logits", choices=["logits", "softmax"],
          help="video --test-views: average the views' logits, or their probabilities (the official "
               "test merge)")
    o.add("--batch-size", type=int, default=128)
    o.add("--data-subset", type=float, default=1.0, metavar="FRACTION")
    o.add("--seed", type=int, default=0)
    o.add("--r-list", default=None, help="comma-separated r values to evaluate in one run, e.g. 0,5,11")
    o.add("--ratio-list", default=None, help="comma-separated reduction ratios, e.g. 0,0.3,0.5")
    o.add("--throughput", action=argparse.BooleanOptionalAction, default=True,
          help="also time forward passes of the model alone")
    o.add("--throughput-batch-size", type=int, default=None, help="batch of the throughput timing "
          "(default: --batch-size)")
    o.add("--throughput-iters", type=int, default=20)
    o.add("--output", default=None, metavar="DIR", help="write eval.json (+ eval.png for lists) here")
    return o


def build_bench_parser(p: argparse.ArgumentParser) -> Options:
    o = Options(p)
    o.add("-c", "--config", default=None, metavar="YAML", help="YAML of flag names -> values")
    o.add("--dataset", default="folder", choices=["folder", "fashion-mnist"])
    o.add("--data-dir", default=None, help="ImageNet layout root, or the Fashion-MNIST IDX folder")
    o.add("--split", default="train")
    o.add("--batch-size", type=int, default=128)
    o.add("--workers", type=int, default=8)
    o.add("--img-size", type=int, default=224)
    o.add("--channels", type=int, default=3)
    o.add("--path", default=None, choices=["cpu", "gpu", "both"],
          help="cpu: PIL decode + timm transforms in workers; gpu: bytes in workers, decode and "
               "augment on --device (default: both on CUDA, cpu otherwise)")
    o.add("--train-aug", action=argparse.BooleanOptionalAction, default=True,
          help="the full DeiT train augmentation (else the eval transform)")
    o.add("--steps", type=int, default=50, help="timed batches")
    o.add("--warmup", type=int, default=5, help="untimed batches first (worker start-up)")
    o.add("--device", default=None, help="cuda, cuda:N or cpu (default: cuda if available)")
    o.add("--model", default=None, help="also time this model's training step on synthetic data")
    o.add("--model-kwargs", nargs="*", default=[], metavar="KEY=VALUE",
          help="create_model overrides for --model (img_size=N also sets --img-size)")
    o.add("--r", type=int, default=None, help="merge tokens in the timed model (needs --model)")
    o.add("--amp", default=None, choices=["bf16", "fp16", "off"], help="autocast dtype of the model step")
    o.add("--max-bad-images", type=float, default=0.01, metavar="FRACTION",
          help="unreadable images (replaced by others of their class) allowed per pass before stopping")
    o.add("--json", default=None, metavar="PATH", help="also write the numbers here")
    return o


def register(subparsers) -> None:
    """Add the ``train``, ``eval`` and ``bench-data`` sub-commands to an argparse subparsers object."""
    p = subparsers.add_parser("train", help="re-train a (merged) Vim with the DeiT recipe",
                              description="Re-train a token-merged Vision Mamba (R-MeeTo). Single "
                              "process, or torchrun --nproc_per_node=K (multi-node via torchrun's "
                              "rendezvous). Flags follow timm/DeiT names; -c config.yaml sets any of them.")
    p.set_defaults(func=_entry(build_train_parser(p), "train"))
    p = subparsers.add_parser("eval", help="top-1/top-5 and throughput, optionally at several r",
                              description="Evaluate a model on a val folder (or the Fashion-MNIST "
                              "test set), optionally patched; --r-list/--ratio-list evaluates several "
                              "settings and plots accuracy against throughput and reduction ratio.")
    p.set_defaults(func=_entry(build_eval_parser(p), "eval"))
    p = subparsers.add_parser("bench-data", help="images/s of the data loader alone",
                              description="Measure the input pipeline alone (CPU path and the "
                              "device-decode path) and optionally the model's training step, to "
                              "see which one bounds a run.")
    p.set_defaults(func=_entry(build_bench_parser(p), "bench-data"))


def main(argv=None) -> int:
    """A stand-alone harness: ``python -m rmeeto.train.commands train ...``."""
    parser = argparse.ArgumentParser(prog="rmeeto")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    ns = parser.parse_args(argv)
    return int(ns.func(ns) or 0)


if __name__ == "__main__":
    sys.exit(main())
