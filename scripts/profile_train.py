"""Where a Vim or VideoMamba training step spends its GPU time: kernel families, the top kernels, and idle GPU time.

One step = bf16 autocast forward, cross-entropy, backward, fused AdamW, on a fixed random batch
(the same step as ``rmeeto bench --train``). Prints the steady im/s from wall-clock timed steps,
then a ``torch.profiler`` breakdown: device time per kernel family split into forward and backward
where the kernel names allow it, the kernels with the most time, and the wall time per step that
no kernel covers (launch and Python overhead the GPU waits on). No asserts; numbers only.

    PYTHONPATH=src python scripts/profile_train.py [--model vim_small_patch16_224] [--r 11] [--batch 128]
        [--model-kwargs img_size=56 ...] [--variants base,tf32]
"""
from __future__ import annotations

import argparse
import re
import statistics
import time

import torch

MERGE_KERNELS = r"_plan_kernel|_apply_kernel|_apply_add_norm|_best_kernel|_book_kernel|_once_kernel|_rank_kernel" \
    r"|_slot_kernel|_moved_kernel|_unmerge|_gather"
# the chunked scan's phase 1 and 2 (``scan chunks``) serve the forward and the backward alike
FAMILIES = [("merge", MERGE_KERNELS), ("scan fwd", r"_scan_fwd|_sum_gate"), ("scan bwd", r"_scan_bwd"),
            ("scan chunks", r"_chunk_local|_chunk_carry"), ("conv fwd", r"_biconv_fwd"),
            ("conv bwd", r"_biconv_bwd|_biconv_dpre|_biconv_dx"),
            ("norm", r"rmsnorm|_norm"), ("optimizer", r"adam|multi_tensor"),
            ("gemm fp32", r"sgemm|f32f32|tf32|s1688|s16816gemm_fp32|gemm.*f32_f32"),
            ("gemm", r"gemm|nvjet|xmma|cutlass|cublas|sm90|sm80"),
            ("reduce", r"reduce_kernel"), ("copy/cast", r"copy|cast|CatArray"),
            ("elementwise", r"elementwise")]


def family(name: str) -> str:
    for fam, pat in FAMILIES:
        if re.search(pat, name, re.I):
            return fam
    return "other"


def make_step(model, batch: int, dtype):
    """``rmeeto bench --train``'s step (:func:`rmeeto.bench.training_step`) on a fixed random batch."""
    from rmeeto.bench import training_step

    x = torch.randn(batch, *model.input_shape, device="cuda")  # images or clips
    return training_step(model, x, dtype)


def timed(step, warmup: int, iters: int) -> float:
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def profile(step, iters: int):
    from torch.profiler import ProfilerActivity, profile as tprof

    torch.cuda.synchronize()
    with tprof(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        torch.cuda.synchronize()
        wall = (time.perf_counter() - t0) / iters
    kernels = {}
    for ev in prof.key_averages():
        us = getattr(ev, "self_device_time_total", 0) or 0
        if us > 0 and ev.device_type == torch.autograd.DeviceType.CUDA:
            k = kernels.setdefault(ev.key, [0.0, 0])
            k[0] += us / 1e3 / iters
            k[1] += ev.count / iters
    return wall * 1e3, kernels


def main(argv=None) -> int:
    import rmeeto
    from rmeeto.train.config import parse_kwargs as parse_model_kwargs

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="vim_small_patch16_224")
    ap.add_argument("--model-kwargs", nargs="*", default=[])
    ap.add_argument("--r", type=int, default=11)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=15)
    ap.add_argument("--prof-iters", type=int, default=3)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--variants", default="base+prof",
                    help="comma list of '+'-joined options: base, prof (also profile it), tf32 (TF32 for "
                         "fp32 matmuls), lowp/fp32grad (scan-gradient dtype), convL64E32w4 (conv kernel blocks)")
    args = ap.parse_args(argv)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
    kw = parse_model_kwargs(args.model_kwargs)
    print(f"# {args.model} {kw} r={args.r} batch {args.batch} {args.dtype}; {torch.cuda.get_device_name()}; "
          f"torch {torch.__version__}")
    from rmeeto.ops import settings
    from rmeeto.ops.triton import bimamba as TB, scan as TS

    defaults = (dict(TS.FWD_CFG), dict(TS.BWD_CFG), settings.current().grad_fp32,
                dict(TB.CONV_FWD_CFG), dict(TB.CONV_BWD_CFG))
    for variant in args.variants.split(","):
        opts = set(variant.split("+"))
        torch.backends.cuda.matmul.allow_tf32 = "tf32" in opts
        TS.FWD_CFG.update(defaults[0])
        TS.BWD_CFG.update(defaults[1])
        settings.configure(grad_fp32=defaults[2])
        TB.CONV_FWD_CFG.update(defaults[3])
        TB.CONV_BWD_CFG.update(defaults[4])
        for o in opts:  # convL<BLOCK_L>E<BLOCK_E>w<num_warps>, e.g. convL64E32w4
            m = re.fullmatch(r"convL(\d+)E(\d+)w(\d+)", o)
            if m:
                for cfg in (TB.CONV_FWD_CFG, TB.CONV_BWD_CFG):
                    cfg.update(BLOCK_L=int(m[1]), BLOCK_E=int(m[2]), num_warps=int(m[3]))
        if "lowp" in opts:
            settings.configure(grad_fp32=False)
        if "fp32grad" in opts:
            settings.configure(grad_fp32=True)
        torch.manual_seed(0)
        model = rmeeto.create_model(args.model, **kw).cuda()
        if args.r:
            rmeeto.patch(model, r=args.r)
        model.train()
        step = make_step(model, args.batch, dtype)
        med = timed(step, args.warmup, args.iters)
        print(f"\n[{variant}] step {med * 1e3:.2f} ms, {args.batch / med:.0f} im/s, "
              f"peak {torch.cuda.max_memory_allocated() / 2 ** 30:.2f} GiB")
        if "prof" not in opts:
            continue
        wall, kernels = profile(step, args.prof_iters)
        busy = sum(v[0] for v in kernels.values())
        print(f"profiled: wall {wall:.2f} ms/step, kernels {busy:.2f} ms/step, not covered by a kernel "
              f"{wall - busy:.2f} ms ({(wall - busy) / wall:.1%}); {sum(v[1] for v in kernels.values()):.0f} "
              f"launches/step")
        fams: dict = {}
        for name, (ms, n) in kernels.items():
            f = fams.setdefault(family(name), [0.0, 0.0])
            f[0] += ms
            f[1] += n
        for f, (ms, n) in sorted(fams.items(), key=lambda kv: -kv[1][0]):
            print(f"  {f:12s} {ms:8.2f} ms {ms / busy:6.1%}  {n:6.0f} launches")
        print(f"top {args.top} kernels:")
        for name, (ms, n) in sorted(kernels.items(), key=lambda kv: -kv[1][0])[:args.top]:
            print(f"  {ms:7.2f} ms {n:5.0f}x  {name[:110]}")
        del step, model
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
