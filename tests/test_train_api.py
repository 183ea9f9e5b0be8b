"""The training package called in-process with typed settings: no argparse, a model and datasets of the caller."""
import dataclasses
import glob
import os
import tempfile

import pytest
import torch
import yaml
from torch.utils.data import TensorDataset

from conftest_data import TINY_KW  # also puts src/ on sys.path
import rmeeto
from rmeeto.checkpoint import read_checkpoint
from rmeeto.train.config import BenchDataConfig, EvalConfig, TrainConfig, from_layers
from rmeeto.train import TrainError, evaluate, train


pytestmark = pytest.mark.usefixtures("one_thread")


class Bar:
    """A stand-in for tqdm that records what the loop tells it."""

    def __init__(self, total, initial=0, desc=None):
        self.total, self.n, self.desc, self.postfix, self.closed = total, initial, desc, [], False

    def update(self, n):
        self.n += n

    def set_postfix(self, **kw):
        self.postfix.append(kw)

    def close(self):
        self.closed = True


def _sets(n_train=16, n_val=8, classes=3):
    g = torch.Generator().manual_seed(0)

    def make(n):
        y = torch.arange(n) % classes
        x = torch.randn(n, 3, 32, 32, generator=g) + y[:, None, None, None].float()
        return TensorDataset(x, y)
    return make(n_train), make(n_val)


def _cfg(**kw):
    base = dict(epochs=1, batch_size=4, lr=1e-3, lr_base_batch=4, mixup=0.0, cutmix=0.0, workers=0, device="cpu",
                output=None, tensorboard=False, progress=False, initial_eval=False, log_interval=1)
    return TrainConfig(**{**base, **kw})


def test_train_in_process_with_own_model_data_and_progress(capsys):
    torch.manual_seed(0)
    model = rmeeto.patch(rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW), r=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bars = []

    def progress(total, initial, desc):
        bars.append(Bar(total, initial, desc))
        return bars[-1]

    temps = set(glob.glob(os.path.join(tempfile.gettempdir(), "rmeeto-train-*")))
    summary = train(_cfg(), model=model, datasets=_sets(), progress=progress, quiet=True)
    assert capsys.readouterr().out == ""  # quiet: no log lines, no summary table
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "rmeeto-train-*"))) == temps  # temp output removed
    assert summary["steps"] == 4 and len(summary["epochs"]) == 1
    assert summary["epochs"][0]["val_samples"] == 8 and 0 <= summary["epochs"][0]["top1"] <= 100
    assert summary["patch"]["r"] == 2 and rmeeto.patch_settings(model)["r"] == 2  # the caller's patch is kept
    assert not torch.equal(before["head.weight"], model.state_dict()["head.weight"])  # trained in place
    assert len(bars) == 1 and bars[0].total == 16 and bars[0].n == 16 and bars[0].closed
    assert len(bars[0].postfix) == 4 and all("loss" in p for p in bars[0].postfix)


def test_train_without_a_val_set_and_reproducible():
    def run():
        torch.manual_seed(1)
        model = rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW)
        torch.manual_seed(123)  # the caller's RNG state does not matter: the loop seeds from cfg.seed
        summary = train(_cfg(epochs=2), model=model, datasets=(_sets()[0], None), quiet=True)
        return summary, model.state_dict()

    (s1, w1), (s2, w2) = run(), run()
    assert [e["top1"] for e in s1["epochs"]] == [None, None] and s1["steps"] == 8
    assert all(torch.equal(w1[k], w2[k]) for k in w1)


def test_train_writes_settings_that_read_back(tmp_path):
    cfg = _cfg(output=str(tmp_path / "run"), model_kwargs=dict(TINY_KW), num_classes=3, seed=3)
    model = rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW)
    train(cfg, model=model, datasets=_sets(), quiet=True)
    saved = yaml.safe_load((tmp_path / "run" / "args.yaml").read_text())
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    # args.yaml also records what the run derived; its global_batch_size is the one the run used
    assert saved["global_batch_size"] == saved["per_process_batch_size"] == 4 and saved["world_size"] == 1
    assert names <= set(saved) and TrainConfig(**{**{k: saved[k] for k in names}, "global_batch_size": None}) == cfg
    ck = read_checkpoint(tmp_path / "run" / "checkpoint.pth")  # the safe loader: nothing in it needs unpickling
    assert TrainConfig(**ck["args"]) == cfg
    assert rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(tmp_path / "run" / "checkpoint.pth"),
                               num_classes=3, **TINY_KW) is not None


def test_train_refuses_a_namespace():
    import argparse
    with pytest.raises(TypeError, match="TrainConfig"):
        train(argparse.Namespace(epochs=1))


