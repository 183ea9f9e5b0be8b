#!/usr/bin/env bash
# run 95: compiled inference's merge step as one op (42027b0): default torch.compile against eager
# (scripts/profile_compile.py, batch 128, fp16, interleaved rounds) for Vim-Ti r=5 with the one op and with the two
# ops of before (--compiled-two-op-merge), and Vim-S r=11
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run95_env.txt
for args in "vim_tiny_patch16_224 5" "vim_tiny_patch16_224 5 --compiled-two-op-merge" "vim_small_patch16_224 11"; do
  set -- $args
  timeout 170 python3 scripts/profile_compile.py --model $1 --r $2 ${3:-} --rounds 5 --prof-iters 3 --top 0 2>&1 \
    | grep -v -i warn | grep -v "^only in\|^kernel " | sed "s/^/[$1 r=$2 ${3:-}] /" | tee -a $OUT/run95_compile.txt
done
date -u >> $OUT/run95_env.txt
