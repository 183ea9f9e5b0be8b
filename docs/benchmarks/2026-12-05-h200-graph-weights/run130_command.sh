#!/usr/bin/env bash
# run 130: the rest of run 128's GPU suite, which its 400 s limit cut at tests/test_triton_ops.py (165 passed before).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache130 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run130_env.txt
timeout 500 python3 -m pytest -v -rA -m gpu tests/test_triton_ops.py -p no:cacheprovider \
  > $OUT/run130_gpu_tests_full.txt 2>&1
echo "rc=$?" >> $OUT/run130_gpu_tests_full.txt
grep -E "^(FAILED|ERROR)|passed|failed|rc=" $OUT/run130_gpu_tests_full.txt | cut -c1-200 | tee $OUT/run130_gpu_tests.txt
date -u >> $OUT/run130_env.txt
