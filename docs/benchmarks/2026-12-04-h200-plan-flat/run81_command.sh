#!/usr/bin/env bash
# run 81: the GPU tests of what changed since run 76 (the chunk-length rule, scan_chunk=tune, the tiled plan's
# bookkeeping settings), file by file, at the tree that stays
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run81_env.txt
t() {  # seconds, file, pytest arguments...
  local s=$1 f=$2; shift 2
  echo "[$f $*]" | tee -a $OUT/run81_gpu_tests.txt
  COLUMNS=200 timeout $s python3 -m pytest -q -m gpu tests/$f "$@" --tb=short -p no:cacheprovider 2>&1 | tail -4 \
    | tee -a $OUT/run81_gpu_tests.txt
}
t 100 test_scan_chunk.py
t 130 test_gpu_model.py
t 110 test_gpu_videomamba.py
t 110 test_fused_merge.py -k "video or bookkeeping or patched"
t 110 test_triton_ops.py
date -u >> $OUT/run81_env.txt
