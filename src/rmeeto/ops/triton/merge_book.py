"""A merge plan's bookkeeping from each source's score and best destination, in one program per image.

Given ``best`` (the score that ranks the sources) and ``dst`` (each source's best destination), everything
else is one-dimensional: the top-``r`` sources by distinct keys (score, then position: a stable order), found
by a sort or by a search on the keys' bits, every token's output slot in kept order from a cumsum, the
merged-source list from a second sort (by destination, then score; over all sources, or over the ``r``
merged ones compacted into a scratch row), each destination's count from a histogram, and the size-weighted
merge weights. The single-program plan (:mod:`rmeeto.ops.triton.merge`) runs it after its score tile; the
tiled plan (:mod:`rmeeto.ops.triton.merge_tiled`) runs :func:`_book_kernel` on the scores of its tiled
launch, up to ``MAX_BOOK_SOURCES`` sources (VideoMamba's 3137 tokens have 1568).
"""
from __future__ import annotations

import triton
import triton.language as tl

IDX_BITS = 11  # a source's index in the low bits of its sort key (the 11, 2047, 42 and 43 in the kernels below)
MAX_BOOK_SOURCES = 1 << IDX_BITS
# few_r: up to this r, the bookkeeping finds the top r and lists them by 2 r reductions instead of two sorts
BOOK_CFG = dict(few_r=8)


@triton.jit
def store_pair(p0, p1, off, v0, v1, mask):
    tl.store(p0 + off, v0, mask=mask)
    tl.store(p1 + off, v1, mask=mask)


@triton.jit
def _score_key(best, i, valid):
    """Distinct int64 keys in the order of a stable descending sort of ``best`` (larger key: earlier): the
    float's bits made order-preserving, then ``2047 - i`` in the low 11 bits; invalid entries come last."""
    bits = tl.where(best == 0.0, 0.0, best).to(tl.int32, bitcast=True)  # -0.0 ties with 0.0, as in torch
    bits = tl.where(bits < 0, bits ^ 0x7FFFFFFF, bits)
    key = (bits.to(tl.int64) << 11) | (2047 - i).to(tl.int64)
    return tl.where(valid, key, -(1 << 50))


@triton.jit
def _min_with(v1, p1, v2, p2):
    """The smaller key and its payload in one reduction (keys are distinct, or equal only where unused)."""
    take1 = v1 < v2
    return tl.where(take1, v1, v2), tl.where(take1, p1, p2)


@triton.jit
def _kth_key(key, valid, r, FEW: tl.constexpr, SEARCH: tl.constexpr):
    """The ``r``-th largest of the distinct valid ``key``s (``r >= 1``): ``r`` max reductions when ``FEW``; with
    ``SEARCH`` the largest ``t`` that ``r`` keys reach, one bit at a time (43 counts, the keys' span); else a sort."""
    if FEW:
        kth = tl.max(key, axis=0)
        for _ in range(1, r):
            kth = tl.max(tl.where(key < kth, key, -(1 << 62)), axis=0)
    elif SEARCH:
        kth = tl.min(tl.where(valid, key, 1 << 62), axis=0)  # every valid key, so at least r, reaches the smallest
        for bit in tl.static_range(42, -1, -1):
            up = kth + (1 << bit)
            kth = tl.where(tl.sum((valid & (key >= up)).to(tl.int32), axis=0) >= r, up, kth)
    else:
        kth = tl.sum(tl.where(tl.arange(0, key.shape[0]) == r - 1, tl.sort(key, descending=True), 0), axis=0)
    return kth


