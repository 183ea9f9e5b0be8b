#!/usr/bin/env bash
# run 98: the final tree's GPU tests not run since the chunked forward's change (f06a571): the Triton ops, among them
# the selective_scan_fn contract on the chunked path, and the fused merge at video lengths
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run98_env.txt
timeout 420 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_fused_merge.py -k "not bookkeeping" 2>&1 \
  | tail -4 | tee $OUT/run98_gpu_tests.txt
date -u >> $OUT/run98_env.txt
