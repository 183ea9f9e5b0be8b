#!/usr/bin/env bash
# run 124: Dynamo's guards in place on the GPU host: compiled Vim-Ti r=5 (batch 128, fp16) called with its guards
# evaluated and not, in alternating rounds (scripts/profile_compile.py --guard-rounds: the same compiled code), with
# the default (opaque) ops and with the traced ops; host time per call, then synchronised time per call.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache124 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR /tmp/torchinductor_$(whoami)
scripts/record_env.sh > $OUT/run124_env.txt
for ops in --opaque-ops --traced-ops; do
  timeout 200 python3 scripts/profile_compile.py --model vim_tiny_patch16_224 --r 5 $ops --rounds 3 --prof-iters 2 \
    --top 4 --guard-rounds 10 > $OUT/run124_raw.txt 2>&1
  echo "rc=$? [$ops]" >> $OUT/run124_guards.txt
  grep -v -i "warn\|^W1\|^  " $OUT/run124_raw.txt >> $OUT/run124_guards.txt
done
grep "rc=\|graph\|median\|guard\|Error" $OUT/run124_guards.txt | cut -c1-170
date -u >> $OUT/run124_env.txt
