#!/usr/bin/env bash
# run 40: the eager forward's host time on one H200 host (run 39 found it close to the device time at batch 128):
# synchronizing calls, the operators and Python functions that take it, Vim-S r=0 at batch 128 and 1, Vim-Ti r=5
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; nproc; lscpu | grep -E "Model name|MHz"
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/*.py src/rmeeto/models/*.py scripts/profile_host.py; } \
  > $OUT/env.txt 2>&1
timeout 120 python3 scripts/profile_host.py --model vim_small_patch16_224 --r 0 --batch 128 --iters 5 --sync-check \
  --python 45 2>&1 | grep -v Warn > $OUT/host_s0_b128.txt
timeout 60 python3 scripts/profile_host.py --model vim_small_patch16_224 --r 0 --batch 1 --iters 20 2>&1 \
  | grep -v Warn > $OUT/host_s0_b1.txt
timeout 60 python3 scripts/profile_host.py --model vim_tiny_patch16_224 --r 5 --batch 128 --iters 5 2>&1 \
  | grep -v Warn > $OUT/host_ti5_b128.txt
grep -E "^# " $OUT/host_*.txt
date -u >> $OUT/env.txt
