"""Strip a training checkpoint to ``{'model', 'rmeeto'}`` (optionally in fp16) for shipping.

usage: python scripts/export_model.py IN.pth OUT.pth [float32|float16]
"""
import sys

import torch

src, dst = sys.argv[1], sys.argv[2]
dtype = getattr(torch, sys.argv[3]) if len(sys.argv) > 3 else torch.float32
ck = torch.load(src, map_location="cpu", weights_only=False)
sd = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in ck["model"].items()}
torch.save({"model": sd, "rmeeto": ck.get("rmeeto"), "epoch": ck.get("epoch")}, dst)
print(f"wrote {dst}: {sum(v.numel() for v in sd.values()) / 1e6:.2f}M params as {dtype}")
