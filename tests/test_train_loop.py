"""rmeeto train / eval / bench-data on CPU with a tiny Vim and generated JPEG folders."""
import json
import math
import os

import pytest
import torch

from conftest_data import TINY, TINY_KW, make_data, run_inproc  # also puts src/ on sys.path
import rmeeto
from rmeeto.checkpoint import read_checkpoint
from rmeeto.train.schedule import fit_budget
from rmeeto.train.losses import DistillationLoss, distill_kl
from rmeeto.train.schedule import CosineWarmupLR

FAST = ["--workers", "0", "--no-progress", "--no-tensorboard", "--num-classes", "3", "--r", "2",
        "--batch-size", "4", "--lr", "0.5", "--log-interval", "2"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp("jpegs")))


def _train(data, out, *extra):
    return run_inproc(["train", *TINY, *FAST, "--data-dir", data, "--output", str(out), *extra])


def _ckpt(out):
    return read_checkpoint(os.path.join(out, "checkpoint.pth"))


# ---------------------------------------------------------------- pieces

def _lr_trace(steps: int, **schedule):
    """The learning rate of a one-parameter AdamW under ``CosineWarmupLR(**schedule)``, before and after each of
    ``steps`` steps; and the schedule."""
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=0.0)
    s = CosineWarmupLR(opt, **schedule)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs, s, opt


def test_scheduler_warmup_and_cosine():
    lrs, s, opt = _lr_trace(120, base_lr=1e-3, total_steps=110, warmup_steps=10, min_lr=1e-5, warmup_lr=1e-6)
    assert lrs[0] == pytest.approx(1e-6)
    assert lrs[5] == pytest.approx(1e-6 + (1e-3 - 1e-6) * 0.5)
    assert lrs[10] == pytest.approx(1e-3)
    assert lrs[60] == pytest.approx((1e-3 + 1e-5) / 2)  # half-way through the cosine
    assert lrs[35] == pytest.approx(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * 0.25)))
    assert lrs[110] == pytest.approx(1e-5) and lrs[120] == pytest.approx(1e-5)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    s2 = CosineWarmupLR(opt, 1.0, 1)
    s2.load_state_dict(s.state_dict())
    assert s2.lr_at(35) == s.lr_at(35)


def test_distillation_zero_when_student_is_teacher():
    from timm.data import Mixup
    from timm.loss import SoftTargetCrossEntropy
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    x = torch.randn(8, 3, 2, 2)
    y = torch.randint(0, 5, (8,))
    xm, ym = Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1, num_classes=5)(x, y)
    loss = DistillationLoss(SoftTargetCrossEntropy(), net, alpha=0.5, tau=1.0)
    out = net(xm)
    total = loss(xm, out, ym)
    assert loss.last_parts["kl"].abs().item() < 1e-6
    assert total.item() == pytest.approx(SoftTargetCrossEntropy()(out, ym).item(), abs=1e-6)
    assert distill_kl(out, out.detach() + 1.0).abs().item() < 1e-6  # softmax is shift-invariant
    assert distill_kl(out, torch.randn_like(out)).item() > 0


def test_fit_budget():
    # 100 s left (after 2% reserve of a 110 s budget...), 1 s/step, 10 steps/epoch, 2 s eval per epoch end
    total = fit_budget(budget_s=100.0, elapsed_s=0.0, step_time=1.0, eval_s=2.0, val_batches=4,
                        step=0, spe=10, epoch=0, accum=1)
    # 98 s usable: S + 2*ceil(S/10) <= 98 -> S = 81 (81 + 18 = 99 > 98) -> 80 (80 + 16 = 96)
    assert total in (80, 81) and total + 2 * math.ceil(total / 10) <= 98.5


# ---------------------------------------------------------------- runs

