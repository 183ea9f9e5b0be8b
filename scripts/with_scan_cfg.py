"""Run the ``rmeeto`` command line with entries of the scan's block configurations overridden, to time a
configuration at the model level before changing its default.

    PYTHONPATH=src python scripts/with_scan_cfg.py fwd.maxnreg=0 bwd.T=16 -- bench --model vim_small_patch16_224

``fwd.KEY`` / ``bwd.KEY`` set ``FWD_CFG[KEY]`` / ``BWD_CFG[KEY]`` of :mod:`rmeeto.ops.triton.scan` to an integer
(``maxnreg=0`` lifts the register cap).
"""
from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def overridden(assignments: list[str]):
    """The overrides applied inside the ``with`` block, the previous values restored after it."""
    from rmeeto.ops.triton import scan

    saved = {"fwd": dict(scan.FWD_CFG), "bwd": dict(scan.BWD_CFG)}
    apply(assignments, quiet=True)
    try:
        yield
    finally:
        for table, old in (("fwd", scan.FWD_CFG), ("bwd", scan.BWD_CFG)):
            old.clear()
            old.update(saved[table])


def apply(assignments: list[str], quiet: bool = False) -> None:
    """Set each ``fwd.KEY=INT`` / ``bwd.KEY=INT`` in the scan module's configuration dicts."""
    from rmeeto.ops.triton import scan

    tables = {"fwd": scan.FWD_CFG, "bwd": scan.BWD_CFG}
    for item in assignments:
        name, sep, value = item.partition("=")
        table, dot, key = name.partition(".")
        if not sep or not dot or table not in tables or key not in tables[table]:
            raise SystemExit(f"bad override {item!r}: use fwd.KEY=INT or bwd.KEY=INT with KEY one of "
                             f"{sorted(scan.FWD_CFG)} / {sorted(scan.BWD_CFG)}")
        tables[table][key] = int(value)
    if not quiet:
        print("scan configuration:", {"fwd": scan.FWD_CFG, "bwd": scan.BWD_CFG}, flush=True)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: with_scan_cfg.py fwd.KEY=INT ... -- <rmeeto command and flags>")
    cut = argv.index("--")
    apply(argv[:cut])
    from rmeeto.cli import main as cli_main

    return cli_main(argv[cut + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
