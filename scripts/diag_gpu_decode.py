"""Diagnose the device-decode JPEG path stage by stage (decode, crop+resize, RandAugment, flip,
normalise, erase) and a bf16 training step on its output; prints statistics, no asserts.

    PYTHONPATH=src python scripts/diag_gpu_decode.py /tmp/fakeinet [--device cuda]
"""
from __future__ import annotations

import argparse

import torch


def stats(tag: str, x) -> None:
    if isinstance(x, (list, tuple)):
        x = torch.stack([t.float().mean() for t in x])
        tag += " (per-image means)"
    x = x.float()
    print(f"{tag:34s} shape {tuple(x.shape)} min {x.min().item():9.3f} max {x.max().item():9.3f} "
          f"mean {x.mean().item():8.3f} finite {bool(torch.isfinite(x).all())}", flush=True)


def main(argv=None) -> int:
    import rmeeto
    from rmeeto.data import build_dataset, collate_bytes
    from rmeeto.data import gpu_augment as A
    from rmeeto.data.gpu import GpuJpegPipeline, _decode

    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batches", type=int, default=3)
    args = ap.parse_args(argv)
    dev = torch.device(args.device)
    ds = build_dataset("folder", args.root, "train", img_size=224, gpu_decode=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, collate_fn=collate_bytes)
    pipe = GpuJpegPipeline(224, True, dev)
    model = rmeeto.patch(rmeeto.create_model("vim_small_patch16_224", num_classes=10), r=11).to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-6)
    for i, (data, labels) in zip(range(args.batches), loader):
        imgs = _decode(data, dev)
        stats(f"[{i}] decoded", imgs)
        crops = A.crop_resize(imgs, [pipe._box(im.shape[1], im.shape[2]) for im in imgs], 224)
        stats(f"[{i}] crop+resize", crops)
        x, y = pipe(data, labels)
        stats(f"[{i}] pipeline output", x)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            out = model(x)
            loss = torch.nn.functional.cross_entropy(out, y)
        stats(f"[{i}] logits", out)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
        print(f"[{i}] loss {loss.item():.4f} grad-norm {gn.item():.3e}", flush=True)
        bad = [n for n, p in model.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]
        if bad:
            print(f"[{i}] non-finite grads in {len(bad)} tensors, first: {bad[:5]}", flush=True)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
