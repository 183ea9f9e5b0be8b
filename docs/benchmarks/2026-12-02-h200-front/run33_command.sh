#!/usr/bin/env bash
# run 33: the fused front (conv + x_proj + dt_proj, one kernel) against the unfused front: GPU tests, the front alone
# at several block configurations, the model level interleaved in one process, the training step
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_front.py scripts/ab_scan_cfg.py \
    scripts/with_scan_cfg.py; } > $OUT/env.txt 2>&1
timeout 120 python3 -m pytest -q -m gpu tests/test_triton_ops.py -k "front or bimamba" -p no:cacheprovider 2>&1 \
  | grep -v Warn | tail -6 | tee $OUT/gpu_tests.txt
timeout 100 python3 scripts/bench_front.py 2>&1 | grep -v Warn | tee $OUT/bench_front.txt
AB="python3 scripts/ab_scan_cfg.py --rounds 5 --iters 20"
CF="set.fused_proj=0;;proj.BLOCK_M=32;proj.num_warps=8"
{ timeout 120 $AB --model vim_small_patch16_224 --r 0,11 --configs "$CF"
  timeout 60 $AB --model vim_tiny_patch16_224 --r 0,5 --configs "$CF"
  timeout 60 $AB --model vim_base_patch16_224 --r 0 --configs "$CF"
  timeout 60 $AB --model videomamba_small_patch16_224 --r 0 --batch 32 --configs "$CF"; } 2>&1 | grep -v Warn \
  | tee $OUT/ab_model.txt
for i in 1 2; do for f in 0 1; do
  RMEETO_FUSED_PROJ=$f timeout 60 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 11 --dtype bf16 \
    --train --cuda-graph 2>&1 | grep -E "^auto" | sed "s/^/[fused_proj=$f #$i] /" | tee -a $OUT/train.txt
done; done
date -u >> $OUT/env.txt
