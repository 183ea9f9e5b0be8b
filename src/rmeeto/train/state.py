"""Atomic checkpoint files and RNG state capture for exact resume."""
from __future__ import annotations

import random

import numpy as np
import torch

from ..checkpoint import atomic_write


def atomic_write_text(path: str, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def rng_state() -> dict:
    """All global RNG states, in types that ``torch.load(weights_only=True)`` accepts."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    st = {"python": random.getstate(),
          "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                    "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
          "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: dict) -> None:
    py = st["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = st["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(st["torch"])
    if st.get("cuda") is not None and torch.cuda.is_available():
        try:
            torch.cuda.set_rng_state_all(st["cuda"])
        except Exception:  # a different number of visible devices
            pass


def step_seed(seed: int, rank: int, micro_step: int) -> int:
    """Seed of the global RNGs for one micro-step: a pure function of (seed, rank, step)."""
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(rank), int(micro_step), 0x7A11])
    return int(ss.generate_state(1)[0])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
