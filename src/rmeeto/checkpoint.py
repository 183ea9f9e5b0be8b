"""Checkpoint I/O: official Vim ``.pth`` files, ``.safetensors``, and rmeeto training checkpoints.

Loading adapts, but never bends the model: ``module.`` prefixes are stripped, the position
embedding is resized around its class token (Vim's in the middle, VideoMamba's first), a head of
another size is replaced, and a model family's own ``adapt_checkpoint`` (VideoMamba: 2-D to 3-D
inflation, temporal interpolation) runs last. Anything else that does not match is refused with the
names of the offending keys.

Reading never runs code from the file: torch files load with ``weights_only=True`` and a short
allow-list (:func:`safe_globals`); full unpickling needs ``trust_checkpoint=True``.
"""
from __future__ import annotations

import logging
import math
import os
import pickle
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Callable, Optional

import argparse

import numpy as np
import torch
import torch.nn.functional as F
import safetensors.torch
from torch import Tensor, nn

from .patch import patch, patch_settings

log = logging.getLogger("rmeeto.checkpoint")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not fit the model."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint that only full unpickling could read, refused because it was not trusted."""


class TrustedCheckpointWarning(UserWarning):
    """A checkpoint was fully unpickled because the caller trusted it: it could run code."""


TRUST_HINT = "if you trust the file, pass --trust-checkpoint (Python: trust_checkpoint=True)"


def _numpy_globals() -> list:
    """NumPy scalars and numeric dtypes: they rebuild a number and nothing else."""
    core = getattr(np, "_core", None) or np.core
    scalar = core.multiarray.scalar
    names = ["Bool", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64",
             "Long", "ULong", "LongLong", "ULongLong", "Float16", "Float32", "Float64", "Complex64",
             "Complex128"]
    dtypes = getattr(np, "dtypes", None)  # NumPy >= 1.25 pickles dtypes by their class
    classes = [getattr(dtypes, n + "DType") for n in names if hasattr(dtypes, n + "DType")]
    # a file written under NumPy 1.x names numpy.core, one written under 2.x numpy._core
    return [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar"),
            np.dtype, *classes]


def safe_globals() -> list:
    """The non-tensor types :func:`read_checkpoint` lets ``torch.load(weights_only=True)`` rebuild:
    ``argparse.Namespace`` (the training arguments beside the weights in the official Vim and
    DeiT-style files) and NumPy scalars with their dtypes (metrics some training scripts store)."""
    return [argparse.Namespace, *_numpy_globals()]


def _refusal(path: Path, error: Exception) -> Optional[str]:
    """Why ``torch.load(weights_only=True)`` refused ``path``, or None if the file is just unreadable."""
    text = str(error)
    if not isinstance(error, pickle.UnpicklingError) or "Weights only load failed" not in text:
        return None
    found = re.search(r"GLOBAL ([\w.]+)", text) or re.search(r"but got <class '([^']+)'>", text)
    if found:
        return f"it needs {found.group(1)}, which is not on the safe-load list (unpickling it could run code)"
    with open(path, "rb") as f:
        is_pickle = f.read(1) == b"\x80"  # a pickle stream (a plain pickle or a legacy torch.save)
    operand = re.search(r"Unsupported operand \d+", text)
    if is_pickle and operand:
        return f"it is a pickle the safe loader cannot read ({operand.group(0)})"
    return None


