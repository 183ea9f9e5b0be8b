"""torch.compile and torch.export on the Triton path (CUDA): one graph, the custom ops, the same numbers."""
from __future__ import annotations

import pytest
import torch

import rmeeto
from rmeeto.compile import inductor_call_inputs
from test_model import rel

pytestmark = pytest.mark.gpu


def _vim(r: int = 0, depth: int = 4) -> torch.nn.Module:
    torch.manual_seed(0)
    m = rmeeto.create_model("vim_small_patch16_224", depth=depth, num_classes=10)
    return (rmeeto.patch(m, r=r) if r else m).cuda()


def _tiny_vim(r: int, seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor]:
    """A 4-block Vim-Ti at 64 px (merged with ``r`` unless 0; weights from ``seed``) in eval mode on the GPU, and a
    batch of 2 for it."""
    torch.manual_seed(seed)
    m = rmeeto.create_model("vim_tiny_patch16_224", img_size=64, depth=4, num_classes=10)
    return (rmeeto.patch(m, r=r) if r else m).cuda().eval(), torch.randn(2, 3, 64, 64, device="cuda")


@pytest.mark.parametrize("r", [0, 11])
def test_no_graph_breaks_and_custom_ops_in_the_graph(r):
    m, x = _vim(r).eval(), torch.randn(4, 3, 224, 224, device="cuda")
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
        explained = torch._dynamo.explain(m)(x)
    assert explained.graph_break_count == 0, [str(b.reason)[:300] for b in explained.break_reasons]
    code = "\n".join(g.code for g in explained.graphs)
    assert "rmeeto.bimamba_inference" in code and "rmeeto.add_rmsnorm" in code
    assert "stack" not in code  # the inference op takes the weights unstacked: nothing re-stacks them per call
    # no gradients, 197 tokens: the merge step is one op (one launch, or two inside a CUDA-graph capture)
    assert ("rmeeto.merge_add_rmsnorm_step_inference" in code) == (r > 0) and "rmeeto.merge_plan" not in code


