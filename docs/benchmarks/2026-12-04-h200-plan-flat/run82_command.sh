#!/usr/bin/env bash
# run 82: run 81's fused-merge tests again on the same machine (run 81's 110 s ran out while Triton compiled them)
set -uo pipefail
export PYTHONPATH=$PWD/src TRITON_CACHE_DIR=/tmp/tcache
scripts/record_env.sh > $OUT/run82_env.txt
COLUMNS=200 timeout 300 python3 -m pytest -q -m gpu tests/test_fused_merge.py -k "video or bookkeeping or patched" --tb=short \
  -p no:cacheprovider 2>&1 | tail -4 | tee $OUT/run82_gpu_tests.txt
date -u >> $OUT/run82_env.txt
