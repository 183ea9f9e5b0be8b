#!/usr/bin/env bash
# run 83: the other shapes whose chunk length in a CUDA graph the rule's fix (08ae3fc) changed, per a CPU listing of
# both rules: VideoMamba-Ti at 16 frames (3137 tokens, batch 32 and 16: 144 -> 80, 80 -> 64), -S at batch 16 (1569,
# 1481: 80 -> 64; 3137: 144 -> 80) and batch 8 (3137: 80 -> 64), -M at batch 8 (3137: 112 -> 64). The forward scan
# alone, both directions in one launch, fp16, at the old and new lengths
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run83_env.txt
timeout 200 python3 scripts/bench_scan.py --shapes 32x384x3137,16x384x3137,16x768x1569,16x768x1481,16x768x3137,8x768x3137,8x1152x3137 \
  --dirs 2 --tc 64,80,112,144 --fwd-only --rep 30 2>&1 | grep -v "UserWarning\|warn_once" | tee $OUT/run83_scan.txt
date -u >> $OUT/run83_env.txt
