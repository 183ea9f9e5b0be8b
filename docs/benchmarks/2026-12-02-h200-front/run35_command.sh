#!/usr/bin/env bash
# run 35: the 4-tap window conv forward against the tiled one: kernel alone at several blocks, the model level
# interleaved in one process; GPU tests; the issue's targets on this tree (window forward on, the default)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_conv.py scripts/ab_scan_cfg.py \
    scripts/with_scan_cfg.py; } > $OUT/env.txt 2>&1
timeout 75 python3 scripts/bench_conv.py --shapes 128x768x197,128x384x197,32x768x1569,8x1152x1569 \
  --cfgs 16/128/4,w:16/128/1,w:16/256/1,w:32/256/1,w:16/256/2,w:8/256/1,w:32/128/1,w:16/512/2 2>&1 \
  | grep -v Warn | tee $OUT/bench_conv.txt
AB="python3 scripts/ab_scan_cfg.py --rounds 5 --iters 20"
CF="set.conv_window=0;;conv4.BLOCK_L=32;conv4.BLOCK_E=128"
{ timeout 75 $AB --model vim_small_patch16_224 --r 0,11 --configs "$CF"
  timeout 50 $AB --model vim_tiny_patch16_224 --r 0,5 --configs "$CF"
  timeout 40 $AB --model videomamba_small_patch16_224 --r 0 --batch 32 --configs "$CF"; } 2>&1 | grep -v Warn \
  | tee $OUT/ab_model.txt
timeout 110 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py tests/test_fused_merge.py \
  -k "window or bimamba_fp32 or bimamba_half or model or fused_merge or fixture" -p no:cacheprovider 2>&1 | grep -v Warn \
  | tail -4 | tee $OUT/gpu_tests.txt
RM="python3 -m rmeeto.cli"
for spec in vim_small_patch16_224:--r:0,11 vim_small_patch16_224:--ratio:0.54 vim_tiny_patch16_224:--r:0,1,5; do
  IFS=: read -r model flag vals <<< "$spec"
  timeout 40 $RM bench --model $model $flag $vals --dtype fp16 --cuda-graph --merge-cost 2>&1 | grep -E "^auto" \
    | sed "s/^/[$model graph] /" | tee -a $OUT/targets.txt
done
timeout 50 $RM bench --model vim_small_patch16_224 --r 11 --dtype bf16 --train --cuda-graph 2>&1 | grep -E "^auto" \
  | sed 's/^/[vim_s train graph] /' | tee -a $OUT/targets.txt
date -u >> $OUT/env.txt
