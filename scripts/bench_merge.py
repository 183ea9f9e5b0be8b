"""Benchmark one R-MeeTo merge step: the PyTorch reference (``rmeeto.merge``) vs the fused Triton merge.

Times plan + apply on the hidden states (``--dtype``) and the fp32 residual stream with tracked
sizes, forward only and forward + backward, at Vim's 197 tokens and VideoMamba's 1569 (8 frames)
and 3137 (16 frames), class token first. Also times the fused plan alone on the single-program
and on the tiled kernels where both apply (up to 257 tokens). Median of CUDA-event timings
(triton.testing.do_bench); prints a table, asserts nothing.

    PYTHONPATH=src python scripts/bench_merge.py [--batch 32] [--dim 384] [--lens 197,1569,3137]
        [--r 11,88,88] [--dtype fp16|bf16|fp32] [--plan-warps 4,8,16] [--old MODULE]
        [--add-norm-cfgs 4096/8,2048/4] [--book-warps 1,2,4,8]

``--book-warps`` also times the two halves of a plan apart, each alone in a CUDA graph: the tiled launch's scores
(``merge_tiled._best_kernel``) and the one-program-per-image bookkeeping (``merge_book._book_kernel``) at each warp
count.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

import torch

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def _ms(fn: Callable[[], object]) -> float:
    from triton.testing import do_bench

    return do_bench(fn, warmup=25, rep=100, return_mode="median")


def _graph_ms(fn: Callable[[], object]) -> float:
    """Device time alone: ``fn`` captured in a CUDA graph and replayed (no host launch cost)."""
    from triton.testing import do_bench_cudagraph

    return do_bench_cudagraph(fn, rep=100, return_mode="median")


def _inputs(batch: int, tokens: int, dim: int, dtype: torch.dtype):
    g = torch.Generator(device="cuda").manual_seed(tokens)
    hidden = torch.randn(batch, tokens, dim, device="cuda", generator=g).to(dtype)
    residual = torch.randn(batch, tokens, dim, device="cuda", generator=g)
    size = torch.rand(batch, tokens, 1, device="cuda", generator=g) * 3 + 1
    return hidden, residual, size


def _steps(r: int, cls: int):
    """(reference, fused) merge steps: (hidden, residual, size) -> (hidden, residual, size)."""
    from rmeeto.merge import merge_tokens, plan_merge
    from rmeeto.ops.triton import merge as triton_merge

    def reference(h, res, size):
        plan = plan_merge(h, r, cls)
        size, h, res = merge_tokens(plan, size, h, res)
        return h, res, size

    def fused(h, res, size):
        plan = triton_merge.plan(h, r, cls, size)
        h, res = triton_merge.apply(plan, h, res)
        return h, res, plan.new_size

    return reference, fused


def _fwd_bwd(step, h, res, size):
    h, res = h.detach().requires_grad_(), res.detach().requires_grad_()

    def run():
        oh, ores, _ = step(h, res, size)
        torch.autograd.backward((oh, ores), (torch.ones_like(oh), torch.ones_like(ores)))

    return run


def _plan_parts(h, size, r: int, book_warps: tuple) -> dict:
    """Device time of the plan's scores alone and of its bookkeeping alone (at each warp count), class token 0."""
    from rmeeto.ops.triton import merge_book, merge_tiled
    from rmeeto.ops.triton.launch import cdiv, launch

    B, T, C = h.shape
    S, out = T // 2, {}
    best = torch.empty(B, S, device=h.device)
    dst = torch.empty(B, S, device=h.device, dtype=torch.int32)
    i32 = dict(device=h.device, dtype=torch.int32)
    slot, owner, first, nsrc = (torch.empty(B, n, **i32) for n in (T, T - r, T - r, T - r))
    w, nsize, src = torch.empty(B, T, device=h.device), torch.empty(B, T - r, device=h.device), torch.empty(B, r, **i32)
    sz = size.reshape(B, T).contiguous()

    cfg = merge_tiled.BEST_CFG  # the score kernel's blocks, as the tiled plan launches it

    def scores():
        launch(merge_tiled._best_kernel, (B, cdiv(S, cfg["sources"])), h, best, dst, T, C, 0, h.stride(0),
               h.stride(1), NORM_ONLY=False, IEEE=h.dtype == torch.float32, BS=cfg["sources"], BK=cfg["channels"],
               BD=cfg["destinations"], num_warps=cfg["num_warps"])
    out["scores_tiled_graph"] = _graph_ms(scores)
    scores()
    for warps in book_warps:
        for few in (False, True) if r <= merge_book.BOOK_CFG["few_r"] else (False,):
            form = merge_tiled.book_form(S, r, True, few)  # as the tiled plan launches it
            scratch = merge_tiled.book_scratch(B, form, h.device)
            out[f"book_w{warps}{'_few' if few else ''}_graph"] = _graph_ms(lambda: launch(
                merge_book._book_kernel, (B,), best, dst, sz, slot, w, owner, nsize, src, first, nsrc, scratch, T, 0,
                0, r, T - r, HAS_SIZE=True, MERGE=True, **form, num_warps=warps))
    return out


