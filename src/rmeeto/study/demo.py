"""``rmeeto demo``: the whole method on real data, end to end, on a laptop CPU in a few minutes.

Fashion-MNIST at 56x56 with patch 4 gives 197 tokens, like Vim at 224px, so r and the reduction
ratio mean what they mean in the paper. The demo loads a small Vim trained by ``rmeeto train``
(``configs/fmnist_demo_vim.yaml``, shipped in ``rmeeto/assets``), then prints accuracy and
measured throughput: unmerged, merged and pruned without training, and merged after a short
re-training on a subset. It writes a plot and merge maps.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from ..checkpoint import CheckpointError, load_checkpoint, read_checkpoint
from ..cli import add_trust_arg
from ..cli_checks import (UsageError, check_at_least, check_out_dir, check_patch, check_r_ratio, checkpoint_message,
                          require)
from ..data import build_dataset
from ..data.idx import fashion_mnist_dir
from ..data.transforms import FASHION_MNIST_MEAN, FASHION_MNIST_STD
from ..flops import gflops
from ..models import create_model
from ..patch import patch, reduction_ratio, unpatch
from ..train.config import TrainConfig
from ..train.engine import train
from ..train.evaluate import amp_dtype, evaluate as evaluate_loader
from ..vis import CAPTION, describe, final_groups, merge_map, with_text

ASSET = Path(__file__).resolve().parents[1] / "assets" / "fmnist_demo_vim.pth"
DEMO_MODEL = "vim_tiny_patch16_224"


@dataclass(frozen=True)
class DemoSettings:
    """What ``rmeeto demo`` runs; a None count or lr takes the device's default (CPU: a small run, CUDA: full size)."""
    device: str = "cpu"
    data_dir: Optional[str] = None  # None: found by find_fashion_mnist
    checkpoint: Optional[str] = None  # None: the small Vim shipped in the package
    trust_checkpoint: bool = False
    ratio: float = 0.31
    eval_images: Optional[int] = None
    train_images: Optional[int] = None
    epochs: int = 1
    lr: Optional[float] = None
    seed: int = 0
    out: str = "demo_out"


def _has_idx(folder: Optional[str]) -> bool:
    return bool(folder) and any(os.path.isfile(os.path.join(folder, "t10k-labels-idx1-ubyte" + gz))
                                for gz in ("", ".gz"))


def find_fashion_mnist(root: Optional[str] = None) -> str:
    """A folder with the Fashion-MNIST IDX files: ``root`` if given, else ``$RMEETO_FASHION_MNIST`` or
    Debian's folder, else an earlier download under ``~/.cache/rmeeto``. This only looks: installing the data
    is the job of ``make demo`` (Debian's package, as root) or of the user, as the error says."""
    if root:
        if _has_idx(root):
            return root
        raise SystemExit(f"error: no Fashion-MNIST IDX files in {root}; point --data-dir at the folder "
                         "holding t10k-labels-idx1-ubyte[.gz] and the three other IDX files")
    cache = os.path.expanduser("~/.cache/rmeeto")
    tried = [fashion_mnist_dir(), os.path.join(cache, "fashion-mnist"), os.path.join(cache, "FashionMNIST", "raw")]
    for c in tried:
        if _has_idx(c):
            return c
    raise SystemExit(f"error: Fashion-MNIST not found in {', '.join(tried)}; install it with `sudo apt-get install "
                     "dataset-fashion-mnist` (Debian/Ubuntu; `make demo` does this when run as root), or put the "
                     "four IDX files from https://github.com/zalandoresearch/fashion-mnist in a folder and pass "
                     "--data-dir (or set RMEETO_FASHION_MNIST)")


