#!/usr/bin/env bash
# run 135: the GPU test files not yet run at the tree of 48a6b7c (the stacked-weight cache moved to
# src/rmeeto/ops/triton/stack_cache.py since they last passed, at e8871b1). Three pytest processes in parallel, two
# files each (correctness tests only; none times anything), so that Triton's compiles share the host's cores.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache135 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run135_env.txt
group() {  # name, files...
  local name=$1; shift
  timeout 540 python3 -m pytest -v -m gpu -p no:cacheprovider "$@" > $OUT/run135_tests_$name.txt 2>&1
  echo "rc=$?" >> $OUT/run135_tests_$name.txt
}
group ops tests/test_triton_ops.py tests/test_gpu_launch.py &
group scan tests/test_scan_chunk.py tests/test_gpu_videomamba.py &
group merge tests/test_fused_merge.py tests/test_gpu_train_graph.py &
wait
for f in $OUT/run135_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed|rc=" $f | tail -8; done
date -u >> $OUT/run135_env.txt
