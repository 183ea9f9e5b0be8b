"""torch.compile and torch.export: no graph breaks, the same logits, merged and unmerged.

On the CPU the torch path runs; the Triton custom ops are checked with ``torch.library.opcheck`` under the
Triton interpreter (a subprocess, since ``TRITON_INTERPRET`` must be set before Triton is imported). The
Triton path under compile and export is covered by ``tests/test_gpu_compile.py``.
"""
from __future__ import annotations

import importlib.util
import os

import pytest
import torch
from torch._inductor.utils import run_and_get_code

from conftest_data import run_under_interpreter

import rmeeto
from rmeeto.compile import inductor_call_inputs, weight_identity_guards

HAS_TRITON = importlib.util.find_spec("triton") is not None


def tiny_model(r: int = 0, family: str = "vim") -> torch.nn.Module:
    torch.manual_seed(0)
    if family == "vim":
        m = rmeeto.create_model("vim_tiny_patch16_224", depth=4, embed_dim=32, img_size=32, patch_size=4,
                                stride=4, num_classes=5)
    else:
        m = rmeeto.create_model("videomamba_tiny_patch16_224", depth=4, embed_dim=32, img_size=32,
                                num_frames=4, num_classes=5)
    return (rmeeto.patch(m, r=r) if r else m).eval()


def tiny_input(family: str = "vim") -> torch.Tensor:
    return torch.randn(2, 3, 32, 32) if family == "vim" else torch.randn(2, 3, 4, 32, 32)


@pytest.mark.slow
@pytest.mark.parametrize("family,r", [("vim", 0), ("vim", 6), ("video", 0), ("video", 8)])
def test_dynamo_sees_one_graph(family, r):
    m, x = tiny_model(r, family), tiny_input(family)
    explained = torch._dynamo.explain(m)(x)
    assert explained.graph_break_count == 0, [str(b.reason)[:200] for b in explained.break_reasons]
    assert explained.graph_count == 1


