#!/usr/bin/env bash
# run 48: the Mamba core's front as one kernel (conv + SiLU, x_proj, dt_proj) against the conv kernel + two cuBLAS
# matmuls: its GPU tests, the kernels alone at six shapes and six block configurations, then the two at the model
# level interleaved in one process (Vim-S in a CUDA graph, Vim-Ti eager, the Vim-S r=11 training step), and the
# compile/export GPU tests
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_front.py scripts/ab_scan_cfg.py; } \
  > $OUT/run48_env.txt 2>&1
timeout 120 python3 -m pytest -q -m gpu tests/test_triton_ops.py -k "front or bimamba" -p no:cacheprovider 2>&1 \
  | tail -15 | tee $OUT/run48_gpu_tests.txt
timeout 120 python3 scripts/bench_front.py 2>&1 | grep -v -i warn | tee $OUT/run48_bench_front.txt
AB="set.fused_front=1;set.fused_front=0"
timeout 110 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --configs "$AB" --rounds 5 \
  2>&1 | grep -v -i warn | tee $OUT/run48_ab_vim_s_graph.txt
timeout 80 python3 -m pytest -q -m gpu tests/test_gpu_compile.py -p no:cacheprovider 2>&1 | tail -3 \
  | sed "s/^/[test_gpu_compile] /" | tee -a $OUT/run48_gpu_tests.txt
timeout 80 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --configs "$AB" --rounds 5 --eager \
  2>&1 | grep -v -i warn | tee $OUT/run48_ab_vim_ti_eager.txt
timeout 70 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 11 --configs "$AB" --rounds 5 --iters 10 \
  --train 2>&1 | grep -v -i warn | tee $OUT/run48_ab_vim_s_train.txt
date -u >> $OUT/run48_env.txt
