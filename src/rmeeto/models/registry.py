"""``create_model(name, pretrained=..., **overrides)``: one entry point for every registered model."""
from __future__ import annotations

import difflib
import inspect
import os
from typing import Optional, Union

from ..checkpoint import load_checkpoint
from ..hub import resolve_pretrained
from .videomamba import VideoMamba
from .vim import VisionMamba

_REGISTRY: dict[str, dict] = {}
_CLASSES: dict[str, type] = {}
_ALIASES: dict[str, str] = {}
_OFFICIAL_SUFFIX = "_bimambav2_final_pool_mean_abs_pos_embed_with_midclstok_div2"


def register_model(name: str, aliases: tuple = (), model_class: type = VisionMamba, **cfg) -> None:
    """Register a configuration (constructor kwargs of ``model_class``) under ``name``."""
    _REGISTRY[name] = cfg
    _CLASSES[name] = model_class
    for a in aliases:
        _ALIASES[a] = name


def list_models(include_aliases: bool = False) -> list[str]:
    names = sorted(_REGISTRY)
    return names + sorted(_ALIASES) if include_aliases else names


def _vim(name: str, embed_dim: int, stride: int = 16) -> None:
    register_model(name, aliases=(name + _OFFICIAL_SUFFIX,), img_size=224, patch_size=16, stride=stride,
                   depth=24, embed_dim=embed_dim, d_state=16, channels=3, num_classes=1000)


_vim("vim_tiny_patch16_224", 192)
_vim("vim_small_patch16_224", 384)
_vim("vim_base_patch16_224", 768)
_vim("vim_tiny_patch16_stride8_224", 192, stride=8)
_vim("vim_small_patch16_stride8_224", 384, stride=8)


def _videomamba(size: str, embed_dim: int, depth: int) -> None:
    """K400 video models (8 frames; the official names are those of OpenGVLab's video registry) and
    their ImageNet counterparts (the same network on images, class token first)."""
    common = dict(model_class=VideoMamba, img_size=224, patch_size=16, depth=depth, embed_dim=embed_dim,
                  d_state=16, channels=3)
    register_model(f"videomamba_{size}_patch16_224", aliases=(f"videomamba_{size}",), num_frames=8,
                   kernel_size=1, num_classes=400, **common)
    register_model(f"videomamba_{size}_patch16_224_in1k", num_frames=0, num_classes=1000, **common)


_videomamba("tiny", 192, 24)
_videomamba("small", 384, 24)
_videomamba("middle", 576, 32)
register_model("videomamba_base_patch16_224_in1k", model_class=VideoMamba, img_size=224, patch_size=16, depth=24,
               embed_dim=768, d_state=16, channels=3, num_frames=0, num_classes=1000)

_ARG_ALIASES = {"in_chans": "channels", "drop_path": "drop_path_rate"}


def _allowed(model_class: type) -> set:
    return set(inspect.signature(model_class.__init__).parameters) - {"self"}


def resolve_config(name: str, **overrides) -> tuple[str, dict]:
    """Canonical name and the full constructor kwargs for ``name`` with ``overrides`` applied."""
    canonical = _ALIASES.get(name, name)
    if canonical not in _REGISTRY:
        close = difflib.get_close_matches(name, list_models(), n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Known models: {', '.join(list_models())}")
    cfg = dict(_REGISTRY[canonical])
    allowed = _allowed(_CLASSES[canonical])
    for key, value in overrides.items():
        if value is None:
            continue
        key = _ARG_ALIASES.get(key, key)
        if key not in allowed:
            raise TypeError(f"create_model got an unknown option {key!r} for {canonical}; allowed: {sorted(allowed)}")
        cfg[key] = value
    return canonical, cfg


def model_class(name: str) -> type:
    """The class that builds registered model ``name``."""
    return _CLASSES[resolve_config(name)[0]]


def create_model(name: str, pretrained: Union[bool, str, os.PathLike, None] = None,
                 num_classes: Optional[int] = None, img_size: Optional[int] = None,
                 checkpoint_key: str = "auto", strict: bool = True, trust_checkpoint: bool = False,
                 inflate: str = "center", **overrides) -> VisionMamba:
    """Build a registered model; optionally load ``pretrained`` weights.

    ``pretrained``: ``True`` (the model's default weights on the Hugging Face Hub, see
    :mod:`rmeeto.hub`), ``"hf-hub:ORG/REPO[:FILE]"``, or a local checkpoint path.
    ``num_classes``/``img_size``/``num_frames`` differing from the checkpoint replace the head /
    resize the position embedding / interpolate the temporal embedding. A 2-D (image) checkpoint
    loads into a video model by inflating its patch embedding (``inflate="center"`` or
    ``"average"``). A checkpoint written by ``rmeeto train`` also restores its token-merging patch.
    ``trust_checkpoint=True`` allows full unpickling of a file you trust (it can run code).
    """
    canonical, cfg = resolve_config(name, num_classes=num_classes, img_size=img_size, **overrides)
    path = None
    if pretrained:
        path = resolve_pretrained(pretrained, canonical)  # fails before the model is built
    model = _CLASSES[canonical](**cfg)
    model.rmeeto_config = {"name": canonical, "kwargs": {k: v for k, v in cfg.items()}}
    if path is not None:
        load_checkpoint(model, path, key=checkpoint_key, strict=strict, apply_patch=True,
                        trust_checkpoint=trust_checkpoint, inflate=inflate)
    return model
