#!/usr/bin/env bash
# run 55: what made the split forward without the gate slower in run 54: the sum-and-gate pass alone, the split pair
# of scans alone over the gate's place, channel block and register cap; then Vim-S, Vim-Ti and Vim-B in CUDA graphs
# over the same choices, interleaved; the Vim-S r=11 bf16 training step
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_scan.py scripts/ab_scan_cfg.py \
    scripts/bench_sum_gate.py; } > $OUT/run55_env.txt 2>&1
timeout 40 python3 scripts/bench_sum_gate.py 2>&1 | grep -v -i warn | tee $OUT/run55_sum_gate.txt
timeout 80 python3 scripts/bench_scan.py --fwd-only --dirs 2 --split --tc 0 --rep 30 --be default,64/1/0,128/1/0 \
  --fwd-cfgs "SUM_GATE=0;SUM_GATE=1" --shapes 128x768x197,128x384x197 2>&1 | grep -v -i warn | tee $OUT/run55_split_alone.txt
AB="fwd.SUM_GATE=0;;fwd.maxnreg=0;fwd.maxnreg=0 fwd.SUM_GATE=0;fwd.BLOCK_E=128 fwd.maxnreg=0;fwd.BLOCK_E=128 fwd.maxnreg=0 fwd.SUM_GATE=0"
for m in vim_small_patch16_224:0,11 vim_tiny_patch16_224:0,5; do
  timeout 120 python3 scripts/ab_scan_cfg.py --model ${m%%:*} --r ${m##*:} --configs "$AB" --rounds 5 \
    2>&1 | grep -v -i warn | tee -a $OUT/run55_ab_graph.txt
done
timeout 90 python3 scripts/ab_scan_cfg.py --model vim_base_patch16_224 --r 0,11 --rounds 3 \
  --configs "fwd.SUM_GATE=0;;fwd.BLOCK_E=128 fwd.maxnreg=0;fwd.BLOCK_E=128 fwd.maxnreg=0 fwd.SUM_GATE=0" \
  2>&1 | grep -v -i warn | tee -a $OUT/run55_ab_graph.txt
timeout 60 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 11 --train --configs "" --rounds 3 \
  2>&1 | grep -v -i warn | tee $OUT/run55_train_vim_s.txt
date -u >> $OUT/run55_env.txt
