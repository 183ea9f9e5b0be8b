#!/usr/bin/env bash
# run 97: where the merged eager forward's remaining extra host time goes (the merge step in one launch since
# 1d5a202): Vim-Ti r=0 and r=5, batch 128, host-timed forwards under cProfile, own and cumulative time per function
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run97_env.txt
timeout 150 python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5 --rounds 12 --python 45 2>&1 \
  | grep -v -i warn > $OUT/run97_cprofile.txt
head -3 $OUT/run97_cprofile.txt
date -u >> $OUT/run97_env.txt
