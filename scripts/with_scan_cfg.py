"""Run the ``rmeeto`` command line with entries of the scan's block configurations overridden, to time a
configuration at the model level before changing its default.

    PYTHONPATH=src python scripts/with_scan_cfg.py fwd.maxnreg=0 bwd.T=16 -- bench --model vim_small_patch16_224

``fwd.KEY`` / ``bwd.KEY`` / ``sg.KEY`` set ``FWD_CFG[KEY]`` / ``BWD_CFG[KEY]`` / ``SUM_GATE_CFG[KEY]`` of
:mod:`rmeeto.ops.triton.scan` to an integer (``maxnreg=0`` lifts the register cap); ``set.FIELD=VALUE`` sets a field
of :mod:`rmeeto.ops.settings` to a value it takes, 0 or 1 for a boolean one (``set.merge_norm=0``,
``set.scan_split=off``).
"""
from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def overridden(assignments: list[str]):
    """The overrides applied inside the ``with`` block, the previous values restored after it."""
    from rmeeto.ops import settings

    tables = _tables()
    saved = {name: dict(table) for name, table in tables.items()}
    old_settings = settings.current()
    apply(assignments, quiet=True)
    try:
        yield
    finally:
        for name, table in tables.items():
            table.clear()
            table.update(saved[name])
        settings.configure(**{f: getattr(old_settings, f) for f in old_settings.__dataclass_fields__})


def _tables() -> dict:
    from rmeeto.ops.triton import scan

    return {"fwd": scan.FWD_CFG, "bwd": scan.BWD_CFG, "sg": scan.SUM_GATE_CFG}


def _valid_setting(field: str, value: str) -> bool:
    """Whether ``value`` is one the string setting ``field`` takes (see :mod:`rmeeto.ops.settings`)."""
    from rmeeto.ops import settings

    choices = {"backend": ("auto", *settings.BACKENDS), "merge": settings.MERGE_IMPLS,
               "scan_split": ("auto", "on", "off")}
    if field == "scan_chunk":
        return value == "auto" or value.isdigit()
    return value in choices.get(field, ())


def apply(assignments: list[str], quiet: bool = False) -> None:
    """Set each ``TABLE.KEY=INT`` in the kernels' configuration dicts, and each ``set.FIELD=VALUE`` in the settings."""
    from rmeeto.ops import settings

    tables = _tables()
    for item in assignments:
        name, sep, value = item.partition("=")
        table, dot, key = name.partition(".")
        current = getattr(settings.current(), key, None) if table == "set" else None
        if sep and dot and (isinstance(current, bool) and value in ("0", "1")
                            or isinstance(current, str) and _valid_setting(key, value)):
            settings.configure(**{key: value == "1" if isinstance(current, bool) else value})
            continue
        if not sep or not dot or table not in tables or key not in tables[table]:
            raise SystemExit(f"bad override {item!r}: use TABLE.KEY=INT with TABLE.KEY one of "
                             f"{[t + '.' + k for t in tables for k in tables[t]]}, "
                             "or set.FIELD=VALUE with a value the field takes")
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
