"""``rmeeto study-video``: the paper's video questions on the motion set, with a Markdown report.

The set (``rmeeto make-video-set``) holds real Fashion-MNIST items moved by synthetic motions, written
as H.264 MP4 files; the model is a small VideoMamba trained on it (``configs/motion_videomamba_proxy.yaml``).
Stages (each writes ``<stage>.json`` in ``--out``; ``report`` renders them):

- ``free``: training-free reduction at ratios near 0.31 and 0.54: merge, prune (similarity), prune-random,
  prune-norm, and merge with shuffled token order; top-1 on ``--split``, GFLOPs, CPU clips/s.
- ``retrain``: the merged model re-trained for ``--epochs`` epochs at each ratio, and the unmerged model
  re-trained the same way (the control), for each of ``--seeds``; each run is its own ``rmeeto train``
  process, timed wall-clock, and its checkpoint is scored on ``--split``.
- ``report``: ``README.md`` with tables and PNG plots.

Test clips are decoded once and kept in memory, so every setting is scored on the same tensors.
Finished re-training runs are kept in ``retrain.json``, so the stage resumes where it stopped.

Results go to ``--out`` (default ``runs/study-video``). The re-training recipe is
``configs/motion_videomamba_proxy.yaml`` of a source checkout, found relative to the working directory
unless ``--config`` names it.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn

import rmeeto

from ..bench import measure
from ..checkpoint import read_checkpoint
from ..data.video import build_video_dataset, collate_views
from ..env_info import environment
from ..patch import PatchConfig, r_for_ratio
from .results import load_stage, save_stage
from .runs import run_train_cmd
from .video_report import write_report

RATIOS = (0.31, 0.54)
FREE_MODES = ("merge", "prune", "prune-random", "prune-norm")
STAGES = ("free", "retrain", "report")
DEFAULT_CONFIG = "configs/motion_videomamba_proxy.yaml"  # under the working directory: a source checkout's root
DEFAULT_OUT = "runs/study-video"


def load_video_model(checkpoint: Path, keep_patch: bool = False) -> nn.Module:
    """The VideoMamba a ``rmeeto train`` checkpoint holds (its name and kwargs are stored in it), in eval
    mode on the CPU; the stored merge is applied only with ``keep_patch``."""
    meta = read_checkpoint(checkpoint).get("rmeeto", {})
    if not meta.get("model"):
        raise SystemExit(f"error: {checkpoint} holds no model name; pass a checkpoint written by rmeeto train")
    model = rmeeto.create_model(meta["model"], **(meta.get("model_kwargs") or {}))
    rmeeto.load_checkpoint(model, checkpoint, apply_patch=keep_patch)
    if not getattr(model, "num_frames", 0):
        raise SystemExit(f"error: {checkpoint} holds {meta['model']}, an image model; the video study needs "
                         "a video model (configs/motion_videomamba_proxy.yaml)")
    return model.eval()


def load_clips(data_dir: str, split: str, num_frames: int, img_size: int,
               limit: Optional[int] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (or the first ``limit``) clip of ``split`` as one ``(N, C, T, S, S)`` tensor with its labels,
    decoded and transformed as ``rmeeto eval`` does (one centre view, middle frame of each segment)."""
    ds = build_video_dataset(data_dir, split, num_frames=num_frames, img_size=img_size, train=False)
    n = len(ds) if limit is None else min(limit, len(ds))
    x, y = collate_views([ds[i] for i in range(n)])
    if len(y) == 0:
        raise SystemExit(f"error: no readable video in the {split} split of {data_dir}")
    return x, y


@torch.inference_mode()
def top1(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 64) -> float:
    """Top-1 (%) of ``model`` on the clips ``x``."""
    model.eval()
    hits = sum((model(x[i:i + batch_size]).argmax(-1) == y[i:i + batch_size]).sum().item()
               for i in range(0, len(y), batch_size))
    return 100.0 * hits / len(y)


