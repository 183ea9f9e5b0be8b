"""Training with the forward and backward replayed from a CUDA graph (``--cuda-graph``) on the Triton path: the same
losses and weights as eager steps, with drop path, merging, accumulation, the loss scaler and odd batches."""
from __future__ import annotations

import warnings

import pytest
import torch
from torch.utils.data import TensorDataset

import rmeeto
from rmeeto.cuda_graphs import WARMUP_STEPS, GraphedStep
from rmeeto.train.config import TrainConfig
from rmeeto.train.dist import GRAPH_WARMUP_STEPS, wrap_ddp
from rmeeto.train.engine import train
from rmeeto.train.state import seed_everything

pytestmark = pytest.mark.gpu


def _vim(r: int = 4) -> torch.nn.Module:
    torch.manual_seed(0)
    m = rmeeto.create_model("vim_tiny_patch16_224", depth=4, num_classes=10, drop_path_rate=0.2)
    return rmeeto.patch(m, r=r).cuda().train()


def _videomamba(r: int = 88) -> torch.nn.Module:
    torch.manual_seed(0)
    m = rmeeto.create_model("videomamba_tiny_patch16_224", depth=4, num_classes=10, drop_path_rate=0.2)
    return rmeeto.patch(m, r=r).cuda().train()


def _deit() -> torch.nn.Module:
    from rmeeto.baselines.vit_tome import create_baseline

    torch.manual_seed(0)
    return create_baseline("deit_tiny_patch16_224", num_classes=10, drop_path_rate=0.2).cuda().train()


def _steps(graph: bool, batches: list, make=_vim, dtype=torch.bfloat16,
           ddp: bool = False) -> tuple[list[float], dict, GraphedStep | None]:
    """AdamW steps, eager or replayed; ``ddp``: through DistributedDataParallel (a process group must exist), built
    and warmed up as ``rmeeto train --cuda-graph`` does under torchrun."""
    model = make()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    side = torch.cuda.Stream() if graph and ddp else None
    forward = wrap_ddp(model, torch.device("cuda", torch.cuda.current_device()), side) if ddp else model

    def loss_and_backward(x, y):
        with torch.autocast("cuda", dtype=dtype, cache_enabled=not graph):
            loss = torch.nn.functional.cross_entropy(forward(x), y)
        loss.backward()
        return loss.detach()
    warmup = GRAPH_WARMUP_STEPS if ddp else WARMUP_STEPS
    micro = GraphedStep(loss_and_backward, model.parameters(), warmup_steps=warmup, stream=side) if graph \
        else loss_and_backward
    losses = []
    for i, (x, y) in enumerate(batches):
        seed_everything(100 + i)  # as the training loop re-seeds every micro-batch: drop path draws the same
        losses.append(micro(x, y).item())
        opt.step()
        opt.zero_grad(set_to_none=not graph)
    return losses, {k: v.detach().clone() for k, v in model.state_dict().items()}, micro if graph else None


def _batches(sizes: list[int], shape: tuple = (3, 224, 224)) -> list:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(n, *shape, generator=g).cuda(), torch.randint(0, 10, (n,), generator=g).cuda())
            for n in sizes]


def _assert_graph_matches_eager(batches: list, make, replays: int, eager_steps: int, ddp: bool = False) -> None:
    want_losses, want_w, _ = _steps(False, batches, make, ddp=ddp)
    got_losses, got_w, micro = _steps(True, batches, make, ddp=ddp)
    assert micro.replays == replays and micro.eager_steps == eager_steps
    torch.testing.assert_close(torch.tensor(got_losses), torch.tensor(want_losses), rtol=1e-4, atol=1e-5)
    for k in want_w:
        torch.testing.assert_close(got_w[k], want_w[k], rtol=1e-3, atol=1e-5, msg=k)
    assert not torch.equal(got_w["head.weight"], make().state_dict()["head.weight"])  # it trained


def test_graph_replays_give_the_eager_losses_and_weights():
    # the 5-image batch does not fit the graph and runs eagerly
    _assert_graph_matches_eager(_batches([8, 8, 8, 5, 8]), _vim, replays=4, eager_steps=1)


def test_videomamba_graph_replays_give_the_eager_losses_and_weights():
    """1569 tokens, the chunked scan and the tiled merge plan inside the graph."""
    _assert_graph_matches_eager(_batches([2, 2, 2], (3, 8, 224, 224)), _videomamba, replays=3, eager_steps=0)


