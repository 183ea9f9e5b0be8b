#!/usr/bin/env bash
# run 115: GPU tests of the final tree (compile_ops setting, opaque by default; kernels taking scale / eps in fp32):
# compile and export (the traced ops among them), the models against the official fixtures, the Triton ops, the
# chunked scan.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run115_env.txt
timeout 440 python3 -m pytest -v -rA -m gpu tests/test_gpu_compile.py tests/test_gpu_model.py tests/test_triton_ops.py \
  tests/test_scan_chunk.py -p no:cacheprovider > $OUT/run115_gpu_tests_full.txt 2>&1
echo "rc=$?" >> $OUT/run115_gpu_tests_full.txt
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=" $OUT/run115_gpu_tests_full.txt | cut -c1-300 > $OUT/run115_gpu_tests.txt
grep -c PASSED $OUT/run115_gpu_tests.txt; grep -E "FAILED|ERROR|passed|failed|rc=" $OUT/run115_gpu_tests.txt | tail -15
date -u >> $OUT/run115_env.txt
