#!/usr/bin/env bash
# run 18: default-mode torch.compile against eager, synchronised and back-to-back rounds (Vim-Ti r=0,5; Vim-S r=0,11);
# eager Vim-Ti r=0 against r=5 through rmeeto bench
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py scripts/profile_compile.py; } > $OUT/env.txt 2>&1
for cfg in "vim_tiny_patch16_224 0" "vim_small_patch16_224 11" "vim_tiny_patch16_224 5" "vim_small_patch16_224 0"; do
  set -- $cfg
  timeout 120 python3 scripts/profile_compile.py --model $1 --r $2 --top 0 2>&1 | grep -v -i warn | grep -v "^only in\|^kernel " \
    | tee -a $OUT/compile_profile.txt
done
timeout 90 python3 -m rmeeto bench --model vim_tiny_patch16_224 --r 5 2>&1 | grep -v -i warn | tee $OUT/bench_ti_eager.txt
date -u >> $OUT/env.txt
