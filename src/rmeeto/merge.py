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


def _source_scores(m: Tensor, mode: str, distance: str,
                   generator: Optional[torch.Generator]) -> tuple[Tensor, Tensor]:
    """Each source's score (higher goes first) and its best destination (0 where pruning needs none)."""
    if mode in ("merge", "prune"):
        return _scores(m, distance)
    b, s = m.shape[0], (m.shape[1] + 1) // 2
    if mode == "prune-random":
        best = torch.rand(b, s, device=m.device, generator=generator)
    else:  # prune-norm: the lowest-norm sources go first
        best = -m[:, ::2].norm(dim=-1)
    return best, torch.zeros(b, s, dtype=torch.long, device=m.device)


def _kept_order_slots(src: Tensor, keep_idx: Tensor, cls_index: ClsIndex, cls: str,
                      new_cls: Optional[ClsIndex]) -> tuple[Tensor, ClsIndex]:
    """``order="keep"``: the output place of every non-class token (sources' places to be set), and the class
    token's new index."""
    b, n = keep_idx.shape
    kept = torch.ones(b, n, dtype=torch.bool, device=src.device)
    kept.scatter_(1, 2 * src, False)
    rank = kept.long().cumsum(1) - 1  # place among the surviving non-class tokens
    if cls == "spatial":
        new_cls = (kept & (keep_idx < _as_col(cls_index, b, src.device))).sum(1)
    return rank + (rank >= _as_col(new_cls, b, src.device)), new_cls


def _shuffled_order_slots(unm: Tensor, n: int, new_cls: ClsIndex) -> Tensor:
    """``order="shuffle"``: unmerged sources by descending score, then every destination, the class token among the
    sources."""
    b, dev = unm.shape[0], unm.device
    s, kept_src = (n + 1) // 2, unm.shape[1]
    nc_slot = torch.empty(b, n, dtype=torch.long, device=dev)
    k = torch.arange(kept_src, device=dev).expand(b, -1)
    nc_slot.scatter_(1, 2 * unm, k + (k >= _as_col(new_cls, b, dev)))
    nc_slot[:, 1::2] = (kept_src + 1 + torch.arange(n - s, device=dev)).expand(b, -1)
    return nc_slot


def _proportional_cls(cls_index: ClsIndex, t: int, s: int, r: int, order: str) -> ClsIndex:
    """The published rule: ``floor(i * (base - r) / base)``, base = all tokens (``keep``) or the sources
    (``shuffle``, where it cannot go past the unmerged sources it is inserted among)."""
    base = t if order == "keep" else s
    new_cls = cls_index * (base - r) // base
    if order == "shuffle":
        new_cls = min(new_cls, s - r) if isinstance(new_cls, int) else new_cls.clamp_max(s - r)
    return new_cls


@torch.no_grad()
def plan_merge(metric: Tensor, r: int, cls_index: ClsIndex, mode: str = "merge", order: str = "keep",
               distance: str = "cosine", cls: str = "proportional",
               generator: Optional[torch.Generator] = None) -> Optional[MergePlan]:
    """Plan one reduction step from ``metric`` (batch, T, C); ``None`` when nothing merges. (``cls="spatial"`` is
    only defined for the kept order; :func:`rmeeto.patch` checks that.)"""
    b, t, _ = metric.shape
    r = min(r, max_r(t))
    if r <= 0:
        return None
    dev = metric.device
    keep_idx = _without_cls(b, t, cls_index, dev)  # (b, n)
    n, s = t - 1, t // 2  # s sources: the even non-class positions
    best, best_dst = _source_scores(_rows(_up(metric), keep_idx), mode, distance, generator)
    edge = best.argsort(dim=-1, descending=True, stable=True)
    src, unm = edge[:, :r], edge[:, r:]
    out_len = t - r
    new_cls = _proportional_cls(cls_index, t, s, r, order) if cls == "proportional" else None
    if order == "keep":
        nc_slot, new_cls = _kept_order_slots(src, keep_idx, cls_index, cls, new_cls)
    else:
        nc_slot = _shuffled_order_slots(unm, n, new_cls)
    # Merged sources follow their destination; pruned ones go to the overflow slot.
    moved = nc_slot.gather(1, 2 * best_dst.gather(1, src) + 1) if mode == "merge" else torch.full_like(src, out_len)
    nc_slot.scatter_(1, 2 * src, moved)

    slot = torch.empty(b, t, dtype=torch.long, device=dev)
    slot.scatter_(1, keep_idx, nc_slot)
    slot.scatter_(1, _as_col(cls_index, b, dev), _as_col(new_cls, b, dev))
    src_full = keep_idx.gather(1, 2 * src)
    # Owners: the non-source tokens fill the slots 0..out_len-1 exactly once; sending the sources to
    # the spare slot out_len and sorting by slot lists the owners in output order (deterministic).
    owner = slot.scatter(1, src_full, out_len).argsort(dim=1, stable=True)[:, :out_len]
    return MergePlan(slot=slot, out_len=out_len, cls_index=new_cls, owner=owner, src=src_full,
                     src_slot=slot.gather(1, src_full), merged=mode == "merge")


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