@pytest.mark.parametrize("family,r", [("vim", 6), ("video", 8), ("vim", 0)])
def test_a_compiled_model_compiles_once(family, r):
    """A patched model's merge schedule is resolved when it is patched, not inside the first forward: there, under
    torch.compile, it left a guard that failed on the second call, and every patched model compiled twice. An eager
    forward between compiled ones (whose backend choice is announced once per process) does not recompile either, nor
    does the second call where the first one compiled in a new process."""
    from rmeeto.ops import dispatch

    torch._dynamo.reset()
    dispatch._announced.clear()  # as in a new process: no backend choice announced yet,
    dispatch._usable.clear()  # and no device's backends known (their first lookup was a guard until 2026-12-06)
    m, x = tiny_model(r, family), tiny_input(family)
    graphs = []

    def count(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    compiled = torch.compile(m, backend=count)
    with torch.no_grad():
        for _ in range(3):
            compiled(x)
        m(x)
        compiled(x)
    assert len(graphs) == 1
    if r:
        m.r = 1  # a new r is a new schedule: one more compilation, as expected, and only one
        with torch.no_grad():
            for _ in range(2):
                compiled(x)
        assert len(graphs) == 2


@pytest.mark.slow
@pytest.mark.parametrize("r", [0, 6])
def test_compiled_model_gives_the_same_logits_and_gradients(r):
    torch._dynamo.reset()
    m, x = tiny_model(r), tiny_input()
    m.train()
    # Inductor's decompositions and partitioner without its code generation ("aot_eager" alone failed the
    # backward with a view of a transposed tensor in torch 2.14.1)
    compiled = torch.compile(m, backend="aot_eager_decomp_partition")
    want = m(x)
    want.square().mean().backward()
    grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
    m.zero_grad()
    got = compiled(x)
    got.square().mean().backward()
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    for n, p in m.named_parameters():
        if n in grads:
            torch.testing.assert_close(p.grad, grads[n], rtol=1e-3, atol=1e-5, msg=n)


@pytest.mark.slow
@pytest.mark.parametrize("family,r", [("vim", 0), ("vim", 6), ("video", 8)])
def test_exported_program_gives_the_same_logits(family, r):
    m, x = tiny_model(r, family), tiny_input(family)
    program = torch.export.export(m, (x,))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), m(x), rtol=1e-5, atol=1e-6)
    x2 = tiny_input(family)  # another input of the same shape: the program is not specialised to the values
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x2), m(x2), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_triton_custom_ops_pass_opcheck_in_the_interpreter():
    proc = run_under_interpreter(__file__, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("ok ") == 11, proc.stdout


def _compiled_inference_does_not_stack_weights() -> None:
    """The Triton path traced by Dynamo without autograd: the inference op takes the weights as the model holds them,
    so the graph has no stacking left to run on every call; with autograd the differentiable op and the stacking."""
    from rmeeto.models import vim
    from rmeeto.ops import dispatch
    from rmeeto.ops.triton import library

    backends, add_norm = dispatch.available_backends, vim.add_norm
    dispatch.available_backends = lambda device_type="cpu": ["ref", "torch", "triton"]
    vim.add_norm = lambda h, r, w, eps, backend=None: library.add_rmsnorm(h, r, w, eps)  # as on CUDA
    try:
        m, x = tiny_model(6), tiny_input()
        m.backend, m.merge_impl = "triton", "triton"
        torch._dynamo.reset()
        with torch.no_grad():
            code = "\n".join(g.code for g in torch._dynamo.explain(m)(x).graphs)
        assert code.count("rmeeto.bimamba_inference") == 4 and "stack" not in code, code
        # norms and merges take the ops without autograd too (below custom_op's per-call layers)
        assert code.count("rmeeto.add_rmsnorm_inference") == 4 and "rmeeto.add_rmsnorm(" not in code, code
        # the merge step: one op (the one launch, or the two inside a CUDA-graph capture), as eager takes one launch
        assert code.count("rmeeto.merge_add_rmsnorm_step_inference") == 1 and "rmeeto.merge_plan" not in code, code
        assert "rmeeto.merge_add_rmsnorm(" not in code, code
        torch._dynamo.reset()
        code = "\n".join(g.code for g in torch._dynamo.explain(m.train())(x).graphs)
        assert "rmeeto.bimamba_inference" not in code and code.count("stack") >= 4, code
        assert "_inference" not in code and code.count("rmeeto.add_rmsnorm(") == 4, code
        assert code.count("rmeeto.merge_add_rmsnorm(") == 1, code
    finally:
        dispatch.available_backends, vim.add_norm = backends, add_norm


def _opcheck_all() -> None:
    """Schema, fake tensors and autograd registration of every op; the op path against the eager one."""
    from rmeeto.models.mixer import BiMambaMixer
    from rmeeto.ops.triton import bimamba as tb
    from rmeeto.ops.triton.bimamba import stack_params

    torch.manual_seed(0)
    mix = BiMambaMixer(16, d_state=4)
    params = [p.detach().requires_grad_() for p in
              stack_params(mix.direction_params(False), mix.direction_params(True), torch.float32)]
    xz = torch.randn(2, 9, 64, requires_grad=True)
    torch.library.opcheck(torch.ops.rmeeto.bimamba.default, (xz, *params, 0.5, True),
                          test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))
    print("ok bimamba opcheck")
    g = torch.randn(2, 9, 32)
    x_dbl = torch.ops.rmeeto.bimamba(xz, *params, 0.5, True)[1]
    # A comes as stack_params gives it, a transposed view: the fake's gradients must still be contiguous like the real
    assert not params[4].is_contiguous()
    torch.library.opcheck(torch.ops.rmeeto.bimamba_backward.default,
                          (g, xz.detach(), x_dbl, *[p.detach() for p in params], 0.5, False),
                          test_utils=("test_schema", "test_faketensor"))
    print("ok bimamba_backward opcheck")
    got = torch.ops.rmeeto.bimamba(xz, *params, 0.5, True)[0]
    got_grads = torch.autograd.grad((got * g).sum(), [xz, *params])
    want = tb.bimamba_core(xz, tuple(params), 0.5, True, False)[0]
    want_grads = torch.autograd.grad((want * g).sum(), [xz, *params])
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    for a, b in zip(got_grads, want_grads):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    print("ok bimamba op = eager, forward and gradients")
    fwd, bwd = mix.direction_params(False), mix.direction_params(True)
    with torch.no_grad():
        args = (xz.detach(), *fwd.tensors(), *bwd.tensors(), torch.float32, 0.5)
        torch.library.opcheck(torch.ops.rmeeto.bimamba_inference.default, args,
                              test_utils=("test_schema", "test_faketensor"))
        got = torch.ops.rmeeto.bimamba_inference(*args)
        want = tb.bimamba_core(xz.detach(), tuple(p.detach() for p in params), 0.5, False, False)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    no_bias = list(args)
    no_bias[2] = no_bias[9] = None  # no conv bias: the same as a zero one
    with torch.no_grad():
        torch.library.opcheck(torch.ops.rmeeto.bimamba_inference.default, tuple(no_bias),
                              test_utils=("test_schema", "test_faketensor"))
        for p in (mix.conv1d.bias, mix.conv1d_b.bias):
            p.zero_()
        torch.testing.assert_close(torch.ops.rmeeto.bimamba_inference(*no_bias)[0],
                                   torch.ops.rmeeto.bimamba_inference(*args)[0], rtol=0, atol=0)
    _compiled_inference_does_not_stack_weights()
    print("ok bimamba_inference op = eager; a compiled inference graph stacks no weights")
    h, res, w = (torch.randn(2, 9, 16, requires_grad=True), torch.randn(2, 9, 16, requires_grad=True),
                 torch.randn(16, requires_grad=True))
    torch.library.opcheck(torch.ops.rmeeto.add_rmsnorm.default, (h, res, w, 1e-5))
    torch.library.opcheck(torch.ops.rmeeto.add_rmsnorm.default, (h, None, w, 1e-5))
    with torch.no_grad():
        for r_ in (res, None):
            args = (h.detach(), None if r_ is None else r_.detach(), w.detach(), 1e-5)
            torch.library.opcheck(torch.ops.rmeeto.add_rmsnorm_inference.default, args,
                                  test_utils=("test_schema", "test_faketensor"))
            for a, b in zip(torch.ops.rmeeto.add_rmsnorm_inference(*args), torch.ops.rmeeto.add_rmsnorm(*args)):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
    print("ok add_rmsnorm opcheck, with and without autograd")
    metric = torch.randn(2, 9, 16)
    for mode in ("merge", "prune"):
        torch.library.opcheck(torch.ops.rmeeto.merge_plan.default, (metric, None, None, 3, 4, mode),
                              test_utils=("test_schema", "test_faketensor"))
        slot, w8, owner, _, src, first, nsrc = torch.ops.rmeeto.merge_plan(metric, None, None, 3, 4, mode)
        x, y = torch.randn(2, 9, 16, requires_grad=True), torch.randn(2, 9, 16, requires_grad=True)
        torch.library.opcheck(torch.ops.rmeeto.merge_apply.default,
                              (x, y, slot, w8, owner, src, first, nsrc, mode == "merge"))
        norm_args = (x.detach(), y.detach(), torch.randn(16), slot, w8, owner, src, first, nsrc, mode == "merge", 1e-5)
        with torch.no_grad():
            torch.library.opcheck(torch.ops.rmeeto.merge_add_rmsnorm_inference.default, norm_args,
                                  test_utils=("test_schema", "test_faketensor"))
            for a, b in zip(torch.ops.rmeeto.merge_add_rmsnorm_inference(*norm_args),
                            torch.ops.rmeeto.merge_add_rmsnorm(*norm_args)):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
        print(f"ok merge_plan + merge_apply opcheck ({mode})")
        size = torch.rand(2, 9, 1) + 1
        for sz in (None, size):
            step_args = (metric, metric, torch.randn(2, 9, 16), torch.randn(16), sz, 1e-5, 3, 4, mode)
            with torch.no_grad():
                torch.library.opcheck(torch.ops.rmeeto.merge_add_rmsnorm_step_inference.default, step_args,
                                      test_utils=("test_schema", "test_faketensor"))
        print(f"ok merge_add_rmsnorm_step_inference opcheck ({mode})")
    from rmeeto.ops.triton import merge as tm

    p = tm.plan(metric, 3, 4, None, "merge")
    x = torch.randn(2, 9, 16, requires_grad=True)
    want = tm.apply(p, x, None)[0]
    got = torch.ops.rmeeto.merge_apply(x, x, p.slot, p.w, p.owner, p.src, p.first, p.nsrc, True)[0]
    g = torch.randn_like(want)
    torch.testing.assert_close(torch.autograd.grad((got * g).sum(), x)[0], torch.autograd.grad((want * g).sum(), x)[0])
    print("ok merge op = eager, forward and gradient")
    _traced_ops_run_the_same_kernels()


