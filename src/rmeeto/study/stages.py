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
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import product
from pathlib import Path
from typing import Optional

import torch

from .report import load_stage
from ..train.state import atomic_write_text

RATIOS = (0.14, 0.31, 0.54)
FREE_MODES = ("merge", "prune", "prune-random", "prune-norm")
RETRAIN_RATIO = 0.31  # the ratio of the recipe, retrain and order stages (the paper's main setting)
HOLDOUT = 10000  # train images the recipe stage scores on (the rest, 50k, are trained on)

# Re-training recipes the ``recipe`` stage compares: flags added after the base recipe of ``_train_run``
# (lr ``--lr`` per 512 images, batch ``--batch-size``, no warm-up, light augmentation, smoothing 0.1).
RECIPES: dict[str, list[str]] = {
    "base": [],
    "lr3e-5": ["--lr", "3e-5"],
    "lr3e-4": ["--lr", "3e-4"],
    "lr1e-3": ["--lr", "1e-3"],
    "lr3e-4-warmup": ["--lr", "3e-4", "--warmup-epochs", "0.5"],
    "lr3e-4-noreg": ["--lr", "3e-4", "--reprob", "0", "--drop-path", "0"],
    "distill": ["--distill"],
    "lr3e-4-distill": ["--lr", "3e-4", "--distill"],
    "lr1e-3-distill": ["--lr", "1e-3", "--distill"],
    "lr3e-4-distill-a2": ["--lr", "3e-4", "--distill", "--distill-alpha", "2.0"],
    "bs128": ["--batch-size", "128"],
    "bs128-lr3e-4": ["--batch-size", "128", "--lr", "3e-4"],
}
# Runs of the recipe stage that are not candidates: the unmerged model re-trained with the base recipe
# (does re-training alone move the reference?) and a 10-epoch merged run (how far can more training go?).
RECIPE_CONTROLS: dict[str, tuple[bool, list[str]]] = {  # name: (merged?, flags)
    "control-unmerged-base": (False, ["--epochs", "3"]),
    "control-merge-lr3e-4-10ep": (True, ["--lr", "3e-4", "--epochs", "10"]),
}


def _save(out: Path, name: str, obj) -> None:
    """Atomically: a stage resumes from this file, so an interrupted write must not corrupt it."""
    atomic_write_text(str(out / f"{name}.json"), json.dumps(obj, indent=1))


def _test_set(root: str, img_size: int, limit=None):
    from ..data import build_dataset

    ds = build_dataset("fashion-mnist", root, "val", img_size=img_size, channels=1, crop_pct=1.0)
    return torch.utils.data.Subset(ds, range(min(limit, len(ds)))) if limit else ds


def accuracy(model, data, device) -> float:
    from .demo import evaluate

    return evaluate(model, data, device, batch_size=500, workers=4)[0]