def load_demo_model(path: Optional[str] = None, device: str = "cpu", trust_checkpoint: bool = False):
    path = Path(path or ASSET)
    if not path.is_file():
        raise SystemExit(f"error: demo checkpoint {path} is missing; train one with "
                         "`rmeeto train -c configs/fmnist_demo_vim.yaml` and pass --checkpoint")
    meta: dict = {}
    try:
        obj = read_checkpoint(path, trust_checkpoint=trust_checkpoint)
        meta = (obj.get("rmeeto") if isinstance(obj, dict) else None) or {}
        model = create_model(meta.get("model") or DEMO_MODEL, **(meta.get("model_kwargs") or {}))
        load_checkpoint(model, path, trust_checkpoint=trust_checkpoint)
    except (CheckpointError, ValueError, TypeError) as e:
        raise UsageError(checkpoint_message(str(path), meta.get("model") or DEMO_MODEL, e, "--checkpoint")) from e
    unpatch(model)  # the demo decides the patch
    return model.to(device).eval()


def class_balanced(targets, n: int, seed: int = 0) -> list[int]:
    """Exactly ``n`` indices (fewer only if the set is smaller), spread evenly over the classes."""
    import numpy as np

    targets = np.asarray(targets)
    classes = np.unique(targets)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0xDE40]))
    out: list[int] = []
    for i, c in enumerate(classes):
        idx = np.flatnonzero(targets == c)
        k = n // len(classes) + (1 if i < n % len(classes) else 0)
        out.extend(rng.choice(idx, size=min(k, len(idx)), replace=False).tolist())
    return sorted(out)


def datasets(root: str, img_size: int, eval_images: int, train_images: int, seed: int = 0):
    from torch.utils.data import Subset

    test = build_dataset("fashion-mnist", root, "val", img_size=img_size, channels=1, crop_pct=1.0)
    test = Subset(test, range(min(eval_images, len(test))))
    train = build_dataset("fashion-mnist", root, "train", img_size=img_size, channels=1, train_aug=True,
                          aa="none", reprob=0.0, scale=(0.6, 1.0))
    return test, Subset(train, class_balanced(train.targets, train_images, seed))


def _bar(total: int, desc: Optional[str], unit: str = "img"):
    """A progress bar on stderr (none without ``desc``); it disappears when done."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=desc is None, leave=False, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5)


def evaluate(model, data, device: str, batch_size: Optional[int] = None, workers: int = 0,
             desc: Optional[str] = None) -> tuple[float, float]:
    """(top-1 %, images/s) over ``data`` with the training package's evaluation; the time counts the model
    only. The default batch is 64 on the CPU (the scan's (length, batch, dim, state) tensors then stay in
    cache) and 250 on CUDA."""
    cuda = device.startswith("cuda")
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size or (250 if cuda else 64), shuffle=False,
                                         num_workers=workers)
    model.eval()
    with _bar(len(data), desc) as bar:
        stats = evaluate_loader(model, loader, dtype=amp_dtype(None, torch.device(device)), progress=bar, timed=True)
    return stats["top1"], stats["images_per_s"]


def retrain(model, data, device: str, epochs: int = 1, batch_size: int = 64, lr: float = 5e-4,
            seed: int = 0, workers: int = 0, desc: Optional[str] = None) -> float:
    """A short re-training with the training package's loop (AdamW with weight decay 0.05, per-step cosine
    to 0, label smoothing 0.1, no mixup); returns minutes spent. Reproducible in ``seed``: the loop seeds
    Python's, NumPy's and torch's RNGs (the training transforms draw from all three)."""
    batch_size = max(1, min(batch_size, len(data)))
    name = (getattr(model, "rmeeto_config", None) or {}).get("name", DEMO_MODEL)
    cfg = TrainConfig(model=name, device=device, epochs=epochs, batch_size=batch_size, lr=lr,
                      lr_base_batch=batch_size, min_lr=0.0, warmup_epochs=0.0, weight_decay=0.05, mixup=0.0,
                      cutmix=0.0, smoothing=0.1, workers=workers, seed=seed, output=None, tensorboard=False,
                      initial_eval=False, log_interval=1, checkpoint_interval=0.0)
    t0 = time.time()
    train(cfg, model=model, datasets=(data, None), quiet=True,
          progress=lambda total, **_: _bar(total, desc))
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
    """Merge maps of the first ``count`` images side by side, with a title and a caption."""
    from PIL import Image

    model = model.cpu()
    tiles = []
    for i in range(count):
        x, _ = data[i]
        raw = Image.fromarray(((x[0] * FASHION_MNIST_STD[0] + FASHION_MNIST_MEAN[0]).clamp(0, 1) * 255).byte().numpy())
        tiles.append(merge_map(model, raw, x=x[None], scale=2))
    w, h = tiles[0].size
    sheet = Image.new("RGB", (w * len(tiles) + 4 * (len(tiles) - 1), h), "white")
    for i, t in enumerate(tiles):
        sheet.paste(t, (i * (w + 4), 0))
    _, left = final_groups(model, data[0][0][None])
    title = describe(model, f"demo Vim (depth {model.depth}, width {model.embed_dim})", left)
    with_text(sheet, title, CAPTION, font_size=11).save(path)


