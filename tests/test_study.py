"""`rmeeto study` on a tiny subset, and the ViT (ToMe-style) baseline."""
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rmeeto.baselines.vit_tome import create_deit_tiny, patch_vit, r_for_ratio, ratio_for, tokens_per_block
from rmeeto.study.demo import ASSET
from rmeeto.study.runs import RunSettings
from rmeeto.study.stages import RetrainGrid, StudySettings, VitSettings, run_study

from test_demo import FM_DIR, REAL, fake_fashion_mnist

ROOT = Path(__file__).resolve().parents[1]


def test_vit_baseline_patch():
    m = create_deit_tiny().eval()
    x = torch.randn(2, 1, 56, 56)
    with torch.no_grad():
        base = m(x)
        patch_vit(m, 0)
        assert torch.equal(m(x), base)  # r=0 is the identity
        patch_vit(m, 10)
        reduced = m(x)
        patch_vit(m, 10, "prune")
        pruned = m(x)
    assert reduced.shape == (2, 10) and not torch.allclose(reduced, base) and not torch.allclose(reduced, pruned)
    assert tokens_per_block(197, 12, 10)[:3] == [197, 187, 177]
    assert abs(ratio_for(197, 12, r_for_ratio(197, 12, 0.31)) - 0.31) < 0.02


@pytest.mark.slow
def test_study_free_stage_and_report(tmp_path, capsys):
    root = FM_DIR if REAL else fake_fashion_mnist(tmp_path / "fm")
    out = tmp_path / "study"
    settings = StudySettings(checkpoint=str(ASSET), data_dir=root, device="cpu", eval_images=16)
    assert run_study(["free", "report"], out, settings) == 0
    free = json.loads((out / "free.json").read_text())
    labels = [r["label"] for r in free["rows"]]
    assert labels[0] == "unmerged" and "merge 0.31" in labels and "merge-shuffle 0.14" in labels
    report = (out / "README.md").read_text()
    assert "Training-free reduction" in report and (out / "training_free.png").is_file()


@pytest.mark.slow
def test_study_vit_stage_trains_with_rmeeto_train(tmp_path):
    """The ViT baseline is trained by ``rmeeto train`` with the committed recipe, then reduced ToMe-style."""
    (tmp_path / "fm").mkdir()
    root = fake_fashion_mnist(tmp_path / "fm")
    out = tmp_path / "study"
    settings = StudySettings(checkpoint=str(ASSET), data_dir=root, device="cpu", eval_images=16,
                             runs=RunSettings(batch_size=16),
                             vit=VitSettings(str(ROOT / "configs" / "fmnist_vit_tiny.yaml"), epochs=1))
    assert run_study(["vit"], out, settings) == 0
    vit = json.loads((out / "vit.json").read_text())
    assert vit["recipe"] == "fmnist_vit_tiny.yaml" and len(vit["epoch_top1"]) == 1
    assert [r["mode"] for r in vit["rows"]][:3] == ["none", "merge", "prune"] and vit["rows"][1]["r"] > 0
    summary = json.loads((out / "runs" / "vit" / "summary.json").read_text())
    assert summary["model"] == "deit_tiny_patch16_224" and summary["lr"] > 0
    missing = replace(settings, vit=VitSettings(str(tmp_path / "missing.yaml"), epochs=1))
    with pytest.raises(SystemExit, match="--vit-config"):
        run_study(["vit"], out, missing)


def test_vit_baseline_builds_for_rmeeto_train_and_refuses_what_does_not_apply():
    from rmeeto.train.config import ModelConfig
    from rmeeto.train.build import build_model, require_vim
    from rmeeto.train.errors import TrainError

    args = ModelConfig(model="deit_tiny_patch16_224", num_classes=5,
                       model_kwargs={"img_size": 32, "patch_size": 8, "channels": 1})
    m = build_model(args)
    assert (m.img_size, m.in_chans, m.num_classes) == (32, 1, 5)
    assert m(torch.randn(2, 1, 32, 32)).shape == (2, 5)
    with pytest.raises(TrainError, match="Transformer baseline"):
        require_vim(m, args.model)
    args.pretrained = "vim.pth"
    with pytest.raises(TrainError, match="--pretrained applies to the Vim models"):
        build_model(args)
    args.pretrained, args.model_kwargs = None, {"stride": 4}
    with pytest.raises(TrainError, match="cannot build --model deit_tiny_patch16_224"):
        build_model(args)


