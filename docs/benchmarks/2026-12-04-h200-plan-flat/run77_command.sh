#!/usr/bin/env bash
# run 77: the tiled merge plan at 1569 tokens: the score kernel with one flattened (destination block x channel slice)
# loop against the nested loops, and the bookkeeping as one program per image (8 / 4 / 16 warps) against the three
# tiled launches; alone (Ti and S widths), then VideoMamba-Ti r=88 in CUDA graphs, interleaved; the fused-merge GPU
# tests under the candidates; then rmeeto bench of Ti at the default and at the candidate
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run77_env.txt
F="best.flat=1"
CFGS=";$F;$F best.channels=64;$F best.sources=128 best.num_warps=8;$F best.destinations=32;book.tiled_warps=4;book.tiled_warps=16;book.tiled_max_sources=0"
for dim in 192 384; do
  timeout 80 python3 scripts/profile_merge_plan.py --batch 32 --dim $dim --lens 1569,1041 --r 88,88 --configs "$CFGS" 2>&1 \
    | grep -E "^\[|^#|_best|_book|_rank|_slot|_moved|tokens" | tee -a $OUT/run77_plan.txt
done
ABC=";$F;book.tiled_max_sources=0;$F book.tiled_max_sources=0"
timeout 130 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 88 --batch 32 --rounds 5 --iters 20 \
  --configs "$ABC" 2>&1 | grep -v "UserWarning\|warn_once" | tee $OUT/run77_ab.txt
for cfg in "$F book.tiled_max_sources=0"; do
  echo "[$cfg]" | tee -a $OUT/run77_gpu_tests.txt
  timeout 100 python3 -c "import sys; sys.path.insert(0, 'scripts'); from with_scan_cfg import apply; apply('$cfg'.split()); \
import pytest; sys.exit(pytest.main(['-q', '-m', 'gpu', 'tests/test_fused_merge.py', '-k', 'video or bookkeeping or patched']))" 2>&1 \
    | tail -3 | tee -a $OUT/run77_gpu_tests.txt
done
for cfg in "fwd.BLOCK_E=64" "$F book.tiled_max_sources=0"; do
  timeout 75 python3 scripts/with_scan_cfg.py $cfg -- bench --model videomamba_tiny --r 0,88 --batch-size 32 --dtype fp16 \
    --warmup 5 --iters 20 --cuda-graph --merge-cost 2>&1 | grep -v "UserWarning\|warn_once" | sed "s/^/[$cfg] /" \
    | tee -a $OUT/run77_bench.txt
done
date -u >> $OUT/run77_env.txt