def check_demo(cfg: DemoSettings) -> None:
    """Stop before any work on a bad demo argument or a missing package."""
    require("demo", "timm", "torchvision", "matplotlib")
    if cfg.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda but no CUDA device is visible; use --device cpu")
    check_r_ratio(ratio=cfg.ratio)
    if cfg.ratio == 0:
        raise UsageError("--ratio 0 merges nothing; give a reduction ratio in (0, 1), e.g. 0.31")
    check_at_least(cfg.eval_images, "--eval-images", 1)
    check_at_least(cfg.train_images, "--train-images", 1)
    check_at_least(cfg.epochs, "--epochs", 0)
    if cfg.lr is not None and not cfg.lr > 0:
        raise UsageError(f"--lr must be positive, got {cfg.lr:g}")
    check_out_dir(cfg.out, "--out")


def keep_freed_memory() -> bool:
    """Make glibc's malloc serve large blocks from the heap and keep what is freed (``mallopt``).

    By default every allocation above 32 MB is a fresh ``mmap``, returned to the system when freed; on the
    CPU the scan allocates several such tensors per block, so each forward then pays a page fault per 4 KB
    (on a 2-core EPYC the unmerged evaluation spent more time in them than in computing). Returns whether
    it applied (glibc only)."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mmap_threshold, trim_threshold = -3, -1  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        return bool(libc.mallopt(mmap_threshold, 1 << 30)) and bool(libc.mallopt(trim_threshold, 1 << 31))
    except (OSError, AttributeError):
        return False


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s" if seconds >= 60 else f"{seconds:.1f} s"


def run_demo(cfg: DemoSettings = DemoSettings()) -> int:
    """The demo: accuracy and throughput unmerged, pruned, merged and merged + re-trained; two pictures."""
    check_demo(cfg)
    t_setup = time.time()
    if not cfg.device.startswith("cuda"):
        keep_freed_memory()
    torch.manual_seed(cfg.seed)
    device = cfg.device
    full = device.startswith("cuda")
    model = load_demo_model(cfg.checkpoint, device, cfg.trust_checkpoint)
    for mode in ("prune", "merge"):
        check_patch(model, "the demo model", ratio=cfg.ratio, mode=mode)
    root = find_fashion_mnist(cfg.data_dir)  # after the arguments: their errors come first, data or not
    test, train = datasets(root, model.img_size, cfg.eval_images or (10000 if full else 1000),
                           cfg.train_images or (60000 if full else 2048), cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    setup_s = time.time() - t_setup
    t0 = time.time()
    _print_intro(model, device, root, len(test), len(train), setup_s)
    rows = [_demo_row(model, test, device, "unmerged")]
    patch(model, ratio=cfg.ratio, mode="prune")
    rows.append(_demo_row(model, test, device, "pruned, no training"))
    patch(model, ratio=cfg.ratio, mode="merge")
    rows.append(_demo_row(model, test, device, "merged, no training"))
    # the CPU demo re-trains a small model on a subset; the GPU version the proxy on all 60k images,
    # with the study's re-training lr (1e-4 per 512 images) and loader workers
    lr = cfg.lr if cfg.lr is not None else (5e-5 if full else 5e-4)
    # batch 32 on the CPU: the scan's (length, batch, dim, state) tensors stay in cache (1.3-1.6x faster per
    # image than 64 on a 2-core EPYC)
    minutes = retrain(model, train, device, epochs=cfg.epochs, batch_size=256 if full else 32, lr=lr,
                      seed=cfg.seed, workers=min(8, os.cpu_count() or 1) if full else 0,
                      desc=f"re-training merged ({cfg.epochs} ep)")
    rows.append(_demo_row(model, test, device, f"merged + {cfg.epochs} ep re-train ({minutes:.1f} min)"))
    plot_rows(rows, str(out / "demo_accuracy_speed.png"))
    merge_maps(model, test, str(out / "demo_merge_maps.png"))
    print(f"\nwrote {out / 'demo_accuracy_speed.png'} and {out / 'demo_merge_maps.png'}")
    print(f"the demo took {_minutes(time.time() - t0)} (set-up before it: {_minutes(setup_s)})")
    return 0


def _print_intro(model, device: str, root, n_test: int, n_train: int, setup_s: float) -> None:
    n_params = sum(p.numel() for p in model.parameters())
    print(f"rmeeto demo on {device}: Vim depth {model.depth} width {model.embed_dim} "
          f"({n_params / 1e6:.2f}M params), {model.num_tokens} tokens, Fashion-MNIST from {root}")
    print(f"evaluating on {n_test} test images; re-training on {n_train} train images "
          f"(set-up took {_minutes(setup_s)})\n")
    print(f"{'model':34s} {'ratio':>6s} {'GFLOPs':>7s} {'top-1':>7s} {'im/s':>8s}")


def _demo_row(model, test, device: str, name: str) -> dict:
    """Top-1 and images/s of ``model`` as it stands, printed as one row of the demo's table."""
    top1, ips = evaluate(model, test, device, desc=f"evaluating: {name}")
    r = {"name": name, "ratio": reduction_ratio(model), "gflops": gflops(model), "top1": top1, "im_per_s": ips}
    print(f"{name:34s} {r['ratio']:6.2f} {r['gflops']:7.3f} {top1:6.2f}% {ips:8.1f}", flush=True)
    return r


