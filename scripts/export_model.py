"""Strip a training checkpoint to ``{'model', 'rmeeto', 'epoch'}`` (optionally in fp16) for shipping.

The input is read as :func:`rmeeto.checkpoint.read_checkpoint` reads any file: tensors and plain containers only,
so a crafted file cannot run code (``--trust-checkpoint`` unpickles fully, for a file you trust). The output is
written atomically.

    python scripts/export_model.py IN.pth OUT.pth [float32|float16] [--trust-checkpoint]
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional

import torch

from rmeeto.checkpoint import CheckpointError, atomic_save, read_checkpoint

DTYPES = {"float32": torch.float32, "float16": torch.float16}


def export(src: str, dst: str, dtype: torch.dtype = torch.float32, trust_checkpoint: bool = False) -> int:
    """Write ``src``'s weights (floating ones cast to ``dtype``), ``rmeeto`` settings and epoch to ``dst``; returns
    the number of parameters written."""
    ck = read_checkpoint(src, trust_checkpoint=trust_checkpoint)
    if not isinstance(ck, dict) or not isinstance(ck.get("model"), dict):
        raise CheckpointError(f"{src} has no 'model' state dict; export takes a checkpoint written by rmeeto train")
    sd = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in ck["model"].items()}
    atomic_save({"model": sd, "rmeeto": ck.get("rmeeto"), "epoch": ck.get("epoch")}, dst)
    return sum(v.numel() for v in sd.values())


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("dtype", nargs="?", default="float32", choices=sorted(DTYPES))
    ap.add_argument("--trust-checkpoint", action="store_true", help="unpickle the input fully (runs its code)")
    args = ap.parse_args(argv)
    try:
        n = export(args.src, args.dst, DTYPES[args.dtype], args.trust_checkpoint)
    except (CheckpointError, FileNotFoundError) as e:
        print(f"export_model: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.dst}: {n / 1e6:.2f}M params as {args.dtype}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
