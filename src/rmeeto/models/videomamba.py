"""VideoMamba (OpenGVLab), checkpoint-compatible, as a configuration of :class:`VisionMamba`.

The blocks, mixer and fast paths are Vim's. What differs:

- the class token sits at index 0 and the mixer sums its two directions (no division by 2);
- video models (``num_frames > 0``) embed (B, C, T, H, W) clips with a Conv3d tubelet of
  ``kernel_size`` frames; the spatial ``pos_embed`` is shared by every frame and
  ``temporal_pos_embedding`` adds one row per tubelet; tokens are flattened frame by frame
  after the class token (1 + T/k * H/p * W/p tokens: 1569 for 8 frames of 224 px);
- image models (``num_frames=0``, the ImageNet checkpoints) use Vim's 2-D patch embedding and
  ``pos_embed`` only.

Official checkpoints load unchanged; :meth:`VideoMamba.adapt_checkpoint` inflates a 2-D patch
embedding to 3-D and interpolates the temporal embedding to another number of frames.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .patchify import patchify_linear
from .vim import VisionMamba

INFLATE_MODES = ("center", "average")


class TubeletEmbed(nn.Module):
    """Conv3d patch embedding over ``kernel_size`` frames x ``patch_size`` pixels: (B, T', N, D)."""

    def __init__(self, img_size: int = 224, patch_size: int = 16, kernel_size: int = 1, num_frames: int = 8,
                 in_chans: int = 3, embed_dim: int = 192):
        super().__init__()
        if img_size < patch_size:
            raise ValueError(f"img_size={img_size} is smaller than patch_size={patch_size}")
        if kernel_size < 1 or num_frames % kernel_size:
            raise ValueError(f"num_frames={num_frames} must be a multiple of kernel_size={kernel_size}")
        side = img_size // patch_size
        self.img_size, self.patch_size, self.in_chans = img_size, patch_size, in_chans
        self.kernel_size, self.clip_frames = kernel_size, num_frames
        self.grid_size = (side, side)
        self.num_patches = side * side  # per frame, as the spatial pos_embed counts them
        self.num_frames = num_frames // kernel_size  # tubelets along time
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=(kernel_size, patch_size, patch_size),
                              stride=(kernel_size, patch_size, patch_size))

    def forward(self, x: Tensor) -> Tensor:
        want = (self.in_chans, self.clip_frames, self.img_size, self.img_size)
        if x.dim() != 5 or tuple(x.shape[1:]) != want:
            raise ValueError(f"the model takes clips of shape (batch, {', '.join(map(str, want))}) = "
                             f"(batch, channels, frames, height, width), got {tuple(x.shape)}; build the model "
                             f"with channels/num_frames/img_size matching the input")
        return patchify_linear(x, self.proj).flatten(2, 3)  # (B, T', H'W', D)


