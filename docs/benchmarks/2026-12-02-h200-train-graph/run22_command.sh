#!/usr/bin/env bash
# run 22: the Inductor training test (fake strides fixed), the training step four ways
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py scripts/bench_train_modes.py; } > $OUT/env.txt 2>&1
PYTHONPATH=$PWD/src timeout 150 python3 -m pytest -q -m gpu tests/test_gpu_compile.py -k inductor \
  -p no:cacheprovider 2>&1 | tail -4 | tee $OUT/gpu_tests.txt
PYTHONPATH=$PWD/src timeout 120 python3 scripts/bench_train_modes.py --r 11,0 --ways eager,graph \
  2>&1 | grep -v Warning | tee $OUT/train_modes.txt
PYTHONPATH=$PWD/src timeout 240 python3 scripts/bench_train_modes.py --r 11 --ways eager,compile,compile-ro,graph \
  2>&1 | grep -v Warning | tee $OUT/train_modes_compile.txt
date -u >> $OUT/env.txt
