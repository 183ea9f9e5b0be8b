#!/usr/bin/env bash
# run 5: the GPU tests run 4's limit cut (the video-length tests, the training step at 1569 tokens, the compiled video
# model); the contract's host and device time at 8x1152x1569 with nothing else running
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_vs_mamba_ssm.py; } > $OUT/env.txt 2>&1
timeout 60 python3 scripts/bench_vs_mamba_ssm.py --profile 8x1152x1569 2>&1 | grep -v -i warn > $OUT/profile.txt
grep -E "forward|total|wall|host time" $OUT/profile.txt
timeout 330 python3 -m pytest -q -m gpu $(cat .device_data/rest_ids.txt) -p no:cacheprovider 2>&1 | tail -15 | tee $OUT/gpu_tests.txt
date -u >> $OUT/env.txt