def test_train_records_and_checkpoint_reload(data, tmp_path):
    out = tmp_path / "run"
    assert _train(data, out, "--epochs", "1", "--tensorboard", "--ema", "--distill") == 0
    for f in ("args.yaml", "metrics.jsonl", "summary.json", "checkpoint.pth"):
        assert (out / f).is_file(), f
    assert any(n.startswith("events") for n in os.listdir(out / "tb"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["before_merge"]["n"] == 15 and summary["after_merge_no_train"]["n"] == 15
    assert len(summary["epochs"]) == 1 and summary["minutes"] > 0
    assert summary["epochs"][0]["first_batch_wait_s"] >= 0  # the loader's wait at the epoch start
    assert summary["patch"]["r"] == 2
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert {x["type"] for x in lines} == {"train", "val"}
    ck = _ckpt(out)
    for k in ("model", "model_ema", "optimizer", "scheduler", "sampler", "rng", "args", "rmeeto", "step"):
        assert ck[k] is not None, k
    assert ck["step"] == 6 and ck["sampler"] == {**ck["sampler"], "epoch": 1, "start_batch": 0}
    m = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(out / "checkpoint.pth"), num_classes=3,
                            **TINY_KW)
    assert rmeeto.patch_settings(m)["r"] == 2
    assert all(torch.equal(v, ck["model"][k]) for k, v in m.state_dict().items())


@pytest.mark.slow
def test_exact_resume_matches_uninterrupted(data, tmp_path):
    common = ["--epochs", "2", "--ema", "--no-initial-eval", "--warmup-epochs", "0.5"]
    a, b = tmp_path / "a", tmp_path / "b"
    assert _train(data, a, *common) == 0
    # interrupted mid-epoch 1 (after step 4 of 6), then resumed with data workers this time
    assert _train(data, b, *common, "--stop-at-step", "4") == 0
    mid = _ckpt(b)
    assert mid["step"] == 4 and mid["sampler"]["epoch"] == 0 and mid["sampler"]["start_batch"] == 4
    assert _train(data, b, *common, "--resume", "--workers", "2") == 0
    ca, cb = _ckpt(a), _ckpt(b)
    assert ca["step"] == cb["step"] == 12
    for k in ca["model"]:
        assert torch.equal(ca["model"][k], cb["model"][k]), k
        assert torch.equal(ca["model_ema"][k], cb["model_ema"][k]), k
    sa, sb = ca["optimizer"]["state"], cb["optimizer"]["state"]
    assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)
    assert not torch.equal(ca["model"]["head.weight"], mid["model"]["head.weight"])


def test_nan_loss_stops_and_keeps_last_good_checkpoint(data, tmp_path, capsys):
    out = tmp_path / "nan"
    code = _train(data, out, "--epochs", "2", "--no-initial-eval", "--debug-nan-step", "8")
    assert code == 3
    err = capsys.readouterr().err
    assert "non-finite" in err and "at step 8" in err and "kept" in err
    ck = _ckpt(out)
    assert ck["step"] == 6  # the epoch-1 checkpoint, not overwritten
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())


def test_clear_errors(data, tmp_path, capsys):
    def err(*extra, base=None):
        argv = ["train", *(base or TINY), *FAST, "--output", str(tmp_path / "e"), *extra]
        if "--data-dir" not in extra:
            argv += ["--data-dir", data]
        code = run_inproc(argv)
        return code, capsys.readouterr().err

    code, msg = err("--data-dir", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in msg
    (tmp_path / "empty" / "train").mkdir(parents=True)
    code, msg = err("--data-dir", str(tmp_path / "empty"))
    assert code == 2 and "no class sub-folders" in msg
    code, msg = err("--num-classes", "5")
    assert code == 2 and "class-count mismatch" in msg and "--num-classes 3" in msg
    code, msg = err("--global-batch-size", "6", "--accum-steps", "4")
    assert code == 2 and "does not divide evenly" in msg
    code, msg = err("--batch-size", "3")
    assert code == 2 and "even batch size" in msg
    # a checkpoint from another model: --pretrained and --resume
    other = tmp_path / "other.pth"
    m = rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **{**TINY_KW, "embed_dim": 48})
    rmeeto.save_checkpoint(m, str(other))
    code, msg = err("--pretrained", str(other))
    assert code == 2 and "does not fit" in msg and "embed_dim=48" in msg and len(msg.strip().splitlines()) == 1
    assert "strict=False" not in msg
    (tmp_path / "corrupt.pth").write_bytes(b"x" * 100)
    code, msg = err("--pretrained", str(tmp_path / "corrupt.pth"))
    assert code == 2 and "cannot read --pretrained" in msg and "does not fit" not in msg
    fake = {"model": m.state_dict(), "optimizer": {}, "sampler": {}, "rmeeto": {"model": "x"}}
    torch.save(fake, str(tmp_path / "other_run.pth"))
    code, msg = err("--resume", str(tmp_path / "other_run.pth"))
    assert code == 2 and "from another model" in msg


