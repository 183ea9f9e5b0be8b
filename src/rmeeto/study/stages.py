"""``rmeeto study``: the paper's experiments on the Fashion-MNIST proxy, with a Markdown report.

Stages (run any subset; each writes ``<stage>.json`` in ``--out``; ``report`` renders them all):

- ``free``: training-free reduction at ratios 0.14/0.31/0.54: merge, prune (similarity),
  prune-random, prune-norm, and merge with shuffled order; accuracy and measured throughput.
- ``retrain``: re-training after merge and after prune at ratio 0.31 (``--ratios``) for 1/3/5 epochs, with and
  without distillation (each budget is its own run, so each has its own cosine schedule).
- ``recipe``: candidate re-training recipes (``RECIPES``), each merged at 0.31 for 3 epochs and scored on
  images held out of the train split (``rmeeto train --holdout``), so that choosing one never looks at the
  test set; ``--recipe auto`` in ``retrain``/``order`` then takes the best of them.
- ``order``: merge with ``order="shuffle"`` re-trained for 3 epochs (``keep`` comes from retrain).
- ``vit``: a DeiT-Ti-shaped ViT trained the same way, with ToMe-style training-free reduction.
- ``report``: ``README.md`` with tables and PNG plots.

``retrain`` and ``order`` write ``retrain.json``/``order.json`` with the base recipe and
``retrain_<recipe>.json``/``order_<recipe>.json`` with another, so results of several recipes sit side by side.

Every re-training is its own ``rmeeto train`` process; ``--gpus 0 1 2 3`` runs them four at a time, one
per GPU. Finished runs are kept in ``<stage>.json``, so a stage that stopped resumes where it was.

Results go to ``--out`` (default ``runs/study``). The ViT's recipe is ``configs/fmnist_vit_tiny.yaml`` of a
source checkout, found relative to the working directory unless ``--vit-config`` names it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Optional, Sequence

import torch

from ..baselines.vit_tome import create_baseline, patch_vit, r_for_ratio as vit_r_for_ratio, ratio_for
from ..bench import measure
from ..checkpoint import read_checkpoint
from ..cli import add_trust_arg
from ..cli_checks import require
from ..data import build_dataset
from ..env_info import environment
from ..flops import gflops
from ..patch import PatchConfig, patch, r_for_ratio, reduction_ratio, unpatch
from .demo import evaluate, find_fashion_mnist
from .recipes import (HOLDOUT, RECIPE_CONTROLS, RECIPES, RETRAIN_RATIO, choose_recipe, cost, resolve_recipe,
                      runs_dir, stage_file)
from .report import write_report
from .results import load_stage, save_stage
from .runs import Proxy, RunSettings, run_all, run_train_cmd

RATIOS = (0.14, 0.31, 0.54)
FREE_MODES = ("merge", "prune", "prune-random", "prune-norm")
STAGES = ("free", "recipe", "retrain", "order", "vit", "report")
DEFAULT_OUT = "runs/study"
DEFAULT_VIT_CONFIG = "configs/fmnist_vit_tiny.yaml"


@dataclass(frozen=True)
class RetrainGrid:
    """The retrain stage's runs: every combination of mode, distillation, budget, ratio and seed."""
    modes: Sequence[str] = ("merge", "prune")  # "unmerged": the control, re-trained without merging
    distill_options: Sequence[int] = (0, 1)
    epochs: Sequence[int] = (1, 3, 5)
    ratios: Sequence[float] = (RETRAIN_RATIO,)
    seeds: Sequence[int] = (0,)


@dataclass(frozen=True)
class VitSettings:
    """The DeiT-Ti-shaped ViT baseline: its ``rmeeto train`` recipe and epochs."""
    config: str = DEFAULT_VIT_CONFIG
    epochs: int = 30


@dataclass(frozen=True)
class StudySettings:
    """Everything ``run_study`` needs; ``data_dir`` None means found as ``rmeeto demo`` finds it."""
    checkpoint: Optional[str] = None
    data_dir: Optional[str] = None
    trust_checkpoint: bool = False
    device: str = "cpu"
    eval_images: Optional[int] = None
    runs: RunSettings = field(default_factory=RunSettings)
    recipe: str = "base"
    holdout: int = HOLDOUT
    grid: RetrainGrid = field(default_factory=RetrainGrid)
    orders: Sequence[str] = ("shuffle", "keep")
    vit: VitSettings = field(default_factory=VitSettings)


