#!/usr/bin/env bash
# run 132: rmeeto.cuda_graphs.graphed reading the cached stacks and restacking changed blocks on the host before a
# replay (src as c9f696f). The GPU tests of graphs, compile and the official fixtures, then `rmeeto bench --cuda-graph`
# with RMEETO_GRAPH_WEIGHTS=live (the default) and =frozen, alternating processes, two rounds. Batch 128, fp16.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache132 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run132_env.txt
timeout 230 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_gpu_compile.py tests/test_dispatch.py \
  tests/test_gpu_model.py > $OUT/run132_gpu_tests.txt 2>&1
echo "rc=$?" >> $OUT/run132_gpu_tests.txt
bench() {  # graph_weights, model, flag, values
  echo "== RMEETO_GRAPH_WEIGHTS=$1 $2 $3 $4" >> $OUT/run132_bench.txt
  RMEETO_GRAPH_WEIGHTS=$1 timeout 45 python3 -m rmeeto.cli bench --model $2 $3 $4 --iters 60 --dtype fp16 \
    --cuda-graph > $OUT/run132_raw.txt 2>&1
  echo "rc=$?" >> $OUT/run132_bench.txt
  grep -v -i "warn\|^W1" $OUT/run132_raw.txt >> $OUT/run132_bench.txt
}
for round in 1 2; do
  for gw in live frozen; do
    bench $gw vim_tiny_patch16_224 --r 0,5
    bench $gw vim_small_patch16_224 --r 0,11
    bench $gw vim_small_patch16_224 --ratio 0.54
  done
done
grep -E "passed|failed|error|rc=" $OUT/run132_gpu_tests.txt | tail -5
grep -E "^==|^auto|rc=" $OUT/run132_bench.txt | cut -c1-150
date -u >> $OUT/run132_env.txt
