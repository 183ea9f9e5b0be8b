"""The bidirectional Mamba mixer ("bimamba v2") of Vision Mamba, with the official parameter names."""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..ops.bimamba import DirectionParams
from ..ops.dispatch import bimamba_v2_inner


def _s4d_real_A_log(d_inner: int, d_state: int) -> Tensor:
    return torch.log(torch.arange(1, d_state + 1, dtype=torch.float32).repeat(d_inner, 1))


def _param(module: nn.Module, name: str) -> Optional[Tensor]:
    """``getattr(module, name)`` for a plain parameter without ``nn.Module.__getattr__``, which made
    ``direction_params`` 13 us a call (two per block and forward); a parametrized or wrapped weight (no entry of
    that name) still goes through ``getattr``."""
    params = module._parameters
    return params[name] if name in params else getattr(module, name)


class BiMambaMixer(nn.Module):
    """in_proj -> two selective-scan branches (forward and reversed) -> mean (or sum) -> out_proj.

    Keys: ``A_log, D, A_b_log, D_b, in_proj, conv1d, x_proj, dt_proj, conv1d_b, x_proj_b,
    dt_proj_b, out_proj`` exactly as in hustvl/Vim.
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_rank: Optional[int] = None, dt_min: float = 0.001, dt_max: float = 0.1,
                 dt_init_floor: float = 1e-4, dt_scale: float = 1.0, divide_out: bool = True):
        super().__init__()
        self.d_model, self.d_state, self.d_conv = d_model, d_state, d_conv
        self.out_scale = 0.5 if divide_out else 1.0  # Vim averages the directions, VideoMamba sums
        self.d_inner = expand * d_model
        self.dt_rank = dt_rank or math.ceil(d_model / 16)
        e, n, r = self.d_inner, d_state, self.dt_rank

        # Parameters first so that state_dict order matches the official release.
        self.A_log = nn.Parameter(_s4d_real_A_log(e, n))
        self.D = nn.Parameter(torch.ones(e))
        self.A_b_log = nn.Parameter(_s4d_real_A_log(e, n))
        self.D_b = nn.Parameter(torch.ones(e))
        for p in (self.A_log, self.D, self.A_b_log, self.D_b):
            p._no_weight_decay = True

        self.in_proj = nn.Linear(d_model, 2 * e, bias=False)
        self.conv1d = nn.Conv1d(e, e, d_conv, groups=e, padding=d_conv - 1)
        self.x_proj = nn.Linear(e, r + 2 * n, bias=False)
        self.dt_proj = nn.Linear(r, e)
        self.conv1d_b = nn.Conv1d(e, e, d_conv, groups=e, padding=d_conv - 1)
        self.x_proj_b = nn.Linear(e, r + 2 * n, bias=False)
        self.dt_proj_b = nn.Linear(r, e)
        self.out_proj = nn.Linear(e, d_model, bias=False)

        for dt_proj in (self.dt_proj, self.dt_proj_b):
            self._init_dt(dt_proj, dt_scale, dt_min, dt_max, dt_init_floor)

    def _init_dt(self, dt_proj: nn.Linear, dt_scale, dt_min, dt_max, floor) -> None:
        std = self.dt_rank ** -0.5 * dt_scale
        nn.init.uniform_(dt_proj.weight, -std, std)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=floor)
        with torch.no_grad():  # inverse of softplus, so that softplus(bias) = dt
            dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        dt_proj.bias._no_reinit = True

    def direction_params(self, backward: bool) -> DirectionParams:
        s = "_b" if backward else ""
        mods = self._modules
        conv, dt_proj = mods["conv1d" + s], mods["dt_proj" + s]
        return DirectionParams(_param(conv, "weight"), _param(conv, "bias"), _param(mods["x_proj" + s], "weight"),
                               _param(dt_proj, "weight"), _param(dt_proj, "bias"),
                               _param(self, "A_b_log" if backward else "A_log"), _param(self, "D" + s))

    def forward(self, hidden: Tensor, backend: Optional[str] = None, want_aux: bool = False):
        """(batch, length, d_model) -> (batch, length, d_model); also the SSM aux if ``want_aux``."""
        xz = F.linear(hidden, self.in_proj.weight)
        y, aux = bimamba_v2_inner(xz, self.direction_params(False), self.direction_params(True),
                                  backend=backend, want_aux=want_aux, out_scale=self.out_scale)
        return F.linear(y, self.out_proj.weight), aux