def _test_set(root: str, img_size: int, limit=None):
    ds = build_dataset("fashion-mnist", root, "val", img_size=img_size, channels=1, crop_pct=1.0)
    return torch.utils.data.Subset(ds, range(min(limit, len(ds)))) if limit else ds


def accuracy(model, data, device) -> float:
    return evaluate(model, data, device, batch_size=500, workers=4)[0]


def stage_free(proxy: Proxy, out: Path, device: str = "cpu", eval_images: Optional[int] = None) -> None:
    model = proxy.load(device)
    loader = _test_set(proxy.data_dir, model.img_size, limit=eval_images)
    rows = []

    def record(label, kind, ratio_target, **settings):
        if settings:
            patch(model, **settings)
        else:
            unpatch(model)
        torch.manual_seed(0)  # prune-random draws from the global RNG: the same draws on every run
        acc = accuracy(model, loader, device)
        speed = measure(model, 128, device, "fp16", cuda_graph=device == "cuda",
                        warmup=10, iters=20) if device == "cuda" else {"im_per_s": None}
        row = {"label": label, "mode": kind, "target_ratio": ratio_target, "r": settings.get("r", 0),
               "ratio": reduction_ratio(model), "gflops": gflops(model), "top1": acc,
               "im_per_s": speed["im_per_s"]}
        rows.append(row)
        print(json.dumps(row), flush=True)

    record("unmerged", "none", 0.0)
    for ratio in RATIOS:
        try:
            r = _r_for(model, ratio)
        except ValueError as e:  # a shallow model cannot reach the highest ratio
            print(f"skipping ratio {ratio}: {e}")
            continue
        for mode in FREE_MODES:
            record(f"{mode} {ratio}", mode, ratio, r=r, mode=mode)
        record(f"merge-shuffle {ratio}", "merge-shuffle", ratio, r=r, mode="merge", order="shuffle")
    save_stage(out, "free", {"checkpoint": str(proxy.checkpoint), "rows": rows, "env": environment(device)})


def _r_for(model, ratio: float) -> int:
    return r_for_ratio(ratio, PatchConfig(), len(model.layers), model.num_tokens)


def stage_recipe(proxy: Proxy, settings: RunSettings, out: Path, holdout: int = HOLDOUT) -> None:
    r = _r_for(proxy.load(), RETRAIN_RATIO)
    held = ["--holdout", str(holdout), "--initial-eval"]
    jobs = [(name, ["--r", str(r), "--epochs", "3", *held, *flags]) for name, flags in RECIPES.items()]
    jobs += [(name, [*(["--r", str(r)] if merged else []), *held, *flags])
             for name, (merged, flags) in RECIPE_CONTROLS.items()]
    jobs.sort(key=lambda j: -cost(j[1]))  # longest first, so parallel runs end together
    run_all(proxy, settings, out, "recipe", load_stage(out, "recipe") or {}, jobs, out / "runs" / "recipe")
    print("best held-out recipe:", choose_recipe(out))


def retrain_jobs(grid: RetrainGrid, flags: list[str], r_of: dict) -> list[tuple[str, list[str]]]:
    """(name, flags) of every retrain-stage run: modes x distillation x epochs x ratios x seeds. Names carry
    ``-ratio<x>`` for ratios other than ``RETRAIN_RATIO`` and ``-seed<s>`` for seeds other than 0. ``unmerged`` is the
    control: the same re-training without merging, so without distillation or a ratio."""
    jobs, first_ratio = [], next(iter(r_of))
    for mode, d, epochs, ratio, seed in product(grid.modes, grid.distill_options, grid.epochs, r_of, grid.seeds):
        merged = mode != "unmerged"
        if not merged and (d or ratio != first_ratio):  # one control per epochs and seed
            continue
        name = f"{mode}{'-distill' if d else ''}-{epochs}ep"
        name += (f"-ratio{ratio:g}" if merged and ratio != RETRAIN_RATIO else "") + (f"-seed{seed}" if seed else "")
        jobs.append((name, [*flags, *(["--r", str(r_of[ratio]), "--mode", mode] if merged else []),
                            "--epochs", str(epochs), *(["--distill"] if d else []),
                            *(["--seed", str(seed)] if seed else [])]))
    return jobs


