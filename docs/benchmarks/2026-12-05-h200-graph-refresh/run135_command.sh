#!/usr/bin/env bash
# run 135: the other GPU test files that use the stacked-weight cache since it moved to stack_cache.py (c9f696f)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache135 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run135_env.txt
timeout 170 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_gpu_videomamba.py tests/test_gpu_launch.py \
  tests/test_triton_ops.py > $OUT/run135_gpu_tests.txt 2>&1
echo "rc=$?" >> $OUT/run135_gpu_tests.txt
grep -E "FAIL|ERROR|passed|failed|rc=" $OUT/run135_gpu_tests.txt | tail -6
