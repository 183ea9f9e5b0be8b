#!/usr/bin/env bash
# run 74: after both score-kernel variants were removed (the merge kernels as at 431a708), the half-precision
# video-length merge tests added with them, on the kernel that stays
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run74_env.txt
timeout 300 python3 -m pytest -q -m gpu tests/test_fused_merge.py -k "video_lengths_cuda_half" -rA 2>&1 \
  | grep -E "PASSED|FAILED|ERROR|passed|failed" | tee $OUT/run74_gpu_tests.txt
date -u >> $OUT/run74_env.txt
