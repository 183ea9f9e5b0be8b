#!/usr/bin/env bash
# run 65: where a merge at r=1 loses. Kernel time by name of Vim-Ti r=0/1/2 forwards replayed from CUDA graphs;
# the merge-cost curve interleaved (one graph per r, replayed in turns) on Vim-Ti, Vim-S and Vim-B at small r; the
# plan (and its scores and bookkeeping apart) and the fused apply + add + norm alone at the three widths, r=1
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  git log -1 --format=%H 2>/dev/null
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py src/rmeeto/patch.py scripts/bench_merge_curve.py \
    scripts/bench_merge.py scripts/profile_forward.py; } > $OUT/run65_env.txt 2>&1
timeout 100 python3 scripts/profile_forward.py --model vim_tiny_patch16_224 --r 0,1,2 --cuda-graph --iters 10 \
  --top 16 2>&1 | grep -v -i warn | tee $OUT/run65_profile_ti.txt
timeout 200 python3 scripts/bench_merge_curve.py --rounds 9 --iters 20 --r 1,2,3,5 2>&1 | grep -v -i warn \
  | tee $OUT/run65_curve.txt
for d in 192 384 768; do
  timeout 60 python3 scripts/bench_merge.py --batch 128 --dim $d --lens 197 --r 1 --plan-warps 4,8,16 --book-warps 1,2,4,8 2>&1 \
    | grep -v -i warn | tee -a $OUT/run65_bench_merge.txt
done
date -u >> $OUT/run65_env.txt