def clips_per_second(model: nn.Module, batch_size: int, iters: int) -> float:
    """Median CPU clips/s of a fp32 forward (random clips, the current patch)."""
    return measure(model, batch_size, "cpu", "fp32", warmup=1, iters=iters)["im_per_s"]


def proxy_info(checkpoint: Path) -> Optional[dict]:
    """What the proxy's own run left beside its checkpoint (``summary.json``): model, epochs, minutes."""
    p = Path(checkpoint).parent / "summary.json"
    if not p.is_file():
        return None
    s = json.loads(p.read_text())
    return {"model": s.get("model"), "model_kwargs": s.get("model_kwargs"), "minutes": s.get("minutes"),
            "val_top1": [e["top1"] for e in s.get("epochs", [])]}


def data_info(data_dir: str) -> Optional[dict]:
    """The set's ``meta.json`` (written by ``rmeeto make-video-set``), if there."""
    p = Path(data_dir) / "meta.json"
    return json.loads(p.read_text()) if p.is_file() else None


def r_for(model: nn.Module, ratio: float) -> int:
    """The constant r whose reduction ratio is closest to ``ratio`` with the default schedule."""
    return r_for_ratio(ratio, PatchConfig(), len(model.layers), model.num_tokens)


def free_settings(model: nn.Module, ratios: Sequence[float]) -> list[tuple[str, str, float, dict]]:
    """(label, kind, target ratio, ``rmeeto.patch`` kwargs) of every training-free setting, unmerged first."""
    out: list[tuple[str, str, float, dict]] = [("unmerged", "none", 0.0, {})]
    for ratio in ratios:
        r = r_for(model, ratio)
        out += [(f"{mode} {ratio:g}", mode, ratio, {"r": r, "mode": mode}) for mode in FREE_MODES]
        out.append((f"merge-shuffle {ratio:g}", "merge-shuffle", ratio, {"r": r, "mode": "merge", "order": "shuffle"}))
    return out


def _apply(model: nn.Module, patch: dict) -> None:
    rmeeto.unpatch(model)
    if patch:
        rmeeto.patch(model, **patch)


def speeds(model: nn.Module, patches: Sequence[dict], batch_size: int, iters: int, rounds: int) -> list[float]:
    """CPU clips/s of each patch: the best of ``rounds`` rounds that visit every patch in turn, so that a
    burst of other work on a shared machine slows one measurement of a setting rather than all of it."""
    best = [0.0] * len(patches)
    for _ in range(rounds):
        for i, patch in enumerate(patches):
            _apply(model, patch)
            best[i] = max(best[i], clips_per_second(model, batch_size, iters))
    return best


def run_free(checkpoint: Path, data_dir: str, out: Path, split: str = "test", ratios: Sequence[float] = RATIOS,
             batch_size: int = 32, speed_iters: int = 3, limit: Optional[int] = None, speed_rounds: int = 3) -> dict:
    """The ``free`` stage: every training-free setting scored on the same decoded clips, then timed."""
    t0 = time.time()
    model = load_video_model(checkpoint)
    x, y = load_clips(data_dir, split, model.num_frames, model.img_size, limit)
    settings = free_settings(model, ratios)
    rows: list[dict] = []
    for label, kind, target, patch in settings:
        _apply(model, patch)
        torch.manual_seed(0)  # prune-random and the shuffle draw from the global RNG: the same draws each run
        rows.append({"label": label, "mode": kind, "target_ratio": target, "r": patch.get("r", 0),
                     "ratio": rmeeto.reduction_ratio(model), "gflops": rmeeto.gflops(model), "top1": top1(model, x, y),
                     "tokens_in": model.num_tokens})
        print(json.dumps(rows[-1]), flush=True)
    for row, speed in zip(rows, speeds(model, [p for *_, p in settings], batch_size, speed_iters, speed_rounds)):
        row["clips_per_s"] = speed
    result = {"checkpoint": str(checkpoint), "data_dir": str(data_dir), "split": split, "clips": len(y),
              "speed_batch": batch_size,
              "speed": f"best of {speed_rounds} rounds of the median of {speed_iters} batches",
              "rows": rows, "minutes": (time.time() - t0) / 60, "env": environment("cpu"),
              "params": sum(p.numel() for p in model.parameters()),
              "proxy": proxy_info(checkpoint), "data": data_info(data_dir)}
    save_stage(out, "free", result)
    return result


