#!/usr/bin/env bash
# run 138: host time per call of an eager Vim block's matrix products under cuBLAS and cuBLASLt, beside one cached
# Triton launch and one allocation; the runtime calls each product makes; whole eager forwards (Vim-Ti r=0 / r=5,
# Vim-S r=0 / r=11) host and synchronised, the libraries alternating (scripts/host_blas.py).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache138 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run138_env.txt
timeout 240 python3 scripts/host_blas.py --model vim_tiny_patch16_224 --r 5 2>&1 | grep -v -i warn > $OUT/run138_ti.txt
timeout 200 python3 scripts/host_blas.py --model vim_small_patch16_224 --r 11 --rounds 9 2>&1 | grep -v -i warn \
  > $OUT/run138_s.txt
cat $OUT/run138_ti.txt $OUT/run138_s.txt
date -u >> $OUT/run138_env.txt
