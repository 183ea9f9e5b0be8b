#!/usr/bin/env bash
# run 60: the final code (the paired scan and gated_linear removed; the sum-and-gate pass on 8 warps): GPU tests of the
# kernels and the models; where a Vim-S forward replayed from a CUDA graph spends its GPU time, by kernel; rmeeto bench
# on Vim-S and Vim-Ti in CUDA graphs
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/profile_forward.py; } > $OUT/run60_env.txt 2>&1
COLUMNS=250 timeout 230 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py --tb=short \
  -p no:cacheprovider 2>&1 | tail -25 | tee $OUT/run60_gpu_tests.txt
timeout 60 python3 scripts/profile_forward.py --model vim_small_patch16_224 --r 0 --iters 5 --top 24 --cuda-graph \
  2>&1 | grep -v -i warn | tee $OUT/run60_profile_vim_s_graph.txt
for m in vim_small_patch16_224:0,11 vim_tiny_patch16_224:0,5; do
  timeout 40 python3 -m rmeeto.cli bench --model ${m%%:*} --r ${m##*:} --batch-size 128 --dtype fp16 --cuda-graph \
    --warmup 10 --iters 30 2>&1 | grep -v -i warn | tee -a $OUT/run60_bench_graph.txt
done
date -u >> $OUT/run60_env.txt