def read_checkpoint(path: str | os.PathLike, trust_checkpoint: bool = False) -> Any:
    """Read a ``.pth``/``.pt``/``.bin`` (torch) or ``.safetensors`` file into Python objects.

    Torch files load with ``weights_only=True``: tensors, plain containers and :func:`safe_globals`
    only, so a crafted file cannot run code. Anything else raises :class:`UnsafeCheckpointError`
    naming the refused type. ``trust_checkpoint=True`` unpickles fully instead (which runs whatever
    code the file holds) and warns with :class:`TrustedCheckpointWarning`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        if path.suffix == ".safetensors":
            return safetensors.torch.load_file(str(path))
        if trust_checkpoint:
            warnings.warn(f"fully unpickling {path} as trusted (--trust-checkpoint / trust_checkpoint=True): "
                          "any code in the file runs now", TrustedCheckpointWarning, stacklevel=2)
            return torch.load(path, map_location="cpu", weights_only=False)
        with torch.serialization.safe_globals(safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (FileNotFoundError, CheckpointError):
        raise
    except Exception as e:
        reason = None if trust_checkpoint else _refusal(path, e)
        if reason:
            raise UnsafeCheckpointError(f"refused to load {path}: {reason}; {TRUST_HINT}") from None
        raise CheckpointError(f"could not read checkpoint {path}: {type(e).__name__}: {_first_line(e)}. The "
                              f"file is corrupt, truncated, or not a PyTorch/safetensors checkpoint.") from e


def _first_line(error: Exception) -> str:
    """The informative line of an error; for torch's weights-only failures, the unpickler's reason."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    for i, line in enumerate(lines[:-1]):
        if line.endswith("WeightsUnpickler error:"):
            return lines[i + 1]
    return lines[0] if lines else ""


def extract_state_dict(obj: Any, key: str = "auto") -> dict[str, Tensor]:
    """The state dict inside ``obj``: under ``key`` ('model', 'model_ema', ...), or the raw dict.

    ``key='auto'`` takes 'model', then 'state_dict', then 'module' (DeepSpeed-style files), then the
    object itself. ``module.`` prefixes
    (DistributedDataParallel) are removed.
    """
    if not isinstance(obj, dict):
        raise CheckpointError(f"expected a dict in the checkpoint, found {type(obj).__name__}")
    if key == "auto":
        for k in ("model", "state_dict", "module"):
            if k in obj and isinstance(obj[k], dict):
                obj = obj[k]
                break
    else:
        if key not in obj or obj[key] is None:
            raise CheckpointError(f"checkpoint has no {key!r} entry; it has {sorted(map(str, obj))}")
        obj = obj[key]
    sd = {k: v for k, v in obj.items() if isinstance(v, Tensor)}
    if not sd:
        raise CheckpointError("checkpoint holds no tensors")
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def _middle(num_patches: int) -> int:
    return num_patches // 2


def resize_pos_embed(pos_embed: Tensor, num_patches: int, grid: Optional[tuple[int, int]] = None,
                     cls_position: Callable[[int], int] = _middle) -> Tensor:
    """Resize a (1, M+1, C) position embedding (bicubic); the class-token row, at index
    ``cls_position(M)`` (Vim: the middle, VideoMamba: 0), is kept as it is."""
    old_m = pos_embed.shape[1] - 1
    if old_m == num_patches:
        return pos_embed
    old_side = math.isqrt(old_m)
    if old_side * old_side != old_m:
        raise CheckpointError(f"cannot resize a position embedding of {old_m} patches: not a square grid")
    new_h, new_w = grid or (math.isqrt(num_patches),) * 2
    if new_h * new_w != num_patches:
        raise CheckpointError(f"cannot resize the position embedding to {num_patches} patches without a grid")
    c_old, c_new = cls_position(old_m), cls_position(num_patches)
    cls = pos_embed[:, c_old:c_old + 1]
    patches = torch.cat([pos_embed[:, :c_old], pos_embed[:, c_old + 1:]], dim=1)
    patches = patches.reshape(1, old_side, old_side, -1).permute(0, 3, 1, 2).float()
    patches = F.interpolate(patches, size=(new_h, new_w), mode="bicubic", align_corners=False)
    patches = patches.permute(0, 2, 3, 1).reshape(1, num_patches, -1).to(pos_embed.dtype)
    return torch.cat([patches[:, :c_new], cls, patches[:, c_new:]], dim=1)


