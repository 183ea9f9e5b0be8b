#!/usr/bin/env bash
# run 127: eager against torch.compile(mode="reduce-overhead") through `rmeeto bench`, Vim-Ti r=0,5 and Vim-S r=0,11,
# batch 128, fp16 (each compiled model's first forward is compiled, no eager call before it).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache127 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run127_env.txt
for args in "vim_tiny_patch16_224 0,5" "vim_small_patch16_224 0,11"; do
  set -- $args
  timeout 110 python3 -m rmeeto.cli bench --model $1 --r $2 --compile none,reduce-overhead --iters 60 \
    --json $OUT/run127_$1.json > $OUT/run127_raw.txt 2>&1
  echo "rc=$? $args" >> $OUT/run127_bench.txt
  grep -v -i "warn\|^W1" $OUT/run127_raw.txt >> $OUT/run127_bench.txt
done
cut -c1-150 $OUT/run127_bench.txt
date -u >> $OUT/run127_env.txt
