"""A test-only fault: one rank kills itself with SIGKILL after a chosen optimizer step.

Armed by ``RMEETO_TEST_KILL_AT_STEP=STEP:RANK`` (both numbers, nothing else), and only in a run
that started without a checkpoint, so the run that resumes after the kill is never killed again.
The tests use it to prove that torchrun's restart continues a run exactly.
"""
from __future__ import annotations

import os
import re
import signal
import sys
from typing import Optional

KILL_ENV = "RMEETO_TEST_KILL_AT_STEP"


def kill_step(rank: int, resumed: bool) -> Optional[int]:
    """The optimizer step after which this process must kill itself, or ``None``.

    Raises ``ValueError`` for a value that is not ``STEP:RANK``."""
    value = os.environ.get(KILL_ENV)
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+):(\d+)\s*", value)
    if m is None:
        raise ValueError(f"{KILL_ENV}={value!r} is a test hook and takes STEP:RANK (e.g. 5:1); "
                         f"unset it to train normally")
    step, target = int(m.group(1)), int(m.group(2))
    if resumed or rank != target:
        return None
    print(f"warning: {KILL_ENV} is set: rank {rank} will SIGKILL itself after step {step}",
          file=sys.stderr, flush=True)
    return step


def kill_self() -> None:
    """SIGKILL this process: no clean-up, no ``finally``, like a node that is lost."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
