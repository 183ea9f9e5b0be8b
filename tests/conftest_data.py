"""Helpers shared by the tests (imported, not a conftest): data folders, tiny models, interpreter runs."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)

TINY = ["--model", "vim_tiny_patch16_224", "--model-kwargs", "depth=4", "embed_dim=32", "img_size=32",
        "patch_size=8", "stride=8"]
TINY_KW = dict(depth=4, embed_dim=32, img_size=32, patch_size=8, stride=8)


def make_data(root: str, classes: int = 3, per_class: int = 8, val_per_class: int = 5,
              size=(64, 48)) -> str:
    from rmeeto.data import make_fake_jpeg_folder
    return make_fake_jpeg_folder(root, classes=classes, per_class=per_class, size=size,
                                 val_per_class=val_per_class)


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["OMP_NUM_THREADS"] = "1"
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    return env


def run_cli(argv, timeout: int = 240) -> subprocess.CompletedProcess:
    """``python -m rmeeto.train.commands ARGV`` in a fresh process (one thread)."""
    return subprocess.run([sys.executable, "-m", "rmeeto.train.commands", *argv], env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def run_inproc(argv) -> int:
    """The same, in this process (faster; no torchrun env)."""
    from rmeeto.train.commands import main
    return main(list(argv))


def run_under_interpreter(script: str, timeout: int, unset: tuple = ()) -> subprocess.CompletedProcess:
    """Run a test file as a script with Triton's interpreter (``TRITON_INTERPRET=1``), this checkout's ``src`` first on
    the path, no GPU visible and the variables ``unset`` removed; returns the finished process."""
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env["CUDA_VISIBLE_DEVICES"] = ""  # the interpreter runs on CPU tensors; a visible GPU would send them to CUDA
    for name in unset:
        env.pop(name, None)
    return subprocess.run([sys.executable, os.path.abspath(script)], env=env, capture_output=True, text=True,
                          timeout=timeout)
