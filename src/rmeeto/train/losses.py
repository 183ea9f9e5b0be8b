"""Distillation from the unmerged model: ``CE + alpha * tau^2 * KL``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def distill_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """DeiT's soft-distillation term: ``tau^2 * mean_over_batch sum_k p_t,k (log p_t,k - log p_s,k)``
    with ``p = softmax(logits / tau)`` — the KL divergence between teacher and student output
    distributions (zero iff they agree), computed in float32."""
    s = F.log_softmax(student_logits.float() / tau, dim=-1)
    t = F.log_softmax(teacher_logits.float() / tau, dim=-1)
    return F.kl_div(s, t, reduction="batchmean", log_target=True) * (tau * tau)


class DistillationLoss(nn.Module):
    """``base(student, target) + alpha * distill_kl(student, teacher(x))``; the teacher is frozen
    and run under ``no_grad`` on the same (mixed) inputs. With mixup, ``base`` is the
    soft-target CE. Returns the total; the two parts of the last call are kept in
    ``self.last_parts`` (tensors, no sync)."""

    def __init__(self, base: nn.Module, teacher: nn.Module, alpha: float = 0.5, tau: float = 1.0):
        super().__init__()
        self.base = base
        self.teacher = teacher
        self.alpha = alpha
        self.tau = tau
        self.last_parts: dict = {}

    def forward(self, inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        ce = self.base(outputs, targets)
        with torch.no_grad():
            t_out = self.teacher(inputs)
        kl = distill_kl(outputs, t_out, self.tau)
        self.last_parts = {"ce": ce.detach(), "kl": kl.detach()}
        return ce + self.alpha * kl
