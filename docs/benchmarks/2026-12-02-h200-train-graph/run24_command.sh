#!/usr/bin/env bash
# run 24: rmeeto bench --train with and without --cuda-graph, alternated, Vim-S r=0 and r=11, bf16
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py src/rmeeto/cuda_graphs.py src/rmeeto/bench.py \
    src/rmeeto/train/engine.py; } > $OUT/env.txt 2>&1
for g in "" "--cuda-graph" "--cuda-graph" ""; do
  echo "== rmeeto bench --model vim_small_patch16_224 --r 0,11 --train --dtype bf16 $g" | tee -a $OUT/bench_train.txt
  PYTHONPATH=$PWD/src timeout 110 python3 -c "import sys; sys.argv=['rmeeto','bench']+sys.argv[1:]; from rmeeto.cli import main; sys.exit(main())" \
    --model vim_small_patch16_224 --r 0,11 --train --dtype bf16 $g 2>&1 | grep -v Warn | tee -a $OUT/bench_train.txt
done
date -u >> $OUT/env.txt
