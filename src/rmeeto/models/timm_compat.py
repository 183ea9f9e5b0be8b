"""rmeeto's models in timm's registry, so ``timm.create_model("vim_small_patch16_224")`` builds them.

rmeeto never imports timm for this (importing timm takes seconds). :func:`install_timm_hook`,
called when ``rmeeto.models`` is imported, registers the models at once if timm is already
imported, and otherwise the moment timm finishes importing. A name timm already has is left alone.
A model registered with rmeeto after that is added by calling :func:`register_with_timm` again.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import sys
from typing import Any, Callable

from .registry import create_model, list_models

log = logging.getLogger("rmeeto.timm")

# timm's register_model appends each name to the module's __all__; the entrypoints are set as
# attributes of this module so that list stays true
__all__ = ["install_timm_hook", "register_with_timm"]


def _entrypoint(name: str) -> Callable[..., Any]:
    """A timm model entrypoint for one rmeeto model; timm's pretrained-config arguments are dropped."""
    def build(pretrained: bool = False, pretrained_cfg=None, pretrained_cfg_overlay=None, cache_dir=None,
              **kwargs):
        return create_model(name, pretrained=bool(pretrained), **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__module__ = __name__
    build.__doc__ = f"rmeeto's {name} (rmeeto.create_model); pretrained=True loads its default weights."
    return build


def register_with_timm() -> list[str]:
    """Register every rmeeto model that timm does not know yet; returns the names added."""
    from timm.models import is_model, register_model  # optional extra: rmeeto imports without timm

    added = []
    for name in list_models():
        if is_model(name):  # timm's own model, or registered before: keep it
            continue
        fn = _entrypoint(name)
        setattr(sys.modules[__name__], name, fn)
        register_model(fn)
        added.append(name)
    return added


def _register_quietly() -> None:
    try:
        register_with_timm()
    except Exception as e:  # never break `import timm` over this
        log.warning("could not register rmeeto's models with timm: %s: %s", type(e).__name__, e)


class _RegisterAfterExec(importlib.abc.Loader):
    """Wraps timm's loader: runs it, then registers rmeeto's models."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        _register_quietly()

    def __getattr__(self, name: str):  # resource readers and the like
        return getattr(self.loader, name)


class _TimmImportHook(importlib.abc.MetaPathFinder):
    """One-shot finder: when ``timm`` is imported, hand back its own spec with a wrapped loader."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "timm":
            return None
        uninstall_timm_hook()
        spec = importlib.util.find_spec("timm")
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisterAfterExec(spec.loader)
        return spec


_HOOK = _TimmImportHook()


def uninstall_timm_hook() -> None:
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def install_timm_hook() -> None:
    """Register with timm now if it is imported, else when it is; nothing if timm is not installed."""
    if "timm" in sys.modules:
        _register_quietly()
    elif _HOOK not in sys.meta_path and importlib.util.find_spec("timm") is not None:
        sys.meta_path.insert(0, _HOOK)
