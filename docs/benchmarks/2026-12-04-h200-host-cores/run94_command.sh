#!/usr/bin/env bash
# run 94: finer chunks where the merged sequences are short. Run 93 put the chunked forward's phase 3 at 0.776x of its
# unmerged time at VideoMamba-Ti r=88 while the tokens average 0.692x: at 601 tokens the rule's 64-step chunks give
# 1920 one-warp programs. CHUNK_CFG's MIN_TC (and TARGET_PROGS) lowered, VideoMamba-Ti and -S CUDA graphs, interleaved
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run94_env.txt
CFGS=";chunk.MIN_TC=32;chunk.MIN_TC=16;chunk.MIN_TC=32 chunk.TARGET_PROGS=16384;chunk.MIN_TC=16 chunk.TARGET_PROGS=16384"
timeout 200 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 0,88 --batch 32 --rounds 5 --iters 20 \
  --configs "$CFGS" 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run94_ab.txt
timeout 200 python3 scripts/ab_scan_cfg.py --model videomamba_small --r 0,88 --batch 32 --rounds 5 --iters 20 \
  --configs "$CFGS" 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run94_ab.txt
date -u >> $OUT/run94_env.txt