def stage_retrain(proxy: Proxy, settings: RunSettings, out: Path, recipe: str = "base",
                  grid: RetrainGrid = RetrainGrid()) -> None:
    recipe, flags = resolve_recipe(recipe, out)
    model = proxy.load()
    r_of = {ratio: _r_for(model, ratio) for ratio in grid.ratios}
    jobs = retrain_jobs(grid, flags, r_of)
    jobs.sort(key=lambda j: -cost(j[1]))  # longest first, so parallel runs end together
    name = stage_file("retrain", recipe)
    run_all(proxy, settings, out, name, load_stage(out, name) or {}, jobs, runs_dir(out, recipe))


def stage_order(proxy: Proxy, settings: RunSettings, out: Path, recipe: str = "base",
                orders: Sequence[str] = ("shuffle", "keep")) -> None:
    recipe, flags = resolve_recipe(recipe, out)
    r = _r_for(proxy.load(), RETRAIN_RATIO)
    name = stage_file("order", recipe)
    runs = load_stage(out, name) or {}
    same = (load_stage(out, stage_file("retrain", recipe)) or {}).get("merge-3ep")
    if same is not None:  # the retrain stage's merge-3ep is this very run (order="keep")
        runs.setdefault("merge-keep-3ep", same)
    run_all(proxy, settings, out, name, runs,
            [(f"merge-{order}-3ep", [*flags, "--r", str(r), "--order", order, "--epochs", "3"])
             for order in orders], runs_dir(out, recipe))


def stage_vit(data_dir: str, out: Path, vit: VitSettings, batch_size: int = 256, device: str = "cpu",
              eval_images: Optional[int] = None) -> None:
    """Train the DeiT-Ti-shaped ViT with ``rmeeto train`` and the proxy's recipe (``vit.config``), then
    reduce it ToMe-style without re-training at the study's ratios."""
    config = Path(vit.config)
    if not config.is_file():
        raise SystemExit(f"error: --vit-config {config} not found; pass configs/fmnist_vit_tiny.yaml of a source "
                         "checkout (the proxy's recipe with the ViT as the model), or run from the checkout's root")
    run_dir = out / "runs" / "vit"
    cmd = [sys.executable, "-m", "rmeeto.cli", "train", "-c", str(config), "--data-dir", data_dir,
           "--epochs", str(vit.epochs), "--batch-size", str(batch_size), "--device", device,
           "--no-progress", "--output", str(run_dir), "--overwrite"]
    summary = run_train_cmd(cmd, run_dir, "vit")
    model = create_baseline(summary["model"], num_classes=10, **summary["model_kwargs"]).to(device)
    model.load_state_dict(read_checkpoint(run_dir / "checkpoint.pth")["model"])
    test = _test_set(data_dir, model.img_size, limit=eval_images)
    rows = []
    for ratio in (0.0,) + RATIOS:
        r = vit_r_for_ratio(197, 12, ratio) if ratio else 0
        for mode in (("merge", "prune") if r else ("none",)):
            patch_vit(model, r, "merge" if mode == "none" else mode)
            rows.append({"target_ratio": ratio, "r": r, "mode": mode, "ratio": ratio_for(197, 12, r),
                         "top1": accuracy(model, test, device)})
            print(json.dumps(rows[-1]), flush=True)
    save_stage(out, "vit", {"epochs": vit.epochs, "train_minutes": summary["minutes"],
                            "wall_minutes": summary["wall_minutes"], "recipe": config.name,
                            "epoch_top1": [e["top1"] for e in summary["epochs"]], "rows": rows})


def stage_report(out: Path) -> None:
    write_report(out)
    print(f"wrote {out / 'README.md'}")


