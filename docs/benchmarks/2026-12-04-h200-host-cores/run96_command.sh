#!/usr/bin/env bash
# run 96: GPU tests of compile / export (the one-op merge step, default and reduce-overhead), the one-launch merge
# and the models, at the tree of run 95
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run96_env.txt
timeout 420 python3 -m pytest -q -m gpu tests/test_gpu_compile.py tests/test_gpu_model.py tests/test_fused_merge.py \
  -k "compile or export or once or gpu_model or eager_inference" 2>&1 | tail -4 | tee $OUT/run96_gpu_tests.txt
date -u >> $OUT/run96_env.txt
