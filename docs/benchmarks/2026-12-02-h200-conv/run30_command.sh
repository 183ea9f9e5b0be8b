#!/usr/bin/env bash
# run 30: the conv backward's pre-activation gradient in fp16 for fp16 gradients (and the one-pass forward) against
# 66bb10e's kernels (bimamba_old.py beside them): kernels alone, the training step interleaved; GPU tests; compile
# against eager at Vim-Ti r=0; the issue's targets on the final tree
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
cp .device_data/bimamba_old.py src/rmeeto/ops/triton/bimamba_old.py
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py src/rmeeto/cuda_graphs.py src/rmeeto/bench.py \
    scripts/bench_conv.py scripts/profile_compile.py; } > $OUT/env.txt 2>&1
for mod in rmeeto.ops.triton.bimamba rmeeto.ops.triton.bimamba_old; do
  timeout 50 python3 scripts/bench_conv.py --module $mod --cfgs 32/64/2,16/64/2,16/128/4 --dtype fp16 \
    --shapes 128x768x197,128x384x197,32x768x1569 2>&1 | grep -v Warn | tee -a $OUT/bench_conv.txt
done
timeout 150 python3 - <<'PY' 2>&1 | grep -v Warn | tee $OUT/ab_train.txt
import statistics, time, torch, rmeeto
from rmeeto.ops.triton import bimamba as tb, bimamba_old as old
from rmeeto.bench import training_step
dev, new_fn = torch.device("cuda"), tb.biconv_bwd
print("Vim-S fp16 autocast (no loss scaling) + AdamW training step, batch 128; conv backward new / previous; median of 7 rounds x 10, im/s")
for r in (11, 0):
    for graph in (False, True):
        steps = []
        for fn in (new_fn, old.biconv_bwd):
            torch.manual_seed(0)
            m = rmeeto.create_model("vim_small_patch16_224")
            if r:
                rmeeto.patch(m, r=r)
            m.to(dev)
            tb.biconv_bwd = fn
            step = training_step(m, torch.randn(128, *m.input_shape, device=dev), torch.float16, graph)
            for _ in range(3):
                step()
            steps.append((fn, step))
        rates = [[] for _ in steps]
        for k in range(7):
            for i in [(k + j) % 2 for j in range(2)]:
                tb.biconv_bwd = steps[i][0]
                torch.cuda.synchronize(); t0 = time.perf_counter()
                for _ in range(10):
                    steps[i][1]()
                torch.cuda.synchronize(); rates[i].append(128 * 10 / (time.perf_counter() - t0))
        tb.biconv_bwd = new_fn
        med = [statistics.median(v) for v in rates]
        print(f"r={r} {'graph' if graph else 'eager'}: {med[0]:.1f} / {med[1]:.1f}  new/previous {med[0] / med[1]:.3f}x"
              f"  (min-max new {min(rates[0]):.0f}-{max(rates[0]):.0f}, previous {min(rates[1]):.0f}-{max(rates[1]):.0f})")
PY
timeout 200 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_train_graph.py tests/test_gpu_model.py \
  -p no:cacheprovider 2>&1 | grep -v Warn | tail -8 | tee $OUT/gpu_tests.txt
timeout 60 python3 scripts/profile_compile.py --model vim_tiny_patch16_224 --r 0 2>&1 | grep -v Warn > $OUT/compile_ti0.txt
RM="python3 -m rmeeto.cli"
for spec in vim_small_patch16_224:--r:0,11 vim_small_patch16_224:--ratio:0.54 vim_tiny_patch16_224:--r:0,1,5; do
  IFS=: read -r model flag vals <<< "$spec"
  timeout 45 $RM bench --model $model $flag $vals --dtype fp16 --cuda-graph --merge-cost 2>&1 | grep -E "^auto" \
    | sed "s/^/[$model graph] /" | tee -a $OUT/targets.txt
done
for i in 1 2; do timeout 40 $RM bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 2>&1 | grep -E "^auto" \
  | sed "s/^/[ti eager #$i] /" | tee -a $OUT/targets.txt; done
timeout 60 $RM bench --model vim_small_patch16_224 --r 11 --dtype bf16 --train --cuda-graph 2>&1 | grep -E "^auto" \
  | sed 's/^/[vim_s train graph] /' | tee -a $OUT/targets.txt
date -u >> $OUT/env.txt
