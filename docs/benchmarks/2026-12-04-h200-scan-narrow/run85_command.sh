#!/usr/bin/env bash
# run 85: the tiled merge plan's score kernel with one scale per destination column and a max-then-first-index
# reduction (against the kernel of ecd43f7, swapped in as best_prev), its bookkeeping with the top r found by a search
# on the keys' bits and the second sort on the r merged sources only (tbook.search / tbook.compact), alone and in
# VideoMamba-Ti / -S r=88 CUDA graphs, interleaved; the chunked scan's carry pass re-blocked (carry.*); the fused-merge
# GPU tests at the new defaults
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run85_env.txt
OLD="tbook.search=0 tbook.compact=0 swap.merge_tiled._best_kernel=rmeeto.ops.triton.best_prev"
timeout 150 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 88 --batch 32 --rounds 5 --iters 20 \
  --configs ";$OLD;carry.K=4;carry.BLOCK_E=8 carry.num_warps=2" 2>&1 | grep -v "UserWarning\|warn_once" \
  | tee $OUT/run85_ab.txt
CFGS=";tbook.search=0;tbook.compact=0;tbook.search=0 tbook.compact=0;swap.merge_tiled._best_kernel=rmeeto.ops.triton.best_prev"
for dim in 192 384; do
  timeout 60 python3 scripts/profile_merge_plan.py --batch 32 --dim $dim --lens 1569,1041,601 --r 88,88,88 \
    --configs "$CFGS" 2>&1 | grep -E "^\[|^#|_best|_book|tokens" | tee -a $OUT/run85_plan.txt
done
timeout 240 python3 -m pytest -q -m gpu tests/test_fused_merge.py -k "video or bookkeeping or patched or half" 2>&1 \
  | tail -4 | tee $OUT/run85_gpu_tests.txt
timeout 90 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 0 --batch 32 --rounds 5 --iters 20 \
  --configs ";carry.K=4;carry.BLOCK_E=8 carry.num_warps=2;carry.K=4 carry.num_warps=2" 2>&1 \
  | grep -v "UserWarning\|warn_once" | tee -a $OUT/run85_ab.txt
timeout 90 python3 scripts/ab_scan_cfg.py --model videomamba_small --r 88 --batch 32 --rounds 5 --iters 20 \
  --configs ";$OLD" 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run85_ab.txt
date -u >> $OUT/run85_env.txt