def test_lr_below_min_lr_stays_constant_and_is_warned(data, tmp_path, capsys):
    """A small batch scales --lr below --min-lr: the schedule must not rise along its "decay"."""
    lrs, _, _ = _lr_trace(12, base_lr=3.1e-7, total_steps=10, warmup_steps=2, min_lr=1e-6, warmup_lr=1e-6)
    assert lrs == pytest.approx([3.1e-7] * 13)
    from rmeeto.train.checks import warn_low_lr
    from rmeeto.train.config import TrainConfig
    warn_low_lr(TrainConfig(lr=2e-5, min_lr=1e-6, batch_size=8, global_batch_size=None, accum_steps=1))
    err = capsys.readouterr().err
    assert "below --min-lr 1e-06" in err and "3.1e-07" in err and "Raise --lr or lower --min-lr" in err
    warn_low_lr(TrainConfig(lr=2e-5, min_lr=1e-6, batch_size=128, global_batch_size=None, accum_steps=1))
    assert capsys.readouterr().err == ""


def test_config_yaml_and_cli_override(tmp_path):
    import argparse

    from rmeeto.train.config import TrainConfig
    from rmeeto.train.flags import build_train_parser, resolve
    cfg = tmp_path / "c.yaml"
    cfg.write_text("epochs: 5\nbatch-size: 16\nmodel_kwargs: {depth: 2}\nema: true\n")
    p = argparse.ArgumentParser()
    opts = build_train_parser(p)
    a = resolve(p.parse_args(["-c", str(cfg), "--epochs", "1", "--no-ema"]), opts)
    assert isinstance(a, TrainConfig)
    assert a.epochs == 1 and a.batch_size == 16 and a.model_kwargs == {"depth": 2} and a.ema is False
    assert a.lr == 2e-5 and a.min_lr == 1e-6 and a.weight_decay == 0.05 and a.mixup == 0.8
    assert a.cutmix == 1.0 and a.smoothing == 0.1 and a.reprob == 0.25 and a.drop_path == 0.1
    assert a.aa == "rand-m9-mstd0.5-inc1"
    cfg.write_text("epochz: 5\n")
    with pytest.raises(ValueError, match="unknown key"):
        resolve(p.parse_args(["-c", str(cfg)]), opts)


@pytest.mark.slow
def test_time_budget_run(data, tmp_path):
    out = tmp_path / "tb"
    assert _train(data, out, "--time-budget", "0.25", "--budget-probe-steps", "2", "--no-initial-eval") == 0
    ck = _ckpt(out)
    tb = ck["time_budget"]
    assert tb["fitted"] and tb["total_steps"] >= 3 and ck["scheduler"]["total_steps"] == tb["total_steps"]
    assert ck["step"] == tb["total_steps"] and ck["finished"]


# ---------------------------------------------------------------- distributed

