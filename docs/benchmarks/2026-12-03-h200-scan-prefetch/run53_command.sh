#!/usr/bin/env bash
# run 53: the forward scan with its rows prefetched PF steps ahead (FWD_CFG's PF / PF_LEVEL): the kernel alone over
# distances and cache levels (outputs compared with PF=0), Vim-S and Vim-Ti in CUDA graphs interleaved, Nsight
# Compute's warp stalls at PF=0 and PF=8, and the eager Vim-Ti forward's host time by Python function
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_scan.py scripts/ab_scan_cfg.py \
    scripts/profile_host.py; } > $OUT/run53_env.txt 2>&1
timeout 110 python3 scripts/bench_scan.py --fwd-only --dirs 1 --tc 0 --rep 30 --shapes 128x768x197,128x384x197 \
  --pf 0,2,4,8,16,4/1,8/1 2>&1 | grep -v -i warn | tee $OUT/run53_scan_alone.txt
timeout 60 python3 scripts/bench_scan.py --fwd-only --dirs 2 --tc auto --rep 30 --shapes 8x1152x1569,32x768x1569 \
  --pf 0,8 2>&1 | grep -v -i warn | tee $OUT/run53_scan_video.txt
AB=";fwd.PF=4;fwd.PF=8;fwd.PF=16;fwd.PF=8 fwd.PF_LEVEL=1"
timeout 150 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --configs "$AB" --rounds 5 \
  2>&1 | grep -v -i warn | tee $OUT/run53_ab_vim_s_graph.txt
timeout 80 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --configs ";fwd.PF=8" --rounds 5 \
  2>&1 | grep -v -i warn | tee $OUT/run53_ab_vim_ti_graph.txt
for pf in 0 8; do
  timeout 60 ncu --clock-control none -k regex:_scan_fwd_seq_kernel -c 1 --section SpeedOfLight \
    --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis python3 -c "
import sys, torch; sys.path.insert(0, 'scripts')
import bench_scan as bs
from rmeeto.ops.triton import scan
t = bs._inputs(1, 128, 768, 197, 16, torch.float16)
bs._run(scan, t, dict(TC=0, PF=$pf), False)
torch.cuda.synchronize()" > $OUT/run53_ncu_pf$pf.txt 2>&1
done
timeout 70 python3 scripts/profile_host.py --model vim_tiny_patch16_224 --r 0 --batch 128 --python 30 2>&1 \
  | grep -v -i warn | tee $OUT/run53_host_vim_ti.txt
date -u >> $OUT/run53_env.txt
