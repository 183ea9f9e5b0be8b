#!/usr/bin/env bash
# run 71: VideoMamba Ti/S/M at the current kernels (8 frames, 224 px): inference at batch 32 clips, fp16, in a CUDA
# graph with the merge blocks' own cost, then eagerly; the training step at batch 16, bf16 + AdamW, in a CUDA graph;
# then where the merged and unmerged Ti forward spends its GPU time
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
RM="python3 -m rmeeto.cli"
scripts/record_env.sh > $OUT/run71_env.txt
for m in tiny small middle; do
  timeout 150 $RM bench --model videomamba_$m --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 --iters 20 \
    --cuda-graph --merge-cost 2>&1 | grep -v -i warn | sed "s/^/[$m graph] /" | tee -a $OUT/run71_bench.txt
done
for m in tiny small middle; do
  timeout 100 $RM bench --model videomamba_$m --r 0,88 --batch-size 16 --dtype bf16 --train --warmup 3 --iters 10 \
    --cuda-graph 2>&1 | grep -v -i warn | sed "s/^/[$m train graph] /" | tee -a $OUT/run71_bench.txt
done
for m in tiny small middle; do
  timeout 60 $RM bench --model videomamba_$m --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 --iters 20 2>&1 \
    | grep -v -i warn | sed "s/^/[$m eager] /" | tee -a $OUT/run71_bench.txt
done
timeout 90 python3 scripts/profile_forward.py --model videomamba_tiny --r 0,88 --batch 32 --cuda-graph --top 12 2>&1 \
  | tee $OUT/run71_profile_tiny.txt
date -u >> $OUT/run71_env.txt
