#!/usr/bin/env bash
# run 73: the tiled plan's cosine scores from precomputed token norms (_token_norm_kernel + _best_normed_kernel)
# against the kernel that sums the norms inside its loops (best.pre_norms=0): the fused-merge GPU tests at video
# lengths; the plan's kernels alone at Ti/S/M widths; VideoMamba-Ti and -S at r=88 in CUDA graphs, interleaved
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run73_env.txt
CFGS="best.pre_norms=0;;best.one_k_max=0;best.num_warps=8;best.one_k_max=0 best.num_warps=8"
for dim in 192 384 576; do
  timeout 60 python3 scripts/profile_merge_plan.py --batch 32 --dim $dim --lens 1569 --r 88 --configs "$CFGS" 2>&1 \
    | grep -v -i warn | tee -a $OUT/run73_plan.txt
done
timeout 120 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 88 --batch 32 --rounds 5 --iters 20 \
  --configs "$CFGS" 2>&1 | grep -v -i warn | tee $OUT/run73_ab.txt
timeout 90 python3 scripts/ab_scan_cfg.py --model videomamba_small --r 88 --batch 32 --rounds 3 --iters 20 \
  --configs "best.pre_norms=0;;best.num_warps=8" 2>&1 | grep -v -i warn | tee -a $OUT/run73_ab.txt
timeout 200 python3 -m pytest -q -m gpu tests/test_fused_merge.py -k "video or bookkeeping" 2>&1 \
  | tail -8 | tee $OUT/run73_gpu_tests.txt
date -u >> $OUT/run73_env.txt
