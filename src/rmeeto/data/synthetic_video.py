"""A small action set of real H.264 MP4 files made from real Fashion-MNIST items.

Each class is a motion of one item (moving right/left/down/up, rotating clockwise/anticlockwise,
zooming in/out); the garment is random and says nothing about the class. A class and its
opposite hold the same frames in reverse order, so only a model that uses the order of frames
can tell them apart. The motion is synthetic; the images are real. ``rmeeto make-video-set``
writes ``train.csv``/``val.csv``/``test.csv`` (``path,label``, paths relative to the set's folder)
beside ``<split>/<motion>/<n>.mp4``, so both the list-file and the class-folder layout work.
Train videos use items of Fashion-MNIST's train split; val and test use disjoint halves of its
test split. The same seed gives the same files, byte for byte.
"""
from __future__ import annotations

import json
import math
import os
import sys
from typing import Optional

import numpy as np
from PIL import Image

from .errors import DataError
from .idx import FashionMNIST
from .video_io import write_video

MOTIONS = ("move_right", "move_left", "move_down", "move_up", "rotate_cw", "rotate_ccw", "zoom_in", "zoom_out")
SPLITS = ("train", "val", "test")


def _motion_path(motion: str, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of (centre x, centre y, scale, angle in degrees, clockwise positive); the item's
    size follows the frame's (28 px items at 0.8-1.2x in a 64 px frame)."""
    k = size / 64
    s = rng.uniform(0.8, 1.2) * k
    half = 14 * s  # half the item's box, kept inside the frame
    cx, cy = rng.uniform(half, size - half, 2)
    ang = rng.uniform(-15, 15)
    start = np.array([cx, cy, s, ang])
    end = start.copy()
    if motion.startswith("move"):
        axis = 0 if motion in ("move_right", "move_left") else 1
        room = size - 2 * half
        dist = rng.uniform(0.6, 1.0) * room
        a = rng.uniform(half, size - half - dist)
        forward = motion in ("move_right", "move_down")
        start[axis], end[axis] = (a, a + dist) if forward else (a + dist, a)
    elif motion.startswith("rotate"):
        turn = rng.uniform(90, 180)
        start[3] = rng.uniform(0, 360)
        end[3] = start[3] + (turn if motion == "rotate_cw" else -turn)
    else:
        small, large = rng.uniform(0.45, 0.7) * k, rng.uniform(1.4, 1.8) * k
        start[2], end[2] = (small, large) if motion == "zoom_in" else (large, small)
        start[:2] = end[:2] = size / 2 + rng.uniform(-0.08, 0.08, 2) * size
    if not motion.startswith("move"):
        end[:2] = start[:2] + rng.uniform(-0.05, 0.05, 2) * size  # a small drift, so position alone says nothing
    return start, end


def _place(item: np.ndarray, cx: float, cy: float, scale: float, angle: float, size: int) -> np.ndarray:
    """The 28x28 item drawn at centre (cx, cy), scaled and turned clockwise by ``angle`` degrees."""
    t = math.radians(angle)
    c, s = math.cos(t) / scale, math.sin(t) / scale
    mx, my = item.shape[1] / 2, item.shape[0] / 2
    # inverse map: output pixel -> item pixel (PIL's AFFINE data)
    data = (c, s, mx - c * cx - s * cy, -s, c, my + s * cx - c * cy)
    out = Image.fromarray(item).transform((size, size), Image.Transform.AFFINE, data,
                                          resample=Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def render_clip(item: np.ndarray, motion: str, rng: np.random.Generator, size: int = 64,
                frames: int = 16) -> np.ndarray:
    """``uint8 (frames, size, size, 3)``: ``item`` performing ``motion`` on a dark, noisy ground,
    tinted with a random colour."""
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}; choose from {', '.join(MOTIONS)}")
    start, end = _motion_path(motion, rng, size)
    tint = rng.uniform(0.55, 1.0, 3).astype(np.float32)
    ground = rng.uniform(0, 40)
    clip = np.empty((frames, size, size, 3), np.uint8)
    for k in range(frames):
        cx, cy, sc, ang = start + (end - start) * (k / max(1, frames - 1))
        img = _place(item, cx, cy, sc, ang, size)
        rgb = ground + img[..., None] * tint + rng.normal(0, 6, (size, size, 1)).astype(np.float32)
        clip[k] = np.clip(rgb, 0, 255).astype(np.uint8)
    return clip


def _pools(fashion_dir: Optional[str]) -> dict:
    train = FashionMNIST(fashion_dir, "train").images
    test = FashionMNIST(fashion_dir, "test").images
    half = len(test) // 2
    return {"train": train, "val": test[:half], "test": test[half:]}


def _jobs(seed: int, counts: dict, pools: dict) -> list[tuple]:
    jobs = []
    for split_id, split in enumerate(SPLITS):
        n = counts[split]
        if n <= 0:
            continue
        picks = np.random.default_rng(np.random.SeedSequence([seed, split_id, 0x17E5]))
        items = picks.choice(len(pools[split]), size=n * len(MOTIONS), replace=n * len(MOTIONS) > len(pools[split]))
        for label, motion in enumerate(MOTIONS):
            for i in range(n):
                item_index = int(items[label * n + i])
                jobs.append((split, split_id, label, motion, i, item_index))
    return jobs


def _write_one(job: tuple, pool: np.ndarray, out: str, seed: int, size: int, frames: int, fps: int) -> str:
    split, split_id, label, motion, i, item_index = job
    rel = os.path.join(split, motion, f"{i:05d}.mp4")
    rng = np.random.default_rng(np.random.SeedSequence([seed, split_id, label, i]))
    write_video(os.path.join(out, rel), render_clip(pool[item_index], motion, rng, size, frames), fps=fps)
    return rel


def make_motion_video_set(out: str, per_class: int = 100, val_per_class: Optional[int] = None,
                          test_per_class: Optional[int] = None, frames: int = 16, size: int = 64,
                          fps: int = 8, seed: int = 0, fashion_dir: Optional[str] = None) -> dict:
    """Write the set under ``out`` (see module doc); returns its description (also ``meta.json``).
    ``val_per_class`` and ``test_per_class`` default to a quarter of ``per_class`` (at least 1)."""
    if size % 2 or size < 32:
        raise ValueError(f"size must be even and >= 32 (H.264 yuv420p, room to move), got {size}")
    if frames < 2 or per_class < 1:
        raise ValueError("frames must be >= 2 and per_class >= 1")
    quarter = max(1, per_class // 4)
    counts = {"train": per_class, "val": quarter if val_per_class is None else val_per_class,
              "test": quarter if test_per_class is None else test_per_class}
    pools = _pools(fashion_dir)
    lines: dict = {s: [] for s in SPLITS}
    for motion in MOTIONS:
        for split in SPLITS:
            if counts[split] > 0:
                os.makedirs(os.path.join(out, split, motion), exist_ok=True)
    for job in _jobs(seed, counts, pools):
        rel = _write_one(job, pools[job[0]], out, seed, size, frames, fps)
        lines[job[0]].append(f"{rel},{job[2]}")
    for split in SPLITS:
        if lines[split]:
            with open(os.path.join(out, f"{split}.csv"), "w") as f:
                f.write("\n".join(lines[split]) + "\n")
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.write("\n".join(MOTIONS) + "\n")
    meta = {"classes": list(MOTIONS), "videos_per_class": counts, "frames": frames, "size": size, "fps": fps,
            "seed": seed, "codec": "H.264 (libx264, crf 18, yuv420p) in MP4",
            "source": "Fashion-MNIST items (train split for train; test split halves for val and test)",
            "note": "the motion is synthetic; the images are real Fashion-MNIST items"}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return meta


def register(subparsers) -> None:
    """``rmeeto make-video-set``."""
    p = subparsers.add_parser("make-video-set", help="write a small action set of H.264 MP4s from Fashion-MNIST",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the videos and list files into")
    p.add_argument("--per-class", type=int, default=100, help="train videos per class (default: 100)")
    p.add_argument("--val-per-class", type=int, default=None, help="default: per-class // 4")
    p.add_argument("--test-per-class", type=int, default=None, help="default: per-class // 4")
    p.add_argument("--frames", type=int, default=16, help="frames per video (default: 16)")
    p.add_argument("--size", type=int, default=64, help="frame side in pixels (even)")
    p.add_argument("--fps", type=int, default=8, help="frames per second written in the MP4s (default: 8)")
    p.add_argument("--seed", type=int, default=0, help="seeds the choice of images and motions")
    p.add_argument("--fashion-dir", default=None, help="Fashion-MNIST IDX folder "
                   "(default $RMEETO_FASHION_MNIST, else /usr/share/datasets/fashion-mnist)")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    try:
        meta = make_motion_video_set(args.out, args.per_class, args.val_per_class, args.test_per_class,
                                     args.frames, args.size, args.fps, args.seed, args.fashion_dir)
    except (DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    n = meta["videos_per_class"]
    print(f"wrote {len(MOTIONS)} classes x (train {n['train']}, val {n['val']}, test {n['test']}) "
          f"MP4s of {meta['frames']} frames at {meta['size']}px to {args.out} (train.csv, val.csv, test.csv)")
    return 0
