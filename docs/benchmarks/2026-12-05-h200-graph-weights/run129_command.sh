#!/usr/bin/env bash
# run 129: what stacking the weights inside each CUDA graph costs. `rmeeto bench --cuda-graph` (rmeeto's own capture)
# with RMEETO_GRAPH_WEIGHTS=live (the default) and =frozen (the stacks cached at capture time), alternating processes,
# two rounds; then torch.compile(mode="reduce-overhead") the same way, one round. Batch 128, fp16.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache129 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run129_env.txt
bench() {  # graph_weights, model, r list, extra flags...
  local gw=$1 model=$2 r=$3; shift 3
  echo "== RMEETO_GRAPH_WEIGHTS=$gw $model r=$r $*" >> $OUT/run129_bench.txt
  RMEETO_GRAPH_WEIGHTS=$gw timeout 120 python3 -m rmeeto.cli bench --model $model --r $r --iters 60 "$@" \
    > $OUT/run129_raw.txt 2>&1
  echo "rc=$?" >> $OUT/run129_bench.txt
  grep -v -i "warn\|^W1" $OUT/run129_raw.txt >> $OUT/run129_bench.txt
}
for round in 1 2; do
  for gw in live frozen; do
    bench $gw vim_tiny_patch16_224 0,5 --cuda-graph
    bench $gw vim_small_patch16_224 0,11 --cuda-graph
  done
done
for gw in live frozen; do
  bench $gw vim_tiny_patch16_224 0,5 --compile reduce-overhead
done
cut -c1-150 $OUT/run129_bench.txt
date -u >> $OUT/run129_env.txt
