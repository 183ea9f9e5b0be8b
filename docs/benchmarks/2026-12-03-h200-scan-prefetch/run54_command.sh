#!/usr/bin/env bash
# run 54: the gate applied once to the sum of the directions (split launches: a sum-and-gate pass after two ungated
# scans; one-launch forwards: only the last direction's pass gates). GPU tests; the scan alone against the
# previous commit's scan (a copy, scan_prev.py, not committed); Vim-S and Vim-Ti in CUDA graphs with SUM_GATE on/off
# and the prefetch, interleaved; 128-channel programs of one warp without a register cap (alone and in the models)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_scan.py scripts/ab_scan_cfg.py; } \
  > $OUT/run54_env.txt 2>&1
COLUMNS=250 timeout 170 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py --tb=line \
  -p no:cacheprovider 2>&1 | grep -v -i warn | tail -15 | tee $OUT/run54_gpu_tests.txt
timeout 100 python3 scripts/bench_scan.py --old rmeeto.ops.triton.scan_prev --fwd-only --dirs 2,1 --tc auto --rep 30 \
  --check --shapes 128x768x197,128x384x197,8x1152x1569,32x768x1569 2>&1 | grep -v -i warn | tee $OUT/run54_scan_vs_prev.txt
timeout 60 python3 scripts/bench_scan.py --fwd-only --dirs 1,2 --tc 0 --rep 30 --be default,128/1/0,128/1/200 \
  --shapes 128x768x197,128x384x197 2>&1 | grep -v -i warn | tee $OUT/run54_scan_be128.txt
AB=";fwd.SUM_GATE=0;fwd.PF=8;fwd.PF=8 fwd.SUM_GATE=0;fwd.BLOCK_E=128 fwd.maxnreg=0;fwd.BLOCK_E=128 fwd.maxnreg=200"
timeout 170 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --configs "$AB" --rounds 5 \
  2>&1 | grep -v -i warn | tee $OUT/run54_ab_vim_s_graph.txt
timeout 80 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --configs ";fwd.SUM_GATE=0;fwd.BLOCK_E=128 fwd.maxnreg=0;fwd.BLOCK_E=128 fwd.maxnreg=200" --rounds 5 \
  2>&1 | grep -v -i warn | tee $OUT/run54_ab_vim_ti_graph.txt
date -u >> $OUT/run54_env.txt