def test_report_retrain_tables_show_the_gap_to_unmerged(tmp_path):
    from rmeeto.study.report import write_report

    run = {"epochs": [{"epoch": 1, "top1": 90.0}, {"epoch": 2, "top1": 91.25}], "wall_minutes": 1.5}
    free = {"env": {}, "rows": [{"label": "unmerged", "mode": "none", "target_ratio": 0.0, "r": 0, "ratio": 0.0,
                                 "gflops": 1.0, "top1": 93.5, "im_per_s": None}]}
    for name, obj in (("free", free), ("retrain", {"merge-2ep": run}), ("retrain_h100", {"merge-3ep": run})):
        (tmp_path / f"{name}.json").write_text(json.dumps(obj))
    write_report(tmp_path)
    report = (tmp_path / "README.md").read_text()
    assert "| merge-2ep | 90.00, 91.25 | -2.25 | 1.50 |" in report
    assert "timed on one H100, one run at a time" in report and "| merge-3ep | 90.00, 91.25 | -2.25 | 1.50 |" in report


@pytest.mark.slow
def test_study_retrain_runs_in_parallel_and_resumes(tmp_path, capsys):
    """Two re-training runs at once (``--gpus a b``: on the CPU the ids only set the concurrency); a second
    call finds both in retrain.json and runs nothing."""
    (tmp_path / "fm").mkdir()
    root = fake_fashion_mnist(tmp_path / "fm")
    out = tmp_path / "study"
    settings = StudySettings(checkpoint=str(ASSET), data_dir=root, device="cpu", eval_images=16,
                             runs=RunSettings(lr=1e-4, batch_size=16, gpus=("a", "b")),
                             grid=RetrainGrid(modes=("merge", "prune"), distill_options=(0,), epochs=(1,)))
    assert run_study(["retrain"], out, settings) == 0
    runs = json.loads((out / "retrain.json").read_text())
    assert sorted(runs) == ["merge-1ep", "prune-1ep"]
    for name, s in runs.items():
        assert s["patch"]["mode"] == name.split("-")[0] and len(s["epochs"]) == 1 and s["epochs"][0]["top1"] >= 0
    printed = capsys.readouterr().out
    assert "on device a" in printed and "on device b" in printed
    assert run_study(["retrain"], out, settings) == 0
    assert "on device" not in capsys.readouterr().out


def test_a_failed_study_run_does_not_stop_the_others(tmp_path, monkeypatch):
    import pytest

    import rmeeto.study.runs as runs

    def fake_run(proxy, settings, run_dir, name, extra, gpu=None):
        if "prune" in name:
            raise RuntimeError(f"study run {name} failed")
        return {"epochs": [{"epoch": 1, "top1": 50.0}], "wall_minutes": 0.1, "device": gpu}

    monkeypatch.setattr(runs, "train_run", fake_run)
    jobs = [("prune-1ep", []), ("merge-1ep", []), ("merge-3ep", [])]
    with pytest.raises(SystemExit, match="study run prune-1ep failed"):
        runs.run_all(runs.Proxy(str(ASSET), "unused"), RunSettings(gpus=("0", "1")), tmp_path, "retrain", {}, jobs)
    saved = json.loads((tmp_path / "retrain.json").read_text())
    assert sorted(saved) == ["merge-1ep", "merge-3ep"] and {s["device"] for s in saved.values()} <= {"0", "1"}


def test_holdout_split_is_proportional_disjoint_and_fixed():
    from rmeeto.data import holdout_indices

    targets = [0] * 600 + [1] * 300 + [2] * 100
    keep, held = holdout_indices(targets, 100)
    assert len(held) == 100 and not set(keep) & set(held) and sorted(keep + held) == list(range(1000))
    assert [sum(targets[i] == c for i in held) for c in range(3)] == [60, 30, 10]
    assert holdout_indices(targets, 100) == (keep, held) and holdout_indices(targets, 100, seed=1)[1] != held
    with pytest.raises(ValueError, match="--holdout must be between 1 and 999"):
        holdout_indices(targets, 1000)


