"""Multi-node re-training on one machine: two torchrun agents ("nodes") meet through a c10d
rendezvous on 127.0.0.1 and train a tiny merged Vim with gloo on the CPU.

* two nodes x 1 process give bitwise the weights of one node x 2 processes (same global batch);
* with ``--max-restarts=1``, a worker SIGKILLed mid-epoch makes torchrun restart the group, which
  continues from the run's last checkpoint by itself and ends bitwise where the uninterrupted
  run ends;
* ``--max-restarts`` without ``TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1`` is refused at once.

Every process a test starts carries a unique ``RMEETO_TEST_TAG`` in its environment (torchrun
passes it on to its workers), so the clean-up finds and kills all of them, workers included
(torchrun starts each worker in a process group of its own).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import torch

from conftest_data import ROOT, TINY, make_data, subprocess_env

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.isdir("/proc"),
                                 reason="finds the processes it started through /proc")]

LAUNCH_TIMEOUT = 300  # seconds for one whole launch (both nodes), restarts included
TRAIN = ["train", *TINY, "--num-classes", "3", "--merge-r", "2", "--device", "cpu", "--workers", "0",
         "--no-progress", "--no-tensorboard", "--no-initial-eval", "--epochs", "2",
         "--global-batch-size", "8", "--lr", "0.5", "--warmup-epochs", "0.5", "--log-interval", "2",
         "--checkpoint-every-steps", "4", "--checkpoint-interval", "0"]
STEPS = 12  # 48 train images / 8 per step = 6 steps per epoch, 2 epochs; checkpoints at 4, 6, 8, 12


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(str(tmp_path_factory.mktemp("jpegs")), per_class=16)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tagged(tag: str) -> list[int]:
    """Pids of the live processes whose environment holds ``RMEETO_TEST_TAG=tag``."""
    want = f"RMEETO_TEST_TAG={tag}".encode()
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/environ", "rb") as f:
                    if want in f.read().split(b"\0"):
                        pids.append(int(name))
            except OSError:
                pass
    return pids


def _stop_all(agents: list, tag: str) -> list[int]:
    """SIGTERM the agents (torchrun then stops its workers), then SIGKILL whatever still carries
    the tag. Returns the pids that had to be killed that way."""
    for p in agents:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in agents:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    killed = []
    deadline = time.time() + 15
    while time.time() < deadline:
        left = [pid for pid in _tagged(tag) if pid != os.getpid()]
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    for p in agents:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    return killed


def _launch(tmp_path, name: str, data: str, nodes: int, nproc: int, restarts: int = 0,
            extra_env: dict | None = None) -> tuple[str, str]:
    """Run ``rmeeto train`` under ``nodes`` torchrun agents of ``nproc`` workers each, all on
    127.0.0.1; returns (output folder, the agents' logs). Fails the test unless every agent exits 0
    within LAUNCH_TIMEOUT; stops every process it started in any case."""
    out = str(tmp_path / name)
    tag = uuid.uuid4().hex
    port = _free_port()
    env = {**subprocess_env(), **(extra_env or {}), "RMEETO_TEST_TAG": tag, "GLOO_SOCKET_IFNAME": "lo"}
    for k in [k for k in env if k.startswith("TORCHELASTIC_")]:
        del env[k]
    agents, logs = [], []
    try:
        for node in range(nodes):
            log_path = tmp_path / f"{name}.node{node}.log"
            logs.append(log_path)
            cmd = [sys.executable, "-m", "torch.distributed.run", f"--nnodes={nodes}",
                   f"--nproc_per_node={nproc}", "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}",
                   f"--rdzv-id={tag}", f"--rdzv-conf=is_host={int(node == 0)}", "--local-addr=127.0.0.1",
                   f"--max-restarts={restarts}", "--monitor-interval=0.2",
                   "-m", "rmeeto.train.commands", *TRAIN, "--data-dir", data, "--output", out]
            with open(log_path, "w") as f:
                agents.append(subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                               start_new_session=True))
        deadline = time.time() + LAUNCH_TIMEOUT
        codes = []
        for p in agents:
            try:
                codes.append(p.wait(timeout=max(1.0, deadline - time.time())))
            except subprocess.TimeoutExpired:
                codes.append("timeout")
    finally:
        strays = _stop_all(agents, tag)
    text = "\n".join(f"--- {p.name}\n{p.read_text()}" for p in logs)
    assert codes == [0] * nodes, f"agents ended {codes}\n{text[-6000:]}"
    assert not strays, f"processes left running after the agents ended: {strays}"
    assert not _tagged(tag)
    return out, text


def _final(out: str) -> dict:
    names = os.listdir(out)
    assert not [n for n in names if n.endswith(".tmp")], names  # no unfinished write left behind
    return torch.load(os.path.join(out, "checkpoint.pth"), map_location="cpu", weights_only=True)


def _assert_bitwise_equal(a: dict, b: dict, what: str) -> None:
    assert a["step"] == b["step"] == STEPS and a["finished"] and b["finished"]
    pairs = [(f"model.{k}", v, b["model"][k]) for k, v in a["model"].items()]
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    pairs += [(f"optimizer.{i}.{k}", v, sb[i][k]) for i in sa for k, v in sa[i].items()
              if isinstance(v, torch.Tensor)]
    assert set(a["model"]) == set(b["model"]) and set(sa) == set(sb)
    differ = [name for name, x, y in pairs if not torch.equal(x, y)]
    assert not differ, f"{what}: {len(differ)} tensors differ, e.g. {differ[:5]}"
    n = sum(x.numel() for _, x, _ in pairs)
    print(f"\n{what}: step {a['step']}; {len(pairs)} tensors ({n} values) of weights and AdamW state "
          f"bitwise equal (torch.equal)")


@pytest.fixture(scope="module")
def one_node(data, tmp_path_factory):
    """The reference: one node, two worker processes, global batch 8, never interrupted."""
    out, text = _launch(tmp_path_factory.mktemp("ref"), "one_node", data, nodes=1, nproc=2)
    ck = _final(out)
    assert ck["sampler"]["world_size"] == 2 and ck["sampler"]["batch_size"] == 4
    return ck


def test_two_nodes_equal_one_node(data, one_node, tmp_path):
    out, text = _launch(tmp_path, "two_nodes", data, nodes=2, nproc=1)
    ck = _final(out)
    assert ck["sampler"]["world_size"] == 2
    recorded = json.loads((tmp_path / "two_nodes" / "torchrun.json").read_text())["agents"]
    assert len(recorded) == 2  # one agent per node started the run
    _assert_bitwise_equal(ck, one_node, "2 nodes x 1 process vs 1 node x 2 processes")


def test_restarts_without_the_store_opt_out_are_refused(data, tmp_path):
    """--max-restarts with torchrun's shared rendezvous store: every attempt stops at once with the
    one-line fix, and torchrun gives up after its restarts."""
    out = str(tmp_path / "shared")
    tag = uuid.uuid4().hex
    env = {**subprocess_env(), "RMEETO_TEST_TAG": tag, "GLOO_SOCKET_IFNAME": "lo"}
    env.pop("TORCH_DISABLE_SHARE_RDZV_TCP_STORE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
           "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{_free_port()}", f"--rdzv-id={tag}",
           "--local-addr=127.0.0.1", "--max-restarts=1", "--monitor-interval=0.2",
           "-m", "rmeeto.train.commands", *TRAIN, "--data-dir", data, "--output", out]
    p = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        text, _ = p.communicate(timeout=LAUNCH_TIMEOUT)
    finally:
        _stop_all([p], tag)
    assert p.returncode != 0
    # once per attempt, and torchrun allows two. In about one run of ten on this project's 2-core machine
    # (2026-12-02) the line came only once; the second attempt may not reach the workers (a guess, not confirmed:
    # its rendezvous uses the shared store that the refusal is about). So: at least one refusal, no attempt trained
    assert text.count("error: torchrun --max-restarts shares its rendezvous store") in (1, 2), text[-3000:]
    assert "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1" in text and not os.path.exists(out)


def test_killed_worker_restarts_and_resumes_exactly(data, one_node, tmp_path):
    out, text = _launch(tmp_path, "killed", data, nodes=2, nproc=1, restarts=1,
                        extra_env={"RMEETO_TEST_KILL_AT_STEP": "10:1", "TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "1"})
    assert "rank 1 will SIGKILL itself after step 10" in text
    # the restarted group found its own run and continued from the step-8 checkpoint (epoch 2, batch 2)
    assert "torchrun restart: continuing from" in text
    assert "epoch 2, step 8, batch 2 of the epoch" in text
    ck = _final(out)
    steps = [json.loads(x)["step"] for x in open(os.path.join(out, "metrics.jsonl"))
             if json.loads(x)["type"] == "train"]
    assert steps == sorted(set(steps)) and steps[-1] == STEPS  # the lost steps 9-10 are logged once
    _assert_bitwise_equal(ck, one_node, "killed at step 10 and restarted vs uninterrupted")