def _traced_ops_run_the_same_kernels() -> None:
    """The ``*_traced`` ops called eagerly (their kernels launched by Triton's own path) give the opaque ops' outputs
    exactly; the one launch that stacks the weights gives ``stack_params``'s tensors (bf16 is left out: the
    interpreter truncates fp32 to bf16 where the GPU rounds)."""
    from rmeeto.models.mixer import BiMambaMixer
    from rmeeto.ops.triton.bimamba import stack_params
    from rmeeto.ops.triton.stack import stack_params_launched

    torch.manual_seed(0)
    for d_model, d_state, cdt, conv_bias in ((16, 4, torch.float32, True), (24, 16, torch.float16, False)):
        mix = BiMambaMixer(d_model, d_state=d_state)
        with torch.no_grad():
            for p in mix.parameters():
                p.add_(torch.randn_like(p) * 0.1)
        if not conv_bias:
            mix.conv1d_b.bias = None
        fwd, bwd = mix.direction_params(False), mix.direction_params(True)
        with torch.no_grad():
            for got, want in zip(stack_params_launched(fwd, bwd, cdt), stack_params(fwd, bwd, cdt)):
                assert got.shape == want.shape and got.stride() == want.stride() and got.dtype == want.dtype
                torch.testing.assert_close(got, want, rtol=1e-6, atol=0)
            if cdt == torch.float32:
                args = (torch.randn(2, 9, 4 * d_model), *fwd.tensors(), *bwd.tensors(), cdt, 0.5)
                for a, b in zip(torch.ops.rmeeto.bimamba_inference_traced(*args),
                                torch.ops.rmeeto.bimamba_inference(*args)):
                    torch.testing.assert_close(a, b, rtol=0, atol=0)
    h, res, w = torch.randn(2, 9, 16), torch.randn(2, 9, 16), torch.randn(16)
    metric = torch.randn(2, 9, 16)
    with torch.no_grad():
        for r_ in (res, None):
            for a, b in zip(torch.ops.rmeeto.add_rmsnorm_inference_traced(h, r_, w, 1e-5),
                            torch.ops.rmeeto.add_rmsnorm_inference(h, r_, w, 1e-5)):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
        for mode in ("merge", "prune"):
            for sz in (None, torch.rand(2, 9, 1) + 1):
                step = (metric, metric, h, w, sz, 1e-5, 3, 4, mode)
                for a, b in zip(torch.ops.rmeeto.merge_add_rmsnorm_step_inference_traced(*step),
                                torch.ops.rmeeto.merge_add_rmsnorm_step_inference(*step)):
                    torch.testing.assert_close(a, b, rtol=0, atol=0)
    print("ok traced ops = opaque ops; the stacking launch = stack_params")


