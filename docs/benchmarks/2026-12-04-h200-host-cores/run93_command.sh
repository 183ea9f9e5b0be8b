#!/usr/bin/env bash
# run 93: where VideoMamba's time goes now: the training step of VideoMamba-S at r=0 and r=88 (batch 16 clips, bf16
# autocast, AdamW, eager; scripts/profile_train.py, kernel families with the chunked scan's phases apart) and the
# inference forward of VideoMamba-Ti at r=0 and r=88 (batch 32, fp16, CUDA graph; scripts/profile_forward.py)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run93_env.txt
for r in 0 88; do
  timeout 150 python3 scripts/profile_train.py --model videomamba_small --r $r --batch 16 --warmup 3 --iters 8 \
    --prof-iters 2 --top 20 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run93_train_small.txt
done
timeout 120 python3 scripts/profile_forward.py --model videomamba_tiny --r 0,88 --batch 32 --cuda-graph --top 16 2>&1 \
  | grep -v "UserWarning\|warn_once" | tee $OUT/run93_forward_tiny.txt
date -u >> $OUT/run93_env.txt
