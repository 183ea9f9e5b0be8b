"""Where pretrained weights come from: a local file, ``hf-hub:ORG/REPO[@REVISION][:FILE]`` on the
Hugging Face Hub, or (``pretrained=True``) the default source of a registered model.

Downloads go through ``huggingface_hub`` and its cache. ``HF_HUB_CACHE`` (or ``HF_HOME``),
``HF_HUB_OFFLINE`` and ``HF_ENDPOINT`` are read when a file is resolved, not only when
``huggingface_hub`` is imported, so setting them in a running process works too.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

HUB_PREFIX = "hf-hub:"
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")

# Default weights of each registered model, keyed by its canonical name. Entries for names that
# are not registered yet are harmless: they resolve once the model is registered.
DEFAULT_SOURCES: dict[str, str] = {
    # Vim, ImageNet-1k at 224 px, middle class token (hustvl/Vim)
    "vim_tiny_patch16_224": "hf-hub:hustvl/Vim-tiny-midclstok:vim_t_midclstok_76p1acc.pth",
    "vim_small_patch16_224": "hf-hub:hustvl/Vim-small-midclstok:vim_s_midclstok_80p5acc.pth",
    "vim_base_patch16_224": "hf-hub:hustvl/Vim-base-midclstok:vim_b_midclstok_81p9acc.pth",
    # the "+" models: the same networks fine-tuned with patch stride 8
    "vim_tiny_patch16_stride8_224": "hf-hub:hustvl/Vim-tiny-midclstok:vim_t_midclstok_ft_78p3acc.pth",
    "vim_small_patch16_stride8_224": "hf-hub:hustvl/Vim-small-midclstok:vim_s_midclstok_ft_81p6acc.pth",
    # VideoMamba, Kinetics-400 with 8 frames at 224 px, and ImageNet-1k at 224 px (OpenGVLab/VideoMamba)
    **{f"videomamba_{size}_patch16_224": f"hf-hub:OpenGVLab/VideoMamba:videomamba_{size[0]}16_k400_f8_res224.pth"
       for size in ("tiny", "small", "middle")},
    **{f"videomamba_{size}_patch16_224_in1k": f"hf-hub:OpenGVLab/VideoMamba:videomamba_{size[0]}16_in1k_res224.pth"
       for size in ("tiny", "small", "middle")},
}


class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights that could not be found locally or fetched from the Hub."""


@dataclass(frozen=True)
class HubFile:
    """One file of a Hugging Face Hub model repository (``filename=None``: not chosen yet)."""

    repo_id: str
    filename: Optional[str] = None
    revision: Optional[str] = None

    def __str__(self) -> str:
        rev = f"@{self.revision}" if self.revision else ""
        return f"{HUB_PREFIX}{self.repo_id}{rev}" + (f":{self.filename}" if self.filename else "")


def parse_hub_spec(spec: str) -> HubFile:
    """``hf-hub:ORG/REPO[@REVISION][:FILE]`` -> :class:`HubFile`; a clear ``ValueError`` otherwise."""
    if not spec.startswith(HUB_PREFIX):
        raise ValueError(f"{spec!r} is not a Hub reference; write {HUB_PREFIX}ORG/REPO[:FILE]")
    repo, _, filename = spec[len(HUB_PREFIX):].partition(":")
    repo, at, revision = repo.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")) or (at and not revision):
        raise ValueError(f"bad Hub reference {spec!r}; write {HUB_PREFIX}ORG/REPO[@REVISION][:FILE], "
                         f"e.g. {DEFAULT_SOURCES['vim_tiny_patch16_224']}")
    return HubFile(repo, filename or None, revision or None)


def default_source(model_name: str) -> str:
    """The default ``hf-hub:`` source of a registered model (``pretrained=True``)."""
    if model_name not in DEFAULT_SOURCES:
        raise WeightsNotFoundError(f"no default pretrained weights for {model_name}; pass a local path or "
                                   f"{HUB_PREFIX}ORG/REPO:FILE as pretrained")
    return DEFAULT_SOURCES[model_name]


def resolve_pretrained(pretrained: Union[bool, str, os.PathLike, None], model_name: str) -> Optional[Path]:
    """The local file that ``create_model(model_name, pretrained=...)`` loads, downloading it if needed.

    ``None``/``False``: no weights. ``True``: the model's :data:`DEFAULT_SOURCES` entry.
    ``hf-hub:...``: that Hub file. Anything else: a local path, which must exist.
    """
    if pretrained is None or pretrained is False:
        return None
    if pretrained is True:
        pretrained = default_source(model_name)
    spec = os.fspath(pretrained)
    if spec.startswith(HUB_PREFIX):
        return hub_file_path(parse_hub_spec(spec), model_name)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(f"checkpoint not found: {path} (for weights on the Hugging Face Hub write "
                                   f"{HUB_PREFIX}ORG/REPO:FILE)")
    return path


