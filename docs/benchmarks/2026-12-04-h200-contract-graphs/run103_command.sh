#!/usr/bin/env bash
# run 103: eager Vim-Ti r=0 / r=5 (`rmeeto bench`, fp16, batch 128, no graph) with the settings interleaved
# (--rounds 10, 60 timed steps each), in five processes, then twice timed one setting after the other as before.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run103_env.txt
for i in 1 2 3 4 5 6 7; do
  rounds=10; [ $i -gt 5 ] && rounds=1
  timeout 60 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --iters 60 \
    --rounds $rounds 2>&1 | grep -v -i warn | grep -v "host-bound:" \
    | sed "s/^/[vim_ti eager, rounds $rounds, process $i] /" | tee -a $OUT/run103_eager.txt
done
date -u >> $OUT/run103_env.txt