@pytest.mark.slow
def test_train_holdout_scores_on_held_out_train_images(tmp_path, capsys):
    """``rmeeto train --holdout N`` trains on the rest of the train split and evaluates on the N."""
    from rmeeto.cli import main

    (tmp_path / "fm").mkdir()
    root = fake_fashion_mnist(tmp_path / "fm", n_train=60, n_test=24)
    out = tmp_path / "run"
    def train(holdout: str) -> int:
        return main(["train", "--pretrained", str(ASSET), "--dataset", "fashion-mnist", "--data-dir", root,
                     "--model", "vim_tiny_patch16_224", "--model-kwargs", "img_size=56", "patch_size=4",
                     "stride=4", "channels=1", "depth=8", "embed_dim=64", "d_state=8", "--num-classes", "10",
                     "--r", "11", "--holdout", holdout, "--epochs", "1", "--batch-size", "8", "--workers", "0",
                     "--aa", "none", "--mixup", "0", "--cutmix", "0", "--no-progress", "--no-tensorboard",
                     "--device", "cpu", "--output", str(out)])

    assert train("60") == 2  # the whole train split: a clear error, no traceback
    assert "--holdout must be between 1 and 59" in capsys.readouterr().err
    assert train("20") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["eval_set"] == "holdout:20:0"
    metrics = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    trained = [m for m in metrics if m.get("type") == "train"]
    assert trained and max(m["step"] for m in trained) == 40 // 8  # 60 - 20 images, batch 8
    assert "on 40 images (20 held out)" in capsys.readouterr().out


def test_recipe_stage_picks_the_best_held_out_recipe_and_retrain_uses_it(tmp_path, monkeypatch, capsys):
    import rmeeto.study.recipes as recipes
    import rmeeto.study.runs as runs

    calls, dirs = [], []
    score = {"lr3e-4": 95.0, "distill": 95.0, "base": 94.0}

    def fake_run(proxy, settings, run_dir, name, extra, gpu=None):
        calls.append((name, extra))
        dirs.append(run_dir.relative_to(tmp_path).as_posix())
        top1 = score.get(name, 93.0) if "holdout" in " ".join(extra) else 90.0
        return {"epochs": [{"epoch": 1, "top1": top1}], "wall_minutes": 0.1, "flags": extra,
                "before_merge": {"top1": 96.0}, "after_merge_no_train": {"top1": 92.0}}

    monkeypatch.setattr(runs, "train_run", fake_run)
    free = {"env": {}, "rows": [{"label": "unmerged", "mode": "none", "target_ratio": 0.0, "r": 0, "ratio": 0.0,
                                 "gflops": 1.0, "top1": 93.5, "im_per_s": None}]}
    (tmp_path / "free.json").write_text(json.dumps(free))
    settings = StudySettings(checkpoint=str(ASSET), runs=RunSettings(lr=1e-4, batch_size=16, gpus=("0", "1")),
                             recipe="auto", holdout=500, grid=RetrainGrid(modes=("merge",), distill_options=(0,),
                                                                          epochs=(3,)), orders=("keep",))
    monkeypatch.setattr("rmeeto.study.stages.find_fashion_mnist", lambda d: "unused")
    with pytest.raises(SystemExit, match="run the recipe stage first"):
        recipes.choose_recipe(tmp_path)
    assert run_study(["recipe"], tmp_path, settings) == 0
    assert {n for n, _ in calls} == set(recipes.RECIPES) | set(recipes.RECIPE_CONTROLS) and len(calls) == 14
    flags = dict(calls)
    assert "--r" not in flags["control-unmerged-base"] and flags["control-merge-lr3e-4-10ep"][-1] == "10"
    assert all(f[f.index("--holdout") + 1] == "500" for f in flags.values())
    assert calls[0][0] == "control-merge-lr3e-4-10ep"  # longest first
    assert dirs[0] == "runs/recipe/control-merge-lr3e-4-10ep"
    assert recipes.choose_recipe(tmp_path) == "lr3e-4"  # a tie goes to the first listed
    calls.clear(), dirs.clear()
    assert run_study(["retrain", "order", "report"], tmp_path, settings) == 0
    assert (tmp_path / "retrain_lr3e-4.json").is_file() and (tmp_path / "order_lr3e-4.json").is_file()
    assert not (tmp_path / "retrain.json").exists()
    assert all(e[:2] == ["--lr", "3e-4"] and "--holdout" not in e for _, e in calls)
    assert "runs/lr3e-4/merge-3ep" in dirs
    report = (tmp_path / "README.md").read_text()
    assert "| lr3e-4 **(chosen)** | `--epochs 3 --lr 3e-4` | 96.00 | 92.00 | 95.00 | 95.00 | 0.10 |" in report
    assert "recipe `lr3e-4` (`['--lr', '3e-4']`)" in report and "| merge-3ep | 90.00 | -3.50 | 0.10 |" in report


