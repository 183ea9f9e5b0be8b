"""The fused Triton merge (rmeeto.ops.triton.merge) against the reference in rmeeto.merge.

- On the CPU the kernels run under Triton's interpreter in a subprocess (it must be chosen before
  triton is imported): ``TRITON_INTERPRET=1 python tests/test_fused_merge.py``.
- ``@pytest.mark.gpu`` tests run the compiled kernels on CUDA, fp32 and half precision, up to
  VideoMamba's 1569 and 3137 tokens.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch

from conftest_data import run_under_interpreter

from rmeeto.ops import settings as kernel_settings

ROOT = Path(__file__).resolve().parent.parent
HAS_TRITON = importlib.util.find_spec("triton") is not None

# (batch, tokens, channels, r, class index, merge (else prune), tracked sizes)
CASES = [(2, 197, 48, 11, 98, True, False), (3, 30, 20, 5, 15, True, True), (2, 9, 8, 4, 4, True, True),
         (2, 186, 33, 11, 92, False, True), (1, 4, 16, 1, 2, True, False), (2, 50, 24, 24, 0, True, True),
         (2, 51, 24, 25, 50, True, True), (2, 257, 16, 40, 128, True, True), (4, 76, 64, 37, 38, True, True)]


# the prune ablations on two of those shapes: (case, mode)
ABLATIONS = [(CASES[0], "prune-norm"), (CASES[0], "prune-random"), (CASES[4], "prune-norm"),
             (CASES[7], "prune-random"), (CASES[8], "prune-norm")]


def compare(case, device, dtype=torch.float32, mode=None, tiled=None) -> dict:
    """Largest differences between fused and reference: plan slots, outputs, sizes and gradients
    (``mode`` defaults to the case's merge or prune)."""
    from rmeeto.merge import merge_tokens, plan_merge
    from rmeeto.ops.triton import merge as F

    B, T, C, r, cls, merged, sized = case
    g = torch.Generator().manual_seed(T * 31 + C)
    x = torch.randn(B, T, C, generator=g)
    if T > 5:  # two sources that want the same destination
        x[:, 2] = x[:, 1] + 1e-2 * torch.randn(B, C, generator=g)
        x[:, 4] = x[:, 1] + 1e-2 * torch.randn(B, C, generator=g)
    res = torch.randn(B, T, C, generator=g)
    size = torch.rand(B, T, 1, generator=g) * 3 + 1 if sized else None
    x, res = x.to(device, dtype), res.to(device)
    size = size.to(device) if size is not None else None
    mode = mode or ("merge" if merged else "prune")
    torch.manual_seed(7)  # prune-random: both draw their scores from the same RNG state
    ref = plan_merge(x, r, cls, mode)
    ones = torch.ones(B, T, 1, device=device)
    xa, ra = x.clone().requires_grad_(), res.clone().requires_grad_()
    want_size, want_h, want_r = merge_tokens(ref, size if sized else ones, xa, ra)
    torch.manual_seed(7)
    p = F.plan(x, r, cls, size, mode, tiled=tiled)
    xb, rb = x.clone().requires_grad_(), res.clone().requires_grad_()
    got_h, got_r = F.apply(p, xb, rb)
    gh, gr = torch.randn_like(want_h), torch.randn_like(want_r)
    ((want_h.float() * gh.float()).sum() + (want_r * gr).sum()).backward()
    ((got_h.float() * gh.float()).sum() + (got_r * gr).sum()).backward()

    def err(a, b):
        return ((a.float() - b.float()).abs().max() / b.float().abs().max().clamp_min(1e-12)).item()

    return {"slot": (p.slot.long() != ref.slot).float().mean().item(), "cls": float(p.cls_index != ref.cls_index),
            "hidden": err(got_h, want_h), "residual": err(got_r, want_r), "size": err(p.new_size, want_size),
            "grad_hidden": err(xb.grad, xa.grad), "grad_residual": err(rb.grad, ra.grad)}


# Two steps with sizes carried over, single-program (short) and tiled plans:
# (batch, tokens, channels, r per step, class index, mode, tiled (None: by length), tied scores)
STEPS = [(2, 3, 8, (1,), 1, "merge", True, False), (2, 258, 24, (100, 60), 0, "merge", None, False),
         (2, 301, 40, (40, 88), 150, "merge", None, False), (2, 700, 24, (300, 150), 699, "merge", None, False),
         (2, 197, 40, (11, 11), 98, "merge", True, False), (2, 301, 40, (40, 100), 300, "prune", None, False),
         (2, 258, 24, (100, 60), 129, "prune-norm", None, False),
         (2, 301, 24, (20, 100), 0, "prune-random", None, False),
         (2, 301, 16, (120,), 150, "merge", None, True), (2, 301, 16, (30, 100), 0, "prune-norm", None, True),
         (2, 61, 16, (25,), 30, "merge", False, True), (2, 61, 16, (25,), 60, "merge", True, True),
         # r <= merge_book.BOOK_CFG["few_r"]: the bookkeeping's reductions instead of its sorts, ties included
         (2, 61, 16, (6, 3), 30, "merge", False, True), (2, 197, 16, (1, 8), 98, "merge", None, True),
         (2, 61, 16, (5,), 0, "prune", True, True)]

# half-precision one-hot tokens over every channel ("spread"; one step: merged tokens are no longer exact), whose
# scores are exact in any order of summation: the tiled plan must give the reference's plan exactly
HALF_TIED_STEPS = [(2, 301, 40, (120,), 150, "merge", None, "spread"), (2, 301, 16, (30,), 0, "prune", None, "spread")]


def same_plan(errs: dict) -> bool:
    """The fused plans chose the reference's slots, class positions and sizes."""
    return errs["slot"] == 0 and errs["cls"] == 0 and errs["size"] <= 1e-5


# the tiled plan's bookkeeping in each of its forms, as merge_tiled.TILED_BOOK_CFG entries: one program per image with
# the bit search (from 16 sources: at these short lengths the default sorts) and the compacted second sort, with the
# search and a full second sort, with both sorts full; then the multi-launch bookkeeping (max_sources 0)
BOOKKEEPING_FORMS = [dict(search_from=16), dict(search_from=16, compact=0), dict(search_from=0, compact=0),
                     dict(max_sources=0)]


@contextlib.contextmanager
def _tiled_book(**entries):
    """``merge_tiled.TILED_BOOK_CFG`` with ``entries`` set inside the block."""
    from rmeeto.ops.triton import merge_tiled

    saved = dict(merge_tiled.TILED_BOOK_CFG)
    merge_tiled.TILED_BOOK_CFG.update(entries)
    try:
        yield
    finally:
        merge_tiled.TILED_BOOK_CFG.update(saved)


TILED_BOOKKEEPING_STEPS = [(2, 301, 40, (40, 88), 150, "merge", None, False),
                           (2, 301, 40, (40, 100), 300, "prune", None, False),
                           (2, 301, 16, (120,), 150, "merge", None, True)]


def _tied_tokens(B: int, T: int, C: int, cls: int, g: torch.Generator, spread: bool = False) -> torch.Tensor:
    """Scaled one-hot tokens: exact ties in every score and norm. Sources use 12 directions and
    destinations 6 of them, so half the sources match several destinations equally well (score 1)
    and the others none (score 0, every destination equal). ``spread``: every token one of all ``C`` directions,
    so that every channel decides some scores."""
    k = torch.randint(0, C if spread else 12, (B, T - 1), generator=g)
    if not spread:
        k[:, 1::2] %= 6
    tok = torch.nn.functional.one_hot(k, C).float() * 2.0 ** torch.randint(0, 3, (B, T - 1, 1), generator=g)
    return torch.cat([tok[:, :cls], torch.randn(B, 1, C, generator=g), tok[:, cls:]], 1)


def compare_steps(case, device, dtype=torch.float32) -> dict:
    """Run the reference and the fused merge side by side for each r of ``case`` (see ``STEPS``),
    each carrying its own sizes and class index; the largest differences over the steps, with the
    gradients of both inputs through all of them. Both plan from the reference's tokens, so a
    rounding difference in step 1 cannot reorder near-equal scores in step 2."""
    from rmeeto.merge import merge_tokens, plan_merge
    from rmeeto.ops.triton import merge as F

    B, T, C, rs, cls, mode, tiled, ties = case
    g = torch.Generator().manual_seed(T * 7 + C + len(rs))
    x = _tied_tokens(B, T, C, cls, g, ties == "spread") if ties else torch.randn(B, T, C, generator=g)
    res = torch.randn(B, T, C, generator=g).to(device)
    x = x.to(device, dtype)
    want = [x.clone().requires_grad_(), res.clone().requires_grad_()]
    got = [x.clone().requires_grad_(), res.clone().requires_grad_()]
    inputs = want + got
    size_want, size_got = torch.ones(B, T, 1, device=device), None
    cls_want = cls_got = cls
    errs = dict.fromkeys(("slot", "cls", "hidden", "residual", "size"), 0.0)
    for step, r in enumerate(rs):
        metric = want[0].detach()
        torch.manual_seed(7 + step)  # prune-random: both draw their scores from the same RNG state
        ref = plan_merge(metric, r, cls_want, mode)
        torch.manual_seed(7 + step)
        p = F.plan(metric, r, cls_got, size_got, mode, tiled=tiled)
        size_want, *want = merge_tokens(ref, size_want, *want)
        got = list(F.apply(p, *got))
        size_got, cls_want, cls_got = p.new_size, ref.cls_index, p.cls_index
        new = {"slot": (p.slot.long() != ref.slot).float().mean().item(), "cls": float(cls_got != cls_want),
               "hidden": _err(got[0], want[0]), "residual": _err(got[1], want[1]), "size": _err(size_got, size_want)}
        errs = {k: max(errs[k], v) for k, v in new.items()}
    gh, gr = torch.randn_like(want[0]), torch.randn_like(want[1])
    ((want[0].float() * gh.float()).sum() + (want[1] * gr).sum()).backward()
    ((got[0].float() * gh.float()).sum() + (got[1] * gr).sum()).backward()
    return {**errs, "grad_hidden": _err(inputs[2].grad, inputs[0].grad),
            "grad_residual": _err(inputs[3].grad, inputs[1].grad)}


def compare_add_norm(case, device, dtype=torch.float32) -> dict:
    """The merge step fused with the block's residual add + RMSNorm against the same plan applied by
    ``apply`` followed by ``add_rmsnorm_ref``: largest relative differences of both outputs and of the hidden,
    residual and norm weight gradients."""
    from rmeeto.ops.norm import add_rmsnorm_ref
    from rmeeto.ops.triton import merge as F

    B, T, C, r, cls, merged, sized = case
    g = torch.Generator().manual_seed(T * 13 + C)
    x = torch.randn(B, T, C, generator=g).to(device, dtype)
    res = torch.randn(B, T, C, generator=g).to(device)
    size = (torch.rand(B, T, 1, generator=g) * 3 + 1).to(device) if sized else None
    weight = (1 + 0.1 * torch.randn(C, generator=g)).to(device)
    p = F.plan(x, r, cls, size, "merge" if merged else "prune")
    leaves = [t.clone().requires_grad_() for t in (x, res, weight, x, res, weight)]
    want = add_rmsnorm_ref(*F.apply(p, leaves[0], leaves[1]), leaves[2], 1e-5)
    got = F.apply_add_norm(p, leaves[3], leaves[4], leaves[5], 1e-5)
    gn, gr = torch.randn_like(want[0]), torch.randn_like(want[1])
    for normed, resid in (want, got):
        ((normed.float() * gn).sum() + (resid * gr).sum()).backward()
    names = ("grad_hidden", "grad_residual", "grad_weight")
    return {"normed": _err(got[0], want[0]), "residual": _err(got[1], want[1]),
            **{n: _err(leaves[3 + i].grad, leaves[i].grad) for i, n in enumerate(names)}}


def compare_once(case, device, dtype=torch.float32, mode=None) -> dict:
    """The one-launch plan + merge + add + norm (``merge_once``) against ``plan`` then ``apply_add_norm`` on the
    same inputs: the residual and the sizes must agree exactly, the normed output to the norm's last bit, the
    class index as well."""
    from rmeeto.ops.triton import library  # noqa: F401 (registers torch.ops.rmeeto.*)
    from rmeeto.ops.triton import merge as F
    from rmeeto.ops.triton import merge_once

    B, T, C, r, cls, merged, sized = case
    mode = mode or ("merge" if merged else "prune")
    g = torch.Generator().manual_seed(T * 17 + C)
    x = torch.randn(B, T, C, generator=g).to(device, dtype)
    if T > 5:  # two sources that want the same destination
        x[:, 2] = x[:, 1] + 1e-2 * torch.randn(B, C, generator=g).to(device, dtype)
        x[:, 4] = x[:, 1] + 1e-2 * torch.randn(B, C, generator=g).to(device, dtype)
    res = torch.randn(B, T, C, generator=g).to(device)
    size = (torch.rand(B, T, 1, generator=g) * 3 + 1).to(device) if sized else None
    weight = (1 + 0.1 * torch.randn(C, generator=g)).to(device)
    with torch.no_grad():
        torch.manual_seed(5)  # prune-random: both draw their scores from the same RNG state
        p = F.plan(x, r, cls, size, mode)
        want = F.apply_add_norm(p, x, res, weight, 1e-5)
        torch.manual_seed(5)
        normed, resid, new_size, new_cls = merge_once.plan_add_norm(x, x, res, weight, 1e-5, r, cls, size, mode)
        # the custom op of compiled inference: the one launch, or the two while a CUDA graph is captured
        step = torch.ops.rmeeto.merge_add_rmsnorm_step_inference
        torch.manual_seed(5)
        op = step(x, x, res, weight, size, 1e-5, r, cls, mode)
        with mock.patch.object(merge_once, "capturing", lambda x: True):
            torch.manual_seed(5)
            op_captured = step(x, x, res, weight, size, 1e-5, r, cls, mode)
    return {"normed": _err(normed, want[0]), "residual": (resid - want[1]).abs().max().item(),
            "size": (new_size - p.new_size).abs().max().item(), "cls": abs(new_cls - p.cls_index),
            "op": _max_diff(op, (normed, resid, new_size) if merge_once.fits(x) else (*want, p.new_size)),
            "op captured": _max_diff(op_captured, (*want, p.new_size))}


def _max_diff(got, want) -> float:
    return max((a.float() - b.float()).abs().max().item() if a.numel() else 0.0 for a, b in zip(got, want))


def once_ok(errs: dict, dtype=torch.float32) -> bool:
    """The same residual, sizes and class index; the normed output within a few of its dtype's rounding steps (the
    norm's sum over a row may add up in another order)."""
    return (errs["residual"] == 0 and errs["size"] == 0 and errs["cls"] == 0 and errs["op"] == 0
            and errs["op captured"] == 0 and errs["normed"] <= 4 * torch.finfo(dtype).eps)


def _err(a, b) -> float:
    return ((a.float() - b.float()).abs().max() / b.float().abs().max().clamp_min(1e-12)).item()


def _interpreter_main() -> int:
    assert os.environ.get("TRITON_INTERPRET") == "1", "set TRITON_INTERPRET=1 before running"
    failed = 0
    for case, mode in [(c, None) for c in CASES] + ABLATIONS:
        errs = compare(case, "cpu", mode=mode)
        ok = all(v <= 1e-5 for v in errs.values())
        failed += not ok
        print(("ok  " if ok else "FAIL"), case, mode or "", {k: f"{v:.1e}" for k, v in errs.items()})
    for case in CASES:
        errs = compare_add_norm(case, "cpu")
        ok = all(v <= 1e-5 for v in errs.values())
        failed += not ok
        print(("ok  " if ok else "FAIL"), "merge + add + norm", case, {k: f"{v:.1e}" for k, v in errs.items()})
    for case, mode in [(c, None) for c in CASES] + ABLATIONS:
        errs = compare_once(case, "cpu", mode=mode)
        failed += not once_ok(errs)
        print(("ok  " if once_ok(errs) else "FAIL"), "one launch", case, mode or "", errs)
    for case in STEPS:
        errs = compare_steps(case, "cpu")
        ok = all(v <= 1e-5 for v in errs.values())
        failed += not ok
        print(("ok  " if ok else "FAIL"), case, {k: f"{v:.1e}" for k, v in errs.items()})
    for case in HALF_TIED_STEPS:
        errs = compare_steps(case, "cpu", torch.float16)
        failed += not same_plan(errs)
        print(("ok  " if same_plan(errs) else "FAIL"), "fp16", case, {k: f"{v:.1e}" for k, v in errs.items()})
    # the tiled plan's one-program bookkeeping in each of its forms (a bit search or a sort for the top r, the second
    # sort on the compacted r or on all sources), then its own launches, which take over beyond its source count
    for form in BOOKKEEPING_FORMS:
        with _tiled_book(**form):
            for case in TILED_BOOKKEEPING_STEPS:
                errs = compare_steps(case, "cpu")
                ok = all(v <= 1e-5 for v in errs.values())
                failed += not ok
                print(("ok  " if ok else "FAIL"), "tiled bookkeeping", form, case,
                      {k: f"{v:.1e}" for k, v in errs.items()})
    # the whole patched model with the fused merge against the official R-MeeTo outputs
    kernel_settings.configure(merge="triton")
    sys.path.insert(0, str(ROOT / "tests"))
    import rmeeto
    from conftest import FIXTURES
    from test_model import reference_model, rel

    from rmeeto.ops.triton import merge as triton_merge
    from rmeeto.ops.triton import merge_once

    calls = []
    real_plan, real_once = triton_merge.plan, merge_once.plan_add_norm
    # proves a fused path ran: the plan, or (eager inference) the plan, merge, add and norm in one launch
    triton_merge.plan = lambda *a, **k: calls.append(1) or real_plan(*a, **k)
    merge_once.plan_add_norm = lambda *a, **k: calls.append(1) or real_once(*a, **k)
    # whether grad was on at each use of the fused merge + add + norm's autograd Function (inference must skip it)
    fn_grad, real_fn_apply = [], triton_merge._ApplyAddNormFn.apply
    triton_merge._ApplyAddNormFn.apply = lambda *a: fn_grad.append(torch.is_grad_enabled()) or real_fn_apply(*a)
    reference = torch.load(FIXTURES / "public_vim_d64_l8.pt", weights_only=True)
    for run, mode in (("merge_r11_keep", "merge"), ("prune_r11_keep", "prune")):
        m = rmeeto.patch(reference_model(reference, "torch"), r=11, mode=mode)
        with torch.no_grad():
            e = rel(m(reference["input"]), reference["logits"][run])
        ran = len(calls)
        calls.clear()
        ok = e <= 1e-4 and ran > 0
        failed += not ok
        print(("ok  " if ok else "FAIL"), run, f"{e:.1e}", f"fused merge steps: {ran}")
    # a patched VideoMamba of 301 tokens (12 frames of 5 x 5 patches, class token first): the tiled plan
    torch.manual_seed(0)
    video = rmeeto.patch(rmeeto.create_model("videomamba_tiny_patch16_224", depth=3, embed_dim=16, num_frames=12,
                                             img_size=80, num_classes=3), r=40).eval()
    clip = torch.randn(2, 3, 12, 80, 80)
    with torch.no_grad():
        got = video(clip)
        kernel_settings.configure(merge="torch")
        want = video(clip)
    kernel_settings.configure(merge="triton")
    e, ran = rel(got, want), len(calls)
    calls.clear()
    ok = e <= 1e-4 and ran == 1 and video.num_tokens == 301
    failed += not ok
    print(("ok  " if ok else "FAIL"), f"VideoMamba, 301 tokens: {e:.1e}, fused merge steps: {ran}")
    # a training step of a patched model: parameter gradients through the fused merge
    torch.manual_seed(0)
    tiny = rmeeto.patch(rmeeto.create_model("vim_tiny_patch16_224", depth=4, embed_dim=32, img_size=32,
                                            patch_size=4, stride=4, num_classes=5), r=6)
    x = torch.randn(3, 3, 32, 32)
    grads = {}
    for merge in ("triton", "torch"):
        kernel_settings.configure(merge=merge)
        tiny.zero_grad()
        tiny(x).square().mean().backward()
        grads[merge] = {n: p.grad.clone() for n, p in tiny.named_parameters() if p.grad is not None}
    kernel_settings.configure(merge="triton")
    worst = max(rel(grads["triton"][n], grads["torch"][n]) for n in grads["torch"])
    ran = len(calls)
    calls.clear()
    ok = worst <= 1e-4 and grads["triton"].keys() == grads["torch"].keys() and ran == 1
    failed += not ok
    print(("ok  " if ok else "FAIL"), f"training step grads {worst:.1e}, fused merge steps: {ran}")
    # merge maps (track_groups) follow the fused plan exactly as the reference one
    m = rmeeto.patch(reference_model(reference, "torch"), r=11, track_groups=True)
    with torch.no_grad():
        _, fused_state = m.forward_tokens(reference["input"])
        kernel_settings.configure(merge="torch")
        _, ref_state = m.forward_tokens(reference["input"])
    same = torch.equal(fused_state.groups, ref_state.groups)
    failed += not same
    print(("ok  " if same else "FAIL"), "track_groups")
    triton_merge._ApplyAddNormFn.apply = real_fn_apply
    ok = len(fn_grad) > 0 and all(fn_grad)
    failed += not ok
    print(("ok  " if ok else "FAIL"), f"merge + add + norm Function: {len(fn_grad)} uses, all with grad: {all(fn_grad)}")
    return 1 if failed else 0


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_fused_merge_interpreter():
    proc = run_under_interpreter(__file__, timeout=600)  # about 5 min on 2 cores (2026-12-01)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_merge_override_is_checked(monkeypatch):
    import rmeeto

    m = rmeeto.patch(rmeeto.create_model("vim_tiny_patch16_224", depth=4, embed_dim=32, img_size=32,
                                         patch_size=4, stride=4), r=4).eval()
    x = torch.randn(2, 3, 32, 32)
    monkeypatch.setenv("RMEETO_MERGE", "fast")
    kernel_settings.reset()
    with pytest.raises(ValueError, match="merge implementation 'fast'.*choose auto, torch or triton"):
        m(x)
    m.merge_impl = "torch"  # the model's setting wins over the environment
    with torch.no_grad():
        assert m(x).shape == (2, 1000)
    m.merge_impl = "quick"
    with pytest.raises(ValueError, match="merge implementation 'quick'"):
        m(x)


@pytest.mark.gpu
@pytest.mark.parametrize("case", CASES, ids=[f"T{c[1]}-r{c[3]}-{'merge' if c[5] else 'prune'}" for c in CASES])
@pytest.mark.parametrize("check", [compare, compare_add_norm], ids=["apply", "apply+add+norm"])
def test_fused_merge_cuda_fp32(case, check):
    errs = check(case, "cuda")
    assert all(v <= 1e-5 for v in errs.values()), errs


@pytest.mark.gpu
@pytest.mark.parametrize("case,mode", ABLATIONS, ids=[f"T{c[1]}-r{c[3]}-{m}" for c, m in ABLATIONS])
def test_fused_prune_ablations_cuda_fp32(case, mode):
    errs = compare(case, "cuda", mode=mode)
    assert all(v <= 1e-5 for v in errs.values()), errs


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
def test_fused_merge_add_norm_cuda_half(dtype):
    # the fused kernel adds the merged hidden states in fp32, the reference after rounding them to their dtype
    errs = compare_add_norm((8, 197, 384, 11, 98, True, True), "cuda", dtype)
    assert errs["residual"] < 1e-2 and errs["normed"] < 2e-2, errs


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
def test_fused_merge_cuda_half(dtype):
    # half-precision scores can order near-ties differently; slots must agree almost everywhere
    errs = compare((8, 197, 384, 11, 98, True, True), "cuda", dtype)
    assert errs["slot"] < 0.02 and errs["cls"] == 0, errs


@pytest.mark.gpu
@pytest.mark.parametrize("settings", [dict(r=11), dict(r=11, mode="prune"), dict(ratio=0.5),
                                      dict(r=11, mode="prune-norm")])
def test_patched_model_fused_vs_reference_merge(settings, monkeypatch):
    import rmeeto
    from test_model import rel

    torch.manual_seed(0)
    m = rmeeto.patch(rmeeto.create_model("vim_small_patch16_224", depth=8), **settings).cuda().eval()
    x = torch.randn(4, 3, 224, 224, device="cuda")
    with torch.no_grad():
        kernel_settings.configure(merge="torch")
        want = m(x)
        kernel_settings.configure(merge="auto")
        got = m(x)
    assert rel(got, want) < 1e-4


# VideoMamba's lengths: 8 frames (1569 tokens) and 16 frames (3137), class token first (and middle).
# With these inputs and r, each source's best and runner-up scores, and the r-th and (r+1)-th best
# scores, are at least 1e-6 apart (in fp64), so fp32 rounding cannot change a plan.
VIDEO_STEPS = [(4, 1569, 384, (120, 88), 0, "merge", None, False),
               (4, 1569, 384, (600, 300), 0, "merge", None, False),
               (4, 3137, 384, (88, 88), 0, "merge", None, False),
               (4, 3137, 384, (1000, 500), 1568, "merge", None, False),
               (4, 1569, 384, (120, 88), 0, "prune", None, False),
               (4, 3137, 384, (300, 88), 0, "prune-norm", None, False),
               (4, 3137, 384, (300, 88), 0, "prune-random", None, False),
               (4, 1569, 64, (600,), 0, "merge", None, True), (4, 1569, 64, (300, 300), 0, "prune-norm", None, True),
               (4, 1569, 64, (4, 8), 0, "merge", None, True)]  # the bookkeeping's reductions (r <= few_r)


@pytest.fixture
def no_tf32():
    """The reference's fp32 cosine matmul in full precision, as the fused plan's."""
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32 = old


@pytest.mark.gpu
@pytest.mark.parametrize("case", VIDEO_STEPS, ids=[f"T{c[1]}-r{'+'.join(map(str, c[3]))}-cls{c[4]}-{c[5]}"
                                                   + ("-ties" if c[7] else "") for c in VIDEO_STEPS])
def test_fused_merge_video_lengths_cuda_fp32(case, no_tf32):
    errs = compare_steps(case, "cuda")
    assert all(v <= 1e-5 for v in errs.values()), errs


@pytest.mark.gpu
@pytest.mark.parametrize("book", [{}, *BOOKKEEPING_FORMS[1:]],
                         ids=["default", "search, all sorted", "sorts", "tiled launches"])
@pytest.mark.parametrize("case", [VIDEO_STEPS[0], VIDEO_STEPS[3], VIDEO_STEPS[7], (2, 4097, 64, (600,), 0, "merge", None, True)],
                         ids=["T1569-merge", "T3137-merge-cls1568", "T1569-ties", "T4097-ties"])
def test_fused_merge_bookkeeping_paths_cuda_fp32(case, book, no_tf32):
    """Every form of the tiled plan's bookkeeping, up to 2048 sources (4097 tokens, the one-program limit)."""
    with _tiled_book(**book):
        errs = compare_steps(case, "cuda")
    assert all(v <= 1e-5 for v in errs.values()), errs


@pytest.mark.gpu
@pytest.mark.parametrize("T,C", [(1569, 384), (3137, 384), (1569, 192), (3137, 192)])
def test_fused_merge_video_lengths_cuda_half(T, C):
    # half-precision scores can order near-ties differently; slots must agree almost everywhere
    errs = compare_steps((4, T, C, (88, 88), 0, "merge", None, False), "cuda", torch.float16)
    assert errs["slot"] < 0.02 and errs["cls"] == 0, errs


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
@pytest.mark.parametrize("case", [(4, 1569, 192, (88,), 0, "merge", None, "spread"),
                                  (4, 3137, 256, (300,), 1568, "merge", None, "spread"),
                                  (4, 1569, 40, (120,), 784, "prune", None, "spread")],
                         ids=["T1569-C192", "T3137-C256-cls1568", "T1569-C40-prune"])
def test_fused_merge_video_lengths_cuda_half_exact(case, dtype):
    """One-hot tokens, scores exact in any summation order: the tiled plan in half precision is the reference's."""
    errs = compare_steps(case, "cuda", dtype)
    assert same_plan(errs), errs


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("case,mode", [(c, None) for c in CASES] + ABLATIONS)
def test_merge_once_cuda(case, mode, dtype):
    """The one-launch merge step of eager inference gives the two launches' plan and outputs."""
    errs = compare_once(case, "cuda", dtype, mode)
    assert once_ok(errs, dtype), errs


@pytest.mark.gpu
def test_patched_vim_eager_inference_takes_one_launch(monkeypatch):
    """An eager no-grad forward of a patched Vim takes the one-launch merge; with it turned off
    (``ONCE_CFG["max_tokens"] = 0``) or with gradients it takes the plan and the merge + add + norm; the logits
    agree. (A CUDA-graph capture takes the two launches through ``merge_once.capturing``; ``compare_once`` checks that
    branch of the compiled op.)"""
    import rmeeto
    from rmeeto.ops.triton import merge_once

    calls = []
    real = merge_once.plan_add_norm
    monkeypatch.setattr(merge_once, "plan_add_norm", lambda *a, **k: calls.append(1) or real(*a, **k))
    model = rmeeto.create_model("vim_tiny_patch16_224", img_size=64).cuda().eval()
    rmeeto.patch(model, r=5)
    x = torch.randn(2, 3, 64, 64, device="cuda")
    with torch.no_grad():
        once = model(x)
    assert len(calls) == len(model.merge_schedule()) - model.merge_schedule().count(0)
    calls.clear()
    with monkeypatch.context() as m:
        m.setitem(merge_once.ONCE_CFG, "max_tokens", 0)
        with torch.no_grad():
            two = model(x)
    assert not calls
    torch.testing.assert_close(once, two, rtol=1e-5, atol=1e-5)
    model(x).sum().backward()  # with gradients: the two launches
    assert not calls


@pytest.mark.gpu
def test_patched_vim_captured_eagerly_takes_two_launches(monkeypatch):
    """An eager patched Vim captured in a CUDA graph (as ``rmeeto bench --cuda-graph`` does, through
    :func:`rmeeto.cuda_graphs.graphed`) takes the plan and the merge + add + norm while capturing, and only then (its
    warm-ups, like the eager forward, take the one launch); the replay gives the one-launch eager logits."""
    import rmeeto
    from rmeeto.cuda_graphs import graphed
    from rmeeto.ops.triton import merge as triton_merge
    from rmeeto.ops.triton import merge_once

    once_calls, plan_calls = [], []
    real_once, real_plan = merge_once.plan_add_norm, triton_merge.plan
    monkeypatch.setattr(merge_once, "plan_add_norm", lambda *a, **k: once_calls.append(1) or real_once(*a, **k))
    monkeypatch.setattr(triton_merge, "plan", lambda *a, **k: plan_calls.append(1) or real_plan(*a, **k))
    model = rmeeto.patch(rmeeto.create_model("vim_tiny_patch16_224", img_size=64).cuda().eval(), r=5)
    merges = len(model.merge_schedule()) - model.merge_schedule().count(0)
    x = torch.randn(2, 3, 64, 64, device="cuda")
    out = {}
    with torch.no_grad():
        eager = model(x)
        assert (len(once_calls), len(plan_calls)) == (merges, 0)
        replay = graphed(lambda: out.update(logits=model(x)), x.device)
        assert len(plan_calls) == merges and len(once_calls) > merges
        out["logits"].zero_()
        replay()
        torch.cuda.synchronize()
    torch.testing.assert_close(out["logits"], eager, rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
def test_patched_videomamba_with_1569_tokens_uses_fused_merge(monkeypatch, no_tf32):
    import rmeeto
    from rmeeto.ops.triton import merge as triton_merge
    from test_model import rel

    torch.manual_seed(0)
    m = rmeeto.create_model("videomamba_small_patch16_224", depth=8, num_frames=8, num_classes=10)
    m = rmeeto.patch(m, r=88).cuda().eval()
    x = torch.randn(2, 3, 8, 224, 224, device="cuda")
    lengths, real_plan = [], triton_merge.plan
    monkeypatch.setattr(triton_merge, "plan", lambda *a, **k: lengths.append(a[0].shape[1]) or real_plan(*a, **k))
    with torch.no_grad():
        kernel_settings.configure(merge="torch")
        want = m(x)
        kernel_settings.configure(merge="auto")
        got = m(x)
    assert m.num_tokens == 1569 and lengths == [1569, 1481, 1393]
    assert rel(got, want) < 1e-4


if __name__ == "__main__":
    sys.exit(_interpreter_main())
