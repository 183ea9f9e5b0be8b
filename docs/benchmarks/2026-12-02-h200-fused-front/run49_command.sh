#!/usr/bin/env bash
# run 49: the fused front with one pipeline stage and transposed weight loads: its GPU tests (error lines kept),
# the kernels alone over block configurations, and Vim-S (CUDA graph) and Vim-Ti (eager) interleaved with the
# three-launch front
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_front.py scripts/ab_scan_cfg.py; } \
  > $OUT/run49_env.txt 2>&1
COLUMNS=250 timeout 130 python3 -m pytest -q -m gpu tests/test_triton_ops.py -k "front or bimamba" --tb=line \
  -p no:cacheprovider 2>&1 | grep -v -i warn | tail -40 | tee $OUT/run49_gpu_tests.txt
timeout 150 python3 scripts/bench_front.py 2>&1 | grep -v -i warn | tee $OUT/run49_bench_front.txt
AB="set.fused_front=1;set.fused_front=0"
timeout 110 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --configs "$AB" --rounds 5 \
  2>&1 | grep -v -i warn | tee $OUT/run49_ab_vim_s_graph.txt
timeout 80 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --configs "$AB" --rounds 5 --eager \
  2>&1 | grep -v -i warn | tee $OUT/run49_ab_vim_ti_eager.txt
date -u >> $OUT/run49_env.txt
