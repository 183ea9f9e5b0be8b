#!/usr/bin/env bash
# run 36: --cuda-graph under DDP (a process group of one on one GPU): the graph tests, the new DDP one first
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/cuda_graphs.py src/rmeeto/train/dist.py src/rmeeto/train/engine.py tests/test_gpu_train_graph.py \
    tests/test_train_api.py; } > $OUT/env.txt 2>&1
timeout 200 python3 -m pytest -q -m gpu tests/test_gpu_train_graph.py -p no:cacheprovider -x \
  -k "ddp or test_graph_replays or train_with_cuda_graph" 2>&1 | grep -v Warn | tail -25 | tee $OUT/gpu_tests.txt
timeout 60 python3 -m pytest -q tests/test_train_api.py -k "cuda_graph or graphed" -p no:cacheprovider 2>&1 \
  | tail -3 | tee -a $OUT/gpu_tests.txt
date -u >> $OUT/env.txt
