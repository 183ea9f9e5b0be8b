"""How ``rmeeto train`` starts in an --output folder: refuse, --resume, --overwrite, a finished run,
a torchrun restart of its own run; unfinished atomic writes; the test-only kill hook."""
import hashlib
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest_data import SRC, TINY, make_data, run_inproc  # also puts src/ on sys.path
from rmeeto.train import elastic, faults, run_dir

FAST = ["--workers", "0", "--no-progress", "--no-tensorboard", "--num-classes", "3", "--r", "2",
        "--batch-size", "4", "--lr", "0.5", "--log-interval", "2", "--epochs", "1", "--no-initial-eval"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp("jpegs")))


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _train(data, out, *extra) -> int:
    return run_inproc(["train", *TINY, *FAST, "--data-dir", data, "--output", str(out), *extra])


# ---------------------------------------------------------------- the CLI on a finished run

def test_existing_run_refused_resume_says_finished_overwrite_replaces(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(data, out) == 0
    first_metrics = (out / "metrics.jsonl").read_text()
    ckpt = _digest(out / "checkpoint.pth")
    capsys.readouterr()

    # no flag: refused, one line, nothing touched
    assert _train(data, out) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and "already holds a run" in lines[0], cap.err
    assert "--resume" in lines[0] and "--overwrite" in lines[0] and "Traceback" not in cap.err
    assert _digest(out / "checkpoint.pth") == ckpt and (out / "metrics.jsonl").read_text() == first_metrics

    # --resume on the finished run: says so, exit 0, nothing touched
    assert _train(data, out, "--resume") == 0
    cap = capsys.readouterr()
    assert "is finished (step 6)" in cap.out and "--overwrite" in cap.out
    assert _digest(out / "checkpoint.pth") == ckpt and (out / "metrics.jsonl").read_text() == first_metrics

    # both flags: a one-line error
    assert _train(data, out, "--resume", "--overwrite") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "give one of them" in err[0]

    # --overwrite: a new run whose records replace the old ones instead of being appended
    assert _train(data, out, "--overwrite", "--seed", "1") == 0
    again = (out / "metrics.jsonl").read_text()
    assert len(again.splitlines()) == len(first_metrics.splitlines()) and again != first_metrics
    assert torch.load(out / "checkpoint.pth", weights_only=True)["step"] == 6


def test_resume_in_an_empty_folder_starts_fresh(data, tmp_path, capsys):
    assert _train(data, tmp_path / "new", "--resume") == 0
    assert "no checkpoint in" in capsys.readouterr().out
    assert (tmp_path / "new" / "checkpoint.pth").is_file()


def test_kill_hook_bad_value_is_a_clear_error(data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(faults.KILL_ENV, "soon")
    assert _train(data, tmp_path / "k") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "STEP:RANK" in err[0]


# ---------------------------------------------------------------- decisions, without training

def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_text("{}")


def test_plan_start_cases(tmp_path):
    empty, held, noch = tmp_path / "empty", tmp_path / "held", tmp_path / "noch"
    _touch(held, "checkpoint.pth", "metrics.jsonl")
    _touch(noch, "metrics.jsonl", "args.yaml")  # a run cut short before its first checkpoint
    own = str(held / "checkpoint.pth")
    plan = run_dir.plan_start
    assert plan(str(empty), None, False, False) == run_dir.StartPlan()
    assert "already holds a run (checkpoint.pth, metrics.jsonl)" in plan(str(held), None, False, False).error
    assert plan(str(held), "auto", False, False).resume_path == own
    assert plan(str(held), None, True, False).clear and plan(str(held), None, True, False).resume_path is None
    assert plan(str(noch), "auto", False, False).clear  # --resume without a checkpoint: fresh
    assert "no such checkpoint" in plan(str(held), str(tmp_path / "x.pth"), False, False).error
    # a torchrun restart of its own run continues it, whatever the flags of the first attempt
    assert plan(str(held), None, False, True).resume_path == own
    assert plan(str(held), str(tmp_path / "x.pth"), False, True).resume_path == own
    assert plan(str(noch), None, False, True) == run_dir.StartPlan(
        clear=True, message=f"torchrun restart: no checkpoint in {noch} yet, starting afresh")


def test_own_run_is_recognised_by_its_agents(tmp_path):
    out = str(tmp_path)
    assert not elastic.is_own_run(out, ["a"])
    elastic.record_agents(out, ["a", "b"])
    elastic.record_agents(out, ["c"])  # a later group of the same run (a node replaced)
    assert elastic.recorded_agents(out) == ["a", "b", "c"]
    assert elastic.is_own_run(out, ["x", "b"]) and not elastic.is_own_run(out, ["x", "y"])
    run_dir.clear_run(out)
    assert not elastic.is_own_run(out, ["a"])
    assert f":{os.getppid()}:" in elastic.agent_id()


def test_trim_metrics_drops_lost_steps_and_torn_lines(tmp_path):
    recs = [{"type": "train", "step": 2}, {"type": "train", "step": 4}, {"type": "val", "step": 4},
            {"type": "train", "step": 6}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs) + '{"type": "tr')
    assert run_dir.trim_metrics(str(tmp_path), 4) == 2
    kept = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert kept == recs[:3]


def test_kill_hook_arms_one_rank_of_a_fresh_run_only(monkeypatch):
    monkeypatch.delenv(faults.KILL_ENV, raising=False)
    assert faults.kill_step(1, resumed=False) is None
    monkeypatch.setenv(faults.KILL_ENV, "10:1")
    assert faults.kill_step(1, resumed=False) == 10
    assert faults.kill_step(0, resumed=False) is None
    assert faults.kill_step(1, resumed=True) is None  # the resumed run is not killed again
    for bad in ("10", "1:x", "10:1:2", "-1:0", ""):
        monkeypatch.setenv(faults.KILL_ENV, bad)
        with pytest.raises(ValueError, match="STEP:RANK"):
            faults.kill_step(0, resumed=False)


# ---------------------------------------------------------------- a write cut by SIGKILL

KILLED_WRITER = """
import os, signal, sys, torch
from rmeeto.checkpoint import atomic_write
path = sys.argv[1]
payload = b"x" * 4_000_000
def write(f):
    f.write(payload[: len(payload) // 2])
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # killed half-way through the new checkpoint
atomic_write(path, write)
"""


@pytest.mark.slow
def test_checkpoint_write_killed_half_way_leaves_the_old_one(tmp_path):
    from rmeeto.checkpoint import atomic_save
    path = tmp_path / "checkpoint.pth"
    atomic_save({"step": 4, "w": torch.arange(5.0)}, path)
    before = _digest(path)
    env = {**os.environ, "PYTHONPATH": SRC}
    r = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], env=env, timeout=120)
    assert r.returncode == -9
    assert _digest(path) == before
    assert torch.load(path, weights_only=True)["step"] == 4
    stale = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(stale) == 1 and os.path.getsize(tmp_path / stale[0]) == 2_000_000  # the torn file
    assert len(run_dir.remove_stale_temps(str(tmp_path))) == 1
    assert os.listdir(tmp_path) == ["checkpoint.pth"]


