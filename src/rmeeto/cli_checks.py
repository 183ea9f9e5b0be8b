"""Checks of command-line input, run before a command does any work.

Each check raises :class:`UsageError` with one line that names the fix; ``rmeeto.cli.main`` prints
it as ``error: ...`` and exits with status 2.
"""
from __future__ import annotations

import difflib
import importlib.util
import math
import os
import re
from typing import Any, Iterable, Optional

from PIL import Image

from .checkpoint import CheckpointError, read_checkpoint
from .data.video_io import read_sampled
from .data.video_transforms import eval_frame_indices
from .models import create_model, list_models
from .patch import patch, unpatch

# the extra that brings each optional module
EXTRAS = {"timm": "train", "torchvision": "train", "tensorboard": "train", "matplotlib": "plot"}


class UsageError(ValueError):
    """Bad command-line input: the CLI prints the message on one line and exits with status 2."""


def one_line(text: str) -> str:
    """``text`` with its lines joined by "; " (library messages may span lines)."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def missing_modules(modules: Iterable[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here (without importing them)."""
    out = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(name)
    return out


def require(command: str, *modules: str) -> None:
    """Stop before any work if ``command`` needs a module that is not installed."""
    missing = missing_modules(modules)
    if missing:
        extra = EXTRAS.get(missing[0], "train")
        names = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        raise UsageError(f"`rmeeto {command}` needs {names}: pip install 'rmeeto[{extra}]'")


def check_r_ratio(r: Any = None, ratio: Any = None, flags: str = "--r/--ratio") -> None:
    """``r`` and ``ratio`` alone, each in range (the model-dependent limits come from :func:`check_patch`)."""
    r_flag, ratio_flag = flags.split("/")
    if r is not None and ratio is not None:
        raise UsageError(f"give {r_flag} or {ratio_flag}, not both")
    for value in (r if isinstance(r, (list, tuple)) else [r]):
        if value is not None and value < 0:
            raise UsageError(f"{r_flag} {value} is negative; use {r_flag} 0 for no merging")
    for value in (ratio if isinstance(ratio, (list, tuple)) else [ratio]):
        if value is not None and not (0.0 <= value < 1.0 and math.isfinite(value)):
            raise UsageError(f"{ratio_flag} {value} is out of range; give a reduction ratio in [0, 1), e.g. 0.31")


def check_patch(model: Any, name: str, **settings: Any) -> None:
    """Stop if ``rmeeto.patch(model, **settings)`` would refuse; leaves ``model`` unpatched."""
    try:
        patch(model, **settings)
    except (ValueError, TypeError) as e:
        shown = " ".join(f"--{k} {v}" for k, v in settings.items() if v is not None and k in ("r", "ratio"))
        raise UsageError(f"{shown or 'the patch'} does not fit {name}: {one_line(e)}") from e
    finally:
        unpatch(model)


def check_model_name(name: str) -> None:
    """Stop on a model name the registry does not know."""
    known = list_models(include_aliases=True)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean --model {close[0]}? " if close else ""
        raise UsageError(f"unknown --model {name!r}; {hint}`rmeeto info` lists the models")


def checkpoint_origin(path: str) -> str:
    """``--model M --model-kwargs k=v`` that a checkpoint written by rmeeto names, else ""."""
    try:
        obj = read_checkpoint(path)
    except Exception:
        return ""
    meta = obj.get("rmeeto") if isinstance(obj, dict) else None
    if not isinstance(meta, dict) or not meta.get("model"):
        return ""
    kw = " ".join(f"{k}={v}" for k, v in (meta.get("model_kwargs") or {}).items())
    return f"--model {meta['model']}" + (f" --model-kwargs {kw}" if kw else "")


def checkpoint_message(path: str, model: str, error: BaseException, flag: str = "--pretrained") -> str:
    """One line for a checkpoint (``flag``) that failed: missing, unreadable, or written for another model."""
    text = one_line(error)
    if isinstance(error, FileNotFoundError):  # a missing file, or Hub weights that cannot be had: the
        return text if path in text else f"{flag} {path}: {text}"  # message names the file and the way out
    if "does not match" not in text:  # it could not be read at all
        return f"cannot read {flag} {path}: {text}"
    text = re.sub(r"^checkpoint does not match model \S+:;\s*", "", text.split("; Build the model")[0])
    text = "; ".join(part for part in text.split("; ") if not part.endswith(": none"))
    if len(text) > 240:
        text = text[:240].rsplit(",", 1)[0] + " ..."
    origin = checkpoint_origin(path)
    fix = f"build it with {origin}" if origin else "pass the --model/--model-kwargs it was trained with"
    return f"{flag} {path} does not fit --model {model} ({text}); {fix}"


