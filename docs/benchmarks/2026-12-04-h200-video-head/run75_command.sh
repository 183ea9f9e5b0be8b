#!/usr/bin/env bash
# run 75: the tiled plan's score kernel (_best_kernel) at other block shapes (sources x destinations x channels per
# step, warps; merge_tiled.BEST_CFG): the plan alone at Ti/S/M widths, then VideoMamba-Ti and -S at r=88 in CUDA
# graphs, interleaved; the video-length fused-merge GPU tests under two of the shapes
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run75_env.txt
b() { echo "best.sources=$1 best.destinations=$2 best.channels=$3 best.num_warps=$4"; }
CFGS=";$(b 64 64 32 4);$(b 32 32 64 4);$(b 32 64 32 4);$(b 64 32 64 4);$(b 128 64 64 8);$(b 32 32 64 2);$(b 64 64 64 8)"
for dim in 192 384 576; do
  timeout 70 python3 scripts/profile_merge_plan.py --batch 32 --dim $dim --lens 1569 --r 88 --configs "$CFGS" 2>&1 \
    | grep -v -i warn | grep -E "^\[|_best" | tee -a $OUT/run75_plan.txt
done
timeout 110 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 88 --batch 32 --rounds 5 --iters 20 \
  --configs "$CFGS" 2>&1 | grep -v -i warn | tee $OUT/run75_ab.txt
timeout 90 python3 scripts/ab_scan_cfg.py --model videomamba_small --r 88 --batch 32 --rounds 3 --iters 20 \
  --configs "$CFGS" 2>&1 | grep -v -i warn | tee -a $OUT/run75_ab.txt
for cfg in "$(b 32 32 64 4)" "$(b 32 64 32 4)"; do
  echo "[$cfg]" | tee -a $OUT/run75_gpu_tests.txt
  timeout 100 python3 -c "import sys; sys.path.insert(0, 'scripts'); from with_scan_cfg import apply; apply('$cfg'.split()); \
import pytest; sys.exit(pytest.main(['-q', '-m', 'gpu', 'tests/test_fused_merge.py', '-k', 'video_lengths']))" 2>&1 \
    | tail -3 | tee -a $OUT/run75_gpu_tests.txt
done
date -u >> $OUT/run75_env.txt
