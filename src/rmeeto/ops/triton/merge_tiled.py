"""The fused merge plan for sequences of any length: the scores from a tiled launch, then the bookkeeping.

The single-program plan in :mod:`rmeeto.ops.triton.merge` holds the whole (sources x destinations)
score tile in registers, which limits it to 257 tokens. Here every launch works on blocks of
``TILE`` sources (or destinations) and loops over the others, so the memory per program is fixed
and VideoMamba's 1569 / 3137 tokens (and longer) run with the same result:

1. ``_best_kernel`` (batch, source block): loops over destination blocks; each tile is a
   ``tl.dot`` over the channels (fp32 accumulation) scaled by the destinations' inverse norms; keeps
   the running best score and its destination (the first column equal to a row's maximum; a later
   block wins only when strictly greater, so ties go to the lowest destination, as ``torch.max``
   does), and divides by the source's norm at the end. ``prune-norm`` computes only the norms.
2. Up to ``TILED_BOOK_CFG["max_sources"]`` sources: the one-program-per-image bookkeeping of
   :mod:`rmeeto.ops.triton.merge_book`, as the single-program plan does it (with the bit search
   and the compacted second sort where ``TILED_BOOK_CFG`` says).
   Beyond that, three tiled launches:

   - ``_rank_kernel`` (batch, source block): each source's rank in a stable descending sort of the
     scores (how many come first), and its place among the sources that go to the same destination
     (the order in which they are added, as the reference's ``scatter_add``);
   - ``_slot_kernel`` (batch, block): output slots from the removed sources before each token, new
     sizes and weights of the destinations (sum over the source blocks), owners, and the start and
     count of each output row's sources in the merged-source list;
   - ``_moved_kernel`` (batch, source block), merge only: each merged source's slot (its
     destination's), weight and place in that list.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl

from torch import Tensor

from .launch import cdiv, launch, next_pow2
from . import merge_book
from .merge_book import MAX_BOOK_SOURCES, _book_kernel, store_pair

TILE = 64  # sources (or destinations) per program and per inner step of the bookkeeping launches 2-4
# _best_kernel: sources per program, destinations and channels per inner step, warps. 32 channels a step instead of
# 64: the plan's scores alone 1.22-1.28x faster at 1569 tokens and widths 192-576, 1.003x / 0.998x on VideoMamba-Ti / -S
# r=88 in CUDA graphs; other block shapes were slower (one H200, 2026-12-04, docs/benchmarks/2026-12-04-h200-video-head)
BEST_CFG = dict(sources=64, destinations=64, channels=32, num_warps=4)
# _book_kernel after the scores: warps, and up to how many sources it runs (the three tiled launches beyond). At
# 1569 tokens, batch 32, r=88 on one H200 (2026-12-04, docs/benchmarks/2026-12-04-h200-plan-flat, run 77): 30.9 us
# on 8 warps, 30.1 on 16, 47.0 on 4; the three launches 106 us (0.971x on VideoMamba-Ti r=88 in a CUDA graph). Its
# time follows the padded source count, not the tokens: 29.7 us at 1041 tokens, which pad to the same 1024 sources.
# search_from: from this many (padded) sources up, the top r by a search on the keys' bits (43 counts) instead of a sort
# of all sources; compact: the merged sources' sort on the r of them (a power of 2 at least r), compacted through a
# scratch row, instead of on all sources. At batch 32 and r=88 on one H200 (2026-12-04, run 85 of
# docs/benchmarks/2026-12-04-h200-scan-narrow), us: 1569 tokens (1024 padded sources) 30.4 sorting both times, 21.9
# compacted, 18.7 also searched; 601 tokens (512) 10.2, 8.2 compacted, 11.4 also searched.
TILED_BOOK_CFG = dict(num_warps=8, max_sources=MAX_BOOK_SOURCES, search_from=1024, compact=1)


@triton.jit
def accumulate_dots(acc, nb, a, xb, fd, sxt, kk, md, mk, IEEE: tl.constexpr):
    """One channel slice ``kk`` of the cosine numerators: ``acc += a @ d^T`` for the destinations at rows ``fd``
    (fp32 accumulation, IEEE for fp32 inputs), and their squared norms ``nb``."""
    d = tl.load(xb + fd[:, None] * sxt + kk[None, :], mask=md[:, None] & mk[None, :], other=0.0)
    if IEEE:
        acc += tl.dot(a, tl.trans(d), input_precision="ieee")
    else:
        acc += tl.dot(a, tl.trans(d))
    df = d.to(tl.float32)
    return acc, nb + tl.sum(df * df, axis=1)


@triton.jit
def _best_kernel(x_ptr, best_ptr, dst_ptr, T, C, cls_idx, sxb, sxt,
                 NORM_ONLY: tl.constexpr, IEEE: tl.constexpr, BS: tl.constexpr, BK: tl.constexpr, BD: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    S = T // 2  # source k sits at non-class position 2k, destination k at 2k + 1
    D = (T - 1) // 2
    i = tl.program_id(1) * BS + tl.arange(0, BS)
    ms = i < S
    fs = 2 * i + (2 * i >= cls_idx).to(tl.int32)
    xb = x_ptr + b * sxb
    na = tl.zeros((BS,), dtype=tl.float32)
    for k0 in range(0, C, BK):
        kk = k0 + tl.arange(0, BK)
        a = tl.load(xb + fs[:, None] * sxt + kk[None, :], mask=ms[:, None] & (kk < C)[None, :], other=0.0)
        af = a.to(tl.float32)
        na += tl.sum(af * af, axis=1)
    top = tl.full((BS,), float("-inf"), tl.float32)
    arg = tl.zeros((BS,), dtype=tl.int32)
    if NORM_ONLY:  # prune-norm: the lowest-norm sources go first
        top = tl.where(ms, -tl.sqrt(na), top)
    else:
        for d0 in range(0, D, BD):
            j = d0 + tl.arange(0, BD)
            md = j < D
            fd = 2 * j + 1 + (2 * j + 1 >= cls_idx).to(tl.int32)
            acc = tl.zeros((BS, BD), dtype=tl.float32)
            nb = tl.zeros((BD,), dtype=tl.float32)
            for k0 in range(0, C, BK):
                kk = k0 + tl.arange(0, BK)
                mk = kk < C
                a = tl.load(xb + fs[:, None] * sxt + kk[None, :], mask=ms[:, None] & mk[None, :], other=0.0)
                acc, nb = accumulate_dots(acc, nb, a, xb, fd, sxt, kk, md, mk, IEEE)
            # a source's own norm does not move its best destination: it divides once, after the loop; padding
            # columns get -inf from the added term, in the same instruction as the scale
            cos = acc * tl.where(md, 1.0 / tl.sqrt(tl.where(md, nb, 1.0)), 0.0)[None, :] \
                + tl.where(md, 0.0, float("-inf"))[None, :]
            m = tl.max(cos, axis=1)
            # the first of equal scores; the clamp keeps an all-NaN row (a zero token) inside the sequence
            am = tl.minimum(tl.min(tl.where(cos == m[:, None], j[None, :], D), axis=1), D - 1)
            up = m > top  # strictly: an equal score in a later block has a higher index
            top = tl.where(up, m, top)
            arg = tl.where(up, am, arg)
        top = top / tl.sqrt(tl.where(ms, na, 1.0))  # padding rows: no 0/0
    tl.store(best_ptr + b * S + i, top, mask=ms)
    tl.store(dst_ptr + b * S + i, arg, mask=ms)


@triton.jit
def _rank_kernel(best_ptr, dst_ptr, rank_ptr, pos_ptr, S, MERGE: tl.constexpr, BS: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    i = tl.program_id(1) * BS + tl.arange(0, BS)
    ms = i < S
    bi = tl.load(best_ptr + b * S + i, mask=ms, other=float("-inf"))
    di = tl.load(dst_ptr + b * S + i, mask=ms, other=-1)
    rank = tl.zeros((BS,), dtype=tl.int32)
    pos = tl.zeros((BS,), dtype=tl.int32)
    for j0 in range(0, S, BS):
        j = j0 + tl.arange(0, BS)
        mj = j < S
        bj = tl.load(best_ptr + b * S + j, mask=mj, other=float("-inf"))
        # [i, j]: source j comes before source i (higher score, or equal score and lower index)
        first = (bj[None, :] > bi[:, None]) | ((bj[None, :] == bi[:, None]) & (j[None, :] < i[:, None]))
        first = first & mj[None, :]
        rank += tl.sum(first.to(tl.int32), axis=1)
        if MERGE:  # every source before a merged one is merged too: this is its place in its group
            dj = tl.load(dst_ptr + b * S + j, mask=mj, other=-1)
            pos += tl.sum((first & (dj[None, :] == di[:, None])).to(tl.int32), axis=1)
    tl.store(rank_ptr + b * S + i, rank, mask=ms)
    tl.store(pos_ptr + b * S + i, pos, mask=ms)


@triton.jit
def _slot_kernel(size_ptr, rank_ptr, dst_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, first_ptr, nsrc_ptr,
                 T, cls_idx, new_cls, r, out_len,
                 HAS_SIZE: tl.constexpr, MERGE: tl.constexpr, BS: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    S = T // 2
    D = (T - 1) // 2
    i0 = tl.program_id(1) * BS
    i = i0 + tl.arange(0, BS)  # source i and destination i
    ms, md = i < S, i < D
    fs = 2 * i + (2 * i >= cls_idx).to(tl.int32)
    fd = 2 * i + 1 + (2 * i + 1 >= cls_idx).to(tl.int32)
    sel = (tl.load(rank_ptr + b * S + i, mask=ms, other=r) < r).to(tl.int32)
    sb = size_ptr + b * T
    before = tl.zeros((BS,), dtype=tl.int32)  # removed sources in earlier blocks
    below = tl.zeros((BS,), dtype=tl.int32)  # merged sources whose destination is in an earlier block
    cnt = tl.zeros((BS,), dtype=tl.int32)  # merged sources into each destination of this block
    gained = tl.zeros((BS,), dtype=tl.float32)
    hi = i0
    if MERGE:
        hi = S
    for j0 in range(0, hi, BS):
        j = j0 + tl.arange(0, BS)
        mj = j < S
        selj = (tl.load(rank_ptr + b * S + j, mask=mj, other=r) < r).to(tl.int32)
        before += tl.where(j < i0, selj, 0)
        if MERGE:
            dj = tl.load(dst_ptr + b * S + j, mask=mj, other=-1)
            if HAS_SIZE:
                szj = tl.load(sb + 2 * j + (2 * j >= cls_idx).to(tl.int32), mask=mj, other=0.0)
            else:
                szj = tl.where(mj, 1.0, 0.0)
            hit = (dj[None, :] == i[:, None]) & (selj[None, :] != 0)  # [destination i, source j]
            gained += tl.sum(tl.where(hit, szj[None, :], 0.0), axis=1)
            cnt += tl.sum(hit.to(tl.int32), axis=1)
            below += tl.where(dj < i0, selj, 0)
    removed = tl.sum(before, axis=0) + tl.cumsum(sel, axis=0)  # removed sources up to source i
    # place in kept order: non-class position minus the removed sources before it, then skip the class slot
    r_src = 2 * i - (removed - sel)
    r_dst = 2 * i + 1 - removed
    slot_src = r_src + (r_src >= new_cls).to(tl.int32)
    slot_dst = r_dst + (r_dst >= new_cls).to(tl.int32)
    if HAS_SIZE:
        size_src = tl.load(sb + fs, mask=ms, other=0.0)
        size_dst = tl.load(sb + fd, mask=md, other=0.0)
    else:
        size_src = tl.where(ms, 1.0, 0.0)
        size_dst = tl.where(md, 1.0, 0.0)
    nsize_dst = size_dst + gained
    w_dst = size_dst / tl.where(md, nsize_dst, 1.0)
    keep = ms & (sel == 0)
    pb, ob = b * T, b * out_len
    store_pair(slot_ptr, w_ptr, pb + fs, slot_src, tl.full((BS,), 1.0, tl.float32), keep)
    store_pair(slot_ptr, w_ptr, pb + fd, slot_dst, w_dst, md)
    store_pair(owner_ptr, nsize_ptr, ob + slot_src, fs, size_src, keep)
    store_pair(owner_ptr, nsize_ptr, ob + slot_dst, fd, nsize_dst, md)
    if MERGE:  # the merged sources' slots and weights come from _moved_kernel
        start = tl.sum(below, axis=0) + tl.cumsum(cnt, axis=0) - cnt
        store_pair(first_ptr, nsrc_ptr, ob + slot_dst, start, cnt, md)
        store_pair(first_ptr, nsrc_ptr, ob + slot_src, tl.zeros((BS,), tl.int32), tl.zeros((BS,), tl.int32), keep)
    else:  # pruned sources go to the overflow slot
        store_pair(slot_ptr, w_ptr, pb + fs, tl.zeros((BS,), tl.int32) + out_len, tl.zeros((BS,), tl.float32),
              ms & (sel != 0))
    if tl.program_id(1) == 0:
        if HAS_SIZE:
            size_cls = tl.load(sb + cls_idx)
        else:
            size_cls = 1.0
        tl.store(slot_ptr + pb + cls_idx, new_cls)
        tl.store(w_ptr + pb + cls_idx, 1.0)
        tl.store(owner_ptr + ob + new_cls, cls_idx)
        tl.store(nsize_ptr + ob + new_cls, size_cls)
        if MERGE:
            tl.store(first_ptr + ob + new_cls, 0)
            tl.store(nsrc_ptr + ob + new_cls, 0)


@triton.jit
def _moved_kernel(size_ptr, rank_ptr, dst_ptr, pos_ptr, slot_ptr, w_ptr, nsize_ptr, first_ptr, src_ptr,
                  T, cls_idx, r, out_len, HAS_SIZE: tl.constexpr, BS: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    S = T // 2
    i = tl.program_id(1) * BS + tl.arange(0, BS)
    ms = i < S
    sel = ms & (tl.load(rank_ptr + b * S + i, mask=ms, other=r) < r)
    fs = 2 * i + (2 * i >= cls_idx).to(tl.int32)
    d = tl.load(dst_ptr + b * S + i, mask=sel, other=0)
    fd = 2 * d + 1 + (2 * d + 1 >= cls_idx).to(tl.int32)
    to = tl.load(slot_ptr + b * T + fd, mask=sel, other=0)  # a merged source follows its destination
    into = tl.load(nsize_ptr + b * out_len + to, mask=sel, other=1.0)
    if HAS_SIZE:
        size = tl.load(size_ptr + b * T + fs, mask=sel, other=0.0)
    else:
        size = tl.where(sel, 1.0, 0.0)
    store_pair(slot_ptr, w_ptr, b * T + fs, to, size / into, sel)
    at = tl.load(first_ptr + b * out_len + to, mask=sel, other=0) + tl.load(pos_ptr + b * S + i, mask=sel, other=0)
    tl.store(src_ptr + b * r + at, fs, mask=sel)


def book_form(S: int, r: int, merged: bool, few: bool) -> dict:
    """The one-program bookkeeping's constexprs for ``S`` sources: their padded count, the ``r`` reductions (``few``)
    or the bit search (``TILED_BOOK_CFG["search_from"]``), and the compacted second sort's size (``RP``, 1: none)."""
    bs = max(16, next_pow2(S))
    rp = next_pow2(r) if merged and not few and TILED_BOOK_CFG["compact"] else 1
    return dict(BS=bs, FEW=few, SEARCH=not few and bs >= TILED_BOOK_CFG["search_from"] > 0, RP=rp)


