#!/usr/bin/env bash
# run 88: the same tree as run 87: the official-fixture and Triton-op GPU tests; rmeeto bench of VideoMamba-M
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run88_env.txt
timeout 240 python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_triton_ops.py 2>&1 | tail -3 \
  | tee $OUT/run88_gpu_tests.txt
timeout 120 python3 -m rmeeto.cli bench --model videomamba_middle --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 \
  --iters 20 --cuda-graph --merge-cost 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run88_bench.txt
date -u >> $OUT/run88_env.txt
