#!/usr/bin/env bash
# run 67: the models' GPU tests (run 66 reached 4 of their 9 before its time limit); the interpreter test's skip; the plan's scores and bookkeeping
# timed apart, the bookkeeping with two sorts against r reductions (book.few_r), and the fused apply + add + norm
# beside a plain add + norm, at the three Vim widths; the sorts against the reductions in Vim-Ti / Vim-S graphs,
# interleaved
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton,numpy;print('torch',torch.__version__,'triton',triton.__version__,'numpy',numpy.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_merge.py scripts/ab_scan_cfg.py; } \
  > $OUT/run67_env.txt 2>&1
timeout 240 python3 -m pytest -q -m gpu tests/test_gpu_model.py 2>&1 | tail -6 | tee $OUT/run67_gpu_tests.txt
timeout 60 python3 -m pytest -q -rs tests/test_fused_merge.py -k interpreter 2>&1 | tail -3 | tee -a $OUT/run67_gpu_tests.txt
for dr in 192:1 192:5 384:1 384:11 768:1; do
  timeout 50 python3 scripts/bench_merge.py --batch 128 --dim ${dr%:*} --lens 197 --r ${dr#*:} --plan-warps 4,8 \
    --book-warps 1,4,8 2>&1 | grep -v -i warn | tee -a $OUT/run67_bench_merge.txt
done
for mr in vim_tiny_patch16_224:1,5 vim_small_patch16_224:1; do
  timeout 70 python3 scripts/ab_scan_cfg.py --model ${mr%:*} --r ${mr#*:} --rounds 7 --configs "book.few_r=0;" 2>&1 \
    | grep -v -i warn | tee -a $OUT/run67_ab_few.txt
done
date -u >> $OUT/run67_env.txt