@pytest.mark.parametrize("r", [0, 11])
def test_a_compiled_model_compiles_once_on_the_triton_path(r):
    """As ``tests/test_compile.py::test_a_compiled_model_compiles_once`` on the CPU: compiled calls, an eager forward
    between them (which announces the backend choice), and still one graph."""
    from rmeeto.ops import dispatch

    torch._dynamo.reset()
    dispatch._announced.clear()
    m, x = _vim(r).eval(), torch.randn(4, 3, 224, 224, device="cuda")
    graphs = []

    def count(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    compiled = torch.compile(m, backend=count)
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
        for _ in range(2):
            compiled(x)
        m(x)
        compiled(x)
    assert len(graphs) == 1


@pytest.mark.parametrize("r", [0, 11])
def test_compiled_forward_and_backward_match_eager(r):
    """Dynamo + AOTAutograd with Inductor's decompositions but no code generation (Inductor itself is timed
    by scripts/bench_compile.py): the custom ops' autograd formulas give eager's gradients."""
    torch._dynamo.reset()
    m, x = _vim(r).train(), torch.randn(4, 3, 224, 224, device="cuda")
    want = m(x)
    want.square().mean().backward()
    grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
    m.zero_grad()
    got = torch.compile(m, backend="aot_eager_decomp_partition")(x)
    got.square().mean().backward()
    assert rel(got, want) < 1e-4
    worst = max(rel(p.grad, grads[n]) for n, p in m.named_parameters() if n in grads)
    assert worst < 1e-3


@pytest.mark.parametrize("r", [0, 11])
def test_export_runs_the_kernels_and_matches(r):
    m, x = _vim(r).eval(), torch.randn(4, 3, 224, 224, device="cuda")
    program = torch.export.export(m, (x,))
    assert "rmeeto.bimamba" in str(program.graph)
    with torch.no_grad():
        assert rel(program.module()(x), m(x)) < 1e-5


@pytest.mark.parametrize("mode", ["default", "reduce-overhead"])
def test_compiled_inference_takes_the_one_op_merge_step(mode):
    """Inductor's code for a patched Vim's no-grad forward, with the merge step as one op: its one launch, or, while
    ``reduce-overhead`` captures a CUDA graph, the plan and the merge + add + norm; eager's logits either way."""
    torch._dynamo.reset()
    m, x = _tiny_vim(5)
    with torch.no_grad():
        want = m(x)
        compiled = torch.compile(m, mode=None if mode == "default" else mode)
        got = [compiled(x).clone() for _ in range(3)]  # reduce-overhead: warm-up, capture, replay
    assert max(rel(g, want) for g in got) < 1e-4


@pytest.mark.parametrize("r", [0, 5])  # in this order: the merged model's frozen graph gave NaN after another's
@pytest.mark.parametrize("mode", ["default", "reduce-overhead"])
def test_frozen_compile_matches_eager_on_the_triton_path(mode, r):
    """``compile_for_inference`` on the Triton path: the weights folded in as constants, the batch the one input of
    Inductor's code, eager's logits (fp16 under autocast, as ``rmeeto bench`` runs it), merged or not."""
    from torch._inductor.utils import run_and_get_code

    torch._dynamo.reset()
    m, x = _tiny_vim(r)
    compiled = rmeeto.compile_for_inference(m, mode=mode)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        want = m(x)
        first, codes = run_and_get_code(compiled, x)
        got = [first.clone()] + [compiled(x).clone() for _ in range(2)]  # reduce-overhead: capture, replay
    assert inductor_call_inputs("\n".join(codes)) == 1  # the batch
    errors = [rel(g, want) for g in got]
    # fp16: a captured merged forward runs the merge in two launches where eager runs one (1.1e-3 at r=5 on one H100,
    # 2026-12-06, when eager also formed delta in fp32 inside the scan; fp16 against fp32 is about 2e-3)
    assert all(e < 3e-3 for e in errors), errors  # NaN fails too


@pytest.mark.parametrize("r", [0, 5])
def test_frozen_compile_runs_its_graph_directly_on_the_triton_path(r):
    """After the call that compiles, ``compile_for_inference``'s calls with that batch run Inductor's graph without
    entering Dynamo, and give the logits of the calls through Dynamo (fp16 under autocast)."""
    from test_compile import _dynamo_entries

    torch._dynamo.reset()
    m, x = _tiny_vim(r)
    through_dynamo = rmeeto.compile_for_inference(m, direct_calls=False)
    compiled = rmeeto.compile_for_inference(m)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        want = through_dynamo(x).clone()
        assert _dynamo_entries(compiled, x) > 0
        assert _dynamo_entries(compiled, x) == 0
        got = compiled(x).clone()
    assert len(compiled.direct_calls.graphs) == 1
    assert torch.equal(got, want)


@pytest.mark.parametrize("r", [0, 5])
def test_frozen_compiles_of_two_instances_each_give_their_own_logits(r):
    """Two instances of one class compiled one after the other by ``compile_for_inference`` (Inductor, frozen) each
    give their own logits on the Triton path. Before 31d1942 (2026-12-06) the second ran the first one's frozen
    graph: with every module guard skipped, nothing told them apart."""
    torch._dynamo.reset()
    (a, x), (b, _) = _tiny_vim(r), _tiny_vim(r, seed=1)
    with torch.inference_mode():
        want_a, want_b = a(x).clone(), b(x).clone()
        got_a = rmeeto.compile_for_inference(a)(x).clone()
        got_b = rmeeto.compile_for_inference(b)(x).clone()
    assert rel(want_a, want_b) > 1e-2  # the instances differ, so a shared graph would show
    assert rel(got_a, want_a) < 1e-4 and rel(got_b, want_b) < 1e-4, (rel(got_a, want_a), rel(got_b, want_b))


def _fill_cached_blocks_with_nan() -> None:
    """Leaves blocks of every size from 512 B to 8 MiB in the caching allocator, NaN from end to end."""
    held = [torch.full((2 ** k // 4,), float("nan"), device="cuda") for k in range(9, 24) for _ in range(8)]
    torch.cuda.synchronize()
    del held


@pytest.mark.parametrize("r", [0, 5])
def test_forwards_read_no_memory_past_their_tensors(r):
    """With NaN in every cached block of the allocator, eager and frozen-compiled logits of a tiny Vim-Ti (rank 12,
    which the scan rounds up to a block of 16) stay finite and agree. Until 2026-12-06 the scan read past the
    stacked ``dt_proj`` weight and eager logits came out NaN here (one H100)."""
    torch._dynamo.reset()
    m, x = _tiny_vim(r)
    _fill_cached_blocks_with_nan()
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        want = m(x).clone()
        got = rmeeto.compile_for_inference(m)(x).clone()
    assert not want.isnan().any() and rel(got, want) < 1e-3


@pytest.mark.parametrize("r", [0, 5])
def test_reduce_overhead_runs_a_model_that_never_ran_eagerly(r):
    """The first forward of a fresh model under ``reduce-overhead``: the inference op stacks and caches the weights
    while Inductor warms the graph up, and Inductor refused to run ("tensors in the cudagraph pool not tracked as
    outputs", 2026-12-05) while the cached stack came from the graph's memory pool."""
    torch._dynamo.reset()
    m, x = _tiny_vim(r)
    compiled = torch.compile(m, mode="reduce-overhead")
    with torch.no_grad():
        got = [compiled(x).clone() for _ in range(3)]  # warm-up, capture, replay
        want = m(x)
    assert max(rel(g, want) for g in got) < 1e-4


@pytest.mark.parametrize("r", [0, 5])
def test_reduce_overhead_replays_see_weights_changed_in_place(r):
    """An optimizer step changes the weights in place between two no-grad calls of a ``reduce-overhead`` model, as a
    training loop that evaluates through it does; the replayed graph must compute with the new weights (before
    2026-12-05 it read the stacked weights cached at capture time)."""
    torch._dynamo.reset()
    m, x = _tiny_vim(r)
    compiled = torch.compile(m, mode="reduce-overhead")
    with torch.no_grad():
        for _ in range(3):  # warm-up, capture, replay
            compiled(x)
        for p in m.parameters():
            p.mul_(0.9)
        got = compiled(x).clone()
        want = m(x)
    assert rel(got, want) < 1e-4


def _captured(fn, how: str):
    """``fn`` captured in a CUDA graph by :func:`rmeeto.cuda_graphs.graphed` (``idempotent`` or not) or by
    ``torch.cuda.graph`` itself (after the same warm-up on a side stream); returns the replay."""
    from rmeeto.cuda_graphs import graphed

    if how.startswith("graphed"):
        return graphed(fn, torch.device("cuda"), idempotent=how == "graphed-idempotent")
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


@pytest.mark.parametrize("how", ["graphed", "graphed-idempotent", "torch.cuda.graph"])
@pytest.mark.parametrize("graph_weights", ["live", "frozen"])
def test_a_captured_forward_reads_the_weights_its_setting_promises(graph_weights, how):
    """A forward captured in a CUDA graph: ``live`` replays compute with the weights of the replay (restacked by the
    replay of :func:`rmeeto.cuda_graphs.graphed`, inside a graph captured otherwise); ``frozen`` ones with the stacked
    weights of capture time, until a forward outside the graph refreshes them."""
    from rmeeto.ops import settings

    m, x = _tiny_vim(5)
    out = {}
    with torch.no_grad(), settings.using(graph_weights=graph_weights):
        replay = _captured(lambda: out.update(y=m(x)), how)
        replay()
        assert rel(out["y"], m(x)) < 1e-4
        for p in m.parameters():
            p.mul_(0.9)
        replay()
        after = out["y"].clone()
        want = m(x)  # outside the graph: refreshes the cache in place
        replay()
        refreshed = out["y"].clone()
        for p in m.parameters():
            p.mul_(1.1)
        replay()
        again = out["y"].clone()
        want_again = m(x)
    assert rel(refreshed, want) < 1e-4
    if graph_weights == "live":
        assert rel(after, want) < 1e-4 and rel(again, want_again) < 1e-4
    else:
        assert rel(after, want) > 1e-3


@pytest.mark.parametrize("how", ["graphed", "graphed-idempotent", "torch.cuda.graph"])
def test_only_a_graph_captured_elsewhere_stacks_the_weights_inside(how, monkeypatch):
    """The stacking kernel's calls: none while :func:`rmeeto.cuda_graphs.graphed` captures a model whose stacks are
    cached, one per block while ``torch.cuda.graph`` does; a graphed replay restacks on the host only the blocks whose
    weights changed."""
    from rmeeto.ops.triton import stack_cache

    calls = []
    launched = stack_cache.stack_params_launched
    monkeypatch.setattr(stack_cache, "stack_params_launched", lambda *a: calls.append(1) or launched(*a))
    m, x = _tiny_vim(0)
    with torch.no_grad():
        m(x)  # fills the cache
        calls.clear()
        replay = _captured(lambda: m(x), how)
        assert len(calls) == (0 if how.startswith("graphed") else 4)
        calls.clear()
        replay()
        assert calls == []
        if how.startswith("graphed"):
            m.layers[2].mixer.D.add_(0.5)
            replay()
            assert len(calls) == 1


@pytest.mark.parametrize("family", ["vim", "video"])
def test_traced_ops_compile_to_our_kernels_and_match_eager(family):
    """``compile_ops="traced"``: Inductor's code launches the core's, the norms' and (up to 257 tokens) the merge
    step's kernels itself, and the logits are eager's, on the first call and the next."""
    from torch._inductor.utils import run_and_get_code

    from rmeeto.ops import settings

    torch._dynamo.reset()
    if family == "vim":
        m, x = _tiny_vim(5)
    else:
        torch.manual_seed(0)
        m = rmeeto.patch(rmeeto.create_model("videomamba_tiny_patch16_224", depth=4, num_frames=8, num_classes=10),
                         r=88).cuda().eval()
        x = torch.randn(2, 3, 8, 224, 224, device="cuda")
    with torch.no_grad(), settings.using(compile_ops="traced"):
        want = m(x)
        compiled = torch.compile(m)
        got, codes = run_and_get_code(compiled, x)
        again = compiled(x)
    code = "\n".join(codes)
    assert "_scan_fwd_seq_kernel" in code and "_stack_kernel" in code and "_biconv_fwd_kernel" in code
    assert "rmeeto.bimamba_inference" not in code and "rmeeto.add_rmsnorm_inference" not in code
    if family == "vim":  # 197 tokens: the merge step too (the video's tiled merge stays opaque)
        assert "torch.ops.rmeeto" not in code and "_once_kernel" in code
    assert rel(got, want) < 1e-4 and rel(again, want) < 1e-4
    torch._dynamo.reset()


def test_compiled_video_model_with_the_tiled_merge():
    torch._dynamo.reset()
    torch.manual_seed(0)
    m = rmeeto.patch(rmeeto.create_model("videomamba_tiny_patch16_224", depth=4, num_frames=8, num_classes=10),
                     r=88).cuda().eval()
    x = torch.randn(2, 3, 8, 224, 224, device="cuda")
    with torch.no_grad():
        explained = torch._dynamo.explain(m)(x)
        assert explained.graph_break_count == 0, [str(b.reason)[:300] for b in explained.break_reasons]
        assert rel(torch.compile(m, backend="aot_eager_decomp_partition")(x), m(x)) < 1e-4


def test_inductor_training_step_matches_eager():
    """Inductor's generated code checks every custom op's output strides against its fake: a fake that disagrees
    with the real kernel (as the backward's did for ``dA``) fails here and not under ``aot_eager``."""
    torch._dynamo.reset()
    m, x = _vim(11, depth=2).train(), torch.randn(4, 3, 224, 224, device="cuda")
    want = m(x)
    want.square().mean().backward()
    grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
    m.zero_grad()
    got = torch.compile(m)(x)
    got.square().mean().backward()
    assert rel(got, want) < 1e-4
    worst = max(rel(p.grad, grads[n]) for n, p in m.named_parameters() if n in grads)
    assert worst < 1e-3
