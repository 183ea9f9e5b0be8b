#!/usr/bin/env bash
# run 76: the fused-merge GPU tests (video lengths, both bookkeeping paths, half precision, patched models) with the
# tiled plan's score kernel on 32-channel steps, the new default
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run76_env.txt
timeout 230 python3 -m pytest -q -m gpu tests/test_fused_merge.py -k "video or bookkeeping or patched" 2>&1 \
  | tail -4 | tee $OUT/run76_gpu_tests.txt
date -u >> $OUT/run76_env.txt
