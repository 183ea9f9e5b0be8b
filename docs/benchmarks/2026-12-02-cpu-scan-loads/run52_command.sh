#!/usr/bin/env bash
# run 52 (one H200): the GPU tests of the Triton kernels and of the models after the forward scan's loads moved into
# one helper (the SASS is unchanged, sass.txt)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py; } > $OUT/run52_env.txt 2>&1
for spec in "test_triton_ops 150" "test_gpu_model 80"; do
  set -- $spec
  COLUMNS=200 timeout $2 python3 -m pytest -q -m gpu tests/$1.py --tb=line -p no:cacheprovider -W ignore 2>&1 \
    | tail -3 | sed "s/^/[$1] /" | tee -a $OUT/run52_gpu_tests.txt
done
date -u >> $OUT/run52_env.txt
