#!/usr/bin/env bash
# run 57: the forward scan with both directions in one step loop (FWD_CFG PAIR): GPU tests of the kernels and the
# models; the two-direction launch alone, paired against one direction after the other; Vim-S, Vim-Ti and Vim-B in CUDA
# graphs, the paired launch against the split forward (two launches and the sum-and-gate pass), interleaved; eager
# Vim-Ti and the Vim-S r=11 training step, paired against one direction after the other
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_scan.py scripts/ab_scan_cfg.py; } \
  > $OUT/run57_env.txt 2>&1
COLUMNS=250 timeout 280 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py --tb=short \
  -p no:cacheprovider 2>&1 | tail -25 | tee $OUT/run57_gpu_tests.txt
timeout 70 python3 scripts/bench_scan.py --fwd-only --dirs 2 --tc auto --rep 30 \
  --fwd-cfgs "PAIR=0;PAIR=1;PAIR=1 PAIR_BLOCK_E=32" --shapes 128x768x197,128x384x197,128x1536x197,8x1152x1569,32x768x1569 \
  2>&1 | grep -v -i warn | tee $OUT/run57_scan_pair.txt
AB=";fwd.SPLIT=0;fwd.SPLIT=0 fwd.PAIR_BLOCK_E=32"
for m in vim_small_patch16_224:0,11:5 vim_tiny_patch16_224:0,5:5 vim_base_patch16_224:0,11:3; do
  IFS=: read name rs rounds <<< "$m"
  timeout 110 python3 scripts/ab_scan_cfg.py --model $name --r $rs --configs "$AB" --rounds $rounds \
    2>&1 | grep -v -i warn | tee -a $OUT/run57_ab_graph.txt
done
timeout 50 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --eager --configs "fwd.PAIR=0;" \
  --rounds 5 2>&1 | grep -v -i warn | tee $OUT/run57_ab_vim_ti_eager.txt
timeout 60 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 11 --train --configs "fwd.PAIR=0;" \
  --rounds 3 2>&1 | grep -v -i warn | tee $OUT/run57_ab_train_vim_s.txt
date -u >> $OUT/run57_env.txt