def hub_cache_dir() -> Path:
    """The Hub cache ``huggingface_hub`` uses, with the environment as it is now."""
    env = os.environ
    home = env.get("HF_HOME") or (os.path.join(env["XDG_CACHE_HOME"], "huggingface")
                                  if env.get("XDG_CACHE_HOME") else None)
    chosen = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE") or (
        os.path.join(home, "hub") if home else None)
    if chosen:
        return Path(os.path.expandvars(os.path.expanduser(chosen)))
    from huggingface_hub import constants  # on first use: local files need no Hub client

    return Path(constants.HF_HUB_CACHE)


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` as set now (or as ``huggingface_hub`` read it at import)."""
    from huggingface_hub import constants  # on first use: local files need no Hub client

    env = os.environ.get("HF_HUB_OFFLINE")
    if env is not None:
        return env.strip().upper() in ("1", "ON", "YES", "TRUE")
    return bool(constants.HF_HUB_OFFLINE)


def _endpoint() -> Optional[str]:
    return os.environ.get("HF_ENDPOINT") or None


def _hf():
    try:
        import huggingface_hub
    except ImportError as e:
        raise WeightsNotFoundError("Hub weights need huggingface_hub: pip install huggingface_hub") from e
    return huggingface_hub


def hub_file_path(ref: HubFile, model_name: Optional[str] = None) -> Path:
    """Download ``ref`` into the Hub cache (or find it there) and return the local file; without a
    file name, ``model_name``'s default file when it lives in that repository, else the only one."""
    hf = _hf()
    from huggingface_hub import errors  # after _hf(), which names the fix when it is missing

    if ref.filename is None:
        ref = HubFile(ref.repo_id, _pick_file(ref, model_name), ref.revision)
    try:
        return Path(hf.hf_hub_download(ref.repo_id, ref.filename, revision=ref.revision,
                                       cache_dir=hub_cache_dir(), local_files_only=hub_offline(),
                                       endpoint=_endpoint()))
    except errors.LocalEntryNotFoundError:  # offline, or no network, and not in the cache
        found = _any_snapshot(ref)
        if found is not None:
            return found
        raise WeightsNotFoundError(_not_cached_message(ref)) from None
    except (errors.RepositoryNotFoundError, errors.EntryNotFoundError, errors.RevisionNotFoundError) as e:
        raise WeightsNotFoundError(f"{ref} does not exist on the Hub ({type(e).__name__}); check the "
                                   f"repository, revision and file name") from None


def _repo_folder(repo_id: str) -> Path:
    return hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))


def _any_snapshot(ref: HubFile) -> Optional[Path]:
    """Offline: ``FILE`` in any snapshot of the repository's cache folder, newest first."""
    snapshots = _repo_folder(ref.repo_id) / "snapshots"
    hits = [p for p in snapshots.glob(f"*/{ref.filename}") if p.is_file()] if snapshots.is_dir() else []
    return max(hits, key=lambda p: p.stat().st_mtime) if hits else None


def _not_cached_message(ref: HubFile) -> str:
    why = "HF_HUB_OFFLINE is set" if hub_offline() else "the Hub could not be reached"
    manual = _repo_folder(ref.repo_id) / "snapshots" / "manual" / ref.filename
    return (f"cannot fetch {ref} ({why}) and it is not in the Hub cache {hub_cache_dir()}: put the file at "
            f"{manual}, or pass its local path as pretrained (CLI: --pretrained PATH)")


def _pick_file(ref: HubFile, model_name: Optional[str]) -> str:
    """The checkpoint of a repository named without ``:FILE``."""
    if model_name in DEFAULT_SOURCES:
        known = parse_hub_spec(DEFAULT_SOURCES[model_name])
        if known.repo_id == ref.repo_id and known.filename:
            return known.filename
    files = _list_files(ref)
    picks = sorted(f for f in files if f.endswith(CHECKPOINT_SUFFIXES))
    if len(picks) != 1:
        raise WeightsNotFoundError(f"{ref} holds {len(picks)} checkpoint files ({', '.join(picks) or 'none'}); "
                                   f"name one: {HUB_PREFIX}{ref.repo_id}:FILE")
    return picks[0]


def _list_files(ref: HubFile) -> list[str]:
    hf = _hf()
    if not hub_offline():
        try:
            return hf.HfApi(endpoint=_endpoint()).list_repo_files(ref.repo_id, revision=ref.revision)
        except Exception:  # no network: fall back to the cache
            pass
    snapshots = _repo_folder(ref.repo_id) / "snapshots"
    if not snapshots.is_dir():
        raise WeightsNotFoundError(f"cannot list the files of {ref}: offline and not in the Hub cache "
                                   f"{hub_cache_dir()}; name the file: {HUB_PREFIX}{ref.repo_id}:FILE")
    return sorted({p.relative_to(s).as_posix() for s in snapshots.iterdir() if s.is_dir()
                   for p in s.rglob("*") if p.is_file()})