def stage_free(args, out: Path) -> None:
    import rmeeto
    from ..bench import measure
    from .demo import load_demo_model

    model = load_demo_model(args.checkpoint, args.device, args.trust_checkpoint)
    loader = _test_set(args.data_dir, model.img_size, limit=args.eval_images)
    rows = []

    def record(label, kind, ratio_target, **patch):
        if patch:
            rmeeto.patch(model, **patch)
        else:
            rmeeto.unpatch(model)
        torch.manual_seed(0)  # prune-random draws from the global RNG: the same draws on every run
        acc = accuracy(model, loader, args.device)
        speed = measure(model, 128, args.device, "fp16", cuda_graph=args.device == "cuda",
                        warmup=10, iters=20) if args.device == "cuda" else {"im_per_s": None}
        row = {"label": label, "mode": kind, "target_ratio": ratio_target, "r": patch.get("r", 0),
               "ratio": rmeeto.reduction_ratio(model), "gflops": rmeeto.gflops(model), "top1": acc,
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
    _save(out, "free", {"checkpoint": str(args.checkpoint), "rows": rows, "env": _env(args.device)})


def _r_for(model, ratio: float) -> int:
    from ..patch import PatchConfig, r_for_ratio

    return r_for_ratio(ratio, PatchConfig(), len(model.layers), model.num_tokens)


def _train_run(args, run_dir: Path, name: str, extra: list[str], gpu: Optional[str] = None) -> dict:
    """One re-training as its own ``rmeeto train`` process writing into ``run_dir`` (on ``gpu`` when
    given); returns its summary. ``extra`` comes after the base recipe, so a recipe's flags override it."""
    from .demo import load_demo_model

    model = load_demo_model(args.checkpoint, "cpu", args.trust_checkpoint)
    kw = {k: v for k, v in model.rmeeto_config["kwargs"].items() if k not in ("num_classes",)}
    cmd = [sys.executable, "-m", "rmeeto.cli", "train", "--model", model.rmeeto_config["name"],
           "--model-kwargs", *[f"{k}={v}" for k, v in kw.items()], "--num-classes", str(model.num_classes),
           "--pretrained", str(args.checkpoint), "--dataset", "fashion-mnist", "--data-dir", args.data_dir,
           "--aa", "none", "--mixup", "0", "--cutmix", "0", "--reprob", "0.25", "--scale", "0.6", "1.0",
           "--crop-pct", "1.0", "--lr", str(args.lr), "--batch-size", str(args.batch_size),
           "--warmup-epochs", "0",
           "--drop-path", "0.05", "--no-initial-eval", "--no-progress", "--workers", "8",
           "--output", str(run_dir), "--overwrite",  # a run not in <stage>.json was cut short
           *(["--trust-checkpoint"] if args.trust_checkpoint else []), *extra]
    summary = _run_train_cmd(cmd, run_dir, name, gpu)
    summary["flags"] = extra
    return summary


def _run_train_cmd(cmd: list[str], run_dir: Path, name: str, gpu: Optional[str] = None) -> dict:
    """Run an ``rmeeto train`` command line (on ``gpu`` when given), keep its log in ``run_dir``, and return
    its summary with the wall-clock minutes added."""
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    (run_dir).mkdir(parents=True, exist_ok=True)
    (run_dir / "stdout.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        raise RuntimeError(f"study run {name} failed (log: {run_dir / 'stdout.log'})")
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["wall_minutes"] = (time.time() - t0) / 60
    where = f" on device {gpu}" if gpu is not None else ""
    print(name, [round(e["top1"], 2) for e in summary["epochs"]], f"{summary['wall_minutes']:.2f} min{where}",
          flush=True)
    return summary


def _run_all(args, out: Path, stage: str, runs: dict, jobs: list[tuple[str, list[str]]],
             runs_dir: Optional[Path] = None) -> None:
    """Run the jobs (name, extra flags) missing from ``runs``, one per device of ``--gpus`` at a time
    (one after another on the current device without it), each in ``runs_dir/<name>`` (default
    ``out/runs``); ``<stage>.json`` is saved after each run."""
    runs_dir = runs_dir or out / "runs"
    jobs = [(n, e) for n, e in jobs if n not in runs]
    devices = args.gpus or [None]
    free: queue.Queue = queue.Queue()
    for d in devices:
        free.put(d)
    lock = threading.Lock()

    def one(name: str, extra: list[str]) -> None:
        device = free.get()
        try:
            summary = _train_run(args, runs_dir / name, name, extra, device)
        finally:
            free.put(device)
        with lock:
            runs[name] = summary
            _save(out, stage, runs)

    failed = []
    with ThreadPoolExecutor(max_workers=len(devices)) as pool:
        for fut in [pool.submit(one, *job) for job in jobs]:
            try:
                fut.result()
            except RuntimeError as e:  # the other runs go on; every failure is reported at the end
                failed.append(str(e))
    _save(out, stage, runs)
    if failed:
        raise SystemExit("error: " + "; ".join(failed))


def choose_recipe(out: Path) -> str:
    """The candidate of ``recipe.json`` with the best held-out top-1 after its last epoch (the first
    listed in ``RECIPES`` on a tie)."""
    runs = load_stage(out, "recipe")
    scored = [(runs[n]["epochs"][-1]["top1"], -i, n) for i, n in enumerate(RECIPES) if runs and n in runs]
    if not scored:
        raise SystemExit(f"error: --recipe auto needs {out / 'recipe.json'} with finished runs; "
                         "run the recipe stage first (rmeeto study recipe ...)")
    return max(scored)[2]


def _recipe(args, out: Path) -> tuple[str, list[str]]:
    """(name, flags) of ``--recipe``, resolving ``auto``."""
    name = choose_recipe(out) if args.recipe == "auto" else args.recipe
    print(f"re-training recipe: {name} {RECIPES[name]}", flush=True)
    return name, RECIPES[name]


def _stage_file(stage: str, recipe: str) -> str:
    return stage if recipe == "base" else f"{stage}_{recipe}"


def _runs_dir(out: Path, recipe: str) -> Path:
    """Where a recipe's runs keep their logs: ``runs/<name>`` for the base recipe, else ``runs/<recipe>/<name>``."""
    return out / "runs" if recipe == "base" else out / "runs" / recipe


def stage_recipe(args, out: Path) -> None:
    from .demo import load_demo_model

    r = _r_for(load_demo_model(args.checkpoint, "cpu", args.trust_checkpoint), RETRAIN_RATIO)
    held = ["--holdout", str(args.holdout), "--initial-eval"]
    jobs = [(name, ["--r", str(r), "--epochs", "3", *held, *flags]) for name, flags in RECIPES.items()]
    jobs += [(name, [*(["--r", str(r)] if merged else []), *held, *flags])
             for name, (merged, flags) in RECIPE_CONTROLS.items()]
    jobs.sort(key=lambda j: -_cost(j[1]))  # longest first, so parallel runs end together
    _run_all(args, out, "recipe", load_stage(out, "recipe") or {}, jobs, out / "runs" / "recipe")
    print("best held-out recipe:", choose_recipe(out))


def _cost(flags: list[str]) -> float:
    """Rough relative length of a run: epochs (the last --epochs wins, as in argparse), x1.3 for the
    teacher's forward, x1.3 for a smaller batch."""
    epochs = 3.0
    for flag, value in zip(flags, flags[1:]):
        if flag == "--epochs":
            epochs = float(value)
    return epochs * (1.3 if "--distill" in flags else 1.0) * (1.3 if "--batch-size" in flags else 1.0)


def _retrain_jobs(args, flags: list[str], r_of: dict) -> list[tuple[str, list[str]]]:
    """(name, flags) of every retrain-stage run: modes x distillation x epochs x ratios x seeds. Names carry
    ``-ratio<x>`` for ratios other than ``RETRAIN_RATIO`` and ``-seed<s>`` for seeds other than 0. ``unmerged`` is the
    control: the same re-training without merging, so without distillation or a ratio."""
    jobs, first_ratio = [], next(iter(r_of))
    for mode, d, epochs, ratio, seed in product(args.retrain_modes, args.distill_options, args.epochs_list, r_of,
                                                args.seeds):
        merged = mode != "unmerged"
        if not merged and (d or ratio != first_ratio):  # one control per epochs and seed
            continue
        name = f"{mode}{'-distill' if d else ''}-{epochs}ep"
        name += (f"-ratio{ratio:g}" if merged and ratio != RETRAIN_RATIO else "") + (f"-seed{seed}" if seed else "")
        jobs.append((name, [*flags, *(["--r", str(r_of[ratio]), "--mode", mode] if merged else []),
                            "--epochs", str(epochs), *(["--distill"] if d else []),
                            *(["--seed", str(seed)] if seed else [])]))
    return jobs


def stage_retrain(args, out: Path) -> None:
    from .demo import load_demo_model

    recipe, flags = _recipe(args, out)
    model = load_demo_model(args.checkpoint, "cpu", args.trust_checkpoint)
    r_of = {ratio: _r_for(model, ratio) for ratio in args.ratios}
    jobs = _retrain_jobs(args, flags, r_of)
    jobs.sort(key=lambda j: -_cost(j[1]))  # longest first, so parallel runs end together
    name = _stage_file("retrain", recipe)
    _run_all(args, out, name, load_stage(out, name) or {}, jobs, _runs_dir(out, recipe))


def stage_order(args, out: Path) -> None:
    from .demo import load_demo_model

    recipe, flags = _recipe(args, out)
    r = _r_for(load_demo_model(args.checkpoint, "cpu", args.trust_checkpoint), RETRAIN_RATIO)
    name = _stage_file("order", recipe)
    runs = load_stage(out, name) or {}
    same = (load_stage(out, _stage_file("retrain", recipe)) or {}).get("merge-3ep")
    if same is not None:  # the retrain stage's merge-3ep is this very run (order="keep")
        runs.setdefault("merge-keep-3ep", same)
    _run_all(args, out, name, runs,
             [(f"merge-{order}-3ep", [*flags, "--r", str(r), "--order", order, "--epochs", "3"])
              for order in args.orders], _runs_dir(out, recipe))


def stage_vit(args, out: Path) -> None:
    """Train the DeiT-Ti-shaped ViT with ``rmeeto train`` and the proxy's recipe (``--vit-config``), then
    reduce it ToMe-style without re-training at the study's ratios."""
    from ..baselines.vit_tome import create_baseline, patch_vit, r_for_ratio, ratio_for
    from ..checkpoint import read_checkpoint

    config = Path(args.vit_config)
    if not config.is_file():
        raise SystemExit(f"error: --vit-config {config} not found; it is configs/fmnist_vit_tiny.yaml of a "
                         "source checkout (the proxy's recipe with the ViT as the model)")
    run_dir = out / "runs" / "vit"
    cmd = [sys.executable, "-m", "rmeeto.cli", "train", "-c", str(config), "--data-dir", args.data_dir,
           "--epochs", str(args.vit_epochs), "--batch-size", str(args.batch_size), "--device", args.device,
           "--no-progress", "--output", str(run_dir), "--overwrite"]
    summary = _run_train_cmd(cmd, run_dir, "vit")
    dev = args.device
    model = create_baseline(summary["model"], num_classes=10, **summary["model_kwargs"]).to(dev)
    model.load_state_dict(read_checkpoint(run_dir / "checkpoint.pth")["model"])
    test = _test_set(args.data_dir, model.img_size, limit=args.eval_images)
    rows = []
    for ratio in (0.0,) + RATIOS:
        r = r_for_ratio(197, 12, ratio) if ratio else 0
        for mode in (("merge", "prune") if r else ("none",)):
            patch_vit(model, r, "merge" if mode == "none" else mode)
            rows.append({"target_ratio": ratio, "r": r, "mode": mode, "ratio": ratio_for(197, 12, r),
                         "top1": accuracy(model, test, dev)})
            print(json.dumps(rows[-1]), flush=True)
    _save(out, "vit", {"epochs": args.vit_epochs, "train_minutes": summary["minutes"],
                       "wall_minutes": summary["wall_minutes"], "recipe": config.name,
                       "epoch_top1": [e["top1"] for e in summary["epochs"]], "rows": rows})


def _env(device: str) -> dict:
    env = {"torch": torch.__version__, "date": time.strftime("%Y-%m-%d")}
    if device == "cuda":
        env["gpu"] = torch.cuda.get_device_name()
        try:
            import triton

            env["triton"] = triton.__version__
        except ImportError:
            pass
    return env


def stage_report(args, out: Path) -> None:
    from .report import write_report

    write_report(out)
    print(f"wrote {out / 'README.md'}")


STAGES = {"free": stage_free, "recipe": stage_recipe, "retrain": stage_retrain, "order": stage_order,
          "vit": stage_vit, "report": stage_report}


def run_study(args: argparse.Namespace) -> int:
    from ..cli_checks import require
    from .demo import find_fashion_mnist

    require("study", "timm", "torchvision", "matplotlib")
    unknown = [s for s in args.stages if s not in STAGES]
    if unknown:
        raise SystemExit(f"error: unknown stage {unknown[0]!r}; choose from {list(STAGES)}")
    out = Path(args.out)
    if any(s != "report" for s in args.stages):
        if not args.checkpoint or not os.path.isfile(args.checkpoint):
            raise SystemExit("error: --checkpoint must point to the trained proxy Vim "
                             "(rmeeto train -c configs/fmnist_proxy_vim.yaml)")
        args.data_dir = find_fashion_mnist(args.data_dir)
    for stage in args.stages:
        STAGES[stage](args, out)
    return 0


def register(sub) -> None:
    from ..cli import add_trust_arg

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
    p.add_argument("--vit-config",
                   default=str(Path(__file__).resolve().parents[2] / "configs" / "fmnist_vit_tiny.yaml"),
                   help="the ViT's recipe for rmeeto train (default: the checkout's configs/fmnist_vit_tiny.yaml)")
    p.add_argument("--eval-images", type=int, default=None, help="evaluate on the first N test images only")
    p.add_argument("--batch-size", type=int, default=256,
                   help="batch size of each training run (re-training and the ViT)")
    p.add_argument("--gpus", nargs="+", default=None, metavar="ID",
                   help="run the re-training runs in parallel, one per listed GPU (e.g. --gpus 0 1 2 3)")
    p.add_argument("--out", default="docs/reproduction", help="folder for the stage files and the report")
    p.set_defaults(func=run_study)
