"""Vision Mamba (hustvl/Vim), checkpoint-compatible: same module names, shapes and numerics.

image -> conv patch embed -> class token inserted at M//2 -> + pos_embed -> 24 blocks of
(add -> RMSNorm -> bidirectional mixer, fp32 residual) -> add -> RMSNorm (norm_f) -> head on
the class token.

A block receives ``(hidden, residual, state)``; :class:`TokenState` carries the per-forward
token bookkeeping (class-token index, token sizes, ...) that token merging updates. An
unpatched model never changes it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from ..ops.bimamba import SSMAux
from ..ops.dispatch import add_norm, resolve_backend
from ..ops.norm import rms_norm_ref
from .mixer import BiMambaMixer
from .patchify import is_patchify, patchify_linear


@dataclass
class TokenState:
    """Per-forward token bookkeeping passed from block to block."""

    cls_index: int
    size: Optional[Tensor] = None  # (B, T, 1) patches per token; None means all ones
    aux: Optional[SSMAux] = None  # the previous block's SSM quantities, when a metric needs them
    want_aux: bool = False
    groups: Optional[Tensor] = None  # (B, num_patches + 1): token index of each original token
    token_counts: list = field(default_factory=list)
    schedule: list = field(default_factory=list)  # r per block, set by a patch
    merge_impl: str = "auto"  # auto, torch or triton; set by a patch (dispatch.merge_impl)


class RMSNorm(nn.Module):
    """RMSNorm computed in fp32 (as mamba_ssm's reference), weight only."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm_ref(x, self.weight, self.eps)


class DropPath(nn.Module):
    """Stochastic depth per sample."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class PatchEmbed(nn.Module):
    """Conv2d patch embedding; ``stride`` may be smaller than ``patch_size`` (overlapping patches)."""

    def __init__(self, img_size: int = 224, patch_size: int = 16, stride: int = 16, in_chans: int = 3,
                 embed_dim: int = 192):
        super().__init__()
        self.img_size, self.patch_size, self.stride, self.in_chans = img_size, patch_size, stride, in_chans
        if img_size < patch_size:
            raise ValueError(f"img_size={img_size} is smaller than patch_size={patch_size}")
        side = (img_size - patch_size) // stride + 1
        self.grid_size = (side, side)
        self.num_patches = side * side
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=stride)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"expected images of shape (batch, {self.in_chans}, {self.img_size}, "
                             f"{self.img_size}), got a tensor of shape {tuple(x.shape)}")
        _, c, h, w = x.shape
        if c != self.in_chans:
            raise ValueError(f"the model takes {self.in_chans}-channel images but got {c} channels; "
                             f"convert the input or build the model with channels={c}")
        if (h, w) != (self.img_size, self.img_size):
            raise ValueError(f"the model takes {self.img_size}x{self.img_size} images but got {h}x{w}; "
                             f"resize the input or build the model with img_size={h} (pretrained "
                             f"position embeddings are resized on load)")
        if is_patchify(self.proj):
            return patchify_linear(x, self.proj).flatten(1, 2)
        return self.proj(x).flatten(2).transpose(1, 2)


class Block(nn.Module):
    """add -> RMSNorm -> mixer, with the residual stream kept in fp32 (Vim's Block)."""

    def __init__(self, dim: int, d_state: int = 16, drop_path: float = 0.0, layer_idx: int = 0,
                 norm_eps: float = 1e-5, divide_out: bool = True):
        super().__init__()
        self.layer_idx = layer_idx
        self.mixer = BiMambaMixer(dim, d_state=d_state, divide_out=divide_out)
        self.norm = RMSNorm(dim, eps=norm_eps)
        self.drop_path = DropPath(drop_path)

    def forward(self, hidden: Tensor, residual: Optional[Tensor], state: TokenState,
                backend: Optional[str] = None):
        normed, residual = add_norm(self.drop_path(hidden), residual, self.norm.weight, self.norm.eps, backend)
        return self.mix(normed, residual, state, backend)

    def mix(self, normed: Tensor, residual: Tensor, state: TokenState, backend: Optional[str] = None):
        """The mixer on the normed tokens; the residual stream passes through."""
        hidden, aux = self.mixer(normed, backend=backend, want_aux=state.want_aux)
        state.aux = aux
        return hidden, residual


class VisionMamba(nn.Module):
    """Vim with a middle class token, absolute position embedding and bimamba-v2 blocks.

    Subclasses change the family's fixed traits through :attr:`divide_out` (whether the mixer
    averages its two directions), :meth:`make_patch_embed`, :meth:`cls_position` and :meth:`embed`.
    """

    divide_out = True

    def __init__(self, img_size: int = 224, patch_size: int = 16, stride: int = 16, depth: int = 24,
                 embed_dim: int = 192, d_state: int = 16, channels: int = 3, num_classes: int = 1000,
                 drop_rate: float = 0.0, drop_path_rate: float = 0.0, norm_epsilon: float = 1e-5,
                 backend: Optional[str] = None):
        super().__init__()
        self.num_classes, self.embed_dim, self.depth, self.d_state = num_classes, embed_dim, depth, d_state
        self.num_features = embed_dim
        self.img_size, self.in_chans = img_size, channels
        self.backend = backend  # None: $RMEETO_BACKEND or automatic per device
        self.rmeeto_config: dict = {}

        self.patch_embed = self.make_patch_embed(img_size, patch_size, stride, channels, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, embed_dim))
        self.pos_drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        dpr = [0.0] + torch.linspace(0, drop_path_rate, depth, device="cpu").tolist()  # first block: none
        self.layers = nn.ModuleList(
            Block(embed_dim, d_state, drop_path=dpr[i], layer_idx=i, norm_eps=norm_epsilon,
                  divide_out=self.divide_out) for i in range(depth))
        self.norm_f = RMSNorm(embed_dim, eps=norm_epsilon)
        self.drop_path = DropPath(drop_path_rate)
        self._init_weights()

    def make_patch_embed(self, img_size: int, patch_size: int, stride: int, channels: int,
                         embed_dim: int) -> nn.Module:
        return PatchEmbed(img_size, patch_size, stride, channels, embed_dim)

    @staticmethod
    def cls_position(num_patches: int) -> int:
        """Index of the class token among ``num_patches + 1`` tokens (Vim: the middle)."""
        return num_patches // 2

    @property
    def num_tokens(self) -> int:
        """Tokens entering the first block: patches plus the class token."""
        return self.patch_embed.num_patches + 1

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input without the batch dimension: (channels, height, width)."""
        return (self.in_chans, self.img_size, self.img_size)

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        # patch embed: lecun normal (as timm's segm init); head: trunc normal 0.02
        w = self.patch_embed.proj.weight
        fan_in = w[0].numel()
        nn.init.trunc_normal_(w, std=math.sqrt(1.0 / fan_in) / 0.87962566103423978)
        nn.init.zeros_(self.patch_embed.proj.bias)
        if isinstance(self.head, nn.Linear):
            nn.init.trunc_normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)
        for blk in self.layers:  # mamba_ssm's _init_weights with prenorm residual rescaling
            out = blk.mixer.out_proj.weight
            nn.init.kaiming_uniform_(out, a=math.sqrt(5))
            with torch.no_grad():
                out /= math.sqrt(self.depth)

    def no_weight_decay(self) -> set:
        return {"pos_embed", "cls_token"}

    def embed(self, x: Tensor) -> tuple[Tensor, int]:
        """Patch embed, insert the class token at M//2, add the position embedding."""
        x = self.patch_embed(x)
        b, m, _ = x.shape
        cls_index = self.cls_position(m)
        x = torch.cat([x[:, :cls_index], self.cls_token.expand(b, -1, -1).to(x.dtype), x[:, cls_index:]], dim=1)
        return self.pos_drop(x + self.pos_embed), cls_index

    def new_state(self, cls_index: int) -> TokenState:
        """Fresh per-forward bookkeeping; a patch overrides this to ask for more."""
        return TokenState(cls_index=cls_index)

    def forward_tokens(self, x: Tensor) -> tuple[Tensor, TokenState]:
        """Run every block; returns the final-normed tokens and the final token state."""
        hidden, cls_index = self.embed(x)
        state = self.new_state(cls_index)
        backend = resolve_backend(x.device.type, self.backend)  # once per forward
        residual = None
        for layer in self.layers:
            hidden, residual = layer(hidden, residual, state, backend=backend)
            state.token_counts.append(hidden.shape[1])
        tokens, _ = add_norm(self.drop_path(hidden), residual, self.norm_f.weight, self.norm_f.eps, backend)
        return tokens, state

    def forward_features(self, x: Tensor) -> Tensor:
        """The class-token feature after the final norm, (batch, embed_dim)."""
        tokens, state = self.forward_tokens(x)
        if isinstance(state.cls_index, int):
            return tokens[:, state.cls_index]
        return tokens[torch.arange(tokens.shape[0], device=tokens.device), state.cls_index]

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.forward_features(x))
