#!/usr/bin/env bash
# run 131: the stacking kernel's tile against its cost inside CUDA graphs, interleaved in one process per model
# (scripts/ab_scan_cfg.py: each configuration its own graph, rotating order): live stacking with BLOCK_E 32 (the
# default), 16, 8 and 8 with 2 warps, against frozen stacks. Then Vim-S at ratio 0.54, live and frozen.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache131 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run131_env.txt
CONFIGS=";stack.BLOCK_E=16;stack.BLOCK_E=8;stack.BLOCK_E=8 stack.num_warps=2;set.graph_weights=frozen"
for args in "vim_tiny_patch16_224 0,5" "vim_small_patch16_224 0,11" "vim_base_patch16_224 0,11"; do
  set -- $args
  timeout 150 python3 scripts/ab_scan_cfg.py --model $1 --r $2 --configs "$CONFIGS" --rounds 7 --iters 30 2>&1 \
    | grep -v -i "warn" | tee -a $OUT/run131_ab.txt
done
for gw in live frozen live frozen; do
  echo "== RMEETO_GRAPH_WEIGHTS=$gw" >> $OUT/run131_ratio.txt
  RMEETO_GRAPH_WEIGHTS=$gw timeout 90 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --ratio 0.54 \
    --cuda-graph --iters 60 2>&1 | grep -v -i "warn\|^W1" >> $OUT/run131_ratio.txt
done
cat $OUT/run131_ratio.txt
date -u >> $OUT/run131_env.txt
