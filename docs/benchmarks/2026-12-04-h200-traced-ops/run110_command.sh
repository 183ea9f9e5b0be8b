#!/usr/bin/env bash
# run 110: first GPU run of compiled inference through the *_traced ops (torch.library.triton_op): default
# torch.compile against eager for Vim-Ti r=5 (with the traced ops and, in its own process,
# with the opaque ops of before: --opaque-ops) and Vim-S r=11 (traced); then the GPU tests of compile and export.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run110_env.txt
for args in "vim_tiny_patch16_224 5 " "vim_tiny_patch16_224 5 --opaque-ops" "vim_small_patch16_224 11 "; do
  set -- $args
  timeout 130 python3 scripts/profile_compile.py --model $1 --r $2 ${3:-} --rounds 5 --prof-iters 3 --top 40 \
    > $OUT/run110_raw.txt 2>&1
  echo "rc=$? $args" >> $OUT/run110_compile.txt
  grep -c "assuming every input is mutated" $OUT/run110_raw.txt | sed "s/^/[$1 r=$2 ${3:-traced}] mutation analysis failures: /" \
    >> $OUT/run110_compile.txt
  grep -v -i "warn\|^W1\|^  " $OUT/run110_raw.txt | sed "s/^/[$1 r=$2 ${3:-traced}] /" >> $OUT/run110_compile.txt
  grep -i -m 30 "error\|Traceback" $OUT/run110_raw.txt | sed "s/^/[$1 r=$2 ${3:-traced}] ! /" >> $OUT/run110_compile.txt
done
tail -c 3000 $OUT/run110_raw.txt > $OUT/run110_last_raw_tail.txt
cat $OUT/run110_compile.txt | cut -c1-200
timeout 190 python3 -m pytest -v -rA -m gpu tests/test_gpu_compile.py -p no:cacheprovider > $OUT/run110_gpu_tests_full.txt 2>&1
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|Error" $OUT/run110_gpu_tests_full.txt | cut -c1-300 | tee $OUT/run110_gpu_tests.txt | tail -12
date -u >> $OUT/run110_env.txt
