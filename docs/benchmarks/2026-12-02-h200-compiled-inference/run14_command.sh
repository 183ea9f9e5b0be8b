#!/usr/bin/env bash
# run 14: default-mode torch.compile against eager, interleaved rounds and a kernel profile (Vim-Ti r=0, Vim-S r=11)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u; git log -1 --format=%h 2>/dev/null
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py scripts/profile_compile.py; } > $OUT/env.txt 2>&1
timeout 170 python3 scripts/profile_compile.py --model vim_tiny_patch16_224 --r 0 2>&1 | grep -v -i warn | tee $OUT/compile_profile.txt
timeout 200 python3 scripts/profile_compile.py --model vim_small_patch16_224 --r 11 2>&1 | grep -v -i warn | tee -a $OUT/compile_profile.txt
date -u >> $OUT/env.txt
