#!/usr/bin/env bash
# run 47: eager Vim-S r=0/11 with bench's host column, in two processes (the README's at-a-glance table had no eager
# merged Vim-S figure)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/bench.py; } > $OUT/env.txt 2>&1
for i in 1 2; do
  timeout 90 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --batch-size 128 --dtype fp16 \
    --warmup 10 --iters 30 2>&1 | grep -E "^(backend|auto|\*)" | sed "s/^/[s eager $i] /" | tee -a $OUT/bench.txt
done
date -u >> $OUT/env.txt
