"""Each re-training of ``rmeeto study`` as its own ``rmeeto train`` process, several at once with ``--gpus``."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from .demo import load_demo_model
from .results import save_stage


@dataclass(frozen=True)
class Proxy:
    """The trained proxy Vim a study starts from, and the Fashion-MNIST folder it is scored and re-trained on."""
    checkpoint: str
    data_dir: str
    trust_checkpoint: bool = False

    def load(self, device: str = "cpu"):
        return load_demo_model(self.checkpoint, device, self.trust_checkpoint)


@dataclass(frozen=True)
class RunSettings:
    """The base recipe every re-training run shares, and the devices the runs share out."""
    lr: float = 1e-4  # per 512 images
    batch_size: int = 256
    gpus: Sequence[str] = ()  # none: one run after another on the current device


def train_command(proxy: Proxy, settings: RunSettings, run_dir: Path, extra: Sequence[str]) -> list[str]:
    """The ``rmeeto train`` command line of one re-training of the proxy: the base recipe, then ``extra``
    (so a recipe's flags override it)."""
    model = proxy.load()
    kw = {k: v for k, v in model.rmeeto_config["kwargs"].items() if k not in ("num_classes",)}
    return [sys.executable, "-m", "rmeeto.cli", "train", "--model", model.rmeeto_config["name"],
            "--model-kwargs", *[f"{k}={v}" for k, v in kw.items()], "--num-classes", str(model.num_classes),
            "--pretrained", str(proxy.checkpoint), "--dataset", "fashion-mnist", "--data-dir", proxy.data_dir,
            "--aa", "none", "--mixup", "0", "--cutmix", "0", "--reprob", "0.25", "--scale", "0.6", "1.0",
            "--crop-pct", "1.0", "--lr", str(settings.lr), "--batch-size", str(settings.batch_size),
            "--warmup-epochs", "0",
            "--drop-path", "0.05", "--no-initial-eval", "--no-progress", "--workers", "8",
            "--output", str(run_dir), "--overwrite",  # a run not in <stage>.json was cut short
            *(["--trust-checkpoint"] if proxy.trust_checkpoint else []), *extra]


def train_run(proxy: Proxy, settings: RunSettings, run_dir: Path, name: str, extra: list[str],
              gpu: Optional[str] = None) -> dict:
    """One re-training writing into ``run_dir`` (on ``gpu`` when given); returns its summary."""
    summary = run_train_cmd(train_command(proxy, settings, run_dir, extra), run_dir, name, gpu)
    summary["flags"] = extra
    return summary


def run_train_cmd(cmd: list[str], run_dir: Path, name: str, gpu: Optional[str] = None,
                  threads: Optional[int] = None, echo: bool = True) -> dict:
    """Run an ``rmeeto train`` command line (on ``gpu``, with ``threads`` intra-op threads, when given), keep
    its log in ``run_dir``, and return its summary with the wall-clock minutes added; ``echo`` prints a line
    with its top-1 after each epoch. A failed run raises RuntimeError naming its log."""
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "stdout.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        raise RuntimeError(f"study run {name} failed (log: {run_dir / 'stdout.log'})")
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["wall_minutes"] = (time.time() - t0) / 60
    if echo:
        where = f" on device {gpu}" if gpu is not None else ""
        print(name, [round(e["top1"], 2) for e in summary["epochs"]], f"{summary['wall_minutes']:.2f} min{where}",
              flush=True)
    return summary


def run_all(proxy: Proxy, settings: RunSettings, out: Path, stage: str, runs: dict,
            jobs: list[tuple[str, list[str]]], runs_dir: Optional[Path] = None) -> None:
    """Run the jobs (name, extra flags) missing from ``runs``, one per device of ``settings.gpus`` at a time
    (one after another on the current device without them), each in ``runs_dir/<name>`` (default
    ``out/runs``); ``<stage>.json`` is saved after each run."""
    runs_dir = runs_dir or out / "runs"
    jobs = [(n, e) for n, e in jobs if n not in runs]
    devices = list(settings.gpus) or [None]
    free: queue.Queue = queue.Queue()
    for d in devices:
        free.put(d)
    lock = threading.Lock()

    def one(name: str, extra: list[str]) -> None:
        device = free.get()
        try:
            summary = train_run(proxy, settings, runs_dir / name, name, extra, device)
        finally:
            free.put(device)
        with lock:
            runs[name] = summary
            save_stage(out, stage, runs)

    failed = []
    with ThreadPoolExecutor(max_workers=len(devices)) as pool:
        for fut in [pool.submit(one, *job) for job in jobs]:
            try:
                fut.result()
            except RuntimeError as e:  # the other runs go on; every failure is reported at the end
                failed.append(str(e))
    save_stage(out, stage, runs)
    if failed:
        raise SystemExit("error: " + "; ".join(failed))
