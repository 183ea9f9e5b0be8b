"""What a run prints and records: rank-0 log lines, metrics.jsonl and TensorBoard, the settings as plain
values, and the closing summary."""
from __future__ import annotations

import contextvars
import json
import os
import sys
from dataclasses import asdict
from typing import Any, Callable, Optional

from .config import TrainConfig
from .dist import DistInfo

ECHO: contextvars.ContextVar[Callable[..., None]] = contextvars.ContextVar("rmeeto_train_echo", default=print)


def log(info: Optional[DistInfo], *msg) -> None:
    """Print on rank 0 (nothing inside ``train(..., quiet=True)``)."""
    if info is None or info.is_main:
        ECHO.get()(*msg, flush=True)


def jsonable(v: Any) -> Any:
    """``v`` with anything JSON cannot hold turned into its ``str``."""
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return str(v)


def args_dict(cfg: TrainConfig) -> dict:
    """The settings as plain values (args.yaml, a checkpoint's ``args``): ``TrainConfig(**d)`` reads them back."""
    return {k: jsonable(v) for k, v in asdict(cfg).items()}


class Recorder:
    """Rank-0 records: metrics.jsonl, TensorBoard scalars."""

    def __init__(self, out: str, enabled: bool, tensorboard: bool):
        self.enabled = enabled
        self.tb = None
        self.path = os.path.join(out, "metrics.jsonl")
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
                self.tb = SummaryWriter(os.path.join(out, "tb"))
            except Exception as e:  # tensorboard missing: keep going with JSONL only
                print(f"warning: TensorBoard disabled ({e})", file=sys.stderr)

    def write(self, record: dict, step: int) -> None:
        if not self.enabled:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps(jsonable(record)) + "\n")
        if self.tb is not None:
            kind = record.get("type", "x")
            for k, v in record.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("step", "epoch"):
                    self.tb.add_scalar(f"{kind}/{k}", v, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def print_summary(summary: dict) -> None:
    """The closing table: accuracy before and after merging, after each epoch, and the minutes spent."""
    echo = ECHO.get()  # silent inside train(quiet=True)

    def fmt(s):
        return "n/a" if not s or s.get("top1") is None else f"top-1 {s['top1']:.2f}  top-5 {s['top5']:.2f}"
    echo("\n== summary ==")
    ratio = summary.get("reduction_ratio")
    echo(f"model {summary.get('model')}  patch {summary.get('patch')}  "
         f"reduction ratio {'n/a' if ratio is None else f'{ratio:.3f}'}")
    echo(f"before merge (unpatched):      {fmt(summary.get('before_merge'))}")
    echo(f"after merge, no training:      {fmt(summary.get('after_merge_no_train'))}")
    for e in summary.get("epochs", []):
        echo(f"after epoch {e['epoch']:<3d}               {fmt(e)}  ({e['elapsed_minutes']:.2f} min)")
    echo(f"minutes spent: {summary.get('minutes', 0):.2f}", flush=True)
