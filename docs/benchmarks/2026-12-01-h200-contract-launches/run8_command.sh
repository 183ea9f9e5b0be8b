#!/usr/bin/env bash
# run 8: the chunk lengths re-swept with the blocked carry (both fwd and bwd at one TC, one and two directions); eager
# Vim-Ti r=0 / r=5 twice (host-bound: the cheaper launch key); the Vim-S bf16 training step, r=0 and 11
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_scan.py; } > $OUT/env.txt 2>&1
timeout 230 python3 scripts/bench_scan.py --shapes 32x768x1569,16x768x1569,16x768x3137,8x1152x1569 --dirs 1,2 \
  --tc auto,64,96,128,192,256,384 --rep 30 2>&1 | grep -v -i warn | tee $OUT/sweep.txt
for i in 1 2; do timeout 70 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 2>&1 \
  | grep -E "^auto" | sed "s/^/[ti eager #$i] /" | tee -a $OUT/targets.txt; done
timeout 130 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --dtype bf16 --train --warmup 5 --iters 20 \
  2>&1 | grep -E "^auto" | sed 's/^/[vim_s train] /' | tee -a $OUT/targets.txt
date -u >> $OUT/env.txt
