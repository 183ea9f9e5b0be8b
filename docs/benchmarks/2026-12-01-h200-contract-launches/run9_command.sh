#!/usr/bin/env bash
# run 9: the two-stream forward scan's register cap below 120, where more one-warp programs fit on an SM at once
# (Vim-S: 3072 programs, 17 per SM at 120 registers = 1.37 waves; 25 per SM at 80 = one wave), configurations
# interleaved in one process (scripts/ab_scan_cfg.py), in CUDA graphs
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/ab_scan_cfg.py; } > $OUT/env.txt 2>&1
AB=";fwd.maxnreg=96;fwd.maxnreg=88;fwd.maxnreg=80;fwd.maxnreg=72;fwd.maxnreg=64"
for spec in vim_small_patch16_224:0,11:128 vim_base_patch16_224:0:128 videomamba_small:0:32; do
  IFS=: read -r model rs batch <<< "$spec"
  timeout 170 python3 scripts/ab_scan_cfg.py --model $model --r $rs --batch $batch --configs "$AB" --rounds 5 2>&1 \
    | grep -v -i warn | tee -a "$OUT/ab.txt"
done
date -u >> $OUT/env.txt
