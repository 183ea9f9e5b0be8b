"""``rmeeto eval``: top-1/top-5 and throughput, for one patch setting or a list of them."""
from __future__ import annotations

import json
import os
import time
from typing import Optional

import torch

from ..data import build_dataset, build_eval_loader, gpu_pipelines, make_subset
from ..bench import host_bound, measure
from ..flops import gflops
from ..patch import patch, patch_settings, reduction_ratio, unpatch
from .checks import eval_settings
from .config import EvalConfig
from .dist import DistInfo
from .build import build_model, require_vim
from .engine import run_command
from .errors import TrainError
from .evaluate import amp_dtype, evaluate
from .state import atomic_write_text
from .video import skipped_videos, video_options


def run_eval(args: EvalConfig) -> int:
    """Entry point of ``rmeeto eval``; returns the exit code (0 ok, 2 bad input)."""
    return run_command(_eval, args)


def _throughput(model, args: EvalConfig, dev: torch.device, dtype) -> dict:
    """``images_per_s`` and ``host_share`` by `rmeeto bench`'s protocol (median of synchronised runs)."""
    name = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(dtype, "fp32")
    row = measure(model, args.throughput_batch_size or args.batch_size, str(dev), name, warmup=3,
                  iters=args.throughput_iters, cuda_graph=args.throughput_cuda_graph)
    return {"images_per_s": row["im_per_s"], "host_share": row["host_share"]}


def _eval(args: EvalConfig, info: DistInfo) -> int:
    dev = info.device
    if args.throughput and args.throughput_cuda_graph and dev.type != "cuda":
        raise TrainError(f"--throughput-cuda-graph needs a CUDA device, this run is on {dev}: drop it")
    dtype = amp_dtype(args.amp, dev)
    model = build_model(args)
    model.to(dev).eval()
    img_size, channels = int(model.img_size), int(model.in_chans)
    gpu = bool(args.gpu_decode)
    ds = build_dataset(args.dataset, args.data_dir, args.split, img_size=img_size, channels=channels,
                       num_classes=int(model.num_classes), crop_pct=args.crop_pct, gpu_decode=gpu,
                       video=video_options(args, model, args.model), max_bad_images=args.max_bad_images)
    ds = make_subset(ds, args.data_subset, args.seed)
    loader = build_eval_loader(ds, args.batch_size, world_size=info.world_size, rank=info.rank,
                               workers=args.workers, pin_memory=dev.type == "cuda", gpu_decode=gpu)
    pipe = gpu_pipelines(img_size, dev, crop_pct=args.crop_pct)[1] if gpu else None
    loaded = patch_settings(model)
    results = []
    for setting in eval_settings(args):
        use = _repatch(model, args, loaded if setting is None else setting)
        t0 = time.time()
        stats = evaluate(model, loader, info, dtype, pipe, args.view_average)
        stats.update(skipped_videos(info, ds))
        res = {"patch": patch_settings(model), "r": (use or {}).get("r", 0), "ratio_arg": (use or {}).get("ratio"),
               **stats, "eval_seconds": time.time() - t0, **_cost(model)}
        if args.throughput:
            res.update(_throughput(model, args, dev, dtype))
        results.append(res)
        if info.is_main:
            _print_row(res, args.throughput)
    if info.is_main and (args.output or len(results) > 1):
        _write_results(args, info, results)
    return 0


def _repatch(model, args: EvalConfig, use: Optional[dict]) -> Optional[dict]:
    """``model`` unpatched, then patched with ``use`` (the checkpoint's setting or one asked for); returns ``use``."""
    unpatch(model)
    if use:
        require_vim(model, args.model)
        try:
            patch(model, **use)
        except (ValueError, TypeError) as e:
            raise TrainError(f"cannot patch with {use}: {e}") from e
    return use


def _cost(model) -> dict:
    """``reduction_ratio`` and ``gflops`` of the patched model, None where a model cannot tell."""
    out = {}
    for name, fn in (("reduction_ratio", reduction_ratio), ("gflops", gflops)):
        try:
            out[name] = float(fn(model))
        except Exception:  # noqa: BLE001 - a model family without a FLOPs count still gets its accuracy
            out[name] = None
    return out


def _print_row(res: dict, throughput: bool) -> None:
    tp = f"  {res['images_per_s']:.1f} im/s" if throughput else ""
    tp += " (host-bound)" if throughput and host_bound(res) else ""
    rr = f"{res['reduction_ratio']:.3f}" if res["reduction_ratio"] is not None else "n/a"
    print(f"r={res['r']!s:>4} ratio={rr}  top-1 {res['top1']:.2f}  top-5 {res['top5']:.2f}  (n={res['n']}){tp}",
          flush=True)


def _write_results(args: EvalConfig, info: DistInfo, results: list[dict]) -> None:
    """``eval.json`` (written atomically) and, for several settings, ``eval.png`` under ``--output``."""
    out = args.output or "runs/eval"
    os.makedirs(out, exist_ok=True)
    views = {"test_views": args.test_views, "view_average": args.view_average} if args.dataset == "video" else {}
    atomic_write_text(os.path.join(out, "eval.json"), json.dumps(
        {"model": args.model, "pretrained": args.pretrained, "device": str(info.device),
         "world_size": info.world_size, **views, "results": results}, indent=2))
    if len(results) > 1:
        plot_curve(results, os.path.join(out, "eval.png"), title=args.model)
    print(f"wrote {os.path.join(out, 'eval.json')}" + (" and eval.png" if len(results) > 1 else ""))


def plot_curve(results: list[dict], path: str, title: str = "") -> None:
    """Accuracy vs throughput (if measured) and vs reduction ratio, one point per setting."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    has_tp = all(r.get("images_per_s") for r in results)
    fig, axes = plt.subplots(1, 2 if has_tp else 1, figsize=(11 if has_tp else 5.5, 4.2), squeeze=False)
    axes = axes[0]
    top1 = [r["top1"] for r in results]
    labels = [f"r={r['r']}" if not r.get("ratio_arg") else f"ratio={r['ratio_arg']}" for r in results]
    def panel(ax, xs, xlabel):
        ax.plot(xs, top1, "o-")
        for x, y, s in zip(xs, top1, labels):
            ax.annotate(s, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("top-1 (%)")
        ax.grid(alpha=0.3)

    panel(axes[0], [r.get("reduction_ratio") or 0.0 for r in results], "reduction ratio")
    if has_tp:
        panel(axes[1], [r["images_per_s"] for r in results], "throughput (images/s)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
