"""Every memory access of the Triton kernels in a tiny eager forward, checked against the tensors they were given.

Runs under Triton's interpreter on the CPU (``TRITON_INTERPRET=1``, set here before triton is imported), after the
first mixer's weights are stacked by the one-launch stacking kernel (which forwards run on CUDA only). Each
launch records the byte ranges of its tensor arguments, and every load and store with a lane whose mask is on is
checked: an address outside every argument's *view* (the bytes its shape and strides reach) is reported once per
kernel and argument, with how far outside it fell. One inside an argument's storage (``storage``) may be meant (the
reverse direction of the split scan walks back from a view's last row with a negated stride) or may read what that
storage holds elsewhere; one outside every storage (``OUTSIDE``) reads or writes memory the kernel was not given,
which on a GPU holds whatever the caching allocator put there. Exits 1 when any access was ``OUTSIDE``.

    python scripts/check_kernel_bounds.py --r 0,5 [--depth 4] [--img 64] [--batch 2] [--train] [--mode prune]
        [--model videomamba_tiny_patch16_224 --frames 4] [--embed-dim 48]

``--traced`` runs the inference forward with the branch of a compiled forward taken eagerly
(``torch.compiler.is_compiling`` reads True) and the setting ``compile_ops="traced"``: every op is this package's
``*_traced`` op where one exists, whose body launches through ``torch.library.wrap_triton`` as Inductor traces it, on
the arguments it computes itself (the weights stacked on every call, as a graph has no cache). The default
``compile_ops="opaque"`` ops run the eager functions, which the plain check covers.

The kernel settings come from the environment as usual (``RMEETO_SCAN_SPLIT=1``, ``RMEETO_SCAN_CHUNK=4``,
``RMEETO_MERGE_NORM=0`` take the other kernels).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import traceback
import sys
from collections import defaultdict
from typing import Iterator

os.environ["TRITON_INTERPRET"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from triton.runtime import interpreter as tri  # noqa: E402

import rmeeto  # noqa: E402

_ranges: list[tuple[str, int, int, int, int]] = []  # (arg name, view start, view end, storage start, storage end)
_kernel = [""]
findings: dict[tuple, list] = defaultdict(list)
launched: set[str] = set()  # the kernels checked


def _view_range(t: torch.Tensor) -> tuple[int, int]:
    if t.numel() == 0:
        return t.data_ptr(), t.data_ptr()
    last = sum((n - 1) * s for n, s in zip(t.shape, t.stride()) if n > 0)
    return t.data_ptr(), t.data_ptr() + (last + 1) * t.element_size()


def _wrap_executor() -> None:
    call = tri.GridExecutor.__call__

    def checked_call(self, *args, **kwargs):
        names = list(self.arg_names)
        named = list(zip(names, args)) + list(kwargs.items())
        _ranges.clear()
        for name, arg in named:
            if isinstance(arg, torch.Tensor):
                st = arg.untyped_storage()
                _ranges.append((name, *_view_range(arg), st.data_ptr(), st.data_ptr() + st.nbytes()))
        _kernel[0] = getattr(self.fn, "__name__", str(self.fn))
        launched.add(_kernel[0])
        return call(self, *args, **kwargs)

    tri.GridExecutor.__call__ = checked_call


def _check(ptrs: np.ndarray, mask: np.ndarray, size: int, kind: str) -> None:
    addr = ptrs.astype(np.uint64).ravel()[np.broadcast_to(mask.astype(bool), ptrs.shape).ravel()]
    if addr.size == 0:
        return
    inside_view, inside_storage = np.zeros(addr.shape, bool), np.zeros(addr.shape, bool)
    for _name, v0, v1, s0, s1 in _ranges:
        inside_view |= (addr >= v0) & (addr + size <= v1)
        inside_storage |= (addr >= s0) & (addr + size <= s1)
    for where, picked in (("OUTSIDE", ~inside_storage), ("storage", inside_storage & ~inside_view)):
        for a in (int(v) for v in np.unique(addr[picked])[:64]):  # examples; every kind of access is reported
            owner = next((r for r in _ranges if r[3] <= a and a + size <= r[4]), None)
            name, v0, v1, _s0, _s1 = owner or min(_ranges, key=lambda r: min(abs(a - r[1]), abs(a - r[2])))
            findings[(_kernel[0], kind, name, where, _kernel_line())].append(a - v1 if a >= v1 else a - v0)


def _kernel_line() -> str:
    """The innermost line of rmeeto's kernel source on the interpreter's stack."""
    for frame in reversed(traceback.extract_stack()):
        if "rmeeto/ops/triton" in frame.filename:
            return f"{pathlib.Path(frame.filename).name}:{frame.lineno}"
    return "?"


def _wrap_builder() -> None:
    b = tri.interpreter_builder
    load, store = b.create_masked_load, b.create_masked_store

    def masked_load(ptrs, mask, other, *rest):
        _check(ptrs.data, mask.data, np.dtype(tri._get_np_dtype(ptrs.get_element_ty())).itemsize, "load")
        return load(ptrs, mask, other, *rest)

    def masked_store(ptrs, value, mask, *rest):
        _check(ptrs.data, mask.data, value.data.dtype.itemsize, "store")
        return store(ptrs, value, mask, *rest)

    b.create_masked_load, b.create_masked_store = masked_load, masked_store


def triton_on_cpu() -> None:
    """The Triton path for CPU tensors, as on CUDA (the interpreter runs the kernels)."""
    from rmeeto.models import vim
    from rmeeto.ops import dispatch
    from rmeeto.ops.triton import library

    dispatch.available_backends = lambda device_type="cpu": ["ref", "torch", "triton"]
    vim.add_norm = lambda h, r, w, eps, backend=None: library.add_rmsnorm(h, r, w, eps)


@contextlib.contextmanager
def compiled_branch() -> Iterator[None]:
    """Within: the ops take the branch of a compiled forward (``torch.compiler.is_compiling`` reads True) with
    ``compile_ops="traced"``, so the ``*_traced`` ops run eagerly, launching through ``torch.library.wrap_triton``."""
    from unittest import mock

    from rmeeto.ops import settings

    with mock.patch.object(torch.compiler, "is_compiling", lambda: True), settings.using(compile_ops="traced"):
        yield


def _stack_first_mixer(m: torch.nn.Module) -> None:
    """The one-launch weight stacking (on CUDA only in a forward; CPU tensors are stacked by torch ops) of the first
    mixer, in fp16 and fp32, so that its kernel is checked too."""
    from rmeeto.ops.triton.stack import stack_params_launched

    mixer = next(mod for mod in m.modules() if hasattr(mod, "direction_params"))
    with torch.no_grad():
        for cdt in (torch.float16, torch.float32):
            stack_params_launched(mixer.direction_params(False), mixer.direction_params(True), cdt)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--r", default="0,5")
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--img", type=int, default=64)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--model", default="vim_tiny_patch16_224")
    ap.add_argument("--frames", type=int, default=None, help="a video model's frames")
    ap.add_argument("--train", action="store_true", help="a training forward and its backward instead")
    ap.add_argument("--embed-dim", type=int, default=None, help="the model's width (default: its own)")
    ap.add_argument("--mode", default="merge", help="rmeeto.patch's mode (merge, prune, ...)")
    ap.add_argument("--traced", action="store_true", help="the ops a compiled inference forward takes, run eagerly")
    a = ap.parse_args()
    if a.traced and a.train:
        ap.error("--traced checks inference forwards; drop --train or --traced")
    _wrap_executor()
    _wrap_builder()
    triton_on_cpu()
    outside = 0
    for r in (int(v) for v in a.r.split(",")):
        findings.clear()
        launched.clear()
        torch.manual_seed(0)
        extra = {} if a.frames is None else {"num_frames": a.frames}
        if a.embed_dim is not None:
            extra["embed_dim"] = a.embed_dim
        m = rmeeto.create_model(a.model, img_size=a.img, depth=a.depth, num_classes=10, **extra).train(a.train)
        if r:
            rmeeto.patch(m, r=r, mode=a.mode)
        m.backend, m.merge_impl = "triton", "triton"
        x = torch.randn(a.batch, *m.input_shape)
        _stack_first_mixer(m)
        if a.train:
            m(x).square().mean().backward()
        else:
            with torch.inference_mode(), compiled_branch() if a.traced else contextlib.nullcontext():
                m(x)
        verdict = f"{len(findings)} kinds of access outside a view" if findings else "no access outside its arguments"
        run = "train" if a.train else "traced inference" if a.traced else "inference"
        print(f"{a.model} width {m.embed_dim} depth {a.depth} img {a.img} frames {a.frames} batch {a.batch} r={r} "
              f"{a.mode if r else ''} {run}: {verdict}")
        print(f"    kernels checked: {', '.join(sorted(launched))}")
        for (kernel, kind, name, where, line), offs in sorted(findings.items()):
            print(f"    {kernel} ({line}) {kind} {where} of {name}: {len(offs)} sampled addresses, "
                  f"bytes from the view's edge {min(offs)}..{max(offs)}")
        outside += sum(where == "OUTSIDE" for (_k, _kind, _n, where, _l) in findings)
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
