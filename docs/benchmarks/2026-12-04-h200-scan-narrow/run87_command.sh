#!/usr/bin/env bash
# run 87: the final tree (the temporary best_prev.py removed): rmeeto bench of VideoMamba-Ti and -S, unmerged and r=88,
# in CUDA graphs with the merge blocks' own cost; the GPU tests of the fused merge, the chunked scan and VideoMamba
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run87_env.txt
for m in videomamba_tiny videomamba_small; do
  timeout 90 python3 -m rmeeto.cli bench --model $m --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 --iters 20 \
    --cuda-graph --merge-cost 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run87_bench.txt
done
timeout 400 python3 -m pytest -q -m gpu tests/test_fused_merge.py tests/test_scan_chunk.py tests/test_gpu_videomamba.py \
  -k "video or bookkeeping or patched or half or chunk or tuned or videomamba" 2>&1 | tail -4 | tee $OUT/run87_gpu_tests.txt
date -u >> $OUT/run87_env.txt