def book_scratch(B: int, form: dict, device: torch.device) -> Optional[Tensor]:
    """The compacted second sort's scratch rows (``RP`` int64 per image), or None without it."""
    return torch.empty(B, form["RP"], device=device, dtype=torch.int64) if form["RP"] > 1 else None


def plan_tiled(metric: Tensor, best: Tensor, size: Tensor, has_size: bool, out: dict,
               r: int, cls_index: int, new_cls: int, kind: int, merged: bool) -> None:
    """Fill ``out`` (slot, w, owner, new_size, first, nsrc, src: as in ``rmeeto.ops.triton.merge.plan``) for
    ``metric`` (batch, T, C) with unit last stride. ``kind``: 0 cosine, 1 norm, 2 the scores
    already in ``best`` (batch, T // 2, fp32)."""
    B, T, C = metric.shape
    S = T // 2
    dst = torch.empty(B, S, device=metric.device, dtype=torch.int32)  # each source's best destination
    grid = (B, cdiv(S, TILE))
    if kind == 2:
        dst.zero_()
    else:
        bs = BEST_CFG["sources"]
        launch(_best_kernel, (B, cdiv(S, bs)), metric, best, dst, T, C, cls_index, metric.stride(0), metric.stride(1),
               NORM_ONLY=kind == 1, IEEE=metric.dtype == torch.float32, BS=bs, BK=BEST_CFG["channels"],
               BD=BEST_CFG["destinations"], num_warps=BEST_CFG["num_warps"])
    if S <= TILED_BOOK_CFG["max_sources"]:
        form = book_form(S, r, merged, r <= merge_book.BOOK_CFG["few_r"])
        launch(_book_kernel, (B,), best, dst, size, out["slot"], out["w"], out["owner"], out["new_size"], out["src"],
               out["first"], out["nsrc"], book_scratch(B, form, metric.device), T, cls_index, new_cls, r, T - r,
               HAS_SIZE=has_size, MERGE=merged, **form, num_warps=TILED_BOOK_CFG["num_warps"])
        return
    rank, pos = torch.empty(2, B, S, device=metric.device, dtype=torch.int32)
    launch(_rank_kernel, grid, best, dst, rank, pos, S, MERGE=merged, BS=TILE, num_warps=4)
    launch(_slot_kernel, grid, size, rank, dst, out["slot"], out["w"], out["owner"], out["new_size"], out["first"],
           out["nsrc"], T, cls_index, new_cls, r, T - r, HAS_SIZE=has_size, MERGE=merged,
           BS=TILE, num_warps=4)
    if merged:
        launch(_moved_kernel, grid, size, rank, dst, pos, out["slot"], out["w"], out["new_size"], out["first"],
               out["src"], T, cls_index, r, T - r, HAS_SIZE=has_size, BS=TILE, num_warps=4)