def adapt_state_dict(sd: dict[str, Tensor], model: nn.Module, inflate: str = "center") -> dict[str, Tensor]:
    """Resize the position embedding, drop a head of another size (kept at its init), then apply the
    model's own ``adapt_checkpoint(sd, inflate)`` if it has one."""
    sd = dict(sd)
    own = model.state_dict()
    if "pos_embed" in sd and "pos_embed" in own and sd["pos_embed"].shape != own["pos_embed"].shape \
            and sd["pos_embed"].shape[-1] == own["pos_embed"].shape[-1]:
        grid = getattr(getattr(model, "patch_embed", None), "grid_size", None)
        sd["pos_embed"] = resize_pos_embed(sd["pos_embed"], own["pos_embed"].shape[1] - 1, grid,
                                           getattr(model, "cls_position", _middle))
        log.info("resized pos_embed %s -> %s", tuple(sd["pos_embed"].shape), tuple(own["pos_embed"].shape))
    for k in ("head.weight", "head.bias"):
        if k in sd and k in own and sd[k].shape != own[k].shape and sd[k].shape[1:] == own[k].shape[1:]:
            log.info("replacing %s: checkpoint has %d classes, the model %d", k, sd[k].shape[0], own[k].shape[0])
            sd.pop(k)
            sd[k] = own[k].clone()
    adapt = getattr(model, "adapt_checkpoint", None)
    return adapt(sd, inflate) if adapt is not None else sd


def check_state_dict(sd: dict[str, Tensor], model: nn.Module) -> None:
    """Raise a :class:`CheckpointError` naming missing, unexpected and mis-shaped keys."""
    own = model.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    shaped = sorted(f"{k}: checkpoint {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
                    for k in set(sd) & set(own) if sd[k].shape != own[k].shape)
    if missing or unexpected or shaped:
        def show(xs):
            return ", ".join(xs[:8]) + (f" ... (+{len(xs) - 8} more)" if len(xs) > 8 else "") if xs else "none"
        name = getattr(model, "rmeeto_config", {}).get("name", type(model).__name__)
        raise CheckpointError(
            f"checkpoint does not match model {name}:\n  missing keys: {show(missing)}\n"
            f"  unexpected keys: {show(unexpected)}\n  mis-shaped keys: {show(shaped)}\n"
            "Build the model the checkpoint was trained with (e.g. the right size, stride or "
            "--model-kwargs), or pass strict=False to load what fits.")


def load_checkpoint(model: nn.Module, path: str | os.PathLike, key: str = "auto", strict: bool = True,
                    apply_patch: bool = True, trust_checkpoint: bool = False, inflate: str = "center") -> nn.Module:
    """Load weights from ``path`` into ``model`` (see module doc); returns the model.

    ``trust_checkpoint=True`` lets a file that holds other objects than tensors be fully unpickled
    (see :func:`read_checkpoint`); only pass it for files from a source you trust. ``inflate`` picks
    how a 2-D patch embedding becomes a video model's tubelet (``center`` or ``average``).
    """
    obj = read_checkpoint(path, trust_checkpoint=trust_checkpoint)
    sd = adapt_state_dict(extract_state_dict(obj, key), model, inflate)
    if strict:
        check_state_dict(sd, model)
        model.load_state_dict(sd, strict=True)
    else:
        own = model.state_dict()
        fitting = {k: v for k, v in sd.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(fitting, strict=False)
    meta = obj.get("rmeeto") if isinstance(obj, dict) else None
    if apply_patch and isinstance(meta, dict) and meta.get("patch"):
        patch(model, **meta["patch"])
    return model


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a temporary file in the same folder, fsync, rename over ``path``, fsync
    the folder: a crash leaves either the old file or the new one, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """:func:`atomic_write` of ``torch.save(obj)``, or of safetensors for a ``.safetensors`` path."""
    if Path(path).suffix == ".safetensors":
        data = safetensors.torch.save({k: v.contiguous() for k, v in obj.items()})
        atomic_write(path, lambda f: f.write(data))
    else:
        atomic_write(path, lambda f: torch.save(obj, f))


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **extra: Any) -> None:
    """Save ``model`` in the official layout (``{'model': state_dict, ...}``) or as safetensors.

    The model's name, constructor kwargs and token-merging patch travel under ``'rmeeto'``, so
    ``create_model(name, pretrained=path)`` restores the patched model.
    """
    sd = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if str(path).endswith(".safetensors"):
        atomic_save(sd, path)
        return
    meta = {"model": getattr(model, "rmeeto_config", {}).get("name"),
            "model_kwargs": getattr(model, "rmeeto_config", {}).get("kwargs"),
            "patch": patch_settings(model)}
    atomic_save({"model": sd, "rmeeto": meta, **extra}, path)
