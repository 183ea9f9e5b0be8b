#!/usr/bin/env bash
# run 46: the GPU tests of bench's host share and of rmeeto eval --throughput-cuda-graph; Vim-B's host share (eager
# and in a CUDA graph) and its pure host time eager (scripts/host_enqueue.py), to complete Ti / S / B
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/bench.py src/rmeeto/train/eval_cmd.py scripts/host_enqueue.py
} > $OUT/env.txt 2>&1
timeout 200 python3 -m pytest -q -m gpu tests/test_gpu_bench.py -p no:cacheprovider 2>&1 | tail -3 \
  | tee $OUT/gpu_tests.txt
for graph in "" --cuda-graph; do
  timeout 120 python3 -m rmeeto.cli bench --model vim_base_patch16_224 --r 0,11 --batch-size 128 --dtype fp16 \
    --warmup 10 --iters 30 $graph 2>&1 | grep -E "^(backend|auto|\*)" | sed "s/^/[b ${graph:-eager}] /" \
    | tee -a $OUT/bench.txt
done
timeout 120 python3 scripts/host_enqueue.py --model vim_base_patch16_224 --r 0,11 2>&1 | grep -v -i warn \
  | tee $OUT/host_enqueue.txt
date -u >> $OUT/env.txt
