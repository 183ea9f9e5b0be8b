#!/usr/bin/env bash
# run 61: the conv kernels with the fast sigmoid, against 8c1ba25's copy (put beside them as bimamba_prev.py by the
# first line below), alone over blockings and in Vim-S / Vim-Ti CUDA graphs; a register cap on the split forward's
# 128-channel scans (168 lets 12 one-warp programs share a multiprocessor: the two launches' 1536 Vim-S programs fit in
# one wave of 1584 slots, against 1.45 waves of 1056 at 248 registers) in Vim-S and Vim-B; ncu on the conv forward;
# GPU tests of the kernels and the models
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
test -f src/rmeeto/ops/triton/bimamba_prev.py || { echo "needs bimamba_prev.py (8c1ba25's bimamba.py)"; exit 2; }
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_conv.py scripts/ab_scan_cfg.py \
    scripts/with_scan_cfg.py; } > $OUT/run61_env.txt 2>&1
PREV=rmeeto.ops.triton.bimamba_prev
for mod in $PREV rmeeto.ops.triton.bimamba; do
  timeout 60 python3 scripts/bench_conv.py --module $mod --cfgs 16/128/4,32/128/4,16/256/4,32/64/2,16/64/2,32/128/8 \
    --shapes 128x768x197,128x384x197,32x768x1569 2>&1 | grep -v -i warn | tee -a $OUT/run61_bench_conv.txt
done
timeout 150 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --rounds 5 \
  --configs ";swap.bimamba.biconv_fwd=$PREV;fwd.SPLIT_MAXNREG=168;fwd.SPLIT_MAXNREG=184;fwd.SPLIT_MAXNREG=200" \
  2>&1 | grep -v -i warn | tee $OUT/run61_ab_vim_s.txt
timeout 70 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --rounds 5 \
  --configs ";swap.bimamba.biconv_fwd=$PREV" 2>&1 | grep -v -i warn | tee $OUT/run61_ab_vim_ti.txt
timeout 80 python3 scripts/ab_scan_cfg.py --model vim_base_patch16_224 --r 0,11 --rounds 3 \
  --configs ";fwd.SPLIT_MAXNREG=168" 2>&1 | grep -v -i warn | tee $OUT/run61_ab_vim_b.txt
for mod in $PREV rmeeto.ops.triton.bimamba; do
  timeout 60 ncu --clock-control none -k regex:_biconv_fwd_kernel -c 1 --section SpeedOfLight \
    --section WarpStateStats --section SchedulerStats --section Occupancy python3 -c "
import importlib, sys, torch; sys.path.insert(0, 'scripts')
import bench_conv as bc
tb = importlib.import_module('$mod')
x, w, b, g1, g2, dx = bc._inputs(128, 768, 197, torch.float16)
tb.biconv_fwd(x, w, b, torch.float16); torch.cuda.synchronize()" > $OUT/run61_ncu_${mod##*.}.txt 2>&1
done
COLUMNS=250 timeout 200 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py --tb=short \
  -p no:cacheprovider 2>&1 | tail -25 | tee $OUT/run61_gpu_tests.txt
date -u >> $OUT/run61_env.txt
