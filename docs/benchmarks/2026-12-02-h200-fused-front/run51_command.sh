#!/usr/bin/env bash
# run 51: after the fused front was reverted (the kernels as at 65b9be9): the GPU tests of every Triton kernel, the
# compile/export tests (65b9be9 had run them on the CPU only) and the models' fixture parity, one pytest per file
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py; } > $OUT/run51_env.txt 2>&1
for spec in "test_gpu_compile 120" "test_triton_ops 260" "test_gpu_model 100"; do
  set -- $spec
  COLUMNS=200 timeout $2 python3 -m pytest -q -m gpu tests/$1.py --tb=line -p no:cacheprovider 2>&1 \
    | grep -v -i warn | tail -4 | sed "s/^/[$1] /" | tee -a $OUT/run51_gpu_tests.txt
done
date -u >> $OUT/run51_env.txt
