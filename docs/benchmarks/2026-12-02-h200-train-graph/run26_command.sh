#!/usr/bin/env bash
# run 26: VideoMamba training steps (batch 16 clips of 8 frames, bf16, AdamW) with and without --cuda-graph
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py src/rmeeto/cuda_graphs.py src/rmeeto/bench.py; } \
  > $OUT/env.txt 2>&1
for m in tiny small middle; do
  for g in "" "--cuda-graph"; do
    echo "== rmeeto bench --model videomamba_${m}_patch16_224 --r 0,88 --batch-size 16 --dtype bf16 --train --warmup 3 --iters 10 $g" \
      | tee -a $OUT/bench_video_train.txt
    PYTHONPATH=$PWD/src timeout 75 python3 -c "import sys; sys.argv=['rmeeto','bench']+sys.argv[1:]; from rmeeto.cli import main; sys.exit(main())" \
      --model videomamba_${m}_patch16_224 --r 0,88 --batch-size 16 --dtype bf16 --train --warmup 3 --iters 10 $g 2>&1 \
      | grep -v Warn | tail -4 | tee -a $OUT/bench_video_train.txt
  done
done
date -u >> $OUT/env.txt
