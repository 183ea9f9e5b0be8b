"""The cheap kernel launch's key (``rmeeto.ops.triton.launch``), on the CPU: it must separate whatever
Triton specialises a kernel on. The launch itself is tested on a GPU in ``test_gpu_launch.py``."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")
from rmeeto.ops import settings  # noqa: E402
from rmeeto.ops.triton import launch as L  # noqa: E402


def test_key_separates_alignment_dtype_and_integer_values():
    t = torch.zeros(64)
    assert L._spec(t) == (torch.float32, True)
    assert L._spec(t[1:]) == (torch.float32, False)  # 4 bytes past a 16-byte boundary
    assert L._spec(t.half()) == (torch.float16, True)
    assert L._spec(1) != L._spec(2) and L._spec(16) != L._spec(32)
    assert L._spec(0.5) == L._spec(2.0)  # float arguments are never specialised
    assert L._spec(None) is None and L._spec(True) is True


def test_interpreter_and_switch_off_take_tritons_path(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert not L._enabled()
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert L._enabled()
    with settings.using(fast_launch=False):
        assert not L._enabled()
    monkeypatch.setenv("RMEETO_FAST_LAUNCH", "0")
    assert not settings.from_env().fast_launch
