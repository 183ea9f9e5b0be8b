"""CLI wiring: ``register(subparsers)`` adds ``train``, ``eval`` and ``bench-data``.

The one place of the training package that knows argparse: it parses, layers the settings
(:func:`rmeeto.train.flags.resolve`), checks them, and hands the typed dataclass to the library.
"""
from __future__ import annotations

import argparse
import sys

from ..cli_checks import one_line, require
from . import bench_data, engine, eval_cmd
from .checks import check_bench_data, check_eval, check_train
from .flags import Options, build_bench_parser, build_eval_parser, build_train_parser, resolve, typed_flags

_CHECKS = {"train": check_train, "eval": check_eval, "bench-data": check_bench_data}
_RUNNERS = {"train": engine.run_train, "eval": eval_cmd.run_eval, "bench-data": bench_data.run_bench_data}


def _entry(options: Options, name: str):
    def func(ns: argparse.Namespace) -> int:
        try:
            require(name, "timm", "torchvision")
            cfg = resolve(ns, options)
            _CHECKS[name](cfg, typed=typed_flags(ns, options))
        except (ValueError, FileNotFoundError) as e:  # a UsageError is a ValueError
            print(f"error: {one_line(e)}", file=sys.stderr, flush=True)
            return 2
        return _RUNNERS[name](cfg)
    return func


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
