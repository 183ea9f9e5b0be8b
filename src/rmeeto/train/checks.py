"""Checks of ``rmeeto train``, ``eval`` and ``bench-data`` arguments, run before any work
(one-line :class:`rmeeto.cli_checks.UsageError` messages; the CLI exits with status 2)."""
from __future__ import annotations

import os
import sys
from typing import Optional

from ..baselines.vit_tome import BASELINES
from ..cli_checks import (UsageError, build_model, check_at_least, check_model_name, check_out_dir, check_out_file,
                          check_patch, check_r_ratio, require)
from ..kv import parse_list
from .config import BenchDataConfig, EvalConfig, TrainConfig


def _check_data(args: "TrainConfig | EvalConfig") -> None:
    check_at_least(args.batch_size, "--batch-size", 1)
    check_at_least(args.workers, "--workers", 0)
    if not 0 < args.data_subset <= 1:
        raise UsageError(f"--data-subset must be a fraction in (0, 1], got {args.data_subset:g}")
    if not 0 <= args.max_bad_images < 1:
        raise UsageError(f"--max-bad-images must be a fraction in [0, 1), e.g. 0.01, got {args.max_bad_images:g}")
    if args.crop_pct is not None and not 0 < args.crop_pct <= 1:
        raise UsageError(f"--crop-pct must be in (0, 1], got {args.crop_pct:g}")
    check_at_least(args.num_classes, "--num-classes", 1)


def _check_model(name: str, kwargs: dict, settings: list[dict], build: bool = False) -> None:
    """The model name, and every patch setting against the model built from --model/--model-kwargs
    (without its weights: only the token count and depth matter; built only if there is a setting
    to check, or ``build``)."""
    if name in BASELINES:
        if settings:
            raise UsageError(f"--r/--ratio merge tokens of Vim models; --model {name} is a Transformer "
                             "baseline (rmeeto study vit reduces it ToMe-style)")
        return
    check_model_name(name)
    if settings or build:
        probe = build_model(name, kwargs)
        for setting in settings:
            check_patch(probe, name, **setting)


def scaled_lr(args: TrainConfig) -> tuple[float, int]:
    """(--lr scaled by the global batch / 512, the global batch), as ``rmeeto train`` computes them."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    global_batch = args.global_batch_size or args.batch_size * world * max(1, args.accum_steps)
    return args.lr * global_batch / 512.0, global_batch


def warn_low_lr(args: TrainConfig) -> None:
    """The schedule keeps the lr at the scaled lr when that is below --min-lr (see docs/training.md)."""
    lr, global_batch = scaled_lr(args)
    if lr < args.min_lr and os.environ.get("RANK", "0") == "0":
        print(f"warning: --lr {args.lr:g} scaled to the global batch ({global_batch}/512) is {lr:.2g}, below "
              f"--min-lr {args.min_lr:g}; the lr stays at {lr:.2g} (no decay). Raise --lr or lower --min-lr.",
              file=sys.stderr, flush=True)


def check_train(args: TrainConfig, typed: Optional[set] = None) -> None:
    _check_data(args)
    check_r_ratio(args.r, args.ratio)
    check_at_least(args.epochs, "--epochs", 1)
    if not args.lr > 0:
        raise UsageError(f"--lr must be positive, got {args.lr:g}")
    check_at_least(args.min_lr, "--min-lr", 0)
    check_out_dir(args.output, "--output")
    patched = args.r is not None or args.ratio is not None
    _check_model(args.model, args.model_kwargs,
                 [dict(r=args.r, ratio=args.ratio, mode=args.mode, order=args.order)] if patched else [])
    warn_low_lr(args)


def eval_settings(args: EvalConfig) -> list[Optional[dict]]:
    """The patch settings ``rmeeto eval`` runs: one per --r-list / --ratio-list entry ({} = unpatched),
    or the single --r/--ratio, or ``[None]`` (the model as loaded)."""
    common = {"mode": args.mode, "order": args.order}
    try:
        r_list, ratio_list = parse_list(args.r_list, int), parse_list(args.ratio_list, float)
    except ValueError as e:
        raise UsageError(f"--r-list/--ratio-list take comma lists of numbers, e.g. --r-list 0,5,11 ({e})") from None
    given = [flag for flag, v in (("--r", args.r), ("--ratio", args.ratio), ("--r-list", r_list),
                                  ("--ratio-list", ratio_list)) if v is not None]
    if len(given) > 1:
        raise UsageError(f"give one of --r, --ratio, --r-list, --ratio-list (got {' and '.join(given)})")
    check_r_ratio(r_list if r_list is not None else args.r, ratio_list if ratio_list is not None else args.ratio,
                  flags="--r-list/--ratio-list" if r_list is not None or ratio_list is not None else "--r/--ratio")
    if r_list:
        return [({"r": r, **common} if r > 0 else {}) for r in r_list]
    if ratio_list:
        return [({"ratio": q, **common} if q > 0 else {}) for q in ratio_list]
    if args.ratio is not None:
        return [{"ratio": args.ratio, **common}]
    if args.r is not None:
        return [{"r": args.r, **common} if args.r > 0 else {}]
    return [None]


def check_eval(args: EvalConfig, typed: Optional[set] = None) -> None:
    _check_data(args)
    settings = eval_settings(args)
    if len(settings) > 1:
        require("eval" + (" --r-list" if args.r_list else " --ratio-list"), "matplotlib")
    check_at_least(args.throughput_iters, "--throughput-iters", 1)
    check_at_least(args.throughput_batch_size, "--throughput-batch-size", 1)
    if args.output:
        check_out_dir(args.output, "--output")
    _check_model(args.model, args.model_kwargs, [s for s in settings if s])


def check_bench_data(args: BenchDataConfig, typed: Optional[set] = None) -> None:
    """Also moves ``--model-kwargs img_size=N`` into ``args.img_size`` when --img-size was not typed."""
    for flag, value, least in (("--batch-size", args.batch_size, 1), ("--workers", args.workers, 0),
                               ("--steps", args.steps, 1), ("--warmup", args.warmup, 0),
                               ("--img-size", args.img_size, 1)):
        check_at_least(value, flag, least)
    if args.channels not in (1, 3):
        raise UsageError(f"--channels must be 1 or 3, got {args.channels}")
    if args.json:
        check_out_file(args.json, "--json")
    if not args.model:
        if args.r is not None or args.model_kwargs:
            raise UsageError("--r and --model-kwargs apply to the model's training step; add --model NAME")
        return
    kw = args.model_kwargs
    if "img_size" in kw:
        if "img_size" in (typed or set()) and kw["img_size"] != args.img_size:
            raise UsageError(f"--img-size {args.img_size} and --model-kwargs img_size={kw['img_size']} disagree; "
                             "give the size once, with --img-size")
        args.img_size = int(kw.pop("img_size"))
    check_r_ratio(args.r)
    _check_model(args.model, {**kw, "img_size": args.img_size}, [{"r": args.r}] if args.r is not None else [],
                 build=True)
