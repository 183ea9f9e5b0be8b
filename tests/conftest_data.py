"""Helpers shared by the tests (imported, not a conftest): data folders, tiny models, interpreter runs."""
from __future__ import annotations

import functools
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


_LOOP_PROBE = """
import torch, triton, triton.language as tl
@triton.jit
def k(out, n):
    acc = 0
    for i in range(0, n, 1):
        acc += i
    tl.store(out, acc)
o = torch.zeros(1, dtype=torch.int32)
k[(1,)](o, 4)
assert int(o) == 6, int(o)
"""


def _interpreter_env(unset: tuple = ()) -> dict:
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env["CUDA_VISIBLE_DEVICES"] = ""  # the interpreter runs on CPU tensors
    for name in unset:
        env.pop(name, None)
    return env


@functools.lru_cache(maxsize=None)
def interpreter_cannot_loop() -> str:
    """Why this Triton's interpreter cannot run a loop bounded by a scalar argument, or "" where it can. Triton 3.6's
    interpreter converts such a bound with ``int()`` of a 1-element array, which NumPy 2.4 refuses; Triton 3.8 does
    not."""
    proc = subprocess.run([sys.executable, "-c", _LOOP_PROBE], env=_interpreter_env(), capture_output=True, text=True,
                          timeout=120)
    if proc.returncode == 0:
        return ""
    import numpy
    import triton
    last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return f"Triton {triton.__version__}'s interpreter with NumPy {numpy.__version__} fails a scalar-bounded loop: {last}"


def run_under_interpreter(script: str, timeout: int, unset: tuple = (),
                          args: tuple = ()) -> subprocess.CompletedProcess:
    """Run a test file as a script (with ``args``) under Triton's interpreter (``TRITON_INTERPRET=1``), this checkout's
    ``src`` first on the path, no GPU visible and the variables ``unset`` removed; returns the finished process. Skips
    the calling test where the interpreter itself cannot run a scalar-bounded loop (:func:`interpreter_cannot_loop`)."""
    import pytest
    why = interpreter_cannot_loop()
    if why:
        pytest.skip(why)
    return subprocess.run([sys.executable, os.path.abspath(script), *args], env=_interpreter_env(unset),
                          capture_output=True, text=True, timeout=timeout)
