#!/usr/bin/env bash
# run 50: the fused front alone over smaller tiles and fewer pipeline stages, with each variant's registers and spills
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_front.py; } > $OUT/run50_env.txt 2>&1
timeout 200 python3 scripts/bench_front.py --shapes 128x768x197x24,128x384x197x12,32x768x1569x24 2>&1 \
  | grep -v -i warn | tee $OUT/run50_bench_front.txt
date -u >> $OUT/run50_env.txt
