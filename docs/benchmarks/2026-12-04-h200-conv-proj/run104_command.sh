#!/usr/bin/env bash
# run 104: the one-launch conv + x_proj + dt_proj (rmeeto.ops.triton.conv_proj): its GPU tests and the model tests;
# the kernel against the conv kernel and two cuBLAS matmuls at six shapes and six block configurations; eager Vim-Ti
# host and synchronised time with it and without it (cproj.MAX_WIDTH=0) in one process; `rmeeto bench` eager
# Vim-Ti r=0 / r=5 interleaved, and Vim-S / Vim-Ti in a CUDA graph.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run104_env.txt
timeout 240 python3 -m pytest -q -rA -m gpu tests/test_triton_ops.py tests/test_gpu_model.py tests/test_gpu_videomamba.py \
  -k "conv_proj or bimamba or gpu_model or gpu_videomamba" -p no:cacheprovider > $OUT/run104_gpu_tests_full.txt 2>&1
grep -E "^(PASSED|FAILED|ERROR)|passed|failed" $OUT/run104_gpu_tests_full.txt | tee $OUT/run104_gpu_tests.txt | tail -3
timeout 120 python3 scripts/bench_conv_proj.py 2>&1 | grep -v -i warn | tee $OUT/run104_kernel.txt
timeout 90 python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5,0,5 --rounds 15 \
  --configs ";;cproj.MAX_WIDTH=0;cproj.MAX_WIDTH=0" 2>&1 | grep -v -i warn | tee $OUT/run104_host.txt
for i in 1 2; do
  timeout 60 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --iters 60 --rounds 10 \
    2>&1 | grep -v -i warn | sed "s/^/[vim_ti eager, process $i] /" | tee -a $OUT/run104_eager.txt
done
for m in vim_small_patch16_224:0,11 vim_tiny_patch16_224:0,5; do
  timeout 90 python3 -m rmeeto.cli bench --model ${m%%:*} --r ${m##*:} --dtype fp16 --cuda-graph 2>&1 \
    | grep -v -i warn | tee -a $OUT/run104_graph.txt
done
date -u >> $OUT/run104_env.txt
