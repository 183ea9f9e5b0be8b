"""Run the ``rmeeto`` command line with entries of the scan's block configurations overridden, to time a
configuration at the model level before changing its default.

    PYTHONPATH=src python scripts/with_scan_cfg.py fwd.maxnreg=0 bwd.T=16 -- bench --model vim_small_patch16_224

``fwd.KEY`` / ``bwd.KEY`` / ``sg.KEY`` set ``FWD_CFG[KEY]`` / ``BWD_CFG[KEY]`` / ``SUM_GATE_CFG[KEY]`` of
:mod:`rmeeto.ops.triton.scan` to an integer (``maxnreg=0`` lifts the register cap), and ``conv.KEY`` / ``convb.KEY``
``CONV_FWD_CFG[KEY]`` / ``CONV_BWD_CFG[KEY]`` of :mod:`rmeeto.ops.triton.bimamba`, ``book.KEY`` ``BOOK_CFG[KEY]``
of :mod:`rmeeto.ops.triton.merge_book` (``book.few_r=0``: the merge plan's sorts at every r), ``best.KEY`` /
``tbook.KEY`` ``BEST_CFG[KEY]`` / ``TILED_BOOK_CFG[KEY]`` of :mod:`rmeeto.ops.triton.merge_tiled` (the tiled plan's
score blocks; its bookkeeping's warps, source limit, search and compaction), ``carry.KEY`` ``CARRY_CFG[KEY]`` of
:mod:`rmeeto.ops.triton.scan_chunk` (the chunked scan's carry pass), ``once.KEY`` ``ONCE_CFG[KEY]`` of
:mod:`rmeeto.ops.triton.merge_once` (``once.max_tokens=0``: eager inference plans and merges in two launches),
``chunk.KEY`` ``CHUNK_CFG[KEY]`` of :mod:`rmeeto.ops.triton.scan` (when and how finely the scan is cut into chunks),
``stack.KEY`` ``STACK_CFG[KEY]`` of :mod:`rmeeto.ops.triton.stack` (the one-launch weight stacking);
``set.FIELD=VALUE`` sets a field of
:mod:`rmeeto.ops.settings` to a value it takes, 0 or 1 for a boolean one (``set.merge_norm=0``,
``set.scan_split=off``). ``swap.MOD.NAME=OTHER`` replaces function ``NAME`` of ``rmeeto.ops.triton.MOD`` with the one of
the same name in module ``OTHER`` (an earlier copy of the kernels put beside them, to time old against new in one
process): ``swap.bimamba.biconv_fwd=rmeeto.ops.triton.bimamba_prev``.
"""
from __future__ import annotations

import contextlib
import importlib
import sys
from typing import Optional


@contextlib.contextmanager
def overridden(assignments: list[str]):
    """The overrides applied inside the ``with`` block, the previous values restored after it."""
    from rmeeto.ops import settings

    tables = _tables()
    saved = {name: dict(table) for name, table in tables.items()}
    old_settings = settings.current()
    swapped: list = []
    try:  # a bad entry after good ones leaves nothing changed
        apply(assignments, quiet=True, swapped=swapped)
        yield
    finally:
        for name, table in tables.items():
            table.clear()
            table.update(saved[name])
        for module, name, fn in reversed(swapped):
            setattr(module, name, fn)
        settings.configure(**{f: getattr(old_settings, f) for f in old_settings.__dataclass_fields__})


def _tables() -> dict:
    from rmeeto.ops.triton import bimamba, merge_book, merge_once, merge_tiled, scan, scan_chunk, stack

    return {"fwd": scan.FWD_CFG, "bwd": scan.BWD_CFG, "sg": scan.SUM_GATE_CFG, "conv": bimamba.CONV_FWD_CFG,
            "convb": bimamba.CONV_BWD_CFG, "book": merge_book.BOOK_CFG, "best": merge_tiled.BEST_CFG,
            "tbook": merge_tiled.TILED_BOOK_CFG, "carry": scan_chunk.CARRY_CFG, "once": merge_once.ONCE_CFG,
            "chunk": scan.CHUNK_CFG, "stack": stack.STACK_CFG}


def _swap(key: str, other: str, swapped: Optional[list]) -> None:
    """``swap.MOD.NAME=OTHER``: function ``NAME`` of ``rmeeto.ops.triton.MOD`` replaced by ``OTHER.NAME``; the
    replaced one is appended to ``swapped`` (module, name, function), to be put back."""
    module_name, _, name = key.rpartition(".")
    try:
        module = importlib.import_module(f"rmeeto.ops.triton.{module_name}")
        current, replacement = getattr(module, name), getattr(importlib.import_module(other), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SystemExit(f"bad override swap.{key}={other}: {exc}; use swap.MOD.NAME=MODULE with NAME a "
                         "function of rmeeto.ops.triton.MOD and of MODULE") from None
    if not callable(current) or not callable(replacement):
        raise SystemExit(f"bad override swap.{key}={other}: {name} is not a function in both modules")
    setattr(module, name, replacement)
    if swapped is not None:
        swapped.append((module, name, current))


def _valid_setting(field: str, value: str) -> bool:
    """Whether ``value`` is one the string setting ``field`` takes (see :mod:`rmeeto.ops.settings`)."""
    from rmeeto.ops import settings

    choices = {"backend": ("auto", *settings.BACKENDS), "merge": settings.MERGE_IMPLS,
               "scan_split": ("auto", "tune", "on", "off"), "compile_ops": settings.COMPILE_OPS,
               "graph_weights": settings.GRAPH_WEIGHTS}
    if field == "scan_chunk":
        return value in ("auto", "tune") or value.isdigit()
    return value in choices.get(field, ())


def apply(assignments: list[str], quiet: bool = False, swapped: Optional[list] = None) -> None:
    """Set each ``TABLE.KEY=INT`` in the kernels' configuration dicts, each ``set.FIELD=VALUE`` in the settings, and
    make each ``swap.MOD.NAME=OTHER`` (replaced functions are appended to ``swapped``)."""
    from rmeeto.ops import settings

    tables = _tables()
    for item in assignments:
        name, sep, value = item.partition("=")
        table, dot, key = name.partition(".")
        if table == "swap" and sep and dot:
            _swap(key, value, swapped)
            continue
        current = getattr(settings.current(), key, None) if table == "set" else None
        if sep and dot and (isinstance(current, bool) and value in ("0", "1")
                            or isinstance(current, str) and _valid_setting(key, value)):
            settings.configure(**{key: value == "1" if isinstance(current, bool) else value})
            continue
        if not sep or not dot or table not in tables or key not in tables[table]:
            raise SystemExit(f"bad override {item!r}: use TABLE.KEY=INT with TABLE.KEY one of "
                             f"{[t + '.' + k for t in tables for k in tables[t]]}, "
                             "set.FIELD=VALUE with a value the field takes, or swap.MOD.NAME=MODULE")
        tables[table][key] = int(value)
    if not quiet:
        print("kernel configuration:", tables, settings.current(), flush=True)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: with_scan_cfg.py TABLE.KEY=INT ... -- <rmeeto command and flags>")
    cut = argv.index("--")
    apply(argv[:cut])
    from rmeeto.cli import main as cli_main

    return cli_main(argv[cut + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