@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_compile_ops_setting_is_checked():
    from rmeeto.ops import settings
    from rmeeto.ops.triton import library

    x = torch.zeros(2, 3)
    assert not library._traced(x)  # opaque by default
    with settings.using(compile_ops="traced"):
        assert library._traced(x)
    with settings.using(compile_ops="fast"), pytest.raises(ValueError, match="choose one of .'opaque', 'traced'"):
        library._traced(x)


@pytest.mark.skipif(not HAS_TRITON, reason="triton not importable")
def test_traced_ops_trace_down_to_the_kernels():
    """With ``compile_ops="traced"``, AOTAutograd (Inductor's front end) sees each inference op as its Triton kernels
    and the torch ops around them, not as one opaque call. Traced on the CPU without running (no GPU here)."""
    from torch._functorch.aot_autograd import aot_module_simplified

    from rmeeto.models.mixer import BiMambaMixer
    from rmeeto.ops import settings
    from rmeeto.ops.triton import library

    class Traced(Exception):
        pass

    graphs = []

    def record(gm, example_inputs):
        def forward_compiler(graph, inputs):
            graphs.append(graph)
            raise Traced

        return aot_module_simplified(gm, example_inputs, fw_compiler=forward_compiler)

    torch.manual_seed(0)
    mix = BiMambaMixer(16, d_state=4)

    def block(xz, h, res, w):
        out = library.bimamba_inference(xz, mix.direction_params(False), mix.direction_params(True), torch.float32,
                                        0.5)[0]
        normed = library.merge_add_norm_once(h, h, res, w, 1e-5, 3, 4, None, "merge")[0]
        return out, normed, library.add_rmsnorm(h, res, w, 1e-5)[0]

    args = (torch.randn(2, 9, 64), torch.randn(2, 9, 16), torch.randn(2, 9, 16), torch.ones(16))
    torch._dynamo.reset()
    with settings.using(compile_ops="traced"), torch.no_grad(), pytest.raises(Exception, match="Traced"):
        torch.compile(block, backend=record, fullgraph=True)(*args)
    from torch._higher_order_ops.triton_kernel_wrap import kernel_side_table

    code = graphs[0].code
    launched = sorted(kernel_side_table.get_kernel(n.kwargs["kernel_idx"]).fn.__name__
                      for n in graphs[0].graph.nodes if "triton_kernel_wrapper" in str(n.target))
    assert launched == sorted(["_stack_kernel", "_biconv_fwd_kernel", "_scan_fwd_seq_kernel", "_once_kernel",
                               "_add_rmsnorm_fwd_kernel"]), launched
    assert "torch.ops.rmeeto" not in code, code  # nothing opaque is left
    assert code.count("aten.bmm") == 2  # x_proj and dt_proj: the matmuls between the kernels are Inductor's
    torch._dynamo.reset()


