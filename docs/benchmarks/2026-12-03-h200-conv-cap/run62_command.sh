#!/usr/bin/env bash
# run 62: the conv forward's blocking and register cap (it ran at 25 % occupancy, 128 registers, in run 61's ncu)
# alone and in Vim-S / Vim-Ti CUDA graphs, interleaved; the issue's targets at this code with rmeeto bench (Vim-S r=0,
# 11 and ratio 0.54, Vim-Ti r=0,1,5, Vim-B r=0,11, the Vim-S r=11 bf16 training step, all CUDA graphs, --merge-cost)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_conv.py scripts/ab_scan_cfg.py \
    scripts/with_scan_cfg.py; } > $OUT/run62_env.txt 2>&1
timeout 70 python3 scripts/bench_conv.py --shapes 128x768x197,128x384x197,32x768x1569 \
  --cfgs 16/128/4,8/128/4,8/256/8,16/128/4/96,16/128/4/80,8/64/2,8/128/2,16/64/2 2>&1 | grep -v -i warn \
  | tee $OUT/run62_bench_conv.txt
AB=";conv.BLOCK_L=8;conv.maxnreg=96;conv.BLOCK_L=8 conv.BLOCK_E=256 conv.num_warps=8"
timeout 120 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --rounds 5 --configs "$AB" \
  2>&1 | grep -v -i warn | tee $OUT/run62_ab_vim_s.txt
timeout 80 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --rounds 5 --configs "$AB" \
  2>&1 | grep -v -i warn | tee $OUT/run62_ab_vim_ti.txt
RM="python3 -m rmeeto.cli"
for spec in vim_small_patch16_224:--r:0,11 vim_small_patch16_224:--ratio:0.54 vim_tiny_patch16_224:--r:0,1,5 \
            vim_base_patch16_224:--r:0,11; do
  IFS=: read -r model flag vals <<< "$spec"
  timeout 50 $RM bench --model $model $flag $vals --dtype fp16 --cuda-graph --merge-cost 2>&1 | grep -v -i warn \
    | sed "s/^/[$model graph] /" | tee -a $OUT/run62_targets.txt
done
timeout 60 $RM bench --model vim_small_patch16_224 --r 11 --dtype bf16 --train --cuda-graph 2>&1 | grep -v -i warn \
  | sed 's/^/[vim_s train graph] /' | tee -a $OUT/run62_targets.txt
date -u >> $OUT/run62_env.txt