def run_study(stages: Sequence[str], out: Path, settings: StudySettings = StudySettings()) -> int:
    """Run ``stages`` in order, each writing ``<stage>.json`` into ``out``."""
    require("study", "timm", "torchvision", "matplotlib")
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise SystemExit(f"error: unknown stage {unknown[0]!r}; choose from {list(STAGES)}")
    out = Path(out)
    s = settings
    proxy = None
    if any(stage != "report" for stage in stages):
        if not s.checkpoint or not os.path.isfile(s.checkpoint):
            raise SystemExit("error: --checkpoint must point to the trained proxy Vim "
                             "(checkpoints/fmnist_proxy_vim_fp16.pth, or rmeeto train -c configs/fmnist_proxy_vim.yaml)")
        proxy = Proxy(s.checkpoint, find_fashion_mnist(s.data_dir), s.trust_checkpoint)
    for stage in stages:
        if stage == "free":
            stage_free(proxy, out, s.device, s.eval_images)
        elif stage == "recipe":
            stage_recipe(proxy, s.runs, out, s.holdout)
        elif stage == "retrain":
            stage_retrain(proxy, s.runs, out, s.recipe, s.grid)
        elif stage == "order":
            stage_order(proxy, s.runs, out, s.recipe, s.orders)
        elif stage == "vit":
            stage_vit(proxy.data_dir, out, s.vit, s.runs.batch_size, s.device, s.eval_images)
        else:
            stage_report(out)
    return 0


def register(sub) -> None:
    p = sub.add_parser("study", help="reproduce the paper's experiments on the Fashion-MNIST proxy")
    p.add_argument("stages", nargs="+", help=f"any of {list(STAGES)}")
    p.add_argument("--checkpoint", default=None, help="the proxy Vim trained with configs/fmnist_proxy_vim.yaml")
    add_trust_arg(p)
    p.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files (default: found as "
                   "rmeeto demo finds them)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="cuda or cpu (default: cuda if available)")
    p.add_argument("--lr", type=float, default=1e-4, help="re-training lr per 512 images (the base recipe)")
    p.add_argument("--recipe", default="base", choices=[*RECIPES, "auto"],
                   help="re-training recipe of the retrain and order stages (auto: the recipe stage's best)")
    p.add_argument("--holdout", type=int, default=HOLDOUT,
                   help="train images the recipe stage holds out and scores on")
    p.add_argument("--epochs-list", type=int, nargs="+", default=[1, 3, 5],
                   help="re-training budgets of the retrain stage, in epochs")
    p.add_argument("--retrain-modes", nargs="+", default=["merge", "prune"], choices=["merge", "prune", "unmerged"],
                   help="unmerged: the control, re-trained the same way without merging")
    p.add_argument("--orders", nargs="+", default=["shuffle", "keep"], choices=["shuffle", "keep"],
                   help="orders the order stage re-trains (keep reuses retrain's merge-3ep when present)")
    p.add_argument("--distill-options", type=int, nargs="+", default=[0, 1], help="0: plain, 1: distilled")
    p.add_argument("--ratios", type=float, nargs="+", default=[RETRAIN_RATIO],
                   help=f"reduction ratios of the retrain stage (runs at ratios other than {RETRAIN_RATIO} add "
                        "-ratio<x>)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0],
                   help="training seeds of each re-training run (seed 0 keeps the plain run name, seed s adds -seed<s>)")
    p.add_argument("--vit-epochs", type=int, default=30, help="training epochs of the ViT baseline")
    p.add_argument("--vit-config", default=DEFAULT_VIT_CONFIG,
                   help="the ViT's recipe for rmeeto train (default: configs/fmnist_vit_tiny.yaml under the "
                        "working directory, a source checkout's root)")
    p.add_argument("--eval-images", type=int, default=None, help="evaluate on the first N test images only")
    p.add_argument("--batch-size", type=int, default=256,
                   help="batch size of each training run (re-training and the ViT)")
    p.add_argument("--gpus", nargs="+", default=None, metavar="ID",
                   help="run the re-training runs in parallel, one per listed GPU (e.g. --gpus 0 1 2 3)")
    p.add_argument("--out", default=DEFAULT_OUT, help="folder for the stage files and the report")
    p.set_defaults(func=_cli)


def _cli(a: argparse.Namespace) -> int:
    """``rmeeto study``: the parsed options as typed settings."""
    settings = StudySettings(
        checkpoint=a.checkpoint, data_dir=a.data_dir, trust_checkpoint=a.trust_checkpoint, device=a.device,
        eval_images=a.eval_images, runs=RunSettings(a.lr, a.batch_size, tuple(a.gpus or ())), recipe=a.recipe,
        holdout=a.holdout, grid=RetrainGrid(tuple(a.retrain_modes), tuple(a.distill_options), tuple(a.epochs_list),
                                            tuple(a.ratios), tuple(a.seeds)),
        orders=tuple(a.orders), vit=VitSettings(a.vit_config, a.vit_epochs))
    return run_study(a.stages, Path(a.out), settings)
