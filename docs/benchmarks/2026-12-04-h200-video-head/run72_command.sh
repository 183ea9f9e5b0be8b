#!/usr/bin/env bash
# run 72: the tiled merge plan's scores as one dot per destination block (merge_tiled.best_slice): the fused-merge
# GPU tests at video lengths; the plan's kernels alone at Ti/S/M widths, merge and prune, against the 64-channel
# slices (best.ONE_K_MAX=0) and on 8 warps; VideoMamba-Ti r=88 in CUDA graphs, the three interleaved; the Ti table
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run72_env.txt
timeout 240 python3 -m pytest -q -m gpu tests/test_fused_merge.py -k "video or bookkeeping or half or patched" 2>&1 \
  | tail -8 | tee $OUT/run72_gpu_tests.txt
for dim in 192 384 576; do
  timeout 60 python3 scripts/profile_merge_plan.py --batch 32 --dim $dim --lens 1569 --r 88 --modes merge,prune \
    --configs "best.ONE_K_MAX=0;;best.num_warps=8" 2>&1 | grep -v -i warn | tee -a $OUT/run72_plan.txt
done
timeout 120 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 88 --batch 32 --rounds 5 --iters 20 \
  --configs "best.ONE_K_MAX=0;;best.num_warps=8" 2>&1 | grep -v -i warn | tee $OUT/run72_ab_ti.txt
timeout 100 python3 -m rmeeto.cli bench --model videomamba_tiny --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 \
  --iters 20 --cuda-graph --merge-cost 2>&1 | grep -v -i warn | tee $OUT/run72_bench_ti.txt
date -u >> $OUT/run72_env.txt
