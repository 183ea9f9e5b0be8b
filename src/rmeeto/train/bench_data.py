"""``rmeeto bench-data``: images/s of the input pipeline alone (CPU PIL path and the
device-decode path), optionally next to the model's own training-step rate on synthetic data,
to tell which of the two bounds a run."""
from __future__ import annotations

import json
import os
import sys
import time

import torch

from ..data import (DataError, build_dataset, build_mixup, build_train_loader, gpu_pipelines,
                    to_device_batch)
from ..models import create_model
from ..patch import patch
from .config import BenchDataConfig
from .errors import TrainError
from .evaluate import amp_dtype, autocast


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def bench_loader(args: BenchDataConfig, gpu: bool, dev: torch.device) -> dict:
    ds = build_dataset(args.dataset, args.data_dir, args.split, img_size=args.img_size, channels=args.channels,
                       train_aug=args.train_aug, gpu_decode=gpu, max_bad_images=args.max_bad_images)
    loader, sampler = build_train_loader(ds, args.batch_size, workers=args.workers,
                                         pin_memory=dev.type == "cuda", gpu_decode=gpu, seed=0)
    pipe = gpu_pipelines(args.img_size, dev)[0 if args.train_aug else 1] if gpu else None
    mixup = build_mixup(1000 if args.dataset == "folder" else 10) if args.train_aug else None
    n_img, t0, it, epoch = 0, time.perf_counter(), 0, 0  # t0 restarts after the warm-up batches
    total = args.warmup + args.steps
    while it < total:
        sampler.set_epoch(epoch)
        for batch in loader:
            x, y = to_device_batch(batch, dev, pipe)
            if mixup is not None and x.shape[0] % 2 == 0:
                x, y = mixup(x, y % mixup.num_classes)
            _sync(dev)
            it += 1
            if it == args.warmup:
                t0 = time.perf_counter()
            elif it > args.warmup:
                n_img += x.shape[0]
            if it >= total:
                break
        epoch += 1
    dt = time.perf_counter() - t0
    return {"path": ("device-decode" if gpu else "cpu-pil") + f" ({dev.type})", "images": n_img,
            "seconds": dt, "images_per_s": n_img / dt, "workers": args.workers,
            "batch_size": args.batch_size, "train_aug": bool(args.train_aug)}


def bench_model(args: BenchDataConfig, dev: torch.device) -> dict:
    """Training steps/s of the model on random tensors already on the device (no loader)."""
    kw = {**args.model_kwargs, "img_size": args.img_size}  # --img-size sets the model's size
    model = create_model(args.model, **kw).to(dev)
    if args.r is not None:
        patch(model, r=args.r)
    dtype = amp_dtype(args.amp, dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=dev.type == "cuda")
    x = torch.randn(args.batch_size, int(model.in_chans), args.img_size, args.img_size, device=dev)
    y = torch.randint(0, int(model.num_classes), (args.batch_size,), device=dev)
    t0 = time.perf_counter()
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            _sync(dev)
            t0 = time.perf_counter()
        with autocast(dev, dtype):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    _sync(dev)
    dt = time.perf_counter() - t0
    return {"path": f"model train step ({args.model}, r={args.r})", "images": args.batch_size * args.steps,
            "seconds": dt, "images_per_s": args.batch_size * args.steps / dt}


def run_bench_data(args: BenchDataConfig) -> int:
    try:
        dev = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        paths = {"cpu": [False], "gpu": [True], "both": [False, True]}[args.path or
                                                                      ("both" if dev.type == "cuda" else "cpu")]
        rows = [bench_loader(args, gpu, dev) for gpu in paths]
        if args.model:
            rows.append(bench_model(args, dev))
    except (DataError, TrainError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for r in rows:
        print(f"{r['path']:<48s} {r['images_per_s']:10.1f} images/s  ({r['images']} images in {r['seconds']:.2f}s)")
    if args.model and len(rows) > 1:
        slowest = min(rows[:-1], key=lambda r: r["images_per_s"])
        fastest = max(rows[:-1], key=lambda r: r["images_per_s"])
        m = rows[-1]["images_per_s"]
        verdict = "the loader" if fastest["images_per_s"] < m else "the model"
        print(f"bottleneck with the best loader ({fastest['path']}): {verdict}"
              f" (loader {fastest['images_per_s']:.0f} vs model {m:.0f} images/s; slowest loader "
              f"{slowest['images_per_s']:.0f})")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"device": str(dev), "rows": rows}, f, indent=2)
    return 0
