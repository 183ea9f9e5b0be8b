#!/usr/bin/env bash
# run 64: the conv backward at 16/32/1 as the default: the GPU tests of the core (gradients against the reference) and
# of the models (the official fixtures); the Vim-S r=11 bf16 training step from a CUDA graph with it and with the
# previous 32/64/2 (rmeeto bench --train --cuda-graph, one process each, in turn)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/with_scan_cfg.py; } > $OUT/run64_env.txt 2>&1
COLUMNS=250 timeout 150 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py -k "bimamba or model" \
  --tb=short -p no:cacheprovider 2>&1 | tail -25 | tee $OUT/run64_gpu_tests.txt
OLD="convb.BLOCK_L=32 convb.BLOCK_E=64 convb.num_warps=2"
for cfg in "" "$OLD" "" "$OLD"; do
  echo "== conv backward: ${cfg:-defaults (16/32/1)}" | tee -a $OUT/run64_train.txt
  timeout 45 python3 scripts/with_scan_cfg.py $cfg -- bench --model vim_small_patch16_224 --r 11 --dtype bf16 --train \
    --cuda-graph 2>&1 | grep -v -i -E "warn|kernel configuration" | tee -a $OUT/run64_train.txt
done
date -u >> $OUT/run64_env.txt
