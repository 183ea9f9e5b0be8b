"""How a run starts in its ``--output`` folder: fresh, resumed, overwritten, or refused.

A folder "holds a run" when it has any of :data:`RUN_FILES`. Training into it again is refused
unless ``--resume`` (continue it) or ``--overwrite`` (replace it) says what to do, or the process
group is a torchrun restart of that very run (see :mod:`rmeeto.train.elastic`), which continues
from the run's own latest checkpoint.
"""
from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from typing import Optional

from .elastic import LAUNCH_FILE
from .state import atomic_write_text

CHECKPOINT_NAME = "checkpoint.pth"
RUN_FILES = (CHECKPOINT_NAME, "metrics.jsonl", "summary.json", "args.yaml")


@dataclass(frozen=True)
class StartPlan:
    """What to do with ``--output``; the same on every rank (rank 0 decides, then broadcasts)."""
    resume_path: Optional[str] = None  # the checkpoint to continue from
    clear: bool = False                # remove the earlier run's files before writing
    message: str = ""                  # one line for the log
    error: str = ""                    # refuse to start, with this one-line reason


def run_files(out: str) -> list[str]:
    """The files of :data:`RUN_FILES` that ``out`` holds."""
    return [f for f in RUN_FILES if os.path.isfile(os.path.join(out, f))]


def plan_start(out: str, resume: Optional[str], overwrite: bool, own_restart: bool) -> StartPlan:
    """Decide how to start in ``out``. ``resume`` is ``None``, ``"auto"`` (``--resume`` alone) or a
    path; ``own_restart`` is true when torchrun restarted the group that started the run in ``out``."""
    if resume and overwrite:
        return StartPlan(error="--resume continues the run in --output and --overwrite replaces it; "
                               "give one of them")
    held = run_files(out)
    own = os.path.join(out, CHECKPOINT_NAME)
    if own_restart:
        if os.path.isfile(own):
            return StartPlan(own, message=f"torchrun restart: continuing from {own}")
        if resume and resume != "auto":
            return StartPlan(resume, message=f"torchrun restart: no checkpoint in {out} yet, "
                                             f"continuing from --resume {resume}")
        return StartPlan(clear=bool(held), message=f"torchrun restart: no checkpoint in {out} yet, "
                                                   "starting afresh")
    if overwrite:
        return StartPlan(clear=bool(held), message=f"--overwrite: replacing the run in {out}" if held else "")
    if resume == "auto":
        if os.path.isfile(own):
            return StartPlan(own)
        return StartPlan(clear=bool(held), message=f"--resume: no checkpoint in {out} yet, starting fresh")
    if resume:
        if not os.path.isfile(resume):
            return StartPlan(error=f"--resume {resume}: no such checkpoint")
        return StartPlan(resume)
    if held:
        return StartPlan(error=f"--output {out} already holds a run ({', '.join(held)}); continue it with "
                               "--resume, replace it with --overwrite, or choose another --output")
    return StartPlan()


def clear_run(out: str) -> None:
    """Remove an earlier run's files from ``out``: :data:`RUN_FILES`, the torchrun record and the
    TensorBoard event files. Anything else in the folder is left alone."""
    names = [os.path.join(out, f) for f in (*RUN_FILES, LAUNCH_FILE)]
    names += glob.glob(os.path.join(out, "tb", "events.out.tfevents.*"))
    for p in names:
        if os.path.isfile(p):
            os.unlink(p)


def remove_stale_temps(out: str) -> list[str]:
    """Delete the temporary files of atomic writes that a killed process left in ``out``
    (``.checkpoint.pth.*.tmp`` and the like); they were never renamed, so no reader used them."""
    stale = []
    for name in (*RUN_FILES, LAUNCH_FILE):
        stale += glob.glob(os.path.join(out, f".{name}.*.tmp"))
    for p in stale:
        os.unlink(p)
    return stale


def trim_metrics(out: str, step: int) -> int:
    """Drop the ``metrics.jsonl`` records of steps after ``step`` (work lost with the process that
    wrote them; the resumed run writes them again). Returns the number dropped."""
    path = os.path.join(out, "metrics.jsonl")
    if not os.path.isfile(path):
        return 0
    with open(path) as f:
        lines = f.read().splitlines()
    keep = []
    for line in lines:
        try:
            rec_step = int(json.loads(line).get("step", 0))
        except (ValueError, AttributeError, TypeError):
            continue  # a line torn by the kill
        if rec_step <= step:
            keep.append(line)
    if len(keep) != len(lines):
        atomic_write_text(path, "".join(x + "\n" for x in keep))
    return len(lines) - len(keep)