def retrain_jobs(r_of: dict, seeds: Sequence[int], epochs: int) -> list[tuple[str, list[str]]]:
    """(name, extra ``rmeeto train`` flags) of each re-training run: ``merge-<ratio>`` at each ratio and
    ``unmerged`` (the control), each with ``-seed<s>``."""
    jobs = []
    for seed in seeds:
        for ratio, r in r_of.items():
            jobs.append((f"merge-{ratio:g}-seed{seed}", ["--r", str(r), "--epochs", str(epochs), "--seed", str(seed)]))
        jobs.append((f"unmerged-seed{seed}", ["--epochs", str(epochs), "--seed", str(seed)]))
    return jobs


def train_command(config: str, checkpoint: Path, data_dir: str, run_dir: Path, lr: float,
                  extra: Sequence[str]) -> list[str]:
    """The ``rmeeto train`` command line of one re-training run: the proxy's config, started from
    ``checkpoint``, cosine from ``lr`` without warm-up, evaluated on val before and after merging."""
    return [sys.executable, "-m", "rmeeto.cli", "train", "-c", config, "--data-dir", data_dir,
            "--pretrained", str(checkpoint), "--lr", str(lr), "--warmup-epochs", "0", "--initial-eval",
            "--no-progress", "--output", str(run_dir), "--overwrite", *extra]


def run_one(cmd: list[str], run_dir: Path, threads: int) -> dict:
    """Run one ``rmeeto train`` process with ``threads`` intra-op threads; its summary plus wall minutes."""
    try:
        return run_train_cmd(cmd, run_dir, run_dir.name, threads=threads, echo=False)
    except RuntimeError as e:
        raise SystemExit(f"error: {e}") from None


KEEP = ("before_merge", "after_merge_no_train", "epochs", "patch", "reduction_ratio", "minutes", "wall_minutes",
        "seed")


def run_retrain(checkpoint: Path, data_dir: str, out: Path, config: str = DEFAULT_CONFIG,
                ratios: Sequence[float] = RATIOS, seeds: Sequence[int] = (0,), epochs: int = 3, lr: float = 2e-4,
                split: str = "test", threads: int = 1, limit: Optional[int] = None,
                extra: Sequence[str] = ()) -> dict:
    """The ``retrain`` stage: runs missing from ``retrain.json`` one after another, each scored on ``split``
    from its checkpoint (with the merge it was trained with); ``extra`` goes to every ``rmeeto train``."""
    if not Path(config).is_file():
        raise SystemExit(f"error: --config {config} not found; pass {DEFAULT_CONFIG} of a source checkout, "
                         "or run from the checkout's root")
    base = load_video_model(checkpoint)
    r_of = {ratio: r_for(base, ratio) for ratio in ratios}
    x, y = load_clips(data_dir, split, base.num_frames, base.img_size, limit)
    runs = (load_stage(out, "retrain") or {}).get("runs", {})
    for name, flags in retrain_jobs(r_of, seeds, epochs):
        if name in runs:
            continue
        run_dir = out / "runs" / name
        summary = run_one(train_command(config, checkpoint, data_dir, run_dir, lr, [*flags, *extra]), run_dir,
                          threads)
        row = {k: summary.get(k) for k in KEEP}
        row["flags"], row["lr"] = flags, lr
        row[f"{split}_top1"] = top1(load_video_model(run_dir / "checkpoint.pth", keep_patch=True), x, y)
        runs[name] = row
        print(name, [round(e["top1"], 2) for e in row["epochs"]], f"{split} {row[f'{split}_top1']:.2f}",
              f"{row['wall_minutes']:.2f} min", flush=True)
        save_stage(out, "retrain", _retrain_result(runs, checkpoint, data_dir, split, lr, epochs, r_of, len(y)))
    result = _retrain_result(runs, checkpoint, data_dir, split, lr, epochs, r_of, len(y))
    save_stage(out, "retrain", result)
    return result


