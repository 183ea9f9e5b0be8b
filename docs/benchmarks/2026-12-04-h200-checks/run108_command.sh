#!/usr/bin/env bash
# run 108: every GPU test of the fused merge (tests/test_fused_merge.py, the tiled bookkeeping's included) on the
# final tree; since 5475e3b (merge.step_shape) only a subset had run on a GPU. pytest -v, as run 107.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run108_env.txt
timeout 480 python3 -m pytest -v -m gpu tests/test_fused_merge.py -p no:cacheprovider > $OUT/run108_gpu_tests_full.txt 2>&1
grep -E "(PASSED|FAILED|ERROR)|passed|failed" $OUT/run108_gpu_tests_full.txt | tee $OUT/run108_gpu_tests.txt | tail -3
date -u >> $OUT/run108_env.txt
