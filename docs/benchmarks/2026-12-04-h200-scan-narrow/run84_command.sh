#!/usr/bin/env bash
# run 84: the step-serial forward scan with narrow programs (32, 16, 8 channels, one warp) at VideoMamba's shapes,
# against the chunked default: both directions in one launch (eager inference, training) and as two launches on
# two streams (--split: a CUDA graph's inference forward). Batch 32 at 8 frames for Ti / S / M, and the contract's
# 16x768x3137 and 8x1152x1569.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run84_env.txt
SH=32x384x1569,32x768x1569,32x1152x1569,16x768x3137,8x1152x1569,32x384x601
for S in "" "--split"; do
  timeout 270 python3 scripts/bench_scan.py --shapes $SH --dirs 2 --tc auto,0 --be default,32/1,16/1,8/1 $S \
    --fwd-only --rep 30 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run84_scan.txt
done
date -u >> $OUT/run84_env.txt
