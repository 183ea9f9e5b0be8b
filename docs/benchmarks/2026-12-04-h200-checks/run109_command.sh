#!/usr/bin/env bash
# run 109: the captured-eager merge test after eefc09f (it captures through rmeeto.cuda_graphs.graphed now), with the
# other eager one-launch tests beside it.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run109_env.txt
timeout 200 python3 -m pytest -v -m gpu tests/test_fused_merge.py -k "patched_vim" -p no:cacheprovider \
  > $OUT/run109_gpu_tests_full.txt 2>&1
grep -E "(PASSED|FAILED|ERROR)|passed|failed" $OUT/run109_gpu_tests_full.txt | tee $OUT/run109_gpu_tests.txt | tail -3
date -u >> $OUT/run109_env.txt