if __name__ == "__main__":
    assert os.environ.get("TRITON_INTERPRET") == "1", "set TRITON_INTERPRET=1 before running"
    _opcheck_all()


def _graph_inputs(compile_fn, m, x) -> list[int]:
    """The number of inputs of each graph Dynamo hands the backend when ``m`` is compiled by ``compile_fn``."""
    torch._dynamo.reset()
    inputs = []

    def count(gm, example_inputs):
        inputs.append(len(example_inputs))
        return gm.forward

    compiled = compile_fn(m, backend=count)
    with torch.no_grad():
        out = compiled(x)
    torch.testing.assert_close(out, m(x).detach(), rtol=1e-5, atol=1e-6)
    return inputs


@pytest.mark.parametrize("r", [0, 6])
def test_compile_for_inference_keeps_the_weights_out_of_the_graph_inputs(r):
    """Frozen, the batch is the graph's only input; a plain compile lifts every weight (about a hundred here)."""
    import torch._inductor.config as inductor_config

    m, x = tiny_model(r), tiny_input()
    assert _graph_inputs(rmeeto.compile_for_inference, m, x) == [1]
    assert inductor_config.freezing is False  # the setting is restored after the call
    assert _graph_inputs(torch.compile, m, x)[0] > len(list(m.parameters())) // 2


def test_compile_for_inference_refuses_a_forward_with_gradients():
    compiled = rmeeto.compile_for_inference(tiny_model(), backend="eager")
    with pytest.raises(RuntimeError, match="torch.no_grad"):
        compiled(tiny_input())


