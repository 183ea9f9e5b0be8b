#!/usr/bin/env bash
# run 43: GPU tests of the models and the fused merge after the eager inference path stopped building autograd
# Functions for add + RMSNorm and merge + add + RMSNorm; then eager Vim-Ti r=0/5 in two processes
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/bench.py; } > $OUT/env.txt 2>&1
timeout 330 python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_fused_merge.py -p no:cacheprovider 2>&1 \
  | tail -6 > $OUT/gpu_tests.txt
cat $OUT/gpu_tests.txt
for i in 1 2; do
  timeout 60 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --batch-size 128 --dtype fp16 \
    --warmup 10 --iters 30 2>&1 | grep "r=" | sed "s/^/[process $i] /" | tee -a $OUT/eager_ti.txt
done
date -u >> $OUT/env.txt
