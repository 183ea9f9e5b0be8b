#!/usr/bin/env bash
# run 13: default-mode torch.compile against eager (Vim-S r=0,11; Vim-Ti r=0,5), re-measured with the launch cache
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_compile.py; } > $OUT/env.txt 2>&1
timeout 150 python3 scripts/bench_compile.py --model vim_small_patch16_224 --r 0,11 2>&1 | grep -v -i warn | tee $OUT/compile_bench.txt
timeout 110 python3 scripts/bench_compile.py --model vim_tiny_patch16_224 --r 0,5 2>&1 | grep -v -i warn | tee -a $OUT/compile_bench.txt
date -u >> $OUT/env.txt
