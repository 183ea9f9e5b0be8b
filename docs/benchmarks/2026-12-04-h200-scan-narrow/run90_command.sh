#!/usr/bin/env bash
# run 90: the one-launch merge step at batch 1 (eager Vim-Ti, host and synchronised time, unmerged / r=5 in one launch /
# r=5 in two, interleaved, two processes); then the official-fixture GPU tests and the one-launch routing test
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run90_env.txt
for i in 1 2; do
  timeout 35 python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --batch-size 1 --r 0,5,5 \
    --configs ";;once.max_tokens=0" --rounds 20 --sleep-ms 50 2>&1 | grep -v -i warn | tee -a $OUT/run90_host.txt
done
timeout 110 python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_fused_merge.py \
  -k "gpu_model or eager_inference_takes_one_launch" 2>&1 | tail -3 | tee $OUT/run90_gpu_tests.txt
date -u >> $OUT/run90_env.txt
