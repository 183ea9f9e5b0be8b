"""R-MeeTo token reduction for Vision Mamba: bipartite matching -> a plan -> apply it to any tensor.

One merge step on ``T`` tokens (one of them the class token) reduces them to ``T - r``:

1. Leave the class token out; split the other tokens alternately into sources (even
   positions) and destinations (odd positions).
2. Each source takes its best destination under ``distance`` on the L2-normalised metric.
3. The ``r`` sources with the best scores are merged into their destinations (``merge``), or
   dropped (``prune``).
4. ``order="keep"`` puts the survivors back in their original order (a merged token takes its
   destination's place); ``order="shuffle"`` leaves them as the paper's odd-even ablation does:
   unmerged sources by descending score, then all destinations.
5. The class token is re-inserted at ``floor(i * (t - r) / t)`` (``cls="proportional"``, the
   published rule; t counts all tokens for ``keep`` and the sources for ``shuffle``), or at its
   true place in the new order (``cls="spatial"``).

The plan is a single index map ``slot`` (batch, T) -> output position, so applying it to hidden
states, the residual stream or token sizes is one ``scatter_add`` each.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import torch
from torch import Tensor

MODES = ("merge", "prune", "prune-random", "prune-norm")
ORDERS = ("keep", "shuffle")
DISTANCES = ("cosine", "l1", "l2")
CLS_PLACEMENTS = ("proportional", "spatial")

ClsIndex = Union[int, Tensor]  # a python int shared by the batch, or a (batch,) tensor


@dataclass
class MergePlan:
    """Where every input token goes.

    ``slot[b, i]`` is the output position of token ``i`` (``out_len`` for a dropped one). The
    same plan in gather form, which is what applying it uses: ``owner[b, j]`` is the token that
    output ``j`` starts from, and the ``r`` merged (or dropped) sources ``src[b, k]`` add into
    output ``src_slot[b, k]``.
    """

    slot: Tensor
    out_len: int
    cls_index: ClsIndex
    owner: Tensor
    src: Tensor
    src_slot: Tensor
    merged: bool


def max_r(num_tokens: int) -> int:
    """At most half of the non-class tokens can merge in one step."""
    return (num_tokens - 1) // 2


def _without_cls(batch: int, t: int, cls_index: ClsIndex, device) -> Tensor:
    """(batch, t-1) indices of the non-class tokens in the full sequence, in order."""
    pos = torch.arange(t - 1, device=device)
    if isinstance(cls_index, int):
        return (pos + (pos >= cls_index)).expand(batch, t - 1)
    return pos + (pos[None] >= cls_index[:, None])


def _scores(metric: Tensor, distance: str) -> tuple[Tensor, Tensor]:
    """Best destination and its score for every source, on the L2-normalised metric."""
    metric = metric / metric.norm(dim=-1, keepdim=True)
    a, b = metric[:, ::2], metric[:, 1::2]
    if distance == "cosine":
        scores = a @ b.transpose(-1, -2)
    elif distance == "l1":
        scores = -torch.cdist(a, b, p=1)
    else:
        scores = -torch.cdist(a, b, p=2)
    return scores.max(dim=-1)


@torch.no_grad()
def plan_merge(metric: Tensor, r: int, cls_index: ClsIndex, mode: str = "merge", order: str = "keep",
               distance: str = "cosine", cls: str = "proportional",
               generator: Optional[torch.Generator] = None) -> Optional[MergePlan]:
    """Plan one reduction step from ``metric`` (batch, T, C); ``None`` when nothing merges."""
    b, t, _ = metric.shape
    r = min(r, max_r(t))
    if r <= 0:
        return None
    dev = metric.device
    keep_idx = _without_cls(b, t, cls_index, dev)  # (b, n)
    m = _up(metric).gather(1, keep_idx[..., None].expand(-1, -1, metric.shape[-1]))
    n = t - 1
    s = (n + 1) // 2  # sources: even positions
    if mode in ("merge", "prune"):
        best, best_dst = _scores(m, distance)
    elif mode == "prune-random":
        best = torch.rand(b, s, device=dev, generator=generator)
        best_dst = torch.zeros(b, s, dtype=torch.long, device=dev)
    else:  # prune-norm: the lowest-norm sources go first
        best = -m[:, ::2].norm(dim=-1)
        best_dst = torch.zeros(b, s, dtype=torch.long, device=dev)
    edge = best.argsort(dim=-1, descending=True, stable=True)
    src, unm = edge[:, :r], edge[:, r:]
    dst = best_dst.gather(1, src)
    out_len = t - r

    # New class-token place ("spatial" is only defined for kept order; patch() checks that).
    if cls == "proportional":
        base = t if order == "keep" else s
        new_cls = cls_index * (base - r) // base
        if order == "shuffle":  # it cannot go past the unmerged sources it is inserted among
            new_cls = min(new_cls, s - r) if isinstance(new_cls, int) else new_cls.clamp_max(s - r)
    if order == "keep":
        kept = torch.ones(b, n, dtype=torch.bool, device=dev)
        kept.scatter_(1, 2 * src, False)
        rank = kept.long().cumsum(1) - 1  # place among the surviving non-class tokens
        if cls == "spatial":
            new_cls = (kept & (keep_idx < _as_col(cls_index, b, dev))).sum(1)
        nc_slot = rank + (rank >= _as_col(new_cls, b, dev))
    else:
        nc_slot = torch.empty(b, n, dtype=torch.long, device=dev)
        k = torch.arange(s - r, device=dev).expand(b, -1)
        nc_slot.scatter_(1, 2 * unm, k + (k >= _as_col(new_cls, b, dev)))
        j = torch.arange(n - s, device=dev)
        nc_slot[:, 1::2] = (s - r + 1 + j).expand(b, -1)
    # Merged sources follow their destination; pruned ones go to the overflow slot.
    if mode == "merge":
        moved = nc_slot.gather(1, 2 * dst + 1)
    else:
        moved = torch.full_like(src, out_len)
    nc_slot.scatter_(1, 2 * src, moved)

    slot = torch.empty(b, t, dtype=torch.long, device=dev)
    slot.scatter_(1, keep_idx, nc_slot)
    cls_col = _as_col(cls_index, b, dev)
    slot.scatter_(1, cls_col, _as_col(new_cls, b, dev))
    src_full = keep_idx.gather(1, 2 * src)
    src_slot = slot.gather(1, src_full)
    # Owners: the non-source tokens fill the slots 0..out_len-1 exactly once; sending the sources to
    # the spare slot out_len and sorting by slot lists the owners in output order (deterministic).
    owner = slot.scatter(1, src_full, out_len).argsort(dim=1, stable=True)[:, :out_len]
    return MergePlan(slot=slot, out_len=out_len, cls_index=new_cls, owner=owner, src=src_full,
                     src_slot=src_slot, merged=mode == "merge")


def _up(x: Tensor) -> Tensor:
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _as_col(i: ClsIndex, batch: int, device) -> Tensor:
    if isinstance(i, int):
        return torch.full((batch, 1), i, dtype=torch.long, device=device)
    return i.reshape(batch, 1)


def _rows(x: Tensor, idx: Tensor) -> Tensor:
    """``x[b, idx[b, k]]`` for a (batch, T, C) tensor and (batch, K) indices."""
    return x.gather(1, idx[..., None].expand(-1, -1, x.shape[-1]))


def merge_tokens(plan: MergePlan, size: Tensor, *xs: Optional[Tensor]) -> tuple[Tensor, ...]:
    """Size-weighted average of each ``x`` under ``plan``; returns ``(new_size, *new_xs)``.

    ``size`` is (batch, T, 1) in fp32; each output keeps its input's dtype. One gather per
    tensor does the work for every token that does not move; only the ``r`` merged rows are
    touched again (``x_dst * s_dst / S + sum x_src * s_src / S``), so the cost is one pass over
    the tokens rather than several.
    """
    own_size = _rows(size, plan.owner)
    if not plan.merged:  # pruning: survivors keep their values and sizes
        return (own_size, *(None if x is None else _rows(x, plan.owner) for x in xs))
    src_size = _rows(size, plan.src)
    new_size = own_size.scatter_add(1, plan.src_slot[..., None], src_size)
    keep_w = own_size / new_size
    src_w = src_size / _rows(new_size, plan.src_slot)
    outs = []
    for x in xs:
        if x is None:
            outs.append(None)
            continue
        out = _rows(x, plan.owner).mul_(keep_w)  # in place on a fresh gather: autograd-safe
        add = (_up(_rows(x, plan.src)) * src_w).to(out.dtype)
        outs.append(out.scatter_add_(1, plan.src_slot[..., None].expand(-1, -1, x.shape[-1]), add))
    return (new_size, *outs)


def follow_groups(plan: MergePlan, groups: Tensor) -> Tensor:
    """Map each original token's current index through ``plan``; dropped tokens become -1."""
    valid = groups >= 0
    moved = plan.slot.long().gather(1, groups.clamp_min(0))
    return torch.where(valid & (moved < plan.out_len), moved, torch.full_like(moved, -1))
