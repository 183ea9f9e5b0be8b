#!/usr/bin/env bash
# run 69: the GPU tests of VideoMamba (the official video fixture on the Triton path), torch.compile / export, the
# launch cache and the training step in a CUDA graph, after the plan's bookkeeping without sorts
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py; } > $OUT/run69_env.txt 2>&1
timeout 520 python3 -m pytest -q -m gpu -rs tests/test_gpu_videomamba.py tests/test_gpu_compile.py \
  tests/test_gpu_launch.py tests/test_gpu_train_graph.py 2>&1 | grep -v -i warn | tail -15 | tee $OUT/run69_gpu_tests.txt
date -u >> $OUT/run69_env.txt