def build_model(name: str, kwargs: Optional[dict] = None, pretrained: Optional[str] = None, **extra: Any):
    """``rmeeto.create_model`` with one-line errors for a bad name, bad kwargs or a bad checkpoint."""
    check_model_name(name)
    try:
        return create_model(name, pretrained=pretrained, **extra, **(kwargs or {}))
    except (CheckpointError, FileNotFoundError) as e:
        raise UsageError(checkpoint_message(str(pretrained), name, e)) from e
    except (ValueError, TypeError) as e:
        if pretrained and "Hub reference" in str(e):
            raise UsageError(f"--pretrained {pretrained}: {one_line(e)}") from e
        raise UsageError(f"cannot build --model {name} with --model-kwargs {kwargs or {}}: {one_line(e)}") from e


def check_out_file(path: str, flag: str, extensions: Optional[Iterable[str]] = None) -> None:
    """Stop unless ``path`` can be written: its folder exists and is writable, it is not a folder,
    and (if ``extensions`` is given) its extension is one of them."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a folder; give a file name, e.g. {os.path.join(path, 'out.png')}")
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {path}: folder {folder} does not exist; create it or choose another path")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"{flag} {path} cannot be written (permission denied); choose another path")
    if extensions is not None:
        ext = os.path.splitext(path)[1].lower()
        allowed = sorted(set(e.lower() for e in extensions))
        if ext not in allowed:
            raise UsageError(f"{flag} {path}: unknown file type {ext or '(none)'!r}; end it in .png "
                             f"(or one of {', '.join(allowed[:8])})")


def check_out_dir(path: str, flag: str) -> None:
    """Stop unless ``path`` is a writable folder or can be created."""
    probe = os.path.abspath(path)
    if os.path.exists(probe) and not os.path.isdir(probe):
        raise UsageError(f"{flag} {path} is a file, not a folder; choose another path")
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
        raise UsageError(f"{flag} {path} cannot be created or written ({probe} is not a writable folder); "
                         "choose another path")


def check_at_least(value: Optional[float], flag: str, minimum: float) -> None:
    if value is not None and value < minimum:
        raise UsageError(f"{flag} must be at least {minimum:g}, got {value:g}")


def pil_extensions() -> list[str]:
    """File extensions PIL can save."""
    Image.init()
    return [ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.SAVE]


def plot_extensions() -> list[str]:
    """File extensions matplotlib can save (needs matplotlib)."""
    from matplotlib.figure import Figure  # optional extra ([plot])

    return ["." + ext for ext in Figure().canvas.get_supported_filetypes()]


def open_clip(path: str, model) -> list:
    """``model.num_frames`` frames of the video at ``path`` (the middle of equal segments) as PIL images,
    or a one-line error."""
    if not os.path.isfile(path):
        raise UsageError(f"video {path} does not exist; give the path of a video file (e.g. MP4) for a video model")
    try:
        frames = read_sampled(path, lambda total: eval_frame_indices(total, model.num_frames))
    except ImportError as e:
        raise UsageError(f"reading videos needs PyAV: pip install 'rmeeto[video]' ({one_line(e)})") from e
    except Exception as e:  # a broken or non-video file
        raise UsageError(f"cannot read video {path} ({one_line(e)}); give a readable video file (MP4, AVI, ...)") from e
    return [Image.fromarray(f) for f in frames]


def open_image(path: str):
    """The image at ``path``, decoded (PIL), or a one-line error."""
    if not os.path.isfile(path):
        raise UsageError(f"image {path} does not exist; give the path of a JPEG or PNG file")
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except Exception as e:  # PIL raises several kinds for a bad file
        raise UsageError(f"cannot read image {path} ({one_line(e)}); give a JPEG or PNG file") from e
