"""``rmeeto demo``: the whole method on real data, end to end, on a laptop CPU in a few minutes.

Fashion-MNIST at 56x56 with patch 4 gives 197 tokens, like Vim at 224px, so r and the reduction
ratio mean what they mean in the paper. The demo loads a small Vim trained by ``rmeeto train``
(``configs/fmnist_demo_vim.yaml``, shipped in ``rmeeto/assets``), then prints accuracy and
measured throughput: unmerged, merged and pruned without training, and merged after a short
re-training on a subset. It writes a plot and merge maps.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F

ASSET = Path(__file__).parent / "assets" / "fmnist_demo_vim.pth"
DEMO_MODEL = "vim_tiny_patch16_224"


def find_fashion_mnist(root: Optional[str] = None, allow_install: bool = True) -> str:
    """A folder with the Fashion-MNIST IDX files: given, Debian's, installed with apt, or downloaded."""
    from .data.idx import DEBIAN_FASHION_MNIST

    candidates = [root] if root else [DEBIAN_FASHION_MNIST, os.path.expanduser("~/.cache/rmeeto/fashion-mnist")]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "t10k-labels-idx1-ubyte.gz")) or \
                c and os.path.isfile(os.path.join(c, "t10k-labels-idx1-ubyte")):
            return c
    if root:
        raise SystemExit(f"error: no Fashion-MNIST IDX files in {root}")
    if allow_install and shutil.which("apt-get") and os.geteuid() == 0:
        print("installing Fashion-MNIST from Debian (apt-get install dataset-fashion-mnist) ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "dataset-fashion-mnist"], check=False,
                       stdout=subprocess.DEVNULL)
        if os.path.isdir(DEBIAN_FASHION_MNIST):
            return DEBIAN_FASHION_MNIST
    if allow_install:
        try:
            from torchvision.datasets import FashionMNIST

            cache = os.path.expanduser("~/.cache/rmeeto")
            print("downloading Fashion-MNIST with torchvision ...", flush=True)
            FashionMNIST(cache, train=False, download=True)
            FashionMNIST(cache, train=True, download=True)
            raw = os.path.join(cache, "FashionMNIST", "raw")
            if os.path.isdir(raw):
                return raw
        except Exception as e:  # offline, or no torchvision
            print(f"torchvision download failed: {e}")
    raise SystemExit("error: Fashion-MNIST not found. Install it with `sudo apt-get install "
                     "dataset-fashion-mnist` (Debian/Ubuntu), or download the four IDX files from "
                     "https://github.com/zalandoresearch/fashion-mnist into a folder and pass --data-dir.")


def load_demo_model(path: Optional[str] = None, device: str = "cpu", trust_checkpoint: bool = False):
    import rmeeto
    from .checkpoint import read_checkpoint

    path = Path(path or ASSET)
    if not path.is_file():
        raise SystemExit(f"error: demo checkpoint {path} is missing; train one with "
                         "`rmeeto train -c configs/fmnist_demo_vim.yaml` and pass --checkpoint")
    meta = read_checkpoint(path, trust_checkpoint=trust_checkpoint).get("rmeeto", {})
    model = rmeeto.create_model(meta.get("model") or DEMO_MODEL, **(meta.get("model_kwargs") or {}))
    rmeeto.load_checkpoint(model, path, trust_checkpoint=trust_checkpoint)
    rmeeto.unpatch(model)  # the demo decides the patch
    return model.to(device).eval()


def datasets(root: str, img_size: int, eval_images: int, train_images: int, seed: int = 0):
    from torch.utils.data import Subset

    from .data import build_dataset
    from .data.sampler import balanced_subset

    test = build_dataset("fashion-mnist", root, "val", img_size=img_size, channels=1, crop_pct=1.0)
    test = Subset(test, range(min(eval_images, len(test))))
    train = build_dataset("fashion-mnist", root, "train", img_size=img_size, channels=1, train_aug=True,
                          aa="none", reprob=0.0, scale=(0.6, 1.0))
    frac = min(1.0, train_images / len(train))
    train = Subset(train, balanced_subset(train.targets, frac, seed))
    return test, train


@torch.no_grad()
def evaluate(model, data, device: str, batch_size: int = 250, workers: int = 0) -> tuple[float, float]:
    """(top-1 %, images/s) over ``data``; the time counts the model only."""
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=workers)
    correct = n = 0
    seconds = 0.0
    model.eval()
    warm = False
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        if not warm:  # keep one-off costs out of the timing: Triton compilation on CUDA, lazy set-up on the CPU
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
                model(x if device.startswith("cuda") else x[:16])
            warm = True
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
            pred = model(x).argmax(-1)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds += time.perf_counter() - t0
        correct += (pred == y).sum().item()
        n += len(y)
    return 100.0 * correct / n, n / seconds


