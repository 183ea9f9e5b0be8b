#!/usr/bin/env bash
# run 146: after the scratch cache of run 145 was removed (its cached scratch stayed in a CUDA-graph pool under
# reduce-overhead: run 145's failure), the GPU tests of `rmeeto bench --compile` and of the fused merge, in parallel.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache146 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run146_env.txt
group() {  # name, files...
  local name=$1; shift
  timeout 200 python3 -m pytest -v -m gpu -p no:cacheprovider "$@" > $OUT/run146_tests_$name.txt 2>&1
  echo "rc=$?" >> $OUT/run146_tests_$name.txt
}
group bench tests/test_gpu_bench.py &
group merge tests/test_fused_merge.py &
wait
for f in $OUT/run146_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed|rc=" $f | tail -8; done
grep -c PASSED $OUT/run146_tests_merge.txt
date -u >> $OUT/run146_env.txt
