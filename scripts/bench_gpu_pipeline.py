"""Time the device-decode pipeline (``GpuJpegPipeline``) on generated 500x375 JPEGs: decode, crop,
resize, RandAugment, flip, normalise, erase, per image. Prints numbers, no asserts.

    PYTHONPATH=src python scripts/bench_gpu_pipeline.py [--device cpu|cuda] [--images 64] [--repeats 3]
"""
from __future__ import annotations

import argparse
import glob
import tempfile
import time

import torch


def main(argv=None) -> int:
    from torchvision.io import read_file

    from rmeeto.data.gpu import GpuJpegPipeline
    from rmeeto.data.synthetic import make_fake_jpeg_folder

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    root = make_fake_jpeg_folder(tempfile.mkdtemp(), classes=1, per_class=args.images, size=(500, 375))
    data = [read_file(f) for f in sorted(glob.glob(f"{root}/train/*/*"))]
    pipe = GpuJpegPipeline(224, True, args.device)
    torch.manual_seed(0)
    pipe(data[:8])  # warm-up
    times = []
    for _ in range(args.repeats):
        if args.device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        x, _ = pipe(data)
        if args.device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"GpuJpegPipeline on {args.device} (torch {torch.__version__}, {torch.get_num_threads()} threads): "
          f"{1e3 * best / len(data):.2f} ms/image, {len(data) / best:.0f} images/s (best of {args.repeats}), "
          f"output {tuple(x.shape)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
