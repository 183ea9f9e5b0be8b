"""The errors of the training package: bad settings or input, and a non-finite loss."""
from __future__ import annotations


class TrainError(RuntimeError):
    """A bad setting or input, reported to the user without a traceback."""


class NonFiniteLoss(TrainError):
    """The loss became NaN or infinite; the run stops and keeps its last good checkpoint."""
