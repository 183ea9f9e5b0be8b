#!/usr/bin/env bash
# run 96: GPU tests of compile / export (the one-op merge step, default and reduce-overhead), the one-launch merge
# and the models, at the tree of run 95; then eager Vim-Ti r=5 with the merge step in one launch and in two
# (once.max_tokens=0), interleaved, at batch 1 to 128: where the one launch stops paying
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run96_env.txt
timeout 400 python3 -m pytest -q -m gpu tests/test_gpu_compile.py tests/test_gpu_model.py tests/test_fused_merge.py \
  -k "compile or export or once or gpu_model or eager_inference" 2>&1 | tail -4 | tee $OUT/run96_gpu_tests.txt
for b in 1 8 32 64 128; do
  timeout 40 python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 5,5 --configs ";once.max_tokens=0" \
    --batch-size $b --rounds 15 2>&1 | grep -v -i warn | tee -a $OUT/run96_host.txt
done
date -u >> $OUT/run96_env.txt
