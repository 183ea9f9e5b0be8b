#!/usr/bin/env bash
# run 128: the GPU tests with CUDA graphs that stack the weights inside the capture (graph_weights="live"), the whole
# GPU suite since eager CUDA inference now stacks by the one-launch kernel; then the two replay tests against the
# bimamba.py of 9cecbf0 (the stacked-weight cache before this change), where the "live" ones should fail.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache128 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run128_env.txt
timeout 400 python3 -m pytest -v -rA -m gpu tests -p no:cacheprovider > $OUT/run128_gpu_tests_full.txt 2>&1
echo "rc=$?" >> $OUT/run128_gpu_tests_full.txt
grep -E "^(FAILED|ERROR)|passed|failed|rc=" $OUT/run128_gpu_tests_full.txt | cut -c1-200 | tee $OUT/run128_gpu_tests.txt
git show 9cecbf0:src/rmeeto/ops/triton/bimamba.py > src/rmeeto/ops/triton/bimamba.py
timeout 120 python3 -m pytest -v -rA -m gpu tests/test_gpu_compile.py -k "in_place or promises" -p no:cacheprovider \
  > $OUT/run128_old_cache.txt 2>&1
echo "rc=$?" >> $OUT/run128_old_cache.txt
git checkout src/rmeeto/ops/triton/bimamba.py
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=" $OUT/run128_old_cache.txt | cut -c1-200
date -u >> $OUT/run128_env.txt
