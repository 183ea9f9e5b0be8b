"""Exponential moving average of the weights, kept as tensors (no copy of the module, so it
works on patched models): ``ema = decay * ema + (1 - decay) * w`` after each optimizer step;
integer buffers are copied."""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


class WeightEma:
    def __init__(self, model: nn.Module, decay: float = 0.9998):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for k, v in model.state_dict().items():
            s = self.shadow[k]
            if s.is_floating_point():
                s.lerp_(v.detach().to(s.dtype), 1.0 - self.decay)
            else:
                s.copy_(v)

    def state_dict(self) -> dict:
        return {k: v.detach().cpu() for k, v in self.shadow.items()}

    def load_state_dict(self, sd: dict) -> None:
        for k, v in sd.items():
            self.shadow[k].copy_(v)

    @contextmanager
    def swapped_into(self, model: nn.Module):
        """Temporarily load the EMA weights into ``model`` (e.g. to evaluate them)."""
        backup = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.shadow)
        try:
            yield model
        finally:
            model.load_state_dict(backup)