@triton.jit
def plan_tokens(best, dst, b, i, ms, md, fs, fd, size_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, src_ptr,
                first_ptr, nsrc_ptr, T, cls_idx, new_cls, r, out_len,
                HAS_SIZE: tl.constexpr, MERGE: tl.constexpr, BS: tl.constexpr, FEW: tl.constexpr = False,
                SEARCH: tl.constexpr = False, scratch_ptr=None, RP: tl.constexpr = 1):
    """Write image ``b``'s plan from the scores ``best`` and destinations ``dst`` of its sources ``i`` (full
    positions ``fs``; destination ``i`` sits at ``fd``): see the module doc and ``merge.FusedPlan``. ``FEW``: for
    an ``r`` of at most ``BOOK_CFG["few_r"]``, ``2 r`` reductions take the place of the two sorts (same plan).
    ``SEARCH``: the top ``r`` by a search on the keys' bits instead of the first sort. ``RP > 1`` (a power of 2 at
    least ``r``): the merged sources' second sort runs on ``RP`` entries, compacted through ``scratch_ptr`` (``RP``
    int64 per image), instead of on all ``BS``. The plan is the same in every form."""
    key = _score_key(best, i, ms)
    kth = _kth_key(key, ms, r, FEW, SEARCH)
    sel = (key >= kth) & ms & (r > 0)
    seli = sel.to(tl.int32)
    removed = tl.cumsum(seli, axis=0)  # selected sources up to and including each one
    # place in kept order: non-class position minus the removed sources before it, then skip the class slot
    r_src = 2 * i - (removed - seli)
    r_dst = 2 * i + 1 - removed
    slot_src = r_src + (r_src >= new_cls).to(tl.int32)
    slot_dst = r_dst + (r_dst >= new_cls).to(tl.int32)

    sb = size_ptr + b * T
    if HAS_SIZE:
        size_src = tl.load(sb + fs, mask=ms, other=0.0)
        size_dst = tl.load(sb + fd, mask=md, other=0.0)
        size_cls = tl.load(sb + cls_idx)
    else:
        size_src = tl.where(ms, 1.0, 0.0)
        size_dst = tl.where(md, 1.0, 0.0)
        size_cls = 1.0
    if MERGE:
        # the merged sources sorted by destination, in score order within one: the apply adds them in this order
        order = tl.where(sel, (dst.to(tl.int64) << 43) | ((1 << 42) - 1 - key), (BS + 1) << 43)
        # every source is counted; the unselected ones all land in bin 0
        cnt = tl.histogram(tl.where(sel, dst, 0), BS) - tl.where(i == 0, BS - r, 0)
        upto = tl.cumsum(cnt, axis=0)
        start = upto - cnt
        if FEW:
            gained = _list_merged_few(order, size_src, src_ptr + b * r, cls_idx, i, r)
        elif RP > 1:
            sp = scratch_ptr + b * RP
            tl.store(sp + removed - 1, order, mask=sel)  # the selected sources' keys, in source order
            tl.debug_barrier()  # the stores before any thread reads the row back
            k = tl.arange(0, RP)
            order = tl.load(sp + k, mask=k < r, other=(BS + 1) << 43)
            gained = _list_merged(order, size_src, src_ptr + b * r, cls_idx, k, r, upto, start)
        else:
            gained = _list_merged(order, size_src, src_ptr + b * r, cls_idx, i, r, upto, start)
        nsize_dst = size_dst + tl.where(cnt > 0, gained, 0.0)
        w_dst = size_dst / tl.where(md, nsize_dst, 1.0)  # padding: 0 / 1
        moved_slot = tl.gather(slot_dst, dst, 0)
        into = tl.gather(nsize_dst, dst, 0)
        w_moved = size_src / tl.where(into > 0, into, 1.0)
    else:
        nsize_dst = size_dst
        w_dst = tl.where(md, 1.0, 0.0)
        moved_slot = tl.zeros((BS,), dtype=tl.int32) + out_len
        w_moved = tl.zeros((BS,), dtype=tl.float32)
    tok_slot = tl.where(sel, moved_slot, slot_src)
    tok_w = tl.where(sel, w_moved, 1.0)

    pb = b * T
    store_pair(slot_ptr, w_ptr, pb + fs, tok_slot, tok_w, ms)
    store_pair(slot_ptr, w_ptr, pb + fd, slot_dst, w_dst, md)
    tl.store(slot_ptr + pb + cls_idx, new_cls)
    tl.store(w_ptr + pb + cls_idx, 1.0)
    ob = b * out_len  # every output row: the token it starts from and the new size
    store_pair(owner_ptr, nsize_ptr, ob + slot_src, fs, size_src, ms & (sel == 0))
    store_pair(owner_ptr, nsize_ptr, ob + slot_dst, fd, nsize_dst, md)
    tl.store(owner_ptr + ob + new_cls, cls_idx)
    tl.store(nsize_ptr + ob + new_cls, size_cls)
    if MERGE:  # each output row's merged sources: where they start in the list and how many
        store_pair(first_ptr, nsrc_ptr, ob + slot_dst, start, cnt, md)
        zero = tl.zeros((BS,), dtype=tl.int32)
        store_pair(first_ptr, nsrc_ptr, ob + slot_src, zero, zero, ms & (sel == 0))
        tl.store(first_ptr + ob + new_cls, 0)
        tl.store(nsrc_ptr + ob + new_cls, 0)


