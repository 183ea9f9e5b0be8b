"""Per-step cosine learning-rate schedule with linear warm-up: timm's ``CosineLRScheduler``
(warm-up as a prefix, per-step updates), sized in optimizer steps and re-sizable mid-run."""
from __future__ import annotations

import math
from typing import Optional

import torch
from timm.scheduler import CosineLRScheduler


class CosineWarmupLR:
    """lr(step) = warmup_lr -> base_lr linearly over ``warmup_steps``, then cosine from
    base_lr down to min_lr at ``total_steps`` (and min_lr after). ``step`` counts optimizer
    steps; :meth:`step` is called after each optimizer step and sets the lr of the next one.
    Layer decay's ``lr_scale`` in a param group multiplies its lr.

    ``min_lr`` and ``warmup_lr`` are capped at ``base_lr``: a base lr below them (a small batch
    scales it down) then stays constant instead of rising along the "decay"."""

    def __init__(self, optimizer: torch.optim.Optimizer, base_lr: float, total_steps: int,
                 warmup_steps: int = 0, min_lr: float = 1e-6, warmup_lr: float = 1e-6):
        self.optimizer = optimizer
        self.base_lr = float(base_lr)
        self.min_lr = min(float(min_lr), self.base_lr)
        self.warmup_lr = min(float(warmup_lr), self.base_lr)
        self.total_steps = max(1, int(total_steps))
        self.warmup_steps = max(0, int(warmup_steps))
        self.last_step = 0
        self._fit()

    def _fit(self) -> None:
        """(Re)build timm's scheduler for the current sizes and apply the lr of ``last_step``."""
        for g in self.optimizer.param_groups:
            g["initial_lr"] = self.base_lr
        self._timm = CosineLRScheduler(
            self.optimizer, t_initial=max(1, self.total_steps - self.warmup_steps), lr_min=self.min_lr,
            warmup_t=self.warmup_steps, warmup_lr_init=self.warmup_lr, warmup_prefix=True,
            t_in_epochs=False, initialize=False)
        self._timm.step_update(self.last_step)

    def lr_at(self, step: int) -> float:
        return self._timm._get_lr(step)[0]

    def step(self) -> None:
        self.last_step += 1
        self._timm.step_update(self.last_step)

    def set_total_steps(self, total_steps: int) -> None:
        """Re-fit the schedule length (``--time-budget``); keeps the current step."""
        self.total_steps = max(1, int(total_steps))
        self.warmup_steps = min(self.warmup_steps, self.total_steps)
        self._fit()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("base_lr", "min_lr", "warmup_lr", "total_steps",
                                               "warmup_steps", "last_step")}

    def load_state_dict(self, sd: dict) -> None:
        for k, v in sd.items():
            setattr(self, k, v)
        self._fit()


def fit_budget(budget_s: float, elapsed_s: float, step_time: float, eval_s: Optional[float],
               val_batches: int, step: int, spe: int, epoch: int, accum: int) -> int:
    """Total optimizer steps that fit in what is left of the budget, counting one evaluation
    per (remaining) epoch end; the eval time is the measured pre-training eval, or an estimate
    of half a training step per val batch when none was run."""
    if eval_s is None:
        eval_s = 0.5 * val_batches * step_time / max(1, accum)
    remaining = budget_s - elapsed_s - 0.02 * budget_s  # keep 2% for the final checkpoint
    more = max(0, int(remaining / step_time))
    for _ in range(5):
        total = step + more
        evals = max(1, math.ceil(total / spe) - epoch)
        more = max(0, int((remaining - evals * eval_s) / step_time))
    return max(step, step + more)
