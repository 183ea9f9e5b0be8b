#!/usr/bin/env bash
# run 12: the merge-cost GPU test with the fused add + norm kernel counted among the merge kernels
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; md5sum tests/test_gpu_bench.py src/rmeeto/bench.py; } > $OUT/env.txt 2>&1
timeout 200 python3 -m pytest -q -m gpu -rA tests/test_gpu_bench.py -p no:cacheprovider 2>&1 | tail -30 | tee $OUT/gpu_tests.txt