def test_resume_with_another_batch_layout_is_refused(data, tmp_path, capsys):
    out = tmp_path / "cut"
    assert _train(data, out, "--stop-at-step", "2") == 0
    ckpt = _digest(out / "checkpoint.pth")
    capsys.readouterr()
    assert _train(data, out, "--resume", "--batch-size", "2") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 process(es) x batch 4; this run has 1 x 2" in err[0]
    assert _digest(out / "checkpoint.pth") == ckpt


def test_restart_hazard_needs_restarts_and_a_shared_store(monkeypatch):
    monkeypatch.delenv("TORCHELASTIC_USE_AGENT_STORE", raising=False)
    monkeypatch.setenv("TORCHELASTIC_MAX_RESTARTS", "3")
    assert elastic.restart_hazard() is None  # not torchrun, or the store is not shared
    monkeypatch.setenv("TORCHELASTIC_USE_AGENT_STORE", "True")
    assert "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1" in elastic.restart_hazard()
    monkeypatch.setenv("TORCHELASTIC_MAX_RESTARTS", "0")
    assert elastic.restart_hazard() is None  # no restart, no stale keys
    monkeypatch.setenv("TORCHELASTIC_USE_AGENT_STORE", "False")
    monkeypatch.setenv("TORCHELASTIC_MAX_RESTARTS", "3")
    assert elastic.restart_hazard() is None


def _read_in_rank(rank: int, folder: str, paths: list) -> None:
    """One of two gloo processes: read ``paths[rank]`` through :func:`rmeeto.train.start.read_everywhere`."""
    import torch.distributed as dist

    from rmeeto.train.dist import DistInfo
    from rmeeto.train.errors import TrainError
    from rmeeto.train.start import read_everywhere
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2)
    try:
        read_everywhere(paths[rank], DistInfo(rank=rank, world_size=2))
        result = "read"
    except TrainError as e:
        result = str(e)
    finally:
        dist.destroy_process_group()
    with open(os.path.join(folder, f"rank{rank}.txt"), "w") as f:
        f.write(result)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gloo over the loopback interface")
def test_ranks_that_read_different_checkpoints_stop_together(tmp_path):
    """What a node whose --output is not the shared folder would see: both ranks stop with one
    clear error instead of training from different states (or waiting on each other for ever)."""
    import torch.multiprocessing as mp
    paths = []
    for step in (4, 6):
        p = str(tmp_path / f"ck{step}.pth")
        torch.save({"step": step, "optimizer": {}, "sampler": {"epoch": 0, "start_batch": step}}, p)
        paths.append(p)

    def run(name: str, pair: list) -> list:
        folder = tmp_path / name  # a store file of its own for each group
        folder.mkdir()
        mp.start_processes(_read_in_rank, args=(str(folder), pair), nprocs=2, join=True, start_method="spawn")
        return [(folder / f"rank{r}.txt").read_text() for r in (0, 1)]

    results = run("different", paths)
    assert all("read different checkpoints" in r and "shared filesystem" in r for r in results), results
    assert run("same", [paths[0], paths[0]]) == ["read", "read"]