def test_ddp_graph_replays_give_the_eager_ddp_losses_and_weights(tmp_path, monkeypatch):
    """DDP's backward, its gradient all-reduce included, captured in the graph: one process on one GPU (a process
    group of one), set up as ``rmeeto train --cuda-graph`` sets up every torchrun process. The odd batch runs
    eagerly through DDP between replays."""
    import torch.distributed as dist

    monkeypatch.setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "0")  # what init_distributed(graph_capture=True) sets
    dist.init_process_group("nccl", init_method=f"file://{tmp_path}/store", rank=0, world_size=1,
                            device_id=torch.device("cuda", torch.cuda.current_device()))
    try:
        _assert_graph_matches_eager(_batches([4, 4, 3, 4]), _vim, replays=3, eager_steps=1, ddp=True)
        # DDP built, warmed up and captured on one stream: autograd finds no gradient hook on another stream (the
        # eager odd batch above runs on the main stream, so it is left out here)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _steps(True, _batches([4, 4]), _vim, ddp=True)
        assert not [w for w in caught if "AccumulateGrad node's stream" in str(w.message)]
    finally:
        dist.destroy_process_group()


def test_a_parameter_the_backward_does_not_reach_stays_untouched():
    """Eagerly its gradient stays None and AdamW skips it; the graph must not give it a zero gradient to decay."""
    def make() -> torch.nn.Module:
        model = _vim()
        model.register_parameter("unused", torch.nn.Parameter(torch.ones(4, device="cuda")))
        return model

    _, weights, micro = _steps(True, _batches([4, 4, 4]), make)
    assert micro.replays == 3
    assert torch.equal(weights["unused"], torch.ones(4, device="cuda"))
    assert not torch.equal(weights["head.weight"], make().state_dict()["head.weight"])  # the rest trained


def test_deit_baseline_graph_replays_give_the_eager_losses_and_weights():
    """The Transformer baseline of ``rmeeto train --model deit_tiny_patch16_224``: timm's attention in the graph."""
    _assert_graph_matches_eager(_batches([4, 4, 4]), _deit, replays=3, eager_steps=0)


def _fp32_loss_and_backward(model):
    def loss_and_backward(x, y):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss.detach()
    return loss_and_backward


def test_replacing_the_gradients_is_refused():
    model = _vim()
    micro = GraphedStep(_fp32_loss_and_backward(model), model.parameters())
    (x, y), = _batches([4])
    micro(x, y)
    model.zero_grad(set_to_none=True)
    with pytest.raises(RuntimeError, match="set_to_none=False"):
        micro(x, y)


def _data(n: int = 40) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 10
    return TensorDataset(torch.randn(n, 3, 224, 224, generator=g) + y[:, None, None, None] * 0.1, y)


@pytest.mark.parametrize("amp,accum", [("bf16", 1), ("fp16", 2)])
def test_train_with_cuda_graph_matches_eager(amp, accum):
    """The training loop end to end: mixup's soft targets, the schedule, the fp16 loss scaler, accumulation."""
    def run(cuda_graph: bool):
        model = _vim()
        cfg = TrainConfig(epochs=2, batch_size=4, lr=1e-3, lr_base_batch=4, workers=0, device="cuda", amp=amp,
                          accum_steps=accum, num_classes=10, mixup=0.8, cutmix=0.0, output=None, tensorboard=False,
                          progress=False, initial_eval=False, log_interval=1, cuda_graph=cuda_graph)
        summary = train(cfg, model=model, datasets=(_data(), _data(12)), quiet=True)
        return summary, model.state_dict()

    (s_eager, w_eager), (s_graph, w_graph) = run(False), run(True)
    assert s_graph["steps"] == s_eager["steps"] == 2 * 40 // (4 * accum)
    for a, b in zip(s_eager["epochs"], s_graph["epochs"]):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-3)
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-3)
    for k in w_eager:
        torch.testing.assert_close(w_graph[k], w_eager[k], rtol=1e-3, atol=1e-4, msg=k)


def test_capture_needs_zero_gradients_and_static_inputs_are_not_copied():
    model = _vim()
    loss_and_backward = _fp32_loss_and_backward(model)
    (x, y), = _batches([4])
    loss_and_backward(x, y)  # gradients left over from an eager step
    with pytest.raises(ValueError, match="start of an optimizer step"):
        GraphedStep(loss_and_backward, model.parameters())(x, y)
    model.zero_grad(set_to_none=True)
    micro = GraphedStep(loss_and_backward, model.parameters(), static_inputs=True)
    micro(x, y)
    assert micro.x is x and micro.y is y and micro.replays == 1


def test_captures_leave_no_workspace_behind_each():
    """Every capture warms up on one side stream per device: a new stream per capture kept one more cuBLAS workspace
    (32 MiB on one H100, 2026-12-06) alive for the rest of the process."""
    from rmeeto.cuda_graphs import graphed

    w, x = torch.randn(256, 256, device="cuda"), torch.randn(64, 256, device="cuda")
    replays = [graphed(lambda: x @ w, torch.device("cuda")) for _ in range(2)]  # the stream's workspace exists now
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    replays += [graphed(lambda: x @ w, torch.device("cuda")) for _ in range(6)]
    torch.cuda.synchronize()
    per_capture = (torch.cuda.memory_allocated() - before) / 6
    assert per_capture < 2 ** 20, f"{per_capture / 2 ** 20:.1f} MiB more allocated per capture"
