#!/usr/bin/env bash
# run 59: gated_linear only up to K 384 (MAX_K): GPU tests of the kernels and the models; the sum-and-gate pass over
# blockings alone, and in Vim-S in CUDA graphs, interleaved; gated_linear alone at more K-384 shapes; Vim-Ti in CUDA
# graphs with and without it, interleaved; rmeeto bench on Vim-S and Vim-Ti in CUDA graphs
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_gated_linear.py scripts/bench_sum_gate.py \
    scripts/ab_scan_cfg.py scripts/with_scan_cfg.py src/rmeeto/ops/dispatch.py src/rmeeto/models/mixer.py; } \
  > $OUT/run59_env.txt 2>&1
COLUMNS=250 timeout 260 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py --tb=short \
  -p no:cacheprovider 2>&1 | tail -25 | tee $OUT/run59_gpu_tests.txt
timeout 60 python3 scripts/bench_sum_gate.py --shapes 128x197x768,128x197x384 \
  --cfgs "8/256/4,16/256/4,4/256/2,8/256/8,16/128/4,32/128/4,8/512/4,16/512/8" 2>&1 | grep -v -i warn \
  | tee $OUT/run59_sum_gate.txt
timeout 60 python3 scripts/bench_gated_linear.py --shapes 128x197x384x192,128x109x384x192,32x1569x384x192 \
  --cfgs 128/256/64/8/3,64/128/64/4/3 2>&1 | grep -v -i warn | tee $OUT/run59_gated_linear.txt
timeout 100 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --rounds 5 \
  --configs ";sg.BLOCK_L=16;sg.num_warps=8;sg.BLOCK_L=4 sg.num_warps=2" 2>&1 | grep -v -i warn | tee $OUT/run59_ab_sum_gate.txt
timeout 70 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --rounds 5 --configs "fwd.DEFER_GATE=0;" \
  2>&1 | grep -v -i warn | tee $OUT/run59_ab_vim_ti_fused.txt
for m in vim_small_patch16_224:0,11 vim_tiny_patch16_224:0,5; do
  timeout 40 python3 -m rmeeto.cli bench --model ${m%%:*} --r ${m##*:} --batch-size 128 --dtype fp16 --cuda-graph \
    --warmup 10 --iters 30 2>&1 | grep -v -i warn | tee -a $OUT/run59_bench_graph.txt
done
date -u >> $OUT/run59_env.txt