def bench_length(batch: int, tokens: int, dim: int, r: int, dtype: torch.dtype, plan_warps: tuple = (),
                 old=None, add_norm_cfgs: tuple = (), book_warps: tuple = ()) -> dict:
    """Milliseconds of every variant at one sequence length; ``*_graph`` entries are device time alone. ``old``:
    another version of the merge module, whose single-program plan is timed beside this one."""
    from rmeeto.ops.triton import merge as triton_merge
    from rmeeto.ops.triton import merge_book

    default_warps = triton_merge.PLAN_CFG["num_warps"]
    plan_warps = plan_warps or (default_warps,)
    add_norm_cfgs = add_norm_cfgs or ((triton_merge.ADD_NORM_CFG["tile"], triton_merge.ADD_NORM_CFG["num_warps"]),)

    h, res, size = _inputs(batch, tokens, dim, dtype)
    reference, fused = _steps(r, 0)
    out = {}
    with torch.no_grad():
        out["ref_fwd"] = _ms(lambda: reference(h, res, size))
        out["fused_fwd"] = _ms(lambda: fused(h, res, size))
        if tokens // 2 <= triton_merge.MAX_SOURCES:
            out["plan_single"] = _ms(lambda: triton_merge.plan(h, r, 0, size, tiled=False))
        out["plan_tiled"] = _ms(lambda: triton_merge.plan(h, r, 0, size, tiled=True))
        plan = triton_merge.plan(h, r, 0, size)
        book = merge_book.BOOK_CFG
        few_r = book["few_r"]
        for warps in plan_warps:
            triton_merge.PLAN_CFG["num_warps"] = warps
            for book["few_r"] in (0, few_r) if 0 < r <= few_r else (few_r,):  # the sorts, then the reductions
                if tokens // 2 <= triton_merge.MAX_SOURCES:
                    out[f"plan_single_graph_w{warps}{'_few' if book['few_r'] else ''}"] = _graph_ms(
                        lambda: triton_merge.plan(h, r, 0, size, tiled=False))
        book["few_r"] = few_r
        triton_merge.PLAN_CFG["num_warps"] = default_warps
        if old is not None and tokens // 2 <= triton_merge.MAX_SOURCES:
            out["plan_single_old_graph"] = _graph_ms(lambda: old.plan(h, r, 0, size, tiled=False))
        out["plan_tiled_graph"] = _graph_ms(lambda: triton_merge.plan(h, r, 0, size, tiled=True))
        out["apply_graph"] = _graph_ms(lambda: triton_merge.apply(plan, h, res))
        # the merge block's apply and residual add + RMSNorm: apart, then fused at each block configuration
        from rmeeto.ops.triton.norm import add_rmsnorm
        weight = torch.ones(dim, device="cuda")
        out["apply+add_norm_graph"] = _graph_ms(lambda: add_rmsnorm(*triton_merge.apply(plan, h, res), weight))
        default_cfg = dict(triton_merge.ADD_NORM_CFG)
        for tile, warps in add_norm_cfgs:
            triton_merge.ADD_NORM_CFG.update(tile=tile, num_warps=warps)
            out[f"apply_add_norm_{tile}/{warps}_graph"] = _graph_ms(
                lambda: triton_merge.apply_add_norm(plan, h, res, weight, 1e-5))
        triton_merge.ADD_NORM_CFG.update(default_cfg)
        out["add_norm_plain_graph"] = _graph_ms(lambda: add_rmsnorm(h, res, weight))
        if book_warps and tokens // 2 <= triton_merge.MAX_SOURCES:
            out.update(_plan_parts(h, size, r, book_warps))
    out["ref_fb"] = _ms(_fwd_bwd(reference, h, res, size))
    out["fused_fb"] = _ms(_fwd_bwd(fused, h, res, size))
    return out


