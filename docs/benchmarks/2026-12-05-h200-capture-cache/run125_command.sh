#!/usr/bin/env bash
# run 125: the stacked-weight cache filled on a helper thread (out of CUDA graph pools): the GPU tests of
# torch.compile / export (among them reduce-overhead on a model that never ran eagerly), of `rmeeto bench --compile`
# and `--cuda-graph`.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache125 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR /tmp/torchinductor_$(whoami)
scripts/record_env.sh > $OUT/run125_env.txt
timeout 420 python3 -m pytest -v -rA -m gpu tests/test_gpu_compile.py tests/test_gpu_bench.py \
  -p no:cacheprovider > $OUT/run125_gpu_tests.txt 2>&1
echo "rc=$?" >> $OUT/run125_gpu_tests.txt
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=|^E " $OUT/run125_gpu_tests.txt | cut -c1-200 | head -60
date -u >> $OUT/run125_env.txt