@pytest.mark.slow
def test_two_process_ddp_gloo_sharded_eval(data, tmp_path):
    """torchrun --nproc_per_node=2 on CPU (gloo): one epoch, then the sharded val metrics equal a
    single-process evaluation of the saved weights (15 val images: uneven shards)."""
    import subprocess
    import sys

    from conftest_data import ROOT, subprocess_env
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "rmeeto.train.commands", "train", *TINY, *[("--merge-r" if a == "--r" else a) for a in FAST],
           "--data-dir", data, "--output", str(out),
           "--epochs", "1", "--no-initial-eval", "--device", "cpu"]
    r = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    ck = _ckpt(out)
    assert ck["args"] and ck["sampler"]["world_size"] == 2
    assert ck["step"] == 3  # 24 images / (2 ranks x 4) = 3 steps
    val = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()
           if json.loads(x)["type"] == "val"][0]
    assert val["val_samples"] == 15

    from rmeeto.data import build_dataset, build_eval_loader
    from rmeeto.train.dist import DistInfo
    from rmeeto.train.evaluate import evaluate
    m = rmeeto.create_model("vim_tiny_patch16_224", pretrained=str(out / "checkpoint.pth"), num_classes=3,
                            **TINY_KW)
    ds = build_dataset("folder", data, "val", img_size=32)
    single = evaluate(m, build_eval_loader(ds, 8, workers=0), DistInfo())
    assert single["n"] == 15
    assert single["top1"] == pytest.approx(val["top1"], abs=1e-9)
    assert single["top5"] == pytest.approx(val["top5"], abs=1e-9)
    assert single["loss"] == pytest.approx(val["val_loss"], rel=1e-5)


# ---------------------------------------------------------------- eval / bench-data

def test_eval_r_list_writes_json_and_png(data, tmp_path):
    ckpt = tmp_path / "m.pth"
    rmeeto.save_checkpoint(rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW), str(ckpt))
    out = tmp_path / "ev"
    code = run_inproc(["eval", *TINY, "--pretrained", str(ckpt), "--num-classes", "3", "--data-dir", data,
                       "--workers", "0", "--batch-size", "4", "--r-list", "0,2,4", "--throughput-iters", "2",
                       "--output", str(out)])
    assert code == 0
    res = json.loads((out / "eval.json").read_text())["results"]
    assert [r["r"] for r in res] == [0, 2, 4] and all(r["n"] == 15 for r in res)
    assert res[0]["patch"] is None and res[2]["reduction_ratio"] > res[1]["reduction_ratio"] > 0
    assert all(r["images_per_s"] > 0 and r["host_share"] is None for r in res)  # no host share on the CPU
    assert (out / "eval.png").stat().st_size > 1000


def test_eval_throughput_cuda_graph_needs_a_gpu(data, tmp_path, capsys):
    code = run_inproc(["eval", *TINY, "--num-classes", "3", "--data-dir", data, "--workers", "0", "--batch-size", "4",
                       "--device", "cpu", "--throughput-cuda-graph"])
    assert code == 2
    assert "--throughput-cuda-graph needs a CUDA device, this run is on cpu: drop it" in capsys.readouterr().err


def test_bench_data_cpu_and_device_decode(data, tmp_path, capsys):
    js = tmp_path / "b.json"
    code = run_inproc(["bench-data", "--data-dir", data, "--img-size", "32", "--batch-size", "4",
                       "--workers", "0", "--steps", "3", "--warmup", "1", "--path", "both", "--device", "cpu",
                       "--json", str(js)])
    assert code == 0
    rows = json.loads(js.read_text())["rows"]
    assert [r["path"] for r in rows] == ["cpu-pil (cpu)", "device-decode (cpu)"]
    assert all(r["images_per_s"] > 0 and r["images"] == 12 for r in rows)


def test_crowded_workers_warning():
    from rmeeto.train.build import crowded_workers

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert crowded_workers(0, 1) is None
    msg = crowded_workers(cores, 1)
    assert msg is not None and f"--workers {max(1, cores - 1)}" in msg and "GPU" not in msg
    assert crowded_workers(cores, 2) is not None


def test_summary_rounds_the_ratio(capsys):
    from rmeeto.train.records import print_summary

    print_summary({"model": "m", "patch": {"r": 2}, "reduction_ratio": 0.30729166666, "epochs": []})
    assert "reduction ratio 0.307\n" in capsys.readouterr().out