@pytest.mark.slow
def test_frozen_inductor_model_gives_the_same_logits():
    """Inductor's own freezing passes (constant folding) on the merged model, on the CPU."""
    torch._dynamo.reset()
    torch.manual_seed(0)
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=3, embed_dim=16, img_size=32, patch_size=4, stride=4,
                            num_classes=5)
    m, x = rmeeto.patch(m, r=6).eval(), tiny_input()
    assert rmeeto.reduction_ratio(m) > 0  # the third block merges
    compiled = rmeeto.compile_for_inference(m)
    with torch.inference_mode():
        (got, codes), want = run_and_get_code(compiled, x), m(x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    assert inductor_call_inputs("\n".join(codes)) == 1  # Inductor's code takes the batch alone


def test_inductor_call_inputs_reads_the_signature_of_the_generated_call():
    code = "class Runner:\n    def call(self, args):\n        arg0_1, arg1_1, arg2_1, = args\n        args.clear()"
    assert inductor_call_inputs(code) == 3
    assert inductor_call_inputs(code.replace("arg0_1, arg1_1, arg2_1,", "arg2_1,")) == 1
    assert inductor_call_inputs("def forward(x):\n    return x") == -1


def _two_instances(r: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Two models of one class and one ``r`` whose weights differ."""
    a, b = tiny_model(r), tiny_model(r)
    with torch.no_grad():
        for p in b.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return a, b


@pytest.mark.parametrize("r", [0, 6])
def test_compile_for_inference_keeps_each_instance_to_its_own_weights(r):
    """Two instances compiled one after the other each give their own logits. Until 2026-12-06 the second ran the
    first one's frozen graph: with every module guard skipped, nothing told the instances apart."""
    torch._dynamo.reset()
    (a, b), x = _two_instances(r), tiny_input()
    with torch.no_grad():
        want_a, want_b = a(x), b(x)
        got_a = rmeeto.compile_for_inference(a, backend="eager")(x)
        got_b = rmeeto.compile_for_inference(b, backend="eager")(x)
    assert (want_a - want_b).abs().max() > 1e-3
    torch.testing.assert_close(got_a, want_a, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got_b, want_b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_compile_for_inference_freezes_a_model_whose_class_was_compiled_plainly():
    """After ``torch.compile`` of one instance, ``compile_for_inference`` of another still compiles a frozen graph
    (the batch its only input) instead of running the plain one; the other way round, the plain compile of the
    second instance gives its own logits, not the frozen graph's."""
    torch._dynamo.reset()
    (a, b), x = _two_instances(0), tiny_input()
    with torch.inference_mode():
        torch.compile(a)(x)
        got, codes = run_and_get_code(rmeeto.compile_for_inference(b), x)
        assert inductor_call_inputs("\n".join(codes)) == 1
        torch.testing.assert_close(got, b(x), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(torch.compile(tiny_model())(x), a(x), rtol=1e-4, atol=1e-5)


def test_weight_identity_guards_keep_the_shallowest_weight_and_no_other_module_guard():
    from types import SimpleNamespace

    def entry(name, guard_type, value, on_module=True):
        source = SimpleNamespace(is_unspecialized_nn_module=lambda: on_module)
        return SimpleNamespace(name=name, guard_type=guard_type, has_value=True, value=value,
                               orig_guard=SimpleNamespace(source=source))
    w = torch.zeros(1)
    entries = [entry("self._modules['head']._parameters['weight']", "ID_MATCH", w),
               entry("self._parameters['cls_token']", "ID_MATCH", w),
               entry("self._modules['head']", "TYPE_MATCH", object()),
               entry("self._parameters['pos_embed']", "ID_MATCH", w),
               entry("x", "TENSOR_MATCH", w, on_module=False)]
    assert weight_identity_guards(entries) == [False, True, False, False, True]
    assert weight_identity_guards(entries[2:3]) == [False]


@pytest.mark.parametrize("module_guards", [False, True])
def test_compile_for_inference_skips_module_guards_unless_asked(module_guards):
    """The frozen graph holds the weights of its first call, so by default only one weight's identity is guarded: a
    model set to another r keeps the graph (compile again, as documented); with ``module_guards`` Dynamo compiles
    again."""
    torch._dynamo.reset()
    graphs = []

    def count(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    m, x = tiny_model(6), tiny_input()
    compiled = rmeeto.compile_for_inference(m, backend=count, module_guards=module_guards)
    with torch.no_grad():
        compiled(x)
        m.r = 1
        compiled(x)
    assert len(graphs) == (2 if module_guards else 1)


def _dynamo_entries(fn, x: torch.Tensor) -> int:
    """How many times one call ``fn(x)`` calls into a ``torch.compile``'d module (a Python frame whose ``self`` is
    Dynamo's ``OptimizedModule``). Functions that Dynamo is told to skip (``torch._dynamo.disable``) do not count:
    the compiled graph's own code runs some on the GPU."""
    import sys

    from torch._dynamo.eval_frame import OptimizedModule

    entries = []

    def watch(frame, event, _arg):
        if event == "call" and isinstance(frame.f_locals.get("self"), OptimizedModule):
            entries.append(frame.f_code.co_name)
    sys.setprofile(watch)
    try:
        fn(x)
    finally:
        sys.setprofile(None)
    return len(entries)


@pytest.mark.parametrize("r", [0, 6])
def test_compile_for_inference_calls_a_whole_graph_directly_after_its_compile(r):
    """The call that compiles adopts the graph; the next calls with that batch run it without entering Dynamo."""
    torch._dynamo.reset()
    m, x = tiny_model(r), tiny_input()
    compiled = rmeeto.compile_for_inference(m, backend="eager")
    with torch.no_grad():
        want = m(x)
        assert _dynamo_entries(compiled, x) > 0
        assert len(compiled.direct_calls.graphs) == 1
        assert _dynamo_entries(compiled, x) == 0
        got = [compiled(x) for _ in range(2)]
    for g in got:
        torch.testing.assert_close(g, want, rtol=1e-5, atol=1e-6)
    assert rmeeto.compile_for_inference(m, backend="eager", direct_calls=False).direct_calls is None


def test_direct_calls_leave_other_batches_and_states_to_dynamo():
    """Inference mode instead of ``no_grad``, another batch size or other strides go through Dynamo, each with its
    own logits; a call that compiles a graph adopts it too. (A call that Dynamo answers from its cache, e.g. with
    the dynamic-shape graph compiled for an earlier size, adopts nothing: which graph ran is not known.)"""
    torch._dynamo.reset()
    m, x = tiny_model(6), tiny_input()
    compiled = rmeeto.compile_for_inference(m, backend="eager")
    with torch.no_grad():
        compiled(x)
    with torch.inference_mode():
        x_inf = x.clone()
        assert _dynamo_entries(compiled, x_inf) > 0
        assert _dynamo_entries(compiled, x_inf) == 0
        torch.testing.assert_close(compiled(x_inf), m(x_inf), rtol=1e-5, atol=1e-6)
    assert len(compiled.direct_calls.graphs) == 2
    with torch.no_grad():
        for other in (torch.randn(3, 3, 32, 32), x.contiguous(memory_format=torch.channels_last)):
            assert _dynamo_entries(compiled, other) > 0
            torch.testing.assert_close(compiled(other), m(other), rtol=1e-5, atol=1e-6)


class _BreakingModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.lin(x)
        torch._dynamo.graph_break()
        return y * 2


def test_a_forward_with_a_graph_break_is_never_called_directly():
    torch._dynamo.reset()
    m, x = _BreakingModel(), torch.randn(2, 4)
    compiled = rmeeto.compile_for_inference(m, backend="eager")
    with torch.no_grad():
        got = [compiled(x) for _ in range(3)]
        assert _dynamo_entries(compiled, x) > 0
        want = m(x)
    assert compiled.direct_calls.graphs == {}
    for g in got:
        torch.testing.assert_close(g, want)


class _CountingModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin, self.calls, self.log = torch.nn.Linear(4, 4), 0, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        self.log.append(x.shape[0])
        return self.lin(x)


def test_a_forward_with_side_effects_is_never_called_directly():
    """Dynamo replays a forward's writes to attributes and lists outside the graph, which a direct call would skip:
    such a forward is not adopted, and every call goes through the compiled module."""
    torch._dynamo.reset()
    m, x = _CountingModel(), torch.randn(2, 4)
    compiled = rmeeto.compile_for_inference(m, backend="eager")
    with torch.no_grad():
        for _ in range(2):
            compiled(x)
        assert _dynamo_entries(compiled, x) > 0
    assert compiled.direct_calls.graphs == {}


def test_a_graph_whose_direct_output_differs_is_not_adopted():
    """The check on adoption: a graph that, called outside Dynamo on the same batch, returns something else than the
    forward did (here: a backend whose output moves with each call) stays behind Dynamo."""
    torch._dynamo.reset()
    runs = []

    def drifting(gm, example_inputs):
        def run(*args):
            runs.append(1)
            return [gm.forward(*args)[0] + len(runs)]
        return run
    m, x = tiny_model(0), tiny_input()
    compiled = rmeeto.compile_for_inference(m, backend=drifting)
    with torch.no_grad():
        first = compiled(x)
        torch.testing.assert_close(first, m(x) + 1)  # the forward's own output, not the checking run's
        compiled(x)
    assert compiled.direct_calls.graphs == {} and len(runs) == 3


def test_direct_calls_refuse_module_guards_and_cuda_graphs():
    m = tiny_model()
    for kwargs in ({"module_guards": True}, {"mode": "reduce-overhead"}):
        with pytest.raises(ValueError, match="leave direct_calls unset"):
            rmeeto.compile_for_inference(m, direct_calls=True, **kwargs)
        assert rmeeto.compile_for_inference(m, **kwargs).direct_calls is None
