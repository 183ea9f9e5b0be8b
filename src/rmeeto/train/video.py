"""What ``rmeeto train``/``eval`` add for video models: multi-view forward, layer-wise lr decay,
the video dataset options, and the count of skipped videos."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.utils.data import Dataset, Subset

from ..data.errors import DataError
from ..data.sampler import SeededDataset
from ..data.video import VideoDataset, parse_views
from .config import DataConfig
from .dist import DistInfo, all_reduce_sum
from .errors import TrainError

VIEW_AVERAGES = ("logits", "softmax")


def forward_views(model: nn.Module, x: torch.Tensor, average: str = "logits") -> torch.Tensor:
    """Logits of a batch: ``model(x)`` for images and single clips; for ``(B, V, C, T, H, W)``
    multi-view clips, the mean over the ``V`` views of their logits (``average="softmax"``: the log
    of the mean of their softmax, as the official test merge averages probabilities). The views
    go through the model ``B`` clips at a time, so memory is that of a batch of ``B`` clips. An
    empty batch (every video skipped) gives empty logits."""
    if average not in VIEW_AVERAGES:
        raise ValueError(f"view average must be one of {VIEW_AVERAGES}, got {average!r}")
    if x.numel() == 0:
        return torch.zeros(0, int(getattr(model, "num_classes", 1)), device=x.device)
    if x.dim() != 6:
        return model(x)
    b, v = x.shape[:2]
    flat = x.flatten(0, 1)
    out = torch.cat([model(flat[i:i + b]) for i in range(0, b * v, b)]).view(b, v, -1)
    if average == "softmax":
        return out.float().softmax(-1).mean(1).log()
    return out.float().mean(1)


def layer_id(name: str, num_layers: int) -> int:
    """Depth of a parameter for layer decay, as the official VideoMamba/VideoMAE fine-tuning assigns
    it: class token, ``pos_embed`` and patch embedding 0, block ``i`` (``layers.i``, ``blocks.i``)
    ``i + 1``, the rest ``num_layers + 1``. Like the official code (whose name list has
    ``temporal_positional_embedding``), this leaves VideoMamba's ``temporal_pos_embedding`` at the top rate."""
    if name in ("cls_token", "mask_token", "pos_embed") or name.startswith("patch_embed"):
        return 0
    if name.startswith(("layers.", "blocks.")):
        return int(name.split(".")[1]) + 1
    return num_layers + 1


def apply_layer_decay(groups: list[dict], model: nn.Module, decay: float) -> list[dict]:
    """Split optimizer parameter groups by depth and give each ``lr_scale = decay ** (L + 1 - depth)``
    (:class:`CosineWarmupLR` multiplies it in). ``decay == 1`` returns ``groups`` unchanged. The
    top group (scale 1) comes first, so the logged lr of group 0 is the base lr."""
    if not 0 < decay <= 1:
        raise TrainError(f"--layer-decay must be in (0, 1], got {decay}")
    if decay == 1.0:
        return groups
    blocks = getattr(model, "layers", None) or getattr(model, "blocks", None)
    if blocks is None:
        raise TrainError(f"--layer-decay needs a model whose blocks are .layers or .blocks; "
                         f"{type(model).__name__} has neither")
    num_layers = len(blocks)
    names = {id(p): n for n, p in model.named_parameters()}
    out = []
    for g in groups:
        by_depth: dict[int, list] = {}
        for p in g["params"]:
            by_depth.setdefault(layer_id(names[id(p)], num_layers), []).append(p)
        for depth, params in by_depth.items():
            rest = {k: v for k, v in g.items() if k != "params"}
            out.append({**rest, "params": params, "lr_scale": decay ** (num_layers + 1 - depth), "depth": depth})
    return sorted(out, key=lambda g: -g["depth"])


def video_options(data: DataConfig, model: nn.Module, name: str, num_sample: int = 1) -> Optional[dict]:
    """The ``video=`` options of :func:`rmeeto.data.build_dataset` for ``--dataset video`` (``name``:
    the model's, for the message when it takes images), else None."""
    if data.dataset != "video":
        return None
    num_frames = getattr(model, "num_frames", 0)
    if not num_frames:
        raise DataError(f"--dataset video needs a video model (e.g. videomamba_tiny_patch16_224); "
                        f"--model {name} takes images")
    return {"num_frames": int(num_frames), "test_views": parse_views(data.test_views),
            "num_sample": int(num_sample), "prefix": data.video_prefix,
            "sep": data.list_sep, "min_frames": data.min_frames, "short_side": data.short_side}


def _video_base(ds: Dataset) -> Optional[VideoDataset]:
    while isinstance(ds, (Subset, SeededDataset)):
        ds = ds.dataset
    return ds if isinstance(ds, VideoDataset) else None


def skipped_videos(info: Optional[DistInfo], *datasets: Dataset) -> dict:
    """Videos skipped since the previous call (unreadable, too short), summed over the datasets
    and all ranks, and printed on rank 0 when there are any. ``{}`` when no dataset holds videos.
    A video counts once per time it was asked for (a bad val video, once per evaluation)."""
    bases = [b for b in (_video_base(d) for d in datasets) if b is not None]
    if not bases:
        return {}
    kinds = VideoDataset.SKIP_KINDS
    t = torch.zeros(len(kinds), dtype=torch.float64, device=info.device if info is not None else "cpu")
    for b in bases:
        new = b.skips.since_last()
        t += torch.tensor([new[k] for k in kinds], dtype=torch.float64, device=t.device)
    if info is not None:
        all_reduce_sum(t, info)
    out = {f"skipped_{k}": int(v) for k, v in zip(kinds, t.tolist())}
    if any(out.values()) and (info is None or info.is_main):
        print(f"skipped videos: {out['skipped_unreadable']} unreadable, {out['skipped_too_short']} too short "
              f"(another video took their place in training; left out of evaluation)", flush=True)
    return out
