#!/usr/bin/env bash
# run 63: the conv forward's register cap of 96 as the default: GPU tests of the kernels and the models, rmeeto bench
# on Vim-S and Vim-Ti (CUDA graphs); the conv backward over more blockings alone, and ncu on its two kernels at the
# default blocking (Vim-S shape)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_conv.py; } > $OUT/run63_env.txt 2>&1
timeout 60 python3 scripts/bench_conv.py --shapes 128x768x197,128x384x197,32x768x1569 \
  --cfgs 32/64/2,32/64/4,16/64/4,64/64/4,16/32/1,32/32/2,64/32/2 2>&1 | grep -v -i warn | tee $OUT/run63_bench_conv.txt
timeout 90 ncu --clock-control none -k regex:_biconv_ -c 3 --section SpeedOfLight --section WarpStateStats \
  --section SchedulerStats --section Occupancy --section MemoryWorkloadAnalysis python3 -c "
import sys, torch; sys.path.insert(0, 'scripts')
import bench_conv as bc
from rmeeto.ops.triton import bimamba as tb
x, w, b, g1, g2, dx = bc._inputs(128, 768, 197, torch.float16)
tb.biconv_fwd(x, w, b, torch.float16); tb.biconv_bwd(x, w, b, g1, g2, dx); torch.cuda.synchronize()" \
  > $OUT/run63_ncu_conv.txt 2>&1
COLUMNS=250 timeout 200 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py --tb=short \
  -p no:cacheprovider 2>&1 | tail -25 | tee $OUT/run63_gpu_tests.txt
for m in vim_small_patch16_224:0,11 vim_tiny_patch16_224:0,5; do
  timeout 40 python3 -m rmeeto.cli bench --model ${m%%:*} --r ${m##*:} --batch-size 128 --dtype fp16 --cuda-graph \
    --warmup 10 --iters 30 2>&1 | grep -v -i warn | tee -a $OUT/run63_bench_graph.txt
done
date -u >> $OUT/run63_env.txt
