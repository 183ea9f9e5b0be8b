"""The environment block that benchmark and study results record: date, versions, device, CPU, commit."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Optional

import torch

PACKAGE_DIR = Path(__file__).resolve().parent


def device_name(device: str) -> str:
    """The GPU's name for a CUDA device (``cuda``, ``cuda:N``), else ``cpu``."""
    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name(dev)
    return dev.type


def source_commit(folder: Path = PACKAGE_DIR) -> Optional[str]:
    """The short commit of the git checkout holding ``folder``, with ``+changes`` when files under it differ
    from that commit; None outside a checkout or without git."""
    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], capture_output=True, text=True, cwd=folder).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        if commit and git("status", "--porcelain", "--", str(folder)):
            commit += "+changes"
    except OSError:  # no git on this machine
        return None
    return commit or None


def environment(device: str = "cpu") -> dict:
    """Date, torch (and triton, when installed) versions, the device, CPU cores, torch threads and the
    source commit."""
    env = {"date": time.strftime("%Y-%m-%d"), "torch": torch.__version__, "device": device_name(device),
           "cpus": os.cpu_count(), "threads": torch.get_num_threads(), "commit": source_commit()}
    try:
        import triton

        env["triton"] = triton.__version__
    except ImportError:
        pass
    return env
