#!/usr/bin/env bash
# run 29: the conv forward in one pass over the row offsets against the previous kernel (bimamba_old.py, the module
# at 66bb10e, copied beside it): kernel alone and model level, interleaved; GPU tests; compile against eager
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
cp .device_data/bimamba_old.py src/rmeeto/ops/triton/bimamba_old.py
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py src/rmeeto/cuda_graphs.py scripts/bench_conv.py \
    scripts/profile_compile.py tests/test_gpu_train_graph.py; } > $OUT/env.txt 2>&1
CFGS=16/128/4,32/128/4,16/64/2,8/128/2,16/256/4
for mod in rmeeto.ops.triton.bimamba rmeeto.ops.triton.bimamba_old; do
  timeout 60 python3 scripts/bench_conv.py --module $mod --cfgs $CFGS --shapes 128x768x197,128x384x197,32x768x1569 \
    2>&1 | grep -v Warn | tee -a $OUT/bench_conv.txt
done
timeout 120 python3 - <<'PY' 2>&1 | grep -v Warn | tee $OUT/ab_model.txt
import statistics, time, torch, rmeeto
from rmeeto.ops.triton import bimamba as tb, bimamba_old as old
from rmeeto.bench import for_inference
from rmeeto.cuda_graphs import graphed
dev, new_fn = torch.device("cuda"), tb.biconv_fwd
print("fp16 forward in a CUDA graph; conv forward: new / previous / new again; median of 7 rounds x 20, items/s")
for name, r, batch in [("vim_small_patch16_224", 0, 128), ("vim_small_patch16_224", 11, 128),
                       ("vim_tiny_patch16_224", 0, 128), ("vim_base_patch16_224", 0, 128), ("videomamba_small", 0, 32)]:
    m = rmeeto.create_model(name)
    if r:
        rmeeto.patch(m, r=r)
    m.to(dev)
    x = for_inference(m, torch.randn(batch, *m.input_shape, device=dev), torch.float16)
    def fwd():
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
            return m(x)
    steps = []
    for fn in (new_fn, old.biconv_fwd, new_fn):
        tb.biconv_fwd = fn
        steps.append(graphed(fwd, dev))
    tb.biconv_fwd = new_fn
    rates = [[] for _ in steps]
    for k in range(7):
        for i in [(k + j) % 3 for j in range(3)]:
            torch.cuda.synchronize(); t0 = time.perf_counter()
            for _ in range(20):
                steps[i]()
            torch.cuda.synchronize(); rates[i].append(batch * 20 / (time.perf_counter() - t0))
    med = [statistics.median(v) for v in rates]
    print(f"{name} r={r} batch {batch}: " + " / ".join(f"{v:.1f}" for v in med) + f"  new/previous {med[0] / med[1]:.3f}x")
PY
timeout 250 python3 -m pytest -q -m gpu tests/test_gpu_train_graph.py tests/test_gpu_model.py tests/test_gpu_compile.py \
  tests/test_triton_ops.py -p no:cacheprovider 2>&1 | grep -v Warn | tail -15 | tee $OUT/gpu_tests.txt
timeout 90 python3 scripts/profile_compile.py --model vim_small_patch16_224 --r 11 2>&1 | grep -v Warn > $OUT/compile_s11.txt
date -u >> $OUT/env.txt
