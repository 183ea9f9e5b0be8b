#!/usr/bin/env bash
# run 89: the merge step of eager inference in one launch (rmeeto.ops.triton.merge_once): its GPU tests, the official
# fixtures; then eager Vim-Ti, batch 128: host and synchronised time per forward, unmerged, r=5 in one launch and r=5
# in two (once.max_tokens=0), interleaved in each of three processes
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run89_env.txt
timeout 200 python3 -m pytest -q -m gpu tests/test_fused_merge.py tests/test_gpu_model.py \
  -k "once or patched or gpu_model" 2>&1 | tail -4 | tee $OUT/run89_gpu_tests.txt
for i in 1 2 3; do
  timeout 60 python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5,5 --configs ";;once.max_tokens=0" \
    --rounds 20 2>&1 | grep -v -i warn | tee -a $OUT/run89_host.txt
done
date -u >> $OUT/run89_env.txt
