#!/usr/bin/env bash
# run 101: the GPU tests of runs 99 and 100 (both cut by their time limits before pytest's summary) with a longer
# limit; Vim-S r=0 / r=11 in a CUDA graph (run 100's was cut by its time limit after r=0).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run101_env.txt
timeout 420 python3 -m pytest -q -rA -m gpu tests/test_fused_merge.py tests/test_gpu_compile.py \
  tests/test_gpu_model.py -k "compile or export or once or gpu_model or eager_inference or captured" \
  -p no:cacheprovider > $OUT/run101_gpu_tests_full.txt 2>&1
grep -E "^(PASSED|FAILED|ERROR)|passed|failed" $OUT/run101_gpu_tests_full.txt | tee $OUT/run101_gpu_tests.txt | tail -3
timeout 90 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --dtype fp16 --cuda-graph 2>&1 \
  | grep -v -i warn | tee $OUT/run101_vim_s_graph.txt
date -u >> $OUT/run101_env.txt
