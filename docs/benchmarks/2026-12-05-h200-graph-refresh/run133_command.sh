#!/usr/bin/env bash
# run 133: graphed(..., idempotent=True), which rmeeto bench --cuda-graph now uses: the weight check runs after the
# replay is enqueued, and a replay that read stale stacks is replayed again. The GPU tests of graphs and compile, the
# host time of the check on this machine's CPU, then `rmeeto bench --cuda-graph` with RMEETO_GRAPH_WEIGHTS=live and
# =frozen, alternating processes, two rounds, after one untimed process that compiles the kernels. Batch 128, fp16.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache133 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run133_env.txt
timeout 200 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_gpu_compile.py tests/test_dispatch.py \
  > $OUT/run133_gpu_tests.txt 2>&1
echo "rc=$?" >> $OUT/run133_gpu_tests.txt
timeout 100 python3 scripts/bench_host_parts.py --model vim_tiny_patch16_224 --r 5 --number 500 \
  > $OUT/run133_host_parts.txt 2>&1
bench() {  # graph_weights, model, flag, values
  echo "== RMEETO_GRAPH_WEIGHTS=$1 $2 $3 $4" >> $OUT/run133_bench.txt
  RMEETO_GRAPH_WEIGHTS=$1 timeout 90 python3 -m rmeeto.cli bench --model $2 $3 $4 --iters 60 --dtype fp16 \
    --cuda-graph > $OUT/run133_raw.txt 2>&1
  echo "rc=$?" >> $OUT/run133_bench.txt
  grep -v -i "warn\|^W1" $OUT/run133_raw.txt >> $OUT/run133_bench.txt
}
timeout 90 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --iters 5 --dtype fp16 --cuda-graph \
  > /dev/null 2>&1  # compiles the kernels; not timed
for round in 1 2; do
  for gw in live frozen; do
    bench $gw vim_tiny_patch16_224 --r 0,5
    bench $gw vim_small_patch16_224 --r 0,11
    bench $gw vim_small_patch16_224 --ratio 0.54
  done
done
grep -E "passed|failed|error|rc=" $OUT/run133_gpu_tests.txt | tail -5
grep -E "restack|refresh" $OUT/run133_host_parts.txt
grep -E "^==|^auto|rc=" $OUT/run133_bench.txt | cut -c1-150
date -u >> $OUT/run133_env.txt
