#!/usr/bin/env bash
# run 70: the cached launch calls Triton 3.6's C launcher straight (launch.DIRECT_LAUNCH). GPU tests of the launch
# cache and the models; pure host time behind a GPU sleep with the direct call on and off in turns (Vim-Ti r=0/5,
# Vim-S r=0/11)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py scripts/host_enqueue.py; } > $OUT/run70_env.txt 2>&1
timeout 150 python3 -m pytest -q -m gpu -p no:warnings tests/test_gpu_launch.py tests/test_gpu_model.py 2>&1 \
  | tail -4 | tee $OUT/run70_gpu_tests.txt
for mr in vim_tiny_patch16_224:0,5 vim_small_patch16_224:0,11; do
  timeout 80 python3 scripts/host_enqueue.py --model ${mr%:*} --r ${mr#*:} --rounds 15 --direct-ab 2>&1 \
    | grep -v -i warn | tee -a $OUT/run70_host.txt
done
date -u >> $OUT/run70_env.txt
