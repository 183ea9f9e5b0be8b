#!/usr/bin/env bash
# run 92: the chunked forward without phase-1 programs for each direction's last chunk, against the kernels of
# be45691 (scan_chunk.py as it was, carried as .device_data/scan_chunk_prev.py and swapped in as chunk_states) in
# VideoMamba-Ti and -S CUDA graphs, interleaved; GPU tests of the chunked scan and VideoMamba; rmeeto bench, Ti
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run92_env.txt
cp .device_data/scan_chunk_prev.py src/rmeeto/ops/triton/scan_chunk_prev.py
OLD="swap.scan.chunk_states=rmeeto.ops.triton.scan_chunk_prev"
for m in videomamba_tiny videomamba_small; do
  timeout 150 python3 scripts/ab_scan_cfg.py --model $m --r 0,88 --batch 32 --rounds 5 --iters 20 \
    --configs ";$OLD" 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run92_ab.txt
done
rm src/rmeeto/ops/triton/scan_chunk_prev.py
timeout 240 python3 -m pytest -q -m gpu tests/test_scan_chunk.py tests/test_gpu_videomamba.py 2>&1 | tail -4 \
  | tee $OUT/run92_gpu_tests.txt
timeout 120 python3 -m rmeeto.cli bench --model videomamba_tiny --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 \
  --iters 20 --cuda-graph --merge-cost \
  2>&1 | grep -v "UserWarning\|warn_once" | tee $OUT/run92_bench.txt
date -u >> $OUT/run92_env.txt
