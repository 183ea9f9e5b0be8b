#!/usr/bin/env bash
# run 80: the chunk-length rule no longer lets a split that the chunked forward never makes shorten its chunks
# (VideoMamba-Ti in a CUDA graph: 64 instead of 80 at 1569 and 1481 tokens); the previous rule (chunk_rule_prev.py,
# a copy put beside the kernels for this run) and scan_chunk=tune in the same processes; then rmeeto bench of Ti
# under the new rule and under tune, and the scan's GPU tests
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run80_env.txt
timeout 150 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 0,88 --batch 32 --rounds 7 --iters 20 \
  --configs ";swap.scan.chunk_len=rmeeto.ops.triton.chunk_rule_prev;set.scan_chunk=tune" 2>&1 \
  | grep -v "UserWarning\|warn_once" | tee $OUT/run80_ab.txt
for chunk in auto tune; do
  RMEETO_SCAN_CHUNK=$chunk timeout 80 python3 -m rmeeto.cli bench --model videomamba_tiny --r 0,88 --batch-size 32 \
    --dtype fp16 --warmup 5 --iters 20 --cuda-graph --merge-cost 2>&1 | grep -v "UserWarning\|warn_once" \
    | sed "s/^/[tiny graph RMEETO_SCAN_CHUNK=$chunk] /" | tee -a $OUT/run80_bench.txt
done
RMEETO_SCAN_CHUNK=auto timeout 80 python3 -m rmeeto.cli bench --model videomamba_tiny --r 0,88 --batch-size 16 \
  --dtype bf16 --train --warmup 3 --iters 10 --cuda-graph 2>&1 | grep -v "UserWarning\|warn_once" \
  | sed "s/^/[tiny train graph] /" | tee -a $OUT/run80_bench.txt
timeout 120 python3 -m pytest -q -m gpu tests/test_scan_chunk.py tests/test_gpu_model.py 2>&1 | tail -3 \
  | tee $OUT/run80_gpu_tests.txt
date -u >> $OUT/run80_env.txt