def test_evaluate_times_the_forward_and_moves_a_bar():
    torch.manual_seed(0)
    model = rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW)
    loader = torch.utils.data.DataLoader(_sets()[1], batch_size=3)
    bar = Bar(8)
    stats = evaluate(model, loader, progress=bar, timed=True)
    assert stats["n"] == 8 and bar.n == 8 and stats["seconds"] > 0 and stats["images_per_s"] > 0
    plain = evaluate(model, loader)
    assert "seconds" not in plain and plain["top1"] == stats["top1"] and plain["loss"] == pytest.approx(stats["loss"])


def test_layers_defaults_yaml_command_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("epochs: 5\n--batch-size: 16\nmodel-kwargs: {depth: '2'}\n")
    got = from_layers(TrainConfig, {"config": str(cfg), "epochs": 1})
    assert (got.epochs, got.batch_size, got.model_kwargs, got.lr) == (1, 16, {"depth": 2}, TrainConfig().lr)
    cfg.write_text("nope: 1\n")
    with pytest.raises(ValueError, match="unknown key 'nope'"):
        from_layers(TrainConfig, {"config": str(cfg)})
    with pytest.raises(ValueError, match="no setting 'nope'"):
        from_layers(EvalConfig, {"nope": 1})


def test_every_setting_has_a_flag_and_help_shows_the_fields_defaults():
    import argparse

    from rmeeto.train.flags import build_bench_parser, build_eval_parser, build_train_parser, missing_flags
    for build in (build_train_parser, build_eval_parser, build_bench_parser):
        p = argparse.ArgumentParser()
        assert missing_flags(build(p)) == []
    p = argparse.ArgumentParser()
    build_train_parser(p)
    assert f"(default: {TrainConfig().epochs})" in p.format_help()
    assert BenchDataConfig().img_size == 224


def test_one_key_value_parser_for_the_cli_and_configs(capsys):
    from rmeeto.cli import main, parse_kv
    from rmeeto.kv import parse_kwargs

    items = ["a=1", "b=0.5", "c=true", "d=x", "e=none"]
    assert parse_kv(items) == parse_kwargs(items) == {"a": 1, "b": 0.5, "c": True, "d": "x", "e": None}
    assert main(["info", "--model", "vim_tiny_patch16_224", "--model-kwargs", "depth"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --model-kwargs expects KEY=VALUE items, got 'depth'"


def test_mode_and_order_choices_come_from_merge():
    import argparse

    from rmeeto.merge import MODES, ORDERS
    from rmeeto.train.flags import build_train_parser
    p = argparse.ArgumentParser()
    build_train_parser(p)
    acts = {a.dest: a for a in p._actions}
    assert tuple(acts["mode"].choices) == MODES and tuple(acts["order"].choices) == ORDERS
    assert (TrainConfig().mode, TrainConfig().order) == (MODES[0], ORDERS[0])


def test_cuda_graph_refuses_what_it_cannot_capture():
    model = rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW)
    with pytest.raises(TrainError, match="--cuda-graph needs a CUDA device.*drop --cuda-graph"):
        train(_cfg(cuda_graph=True), model=model, datasets=_sets(), quiet=True)
    with pytest.raises(TrainError, match="--cuda-graph and --compile: use one"):
        train(_cfg(cuda_graph=True, compile=True), model=model, datasets=_sets(), quiet=True)


def test_cuda_graph_under_torchrun(monkeypatch):
    """Several processes: one micro-batch per step (DDP's all-reduce is in the graph), and NCCL's asynchronous error
    handling off before the process group exists, unless the environment chose otherwise."""
    import os

    import torch.distributed as dist

    from rmeeto.train.dist import DistInfo, init_distributed
    from rmeeto.train.build import check_cuda_graph

    info = DistInfo(rank=0, world_size=2, device=torch.device("cuda", 0))
    check_cuda_graph(_cfg(cuda_graph=True, accum_steps=1), info)
    with pytest.raises(TrainError, match="--cuda-graph with several processes.*use --accum-steps 1"):
        check_cuda_graph(_cfg(cuda_graph=True, accum_steps=2), info)
    for name, value in (("WORLD_SIZE", "2"), ("RANK", "0"), ("LOCAL_RANK", "0")):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(dist, "init_process_group", lambda *a, **k: None)  # the environment alone is checked
    for graph, preset, want in ((True, None, "0"), (True, "3", "3"), (False, None, None)):
        if preset is None:
            monkeypatch.delenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", raising=False)
        else:
            monkeypatch.setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", preset)
        init_distributed("cpu", graph_capture=graph)
        assert os.environ.get("TORCH_NCCL_ASYNC_ERROR_HANDLING") == want


def test_graphed_step_takes_only_cuda_batches():
    from rmeeto.cuda_graphs import GraphedStep

    model = rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW)
    step = GraphedStep(lambda x, y: torch.nn.functional.cross_entropy(model(x), y), model.parameters())
    with pytest.raises(ValueError, match="needs CUDA tensors.*drop --cuda-graph"):
        step(torch.randn(2, 3, 32, 32), torch.tensor([0, 1]))