def test_retrain_seeds_name_the_runs_and_the_report_gives_their_spread(tmp_path, monkeypatch):
    import rmeeto.study.runs as runs
    import rmeeto.study.stages as study

    calls = []
    finals = {"merge-3ep": 91.0, "merge-3ep-seed1": 92.0, "merge-3ep-seed2": 93.0, "unmerged-3ep": 93.4,
              "unmerged-3ep-seed1": 93.6, "unmerged-3ep-seed2": 93.5}

    def fake_run(proxy, settings, run_dir, name, extra, gpu=None):
        calls.append((name, extra))
        return {"epochs": [{"epoch": 3, "top1": finals.get(name, 90.0)}], "wall_minutes": 1.0, "flags": extra}

    monkeypatch.setattr(runs, "train_run", fake_run)
    monkeypatch.setattr(study, "find_fashion_mnist", lambda d: "unused")
    free = {"env": {}, "rows": [{"label": "unmerged", "mode": "none", "target_ratio": 0.0, "r": 0, "ratio": 0.0,
                                 "gflops": 1.0, "top1": 93.5, "im_per_s": None}]}
    (tmp_path / "free.json").write_text(json.dumps(free))
    settings = StudySettings(checkpoint=str(ASSET), runs=RunSettings(lr=1e-4, batch_size=16),
                             grid=RetrainGrid(modes=("merge", "unmerged"), distill_options=(0, 1), epochs=(3,),
                                              ratios=(0.31, 0.14), seeds=(0, 1, 2)))
    assert run_study(["retrain", "report"], tmp_path, settings) == 0
    flags = dict(calls)
    distilled = {f"merge-distill-3ep{s}" for s in ("", "-seed1", "-seed2")}
    other_ratio = {f"merge{d}-3ep-ratio0.14{s}" for d in ("", "-distill") for s in ("", "-seed1", "-seed2")}
    # the unmerged control is never distilled and has no ratio
    assert set(flags) == set(finals) | distilled | other_ratio
    r_of = {n: int(f[f.index("--r") + 1]) for n, f in flags.items() if "--r" in f}
    from rmeeto.study.demo import load_demo_model

    demo = load_demo_model(str(ASSET), "cpu")
    assert r_of["merge-3ep"] == study._r_for(demo, 0.31) > r_of["merge-3ep-ratio0.14-seed1"] == study._r_for(demo, 0.14)
    assert "--seed" not in flags["merge-3ep"] and flags["merge-3ep-seed2"][-2:] == ["--seed", "2"]
    assert "--r" not in flags["unmerged-3ep"] and "--mode" not in flags["unmerged-3ep"]
    assert flags["merge-3ep"][flags["merge-3ep"].index("--mode") + 1] == "merge"
    report = (tmp_path / "README.md").read_text()
    assert "| merge-3ep | 3 | 91.00, 92.00, 93.00 | 92.00 | 1.00 | -1.50 |" in report


def test_recipe_files_take_only_known_recipe_suffixes(tmp_path):
    from rmeeto.study.recipes import recipe_files

    for stem in ("retrain", "retrain_lr3e-4", "retrain_h100", "retrain_h100_lr3e-4", "retrain_notarecipe"):
        (tmp_path / f"{stem}.json").write_text("{}")
    assert recipe_files(tmp_path, "retrain") == [("base", "retrain"), ("lr3e-4", "retrain_lr3e-4")]
    assert recipe_files(tmp_path, "retrain_h100") == [("base", "retrain_h100"), ("lr3e-4", "retrain_h100_lr3e-4")]
