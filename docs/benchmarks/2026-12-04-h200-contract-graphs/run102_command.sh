#!/usr/bin/env bash
# run 102: eager Vim-Ti r=0 / r=5 (`rmeeto bench`, fp16, batch 128, no graph) in six more processes.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run102_env.txt
for i in 4 5 6 7 8 9; do
  timeout 40 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 2>&1 | grep -v -i warn \
    | grep -v "^\*\|host-bound:" | sed "s/^/[vim_ti eager, process $i] /" | tee -a $OUT/run102_eager.txt
done
date -u >> $OUT/run102_env.txt