class VideoMamba(VisionMamba):
    """VideoMamba for clips (``num_frames > 0``) or images (``num_frames=0``); see the module doc."""

    divide_out = False

    def __init__(self, img_size: int = 224, patch_size: int = 16, stride: Optional[int] = None, depth: int = 24,
                 embed_dim: int = 192, d_state: int = 16, channels: int = 3, num_classes: int = 400,
                 drop_rate: float = 0.0, drop_path_rate: float = 0.0, norm_epsilon: float = 1e-5,
                 kernel_size: int = 1, num_frames: int = 8, fc_drop_rate: float = 0.0,
                 backend: Optional[str] = None):
        if num_frames and stride not in (None, patch_size):
            raise ValueError("video models take no stride: their tubelets do not overlap (stride=patch_size)")
        super().__init__(img_size=img_size, patch_size=patch_size, stride=stride or patch_size, depth=depth,
                         embed_dim=embed_dim, d_state=d_state, channels=channels, num_classes=num_classes,
                         drop_rate=drop_rate, drop_path_rate=drop_path_rate, norm_epsilon=norm_epsilon,
                         backend=backend)
        self.num_frames, self.kernel_size = num_frames, kernel_size
        self.head_drop = nn.Dropout(fc_drop_rate)
        if num_frames:
            self.patch_embed = TubeletEmbed(img_size, patch_size, kernel_size, num_frames, channels, embed_dim)
            self.temporal_pos_embedding = nn.Parameter(torch.zeros(1, self.patch_embed.num_frames, embed_dim))
            self._init_weights()

    @staticmethod
    def cls_position(num_patches: int) -> int:
        return 0

    @property
    def num_tokens(self) -> int:
        return self.patch_embed.num_patches * getattr(self.patch_embed, "num_frames", 1) + 1

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.num_frames:
            return (self.in_chans, self.num_frames, self.img_size, self.img_size)
        return super().input_shape

    def no_weight_decay(self) -> set:
        return super().no_weight_decay() | ({"temporal_pos_embedding"} if self.num_frames else set())

    def embed(self, x: Tensor) -> tuple[Tensor, int]:
        """Tubelet embed, add the shared spatial and the temporal embeddings, class token first."""
        if not self.num_frames:
            return super().embed(x)
        x = self.patch_embed(x)  # (B, T', N, D)
        b, t, n, d = x.shape
        x = x + self.pos_embed[:, None, 1:].to(x.dtype)  # the spatial embedding, shared by the frames
        x = x + self.temporal_pos_embedding[:, :, None].to(x.dtype)  # row t for every patch of frame t
        cls = (self.cls_token + self.pos_embed[:, :1]).to(x.dtype).expand(b, -1, -1)
        return self.pos_drop(torch.cat([cls, x.reshape(b, t * n, d)], dim=1)), 0

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.head_drop(self.forward_features(x)))

    def adapt_checkpoint(self, sd: dict[str, Tensor], inflate: str = "center") -> dict[str, Tensor]:
        """Fit an official state dict to this model's frames: inflate a 2-D patch embedding (and
        start ``temporal_pos_embedding`` at zeros), or interpolate the temporal embedding linearly."""
        if not self.num_frames:
            return sd
        sd = dict(sd)
        w = sd.get("patch_embed.proj.weight")
        if w is not None and w.dim() == 4:
            sd["patch_embed.proj.weight"] = inflate_patch_weight(w, self.kernel_size, inflate)
            sd.setdefault("temporal_pos_embedding", torch.zeros_like(self.temporal_pos_embedding.detach()))
        tpe = sd.get("temporal_pos_embedding")
        if tpe is not None and tpe.dim() == 3 and tpe.shape[-1] == self.embed_dim \
                and tpe.shape[1] != self.patch_embed.num_frames:
            sd["temporal_pos_embedding"] = resize_temporal_embedding(tpe, self.patch_embed.num_frames)
        return sd


def inflate_patch_weight(weight: Tensor, frames: int, mode: str = "center") -> Tensor:
    """(D, C, p, p) -> (D, C, frames, p, p): the 2-D kernel at frame ``frames // 2`` and zeros elsewhere
    (``center``), or the kernel divided by ``frames`` at every frame (``average``)."""
    if mode not in INFLATE_MODES:
        raise ValueError(f"unknown inflate={mode!r}; choose one of {INFLATE_MODES}")
    if mode == "average":
        return weight.unsqueeze(2).repeat(1, 1, frames, 1, 1) / frames
    out = weight.new_zeros(weight.shape[0], weight.shape[1], frames, *weight.shape[2:])
    out[:, :, frames // 2] = weight
    return out


def resize_temporal_embedding(tpe: Tensor, frames: int) -> Tensor:
    """Linear interpolation of a (1, T, D) temporal embedding to ``frames`` rows."""
    out = F.interpolate(tpe.float().transpose(1, 2), size=frames, mode="linear", align_corners=False)
    return out.transpose(1, 2).to(tpe.dtype)
