#!/usr/bin/env bash
# run 65: where a merge at r=1 loses, and the plan's bookkeeping without sorts for r <= 8 (book.few_r). Kernel time
# by name of Vim-Ti r=0/1/2 forwards replayed from CUDA graphs; the plan (its scores and bookkeeping apart, sorts
# against reductions) and the fused apply + add + norm alone at the three widths, r=1 and 5; the sorts against the
# reductions in Vim-Ti / Vim-S graphs, interleaved; the merge-cost curve interleaved (one graph per r, replayed in
# turns) on Vim-Ti, Vim-S and Vim-B at small r; the fused merge's and the models' GPU tests
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py src/rmeeto/patch.py scripts/bench_merge_curve.py \
    scripts/bench_merge.py scripts/profile_forward.py scripts/ab_scan_cfg.py scripts/with_scan_cfg.py; } \
  > $OUT/run65_env.txt 2>&1
timeout 100 python3 scripts/profile_forward.py --model vim_tiny_patch16_224 --r 0,1,2 --cuda-graph --iters 10 \
  --top 16 2>&1 | grep -v -i warn | tee $OUT/run65_profile_ti.txt
for dr in 192:1 192:5 384:1 384:11 768:1; do
  timeout 60 python3 scripts/bench_merge.py --batch 128 --dim ${dr%:*} --lens 197 --r ${dr#*:} --plan-warps 4,8 \
    --book-warps 1,4,8 2>&1 | grep -v -i warn | tee -a $OUT/run65_bench_merge.txt
done
for mr in vim_tiny_patch16_224:1,5 vim_small_patch16_224:1; do
  timeout 90 python3 scripts/ab_scan_cfg.py --model ${mr%:*} --r ${mr#*:} --rounds 7 --configs "book.few_r=0;" 2>&1 \
    | grep -v -i warn | tee -a $OUT/run65_ab_few.txt
done
timeout 200 python3 scripts/bench_merge_curve.py --rounds 9 --iters 20 --r 1,2,3,5 2>&1 | grep -v -i warn \
  | tee $OUT/run65_curve.txt
timeout 150 python3 -m pytest -q -x tests/test_fused_merge.py tests/test_gpu_model.py 2>&1 | tail -5 \
  | tee $OUT/run65_gpu_tests.txt
date -u >> $OUT/run65_env.txt
