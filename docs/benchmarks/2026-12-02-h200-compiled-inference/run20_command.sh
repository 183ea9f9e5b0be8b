#!/usr/bin/env bash
# run 20: the GPU tests of the models and of compile/export on the final tree
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py; } > $OUT/env.txt 2>&1
PYTHONPATH=$PWD/src timeout 250 python3 -m pytest -q -m gpu tests/test_gpu_compile.py tests/test_gpu_model.py \
  -p no:cacheprovider 2>&1 | tail -4 | tee $OUT/gpu_tests.txt
date -u >> $OUT/env.txt
