#!/usr/bin/env bash
# run 56: the new defaults (the gate after the sum, no cap and wide programs where they fill the GPU on the split
# forward's scans): GPU tests of the kernels and the models, and VideoMamba-S in a CUDA graph against the gate in
# each scan under the 120 cap (the previous default), interleaved; rmeeto bench on Vim-S and Vim-Ti in CUDA graphs
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/ab_scan_cfg.py; } > $OUT/run56_env.txt 2>&1
COLUMNS=250 timeout 160 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py --tb=line \
  -p no:cacheprovider 2>&1 | grep -v -i warn | tail -15 | tee $OUT/run56_gpu_tests.txt
timeout 75 python3 scripts/ab_scan_cfg.py --model videomamba_small_patch16_224 --batch 32 --r 0,88 --rounds 3 \
  --iters 10 --configs "fwd.SUM_GATE=0;" 2>&1 | grep -v -i warn | tee $OUT/run56_ab_video_s_graph.txt
for m in vim_small_patch16_224:0,11 vim_tiny_patch16_224:0,5; do
  timeout 40 python3 -m rmeeto.cli bench --model ${m%%:*} --r ${m##*:} --batch-size 128 --dtype fp16 --cuda-graph \
    --warmup 10 --iters 30 2>&1 | grep -v -i warn | tee -a $OUT/run56_bench_graph.txt
done
date -u >> $OUT/run56_env.txt
