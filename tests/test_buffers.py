"""One allocation carved into several tensors (``rmeeto.ops.triton.buffers``), and the channels-last test on strides."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from rmeeto.ops.triton.buffers import ALIGN, carve  # noqa: E402
from rmeeto.ops.triton.layout import _is_channels_last  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.uint8])
def test_carved_tensors_are_contiguous_aligned_and_disjoint(dtype):
    shapes = [(3, 5, 7), (1,), (0, 4), (2, 1, 3), (), (9,)]
    parts = carve(shapes, dtype, torch.device("cpu"))
    base = parts[0].untyped_storage().data_ptr()
    for t, shape in zip(parts, shapes):
        assert t.shape == shape and t.is_contiguous() and t.dtype == dtype
        assert t.untyped_storage().data_ptr() == base  # one allocation
        assert t.numel() == 0 or (t.data_ptr() - base) % ALIGN == 0  # (an empty tensor's pointer is 0)
    for i, t in enumerate(parts):
        t.fill_(i + 1)
    for i, t in enumerate(parts):  # no part overwrote another
        assert bool((t == i + 1).all())


@pytest.mark.parametrize("shape,perm,expected", [
    ((2, 6, 5), (0, 2, 1), True),  # a (b, l, c) tensor seen as (b, c, l)
    ((2, 6, 5), None, False),  # (b, c, l)-contiguous
    ((1, 6, 5), (0, 2, 1), True),
    ((2, 1, 5), None, True),  # one channel: both layouts are the same memory
    ((2, 6, 1), None, True),  # one position
])
def test_channels_last_is_read_from_the_strides(shape, perm, expected):
    x = torch.randn(*(shape[i] for i in perm) if perm else shape)
    x = x.permute(*perm) if perm else x
    assert x.shape == shape
    assert _is_channels_last(x) == expected == x.transpose(1, 2).is_contiguous()


def test_a_channel_slice_is_not_channels_last():
    x = torch.randn(2, 5, 8).transpose(1, 2)[:, :4]  # every other channel row of a (b, l, c) buffer: gaps
    assert not _is_channels_last(x) and not x.transpose(1, 2).is_contiguous()