@triton.jit
def _list_merged(order, size_src, src_ptr, cls_idx, k, r, upto, start):
    """Store the merged sources' full positions in ``order`` (one sort; entry ``k``) at ``src_ptr``; return the
    size each destination gains: differences of the running sum over the sorted list (sizes are token counts, whole
    numbers, so the differences are exact)."""
    order = tl.sort(order)
    k_src = (order & 2047).to(tl.int32)  # low bits of the key: the source's index
    tl.store(src_ptr + k, 2 * k_src + (2 * k_src >= cls_idx).to(tl.int32), mask=k < r)
    run = tl.cumsum(tl.where(k < r, tl.gather(size_src, k_src, 0), 0.0), axis=0)
    hi = tl.gather(run, tl.maximum(upto - 1, 0), 0)
    lo = tl.where(start > 0, tl.gather(run, tl.maximum(start - 1, 0), 0), 0.0)
    return hi - lo


@triton.jit
def _list_merged_few(order, size_src, src_ptr, cls_idx, i, r):
    """:func:`_list_merged` by ``r`` min reductions, one merged source each, in the same order."""
    gained = tl.zeros(size_src.shape, dtype=tl.float32)
    for k in range(0, r):
        first, size = tl.reduce((order, size_src), 0, _min_with)
        k_src = (first & 2047).to(tl.int32)
        tl.store(src_ptr + k, 2 * k_src + (2 * k_src >= cls_idx).to(tl.int32))
        gained += tl.where(i == (first >> 43).to(tl.int32), size, 0.0)
        order = tl.where(order == first, 1 << 62, order)
    return gained


@triton.jit
def _book_kernel(best_ptr, dst_ptr, size_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, src_ptr, first_ptr, nsrc_ptr,
                 scratch_ptr, T, cls_idx, new_cls, r, out_len,
                 HAS_SIZE: tl.constexpr, MERGE: tl.constexpr, BS: tl.constexpr, FEW: tl.constexpr,
                 SEARCH: tl.constexpr, RP: tl.constexpr):
    """One image's plan from the tiled launch's scores and destinations (``best``, ``dst``: (batch, T // 2))."""
    b = tl.program_id(0).to(tl.int64)
    S = T // 2
    D = (T - 1) // 2
    i = tl.arange(0, BS)  # source k sits at non-class position 2k, destination k at 2k + 1
    ms, md = i < S, i < D
    fs = 2 * i + (2 * i >= cls_idx).to(tl.int32)
    fd = 2 * i + 1 + (2 * i + 1 >= cls_idx).to(tl.int32)
    best = tl.load(best_ptr + b * S + i, mask=ms, other=float("-inf"))
    dst = tl.load(dst_ptr + b * S + i, mask=ms, other=0)
    plan_tokens(best, dst, b, i, ms, md, fs, fd, size_ptr, slot_ptr, w_ptr, owner_ptr, nsize_ptr, src_ptr,
                first_ptr, nsrc_ptr, T, cls_idx, new_cls, r, out_len, HAS_SIZE, MERGE, BS, FEW, SEARCH, scratch_ptr, RP)
