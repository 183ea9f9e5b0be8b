#!/usr/bin/env bash
# run 123: `rmeeto bench --compile`: its GPU test (and the compile-once test with an eager call between), then eager
# against default torch.compile on Vim-Ti r=5 and Vim-S r=11, batch 128, fp16, with the default (opaque) ops and with
# the traced ops.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache123 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR /tmp/torchinductor_$(whoami)
scripts/record_env.sh > $OUT/run123_env.txt
timeout 200 python3 -m pytest -v -rA -m gpu tests/test_gpu_bench.py tests/test_gpu_compile.py -p no:cacheprovider \
  -k "compile_rows or compiles_once" \
  > $OUT/run123_gpu_tests.txt 2>&1
echo "rc=$?" >> $OUT/run123_gpu_tests.txt
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=" $OUT/run123_gpu_tests.txt | cut -c1-200
for ops in opaque traced; do
  for args in "vim_tiny_patch16_224 0,5" "vim_small_patch16_224 0,11"; do
    set -- $args
    RMEETO_COMPILE_OPS=$ops timeout 150 python3 -m rmeeto.cli bench --model $1 --r $2 --compile none,default \
      --iters 60 --json $OUT/run123_${ops}_$1.json > $OUT/run123_raw.txt 2>&1
    echo "rc=$? ops=$ops $args" >> $OUT/run123_bench.txt
    grep -v -i "warn\|^W1" $OUT/run123_raw.txt >> $OUT/run123_bench.txt
  done
done
cut -c1-150 $OUT/run123_bench.txt
date -u >> $OUT/run123_env.txt
