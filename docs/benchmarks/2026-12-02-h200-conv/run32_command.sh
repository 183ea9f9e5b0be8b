#!/usr/bin/env bash
# run 32: the Triton kernel GPU tests (same tree as run 30)
export PYTHONPATH=$PWD/src TRITON_CACHE_DIR=/tmp/tcache; md5sum src/rmeeto/ops/triton/bimamba.py > $OUT/env.txt; timeout 150 python3 -m pytest -q -m gpu tests/test_triton_ops.py -p no:cacheprovider 2>&1 | grep -v Warn | tail -6 | tee $OUT/gpu_tests.txt