def retrain(model, data, device: str, epochs: int = 1, batch_size: int = 64, lr: float = 5e-4,
            seed: int = 0, workers: int = 0) -> float:
    """A short re-training (AdamW, cosine, label smoothing 0.1); returns minutes spent. Reproducible in
    ``seed``: the training transforms draw from Python's and NumPy's RNGs too, so all three are seeded."""
    from .train.state import seed_everything

    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True, generator=g, drop_last=True,
                                         num_workers=workers, pin_memory=device.startswith("cuda"),
                                         persistent_workers=workers > 0)
    steps = max(1, epochs * len(loader))
    from .train.engine import param_groups

    opt = torch.optim.AdamW(param_groups(model, 0.05), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    model.train()
    t0 = time.time()
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
                loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return (time.time() - t0) / 60


def plot_rows(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for r in rows:
        ax.scatter(r["im_per_s"], r["top1"], s=40)
        ax.annotate(r["name"], (r["im_per_s"], r["top1"]), fontsize=7, xytext=(4, 2), textcoords="offset points")
    ax.set_xlabel("measured images / s")
    ax.set_ylabel("top-1 (%)")
    ax.set_title("rmeeto demo: Fashion-MNIST, 197 tokens", fontsize=9)
    ax.margins(x=0.3, y=0.1)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def merge_maps(model, data, path: str, count: int = 4) -> None:
    from PIL import Image

    from .data.transforms import FASHION_MNIST_MEAN, FASHION_MNIST_STD
    from .vis import merge_map

    tiles = []
    for i in range(count):
        x, _ = data[i]
        raw = Image.fromarray(((x[0] * FASHION_MNIST_STD[0] + FASHION_MNIST_MEAN[0]).clamp(0, 1) * 255).byte().numpy())
        tiles.append(merge_map(model.cpu(), raw, x=x[None], scale=2))
    w, h = tiles[0].size
    sheet = Image.new("RGB", (w * len(tiles), h), "white")
    for i, t in enumerate(tiles):
        sheet.paste(t, (i * w, 0))
    sheet.save(path)


def run_demo(args: argparse.Namespace) -> int:
    import rmeeto

    torch.manual_seed(args.seed)
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but no CUDA device is visible")
    full = device.startswith("cuda")
    eval_images = args.eval_images or (10000 if full else 1000)
    train_images = args.train_images or (60000 if full else 2048)
    root = find_fashion_mnist(args.data_dir)
    model = load_demo_model(args.checkpoint, device, args.trust_checkpoint)
    test, train = datasets(root, model.img_size, eval_images, train_images, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"rmeeto demo on {device}: Vim depth {model.depth} width {model.embed_dim} "
          f"({n_params / 1e6:.2f}M params), {model.num_tokens} tokens, Fashion-MNIST from {root}")
    print(f"evaluating on {len(test)} test images; re-training on {len(train)} train images\n")
    print(f"{'model':34s} {'ratio':>6s} {'GFLOPs':>7s} {'top-1':>7s} {'im/s':>8s}")
    rows = []

    def row(name: str) -> None:
        top1, ips = evaluate(model, test, device)
        r = {"name": name, "ratio": rmeeto.reduction_ratio(model), "gflops": rmeeto.gflops(model),
             "top1": top1, "im_per_s": ips}
        rows.append(r)
        print(f"{name:34s} {r['ratio']:6.2f} {r['gflops']:7.3f} {top1:6.2f}% {ips:8.1f}", flush=True)

    row("unmerged")
    rmeeto.patch(model, ratio=args.ratio, mode="prune")
    row("pruned, no training")
    rmeeto.patch(model, ratio=args.ratio, mode="merge")
    row("merged, no training")
    # the CPU demo re-trains a small model on a subset; the GPU version the proxy on all 60k images,
    # with the study's re-training lr (1e-4 per 512 images) and loader workers
    lr = args.lr if args.lr is not None else (5e-5 if full else 5e-4)
    minutes = retrain(model, train, device, epochs=args.epochs, batch_size=256 if full else 64, lr=lr,
                      seed=args.seed, workers=min(8, os.cpu_count() or 1) if full else 0)
    row(f"merged + {args.epochs} ep re-train ({minutes:.1f} min)")
    plot_rows(rows, str(out / "demo_accuracy_speed.png"))
    merge_maps(model, test, str(out / "demo_merge_maps.png"))
    print(f"\nwrote {out / 'demo_accuracy_speed.png'} and {out / 'demo_merge_maps.png'}")
    return 0


def register(sub) -> None:
    from .cli import add_trust_arg

    p = sub.add_parser("demo", help="end-to-end demo on Fashion-MNIST (CPU: a few minutes)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files")
    p.add_argument("--checkpoint", default=None, help="default: the small Vim shipped with rmeeto")
    add_trust_arg(p)
    p.add_argument("--ratio", type=float, default=0.31)
    p.add_argument("--eval-images", type=int, default=None, help="default 1000 (CPU) / 10000 (CUDA)")
    p.add_argument("--train-images", type=int, default=None, help="default 2048 (CPU) / 60000 (CUDA)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=None, help="default 5e-4 (CPU, batch 64) / 5e-5 (CUDA, batch 256)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="demo_out")
    p.set_defaults(func=run_demo)
