#!/usr/bin/env bash
# run 1: the two prepared branches measured against main (no tests: those are run 2)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
MAIN=$PWD/src; PF=$PWD/.device_data/wt_pf/src; PN=$PWD/.device_data/wt_pn/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py .device_data/wt_pf/src/rmeeto/ops/triton/scan.py .device_data/wt_pn/src/rmeeto/ops/triton/merge*.py; } > $OUT/env.txt 2>&1
# 1. the forward scan: prefetch 1 vs 2, a 128-register cap, 32-channel and two-warp programs; then the two-stream launch
cd .device_data/wt_pf
PYTHONPATH=$PF timeout 170 python3 scripts/bench_scan.py --fwd-only --dirs 1,2 --tc auto --prefetch 1,2 \
  --be default,64/1/128,32/1,64/2 --rep 30 --shapes 128x768x197,128x384x197,32x768x1569,8x1152x1569 > $OUT/scan_fwd.txt 2>&1
PYTHONPATH=$PF timeout 80 python3 scripts/bench_scan.py --fwd-only --dirs 2 --tc auto --split --prefetch 1,2 \
  --be default,64/1/128,32/1,64/2 --rep 30 --shapes 128x768x197,128x384x197 > $OUT/scan_fwd_split.txt 2>&1
cd ../..
# 2. the video merge plan: main against plan-norms
for v in main:$MAIN pn:$PN; do
  PYTHONPATH=${v#*:} timeout 60 python3 scripts/profile_merge_plan.py 2>&1 | grep -v -i warn | sed "s/^/[${v%%:*}] /" >> $OUT/plan_profile.txt
done
# 3. model level, CUDA graph: main, then the branch's forward with PREFETCH=2, then with the 128 cap
bench() {  # tag, PYTHONPATH, FWD_CFG update, model, r
  PYTHONPATH=$2 timeout 100 python3 -c "import sys; from rmeeto.ops.triton import scan; scan.FWD_CFG.update($3); \
from rmeeto.cli import main; sys.exit(main(sys.argv[1:]))" bench --model $4 --r $5 --dtype fp16 --cuda-graph 2>&1 \
  | grep -E "^auto" | sed "s/^/[$1 $4] /" | tee -a $OUT/targets.txt
}
for i in 1 2; do
  bench main $MAIN "" vim_small_patch16_224 0,11
  bench pf2 $PF "PREFETCH=2" vim_small_patch16_224 0,11
  bench reg128 $PF "maxnreg=128" vim_small_patch16_224 0,11
done
bench main $MAIN "" vim_tiny_patch16_224 0,5
bench pf2 $PF "PREFETCH=2" vim_tiny_patch16_224 0,5
bench reg128 $PF "maxnreg=128" vim_tiny_patch16_224 0,5
date -u >> $OUT/env.txt