def _retrain_result(runs: dict, checkpoint: Path, data_dir: str, split: str, lr: float, epochs: int, r_of: dict,
                    clips: int) -> dict:
    return {"checkpoint": str(checkpoint), "data_dir": str(data_dir), "split": split, "clips": clips, "lr": lr,
            "epochs": epochs,
            "r": {f"{k:g}": v for k, v in r_of.items()}, "runs": runs, "env": environment("cpu")}


def check_inputs(stages: Sequence[str], checkpoint: Optional[Path], data_dir: Optional[str]) -> None:
    """A clear one-line error for an unknown stage, a missing checkpoint or a missing set."""
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise SystemExit(f"error: unknown stage {bad[0]!r}; choose from {', '.join(STAGES)}")
    if all(s == "report" for s in stages):
        return
    if checkpoint is None or not Path(checkpoint).is_file():
        raise SystemExit("error: --checkpoint must point to the trained proxy "
                         "(rmeeto train -c configs/motion_videomamba_proxy.yaml)")
    if not data_dir or not Path(data_dir).is_dir():
        raise SystemExit(f"error: --data-dir {data_dir} is not a folder; make the set with rmeeto make-video-set")


def register(sub) -> None:
    """``rmeeto study-video``."""
    p = sub.add_parser("study-video", help="the paper's video questions on the motion set (merge vs prune vs "
                       "shuffled order, re-training) with a Markdown report")
    p.add_argument("stages", nargs="+", help=f"any of {list(STAGES)}")
    p.add_argument("--checkpoint", default=None, help="the proxy trained with configs/motion_videomamba_proxy.yaml")
    p.add_argument("--data-dir", default="data/motion32", help="the set written by rmeeto make-video-set")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="the proxy's recipe, re-used by the re-training runs")
    p.add_argument("--out", default=DEFAULT_OUT, help="folder of the JSON results, runs and report")
    p.add_argument("--split", default="test", help="split every accuracy of the tables is measured on")
    p.add_argument("--ratios", type=float, nargs="+", default=list(RATIOS), help="target reduction ratios")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="re-training seeds (one run each)")
    p.add_argument("--epochs", type=int, default=3, help="re-training epochs")
    p.add_argument("--lr", type=float, default=2e-4, help="re-training lr (per the config's --lr-base-batch)")
    p.add_argument("--threads", type=int, default=1, help="torch threads here and in each re-training process")
    p.add_argument("--speed-batch", type=int, default=32, help="batch of the clips/s measurement")
    p.add_argument("--speed-iters", type=int, default=3, help="batches per clips/s measurement (the median)")
    p.add_argument("--speed-rounds", type=int, default=3, help="rounds over all settings; the best round counts")
    p.add_argument("--limit", type=int, default=None, help="score on the first N clips of --split only")
    p.add_argument("--train-args", default="", metavar="FLAGS",
                   help="more rmeeto train flags for every re-training run, one string "
                        "(e.g. --train-args='--workers 0')")
    p.set_defaults(func=_cli)


def _cli(a: argparse.Namespace) -> int:
    """``rmeeto study-video``: the parsed options as typed arguments."""
    ckpt = Path(a.checkpoint) if a.checkpoint else None
    check_inputs(a.stages, ckpt, a.data_dir)
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    try:
        for stage in a.stages:
            if stage == "free":
                run_free(ckpt, a.data_dir, out, a.split, a.ratios, a.speed_batch, a.speed_iters, a.limit,
                         a.speed_rounds)
            elif stage == "retrain":
                run_retrain(ckpt, a.data_dir, out, a.config, a.ratios, a.seeds, a.epochs, a.lr, a.split,
                            a.threads, a.limit, shlex.split(a.train_args))
            else:
                print(f"wrote {write_report(out)}")
    except ValueError as e:  # an unreachable ratio, a bad list file (DataError)
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
