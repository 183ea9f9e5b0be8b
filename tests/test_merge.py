"""The vectorised merge against the loop oracle, and its invariants (hypothesis)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from merge_oracle import merge_step
from rmeeto.merge import follow_groups, merge_tokens, plan_merge


def run_vectorised(x, size, metric, cls_index, r, **kw):
    plan = plan_merge(metric, r, cls_index, **kw)
    if plan is None:
        return x, size, cls_index
    new_size, new_x = merge_tokens(plan, size, x)
    return new_x, new_size, plan.cls_index


def run_oracle(x, size, metric, cls_index, r, **kw):
    outs = [merge_step(x[b].tolist(), size[b, :, 0].tolist(), metric[b].tolist(), cls_index, r,
                       kw.get("mode", "merge"), kw.get("order", "keep"), kw.get("distance", "cosine"),
                       kw.get("cls", "proportional")) for b in range(x.shape[0])]
    xs = torch.tensor([o[0] for o in outs], dtype=x.dtype)
    sizes = torch.tensor([o[1] for o in outs], dtype=size.dtype)[..., None]
    return xs, sizes, [o[2] for o in outs]


OPTIONS = [dict(mode=m, order=o, distance=d) for m in ("merge", "prune") for o in ("keep", "shuffle")
           for d in ("cosine", "l1", "l2")] + [dict(cls="spatial"), dict(mode="prune", cls="spatial"),
                                               dict(mode="prune-norm"), dict(mode="prune-norm", order="shuffle")]


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(o.values()))
@pytest.mark.parametrize("t,cls,r", [(197, 98, 11), (12, 6, 3), (11, 0, 5), (10, 9, 2), (30, 15, 30), (5, 2, 1)])
def test_matches_oracle(opts, t, cls, r):
    gen = torch.Generator().manual_seed(t * 31 + r)
    b, c = 3, 6
    x = torch.randn(b, t, c, generator=gen, dtype=torch.float64)
    size = torch.randint(1, 4, (b, t, 1), generator=gen).double()
    metric = torch.randn(b, t, c, generator=gen, dtype=torch.float64)
    got_x, got_size, got_cls = run_vectorised(x, size, metric, cls, r, **opts)
    want_x, want_size, want_cls = run_oracle(x, size, metric, cls, r, **opts)
    torch.testing.assert_close(got_x, want_x)
    torch.testing.assert_close(got_size, want_size)
    got_cls = [int(got_cls)] * b if isinstance(got_cls, int) else got_cls.tolist()
    assert got_cls == want_cls


@settings(max_examples=60, deadline=None, derandomize=True)
@given(t=st.integers(2, 60), r=st.integers(0, 40), data=st.data(),
       mode=st.sampled_from(["merge", "prune", "prune-random", "prune-norm"]),
       order=st.sampled_from(["keep", "shuffle"]), spatial=st.booleans())
def test_invariants(t, r, data, mode, order, spatial):
    cls = data.draw(st.integers(0, t - 1))
    cls_place = "spatial" if spatial and order == "keep" else "proportional"
    b, c = 2, 4
    x = torch.randn(b, t, c, dtype=torch.float64)
    x[:, cls] = 1000.0  # the class token is recognisable
    size = torch.ones(b, t, 1, dtype=torch.float64)
    metric = torch.randn(b, t, c)
    torch.manual_seed(0)
    plan = plan_merge(metric, r, cls, mode=mode, order=order, cls=cls_place)
    if r == 0 or t < 3:
        assert plan is None  # r=0 (or nothing to merge) is the identity
        return
    r_eff = min(r, (t - 1) // 2)
    new_size, new_x = merge_tokens(plan, size, x)
    assert new_x.shape == (b, t - r_eff, c) and plan.out_len == t - r_eff
    cls_new = torch.full((b,), plan.cls_index) if isinstance(plan.cls_index, int) else plan.cls_index
    # the class token is never merged and its tracked index is right
    assert torch.equal(new_x[torch.arange(b), cls_new], torch.full((b, c), 1000.0, dtype=torch.float64))
    assert torch.equal(new_size[torch.arange(b), cls_new, 0], torch.ones(b, dtype=torch.float64))
    assert (plan.slot == cls_new[:, None]).sum(1).eq(1).all()
    if mode == "merge":  # sizes always sum to the original token count
        assert torch.equal(new_size.sum(1)[:, 0], torch.full((b,), float(t), dtype=torch.float64))
    else:
        assert torch.equal(new_size, torch.ones_like(new_size))
    if order == "keep":  # kept order is increasing: survivors' original positions, class token aside
        pmode = "prune" if mode == "merge" else mode
        torch.manual_seed(0)
        pplan = plan_merge(metric, r, cls, mode=pmode, order=order, cls=cls_place)
        pos = torch.arange(t, dtype=torch.float64).expand(b, t)[..., None]
        _, kept = merge_tokens(pplan, torch.ones(b, t, 1, dtype=torch.float64), pos)
        for bi in range(b):
            seq = [v for v in kept[bi, :, 0].tolist() if v != cls]
            assert seq == sorted(seq) and len(set(seq)) == len(seq)
        if mode == "merge":  # merging only adds sources into destinations: the same survivors
            keep_mask = pplan.slot < pplan.out_len
            assert torch.equal(plan.slot[keep_mask], pplan.slot[keep_mask])
    groups = follow_groups(plan, torch.arange(t).expand(b, t))
    assert ((groups >= 0) | (mode != "merge")).all()


def test_autocast_and_autograd():
    x = torch.randn(2, 21, 8, requires_grad=True)
    plan = plan_merge(x, 5, 10)
    size = torch.ones(2, 21, 1)
    _, out = merge_tokens(plan, size, x)
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = torch.randn(2, 21, 8).bfloat16()
        _, out = merge_tokens(plan_merge(h, 5, 10), size, h)
    assert out.dtype == torch.bfloat16