def _row(tokens: int, r: int, t: dict) -> str:
    fwd, fb = t["ref_fwd"] / t["fused_fwd"], t["ref_fb"] / t["fused_fb"]
    return (f"{tokens:>6} {r:>5} | {t['ref_fwd']:>8.3f} {t['fused_fwd']:>8.3f} {fwd:>6.1f}x | "
            f"{t['ref_fb']:>8.3f} {t['fused_fb']:>8.3f} {fb:>6.1f}x | "
            f"{t.get('plan_single', float('nan')):>8.3f} {t['plan_tiled']:>8.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--lens", default="197,1569,3137", help="token counts (class token included)")
    ap.add_argument("--r", default="11,88,88", help="tokens removed at each length (one per --lens entry)")
    ap.add_argument("--dtype", default="fp16", choices=sorted(DTYPES))
    ap.add_argument("--plan-warps", default="", help="e.g. 4,8,16: also time the single-program plan's device "
                    "time (CUDA graph) at each warp count")
    ap.add_argument("--old", default=None, help="dotted name of another merge module (a copy placed in the "
                    "package, e.g. rmeeto.ops.triton.merge_prev): its single-program plan is timed too")
    ap.add_argument("--add-norm-cfgs", default="", help="e.g. 4096/8,2048/4: the fused merge + add + norm kernel's "
                    "values per program / warps to time (default: its own)")
    ap.add_argument("--book-warps", default="", help="e.g. 1,2,4,8: also time the plan's scores and its bookkeeping "
                    "apart, the bookkeeping at each warp count (up to 257 tokens)")
    args = ap.parse_args(argv)
    lens, rs = [int(v) for v in args.lens.split(",")], [int(v) for v in args.r.split(",")]
    if len(lens) != len(rs):
        print(f"error: --r needs one value per --lens entry ({len(lens)}), got {len(rs)}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("no CUDA device; nothing to benchmark", file=sys.stderr)
        return 2
    import triton

    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | triton {triton.__version__} | "
          f"batch {args.batch} dim {args.dim} {args.dtype}, tracked sizes, hidden + fp32 residual, class token 0")
    print("median ms; reference = rmeeto.merge plan_merge + merge_tokens, fused = triton_merge plan + apply")
    print(f"{'tokens':>6} {'r':>5} | {'ref fwd':>8} {'fused':>8} {'':>7} | {'ref f+b':>8} {'fused':>8} {'':>7} | "
          f"{'plan 1p':>8} {'tiled':>8}")
    warps = tuple(int(w) for w in args.plan_warps.split(",") if w)
    old = importlib.import_module(args.old) if args.old else None
    add_norm_cfgs = tuple(tuple(int(v) for v in c.split("/")) for c in args.add_norm_cfgs.split(",") if c)
    for tokens, r in zip(lens, rs):
        t = bench_length(args.batch, tokens, args.dim, r, DTYPES[args.dtype], warps, old, add_norm_cfgs,
                         tuple(int(w) for w in args.book_warps.split(",") if w))
        print(_row(tokens, r, t), flush=True)
        print("   device time (CUDA graph), ms: " + ", ".join(f"{k[:-6] if k.endswith('_graph') else k} {v:.4f}"
                                                           for k, v in t.items() if "graph" in k), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
