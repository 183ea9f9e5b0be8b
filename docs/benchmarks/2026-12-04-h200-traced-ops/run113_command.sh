#!/usr/bin/env bash
# run 113: the traced ops after the kernels take their float arguments (scale, eps) in fp32 whatever the caller typed
# them: default torch.compile against eager, Vim-Ti r=5 and Vim-S r=11; Vim-Ti r=5 again compiled with Inductor's
# assert_indirect_indexing off (which also turns Triton's debug option off for the kernels Inductor compiles).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run113_env.txt
for args in "vim_tiny_patch16_224 5 " "vim_small_patch16_224 11 " "vim_tiny_patch16_224 5 --inductor=assert_indirect_indexing=False"; do
  set -- $args
  timeout 130 python3 scripts/profile_compile.py --model $1 --r $2 ${3:-} --rounds 5 --prof-iters 3 --top 16 \
    > $OUT/run113_raw.txt 2>&1
  echo "rc=$? $args" >> $OUT/run113_compile.txt
  grep -v -i "warn\|^W1\|^  " $OUT/run113_raw.txt | sed "s/^/[$1 r=$2 ${3:-}] /" >> $OUT/run113_compile.txt
  grep -i -m 30 "error\|Traceback" $OUT/run113_raw.txt | sed "s/^/[$1 r=$2 ${3:-}] ! /" >> $OUT/run113_compile.txt
done
grep "median\|host us\|per forward\|_scan_fwd\|_once\|_biconv_fwd\|_stack\|rc=" $OUT/run113_compile.txt | cut -c1-200
date -u >> $OUT/run113_env.txt
