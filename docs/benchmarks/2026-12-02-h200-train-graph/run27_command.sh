#!/usr/bin/env bash
# run 27: end-to-end re-training on a generated JPEG folder (CPU decode, 14 workers, full DeiT augmentation,
# Vim-S r=11, batch 128, bf16), 3 epochs eager then 3 epochs with --cuda-graph
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; nproc
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/cuda_graphs.py src/rmeeto/train/engine.py; } > $OUT/env.txt 2>&1
for i in 0 1 2 3 4 5 6 7; do
  python3 -c "from rmeeto.data.synthetic import make_fake_jpeg_folder as f; f('/tmp/fk$i', classes=10, per_class=63, val_per_class=3, seed=$i)" &
done; wait
for i in 0 1 2 3 4 5 6 7; do for d in /tmp/fk$i/*/class_*; do
  dst=/tmp/fakeinet/${d#/tmp/fk$i/}; mkdir -p "$dst"
  for f in "$d"/*; do mv "$f" "$dst/s${i}_$(basename "$f")"; done
done; done
find /tmp/fakeinet -name "*.JPEG" | wc -l | sed 's/^/JPEG files: /' | tee $OUT/e2e.txt
for g in --no-cuda-graph --cuda-graph; do
  timeout 130 python3 -m rmeeto.cli train --data-dir /tmp/fakeinet --model vim_small_patch16_224 --num-classes 10 --r 11 \
    --epochs 3 --batch-size 128 --workers 14 --no-initial-eval --no-progress --overwrite --output /tmp/e2e $g 2>&1 \
    | grep -E "^training|^epoch|rror|NaN|non-finite" | sed "s/^/[$g] /" | tee -a $OUT/e2e.txt
  cp /tmp/e2e/metrics.jsonl $OUT/e2e_metrics$g.jsonl
done
date -u >> $OUT/env.txt