def register(sub) -> None:
    p = sub.add_parser("demo", help="end-to-end demo on Fashion-MNIST (CPU: a few minutes)")
    p.add_argument("--device", default="cpu", help="cpu, or cuda for the full-size version")
    p.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files "
                   "(default: $RMEETO_FASHION_MNIST or Debian's /usr/share/datasets/fashion-mnist)")
    p.add_argument("--checkpoint", default=None, help="default: the small Vim shipped with rmeeto")
    add_trust_arg(p)
    p.add_argument("--ratio", type=float, default=0.31, help="reduction ratio of the merged and pruned rows")
    p.add_argument("--eval-images", type=int, default=None, help="default 1000 (CPU) / 10000 (CUDA)")
    p.add_argument("--train-images", type=int, default=None, help="default 2048 (CPU) / 60000 (CUDA)")
    p.add_argument("--epochs", type=int, default=1, help="re-training epochs over --train-images")
    p.add_argument("--lr", type=float, default=None, help="default 5e-4 (CPU, batch 32) / 5e-5 (CUDA, batch 256)")
    p.add_argument("--seed", type=int, default=0, help="seeds the re-training and the subset it uses")
    p.add_argument("--out", default="demo_out", help="folder for the two pictures")
    p.set_defaults(func=_cli)


def _cli(a: argparse.Namespace) -> int:
    """``rmeeto demo``: the parsed options as typed settings."""
    return run_demo(DemoSettings(device=a.device, data_dir=a.data_dir, checkpoint=a.checkpoint,
                                 trust_checkpoint=a.trust_checkpoint, ratio=a.ratio, eval_images=a.eval_images,
                                 train_images=a.train_images, epochs=a.epochs, lr=a.lr, seed=a.seed, out=a.out))
