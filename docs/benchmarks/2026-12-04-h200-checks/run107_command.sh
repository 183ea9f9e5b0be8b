#!/usr/bin/env bash
# run 107: the merge-cost test with the one-launch merge step's kernel counted (it failed in run 106: eager inference
# now merges through _once_kernel, which the test did not list), then the other GPU test files that have not run on
# the final tree: compile / export, the launcher, the training graphs, the chunked scan. pytest -v, so that a cut by
# the time limit keeps the results so far.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run107_env.txt
timeout 500 python3 -m pytest -v -m gpu tests/test_gpu_bench.py tests/test_gpu_launch.py tests/test_gpu_compile.py \
  tests/test_gpu_train_graph.py tests/test_scan_chunk.py -p no:cacheprovider > $OUT/run107_gpu_tests_full.txt 2>&1
grep -E "(PASSED|FAILED|ERROR)|passed|failed" $OUT/run107_gpu_tests_full.txt | tee $OUT/run107_gpu_tests.txt | tail -3
date -u >> $OUT/run107_env.txt
